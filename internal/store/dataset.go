package store

import (
	"context"
	"fmt"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// DatasetOptions sizes a synthetic dataset for load and scale measurements.
type DatasetOptions struct {
	// Candidates is how many certified candidates to load, each with four graded
	// sittings, a published award, its certificate and its results feed entry.
	Candidates int
	// Sites is how many training sites share them (10 when zero).
	Sites int
	// PerSession is how many candidates one jury session deliberated (500 when zero).
	PerSession int
	// Now stamps the rows' creation (the current time when zero). The sessions are
	// held in the second half of the certification's last registration period, and
	// their candidates enrolled six months before, so that every award is one the
	// rules allow.
	Now time.Time
	// Progress, when set, is called after each batch with the candidates loaded.
	Progress func(loaded int)
}

// Dataset names what LoadDataset created, for the load tool to aim at.
type Dataset struct {
	SiteIDs      []string
	CandidateIDs []string // at most the first 1,000: the load tool picks among them
	Candidates   int
}

// datasetBatch is how many candidates one transaction loads: a few thousand rows
// in multi-row INSERTs, below SQLite's bound on statement variables.
const datasetBatch = 250

// LoadDataset bulk-loads a synthetic, consistent dataset into a migrated database,
// without going through the service: the rows are those the service would have
// written for candidates registered, graded, deliberated and certified. It is for
// measurements only; it refuses a database that already has candidates.
func (s *Store) LoadDataset(ctx context.Context, o DatasetOptions) (Dataset, error) {
	if o.Candidates <= 0 {
		return Dataset{}, fmt.Errorf("a dataset needs candidates")
	}
	if o.Sites <= 0 {
		o.Sites = 10
	}
	if o.PerSession <= 0 {
		o.PerSession = 500
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	db := s.db.WithContext(ctx)
	var existing int64
	if err := db.Model(&candidateRow{}).Count(&existing).Error; err != nil {
		return Dataset{}, err
	}
	if existing > 0 {
		return Dataset{}, fmt.Errorf("the database already has %d candidates: load a dataset into an empty one", existing)
	}
	var cert certification.Certification
	if err := s.Read(ctx, func(t service.Tx) error {
		var err error
		cert, err = t.Certification("RNCP26206")
		return err
	}); err != nil {
		return Dataset{}, err
	}
	var last certification.RegistrationPeriod
	for _, p := range cert.Periods {
		if p.EffectiveUntil.After(last.EffectiveUntil) {
			last = p
		}
	}
	if last.ID == "" {
		return Dataset{}, fmt.Errorf("%s has no registration period", cert.Code)
	}
	first := certification.Day(last.EffectiveFrom).AddDate(0, 0, 183) // the first session
	span := int(certification.Day(last.EffectiveUntil).Sub(first).Hours() / 24)
	created := o.Now.UTC().Truncate(time.Second)
	var ds Dataset

	// Sites, and the jury that sits in every session.
	var sites []trainingSiteRow
	var links []trainingSiteCertificationRow
	for i := range o.Sites {
		id := uuid.Must(uuid.NewV7()).String()
		sites = append(sites, trainingSiteRow{ID: id, Name: fmt.Sprintf("Centre de formation %03d", i+1), Line1: fmt.Sprintf("%d allée Jean Jaurès", i+1),
			PostalCode: "31000", City: "Toulouse", CountryCode: "FR", IsPreparation: true, IsCertification: true, Active: true,
			Version: 1, CreatedAt: created, UpdatedAt: created})
		links = append(links, trainingSiteCertificationRow{TrainingSiteID: id, CertificationCode: cert.Code})
		ds.SiteIDs = append(ds.SiteIDs, id)
	}
	var members []juryMemberRow
	for i := range 5 {
		role := "professional"
		if i == 0 {
			role = "pedagogical_director"
		}
		members = append(members, juryMemberRow{ID: uuid.Must(uuid.NewV7()).String(), FullName: fmt.Sprintf("Membre du jury %d", i+1),
			Role: role, Organisation: "Agence de communication", Email: fmt.Sprintf("jury%d@example.org", i+1), Active: true,
			Version: 1, CreatedAt: created, UpdatedAt: created})
	}
	if err := db.Transaction(func(gtx *gorm.DB) error {
		if err := gtx.Create(&sites).Error; err != nil {
			return err
		}
		if err := gtx.Create(&links).Error; err != nil {
			return err
		}
		return gtx.Create(&members).Error
	}); err != nil {
		return Dataset{}, err
	}

	sessions := (o.Candidates + o.PerSession - 1) / o.PerSession
	var session jurySessionRow
	for start := 0; start < o.Candidates; start += datasetBatch {
		end := min(start+datasetBatch, o.Candidates)
		var (
			cands       []candidateRow
			evals       []evaluationRow
			decs        []decisionRow
			comps       []decisionComponentRow
			certs       []certificateRow
			events      []resultEventRow
			newSessions []jurySessionRow
			seats       []jurySessionMemberRow
		)
		for i := start; i < end; i++ {
			if i%o.PerSession == 0 {
				k := i / o.PerSession
				heldOn := first.AddDate(0, 0, span*k/max(sessions-1, 1))
				closedAt := heldOn.Add(18 * time.Hour)
				session = jurySessionRow{ID: uuid.Must(uuid.NewV7()).String(), CertificationCode: cert.Code,
					TrainingSiteID: sites[k%len(sites)].ID, HeldOn: heldOn, Status: string(certification.SessionClosed),
					DeliberationStartedAt: &closedAt, ClosedAt: &closedAt, Version: 3, CreatedAt: created, UpdatedAt: created}
				newSessions = append(newSessions, session)
				for j, m := range members {
					seats = append(seats, jurySessionMemberRow{JurySessionID: session.ID, JuryMemberID: m.ID, Ordinal: j + 1, SignedAt: &closedAt})
				}
			}
			c := datasetCandidate(i, cert.Code, sites[i%len(sites)].ID, session.HeldOn, created)
			heldOn, closedAt := session.HeldOn, *session.ClosedAt
			decisionID := uuid.Must(uuid.NewV7()).String()
			validUntil := certification.ValidUntil(heldOn, cert.ValidityFor(certification.RouteID(c.Route)))
			for j, comp := range []string{"E1", "E2", "E3", "E4"} {
				e := evaluationRow{ID: uuid.Must(uuid.NewV7()).String(), CandidateID: c.ID, CertificationCode: cert.Code, Component: comp,
					TrainingSiteID: *c.TrainingSiteID, ScheduledAt: heldOn.AddDate(0, 0, -30+j).Add(9 * time.Hour),
					Status: string(certification.SittingGraded), ValidatedOn: &heldOn, ValidatedBy: &decisionID,
					Version: 2, CreatedAt: created, UpdatedAt: created}
				recorded := e.ScheduledAt.Add(3 * time.Hour)
				e.ResultRecordedAt = &recorded
				grade := int64(1000 + (i*7+j*131)%1000) // 10.00 to 19.99: passed
				if comp == "E4" {
					slot := heldOn.Add(8*time.Hour + time.Duration(i%o.PerSession%12)*45*time.Minute)
					ends := slot.Add(45 * time.Minute)
					e.ScheduledAt, e.EndsAt, e.JurySessionID, e.TrainingSiteID = slot, &ends, &session.ID, session.TrainingSiteID
					dossier, defence := grade, int64(1200+(i*13)%800)
					e.DossierGradeHundredths, e.DefenceGradeHundredths = &dossier, &defence
					recorded = ends
					e.ResultRecordedAt = &recorded
				} else {
					e.GradeHundredths = &grade
				}
				evals = append(evals, e)
				comps = append(comps, decisionComponentRow{DecisionID: decisionID, Component: comp, EvaluationID: e.ID,
					AcquiredOn: heldOn, ValidUntil: validUntil, ValidatedNow: true, Ordinal: j + 1})
			}
			decs = append(decs, decisionRow{ID: decisionID, JurySessionID: session.ID, CandidateID: c.ID,
				Outcome: string(certification.OutcomeAward), Reason: "Toutes les compétences sont acquises.", Revision: 1,
				DecidedAt: closedAt.Add(-time.Hour), DecidedBy: members[0].ID, PublishedAt: &closedAt})
			number := service.NewCertificateNumber()
			c.CertificateNumber = &number
			certs = append(certs, certificateRow{Number: number, Kind: string(certification.KindCertificate), DecisionID: decisionID,
				CandidateID: c.ID, CertificationCode: cert.Code, HolderName: certification.HolderName(candidateFromRow(c)),
				AwardedOn: heldOn, IssuedAt: closedAt, Status: string(certification.CertificateValid), Version: 1})
			valid := string(certification.CertificateValid)
			events = append(events, resultEventRow{Sequence: int64(i) + 1, Type: string(certification.EntryResultPublished),
				RecordedAt: closedAt, CertificationCode: cert.Code, DecisionID: decisionID, JurySessionID: session.ID, HeldOn: heldOn,
				Outcome: string(certification.OutcomeAward), CandidateID: c.ID, FirstName: c.FirstName, BirthName: c.BirthName,
				UsageName: c.UsageName, TrainingSiteID: c.TrainingSiteID, Route: c.Route, CertificateNumber: &number, CertificateStatus: &valid})
			cands = append(cands, c)
			if len(ds.CandidateIDs) < 1000 {
				ds.CandidateIDs = append(ds.CandidateIDs, c.ID)
			}
		}
		if err := db.Transaction(func(gtx *gorm.DB) error {
			for _, rows := range []any{newSessions, seats, cands, evals, decs, comps, certs, events} {
				if err := gtx.CreateInBatches(rows, 500).Error; err != nil {
					return err
				}
			}
			last := events[len(events)-1]
			return gtx.Model(&resultEventCounterRow{}).Where("id = ?", 1).
				Updates(map[string]any{"last_sequence": last.Sequence, "last_recorded_at": last.RecordedAt}).Error
		}); err != nil {
			return ds, fmt.Errorf("load candidates %d to %d: %w", start, end, err)
		}
		ds.Candidates = end
		if o.Progress != nil {
			o.Progress(end)
		}
	}
	return ds, nil
}

// datasetCandidate is the i-th candidate of a dataset: distinct names, a birth in
// Toulouse, continuing education at the given site, certified.
func datasetCandidate(i int, code, siteID string, heldOn, created time.Time) candidateRow {
	c := certification.Candidate{ID: uuid.Must(uuid.NewV7()).String(), CertificationCode: code,
		Route: "continuing_education", TrainingSiteID: siteID, EnrolledOn: heldOn.AddDate(0, 0, -183),
		FirstName: "Camille", BirthName: "Durand-" + datasetName(i), Sex: "F",
		BirthDate:  time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%7300),
		BirthPlace: certification.BirthPlace{INSEECode: "31555", PostalCode: "31000", Name: "Toulouse", CountryCode: "FR"},
		Email:      fmt.Sprintf("candidat%d@example.org", i),
		Address:    certification.Address{Line1: fmt.Sprintf("%d rue de Metz", i%200+1), PostalCode: "31000", City: "Toulouse", CountryCode: "FR"},
		Status:     certification.StatusCertified, Version: 3, CreatedAt: created, UpdatedAt: created}
	return candidateToRow(c, service.CandidateKeysOf(c))
}

// datasetName spells i in letters, so that names stay names.
func datasetName(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('a' + i%26)}, b...)
		i /= 26
		if i == 0 {
			break
		}
	}
	b[0] -= 'a' - 'A'
	return string(b)
}
