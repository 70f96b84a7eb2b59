package store

import (
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
)

func (t *tx) Candidates(f service.CandidateFilter) ([]certification.Candidate, error) {
	q := t.db.Model(&candidateRow{})
	if f.TrainingSiteID != "" {
		q = q.Where("training_site_id = ?", f.TrainingSiteID)
	}
	if f.CertificationCode != "" {
		q = q.Where("certification_code = ?", f.CertificationCode)
	}
	if f.Route != "" {
		q = q.Where("route = ?", string(f.Route))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.EnrolledFrom != nil {
		q = q.Where("enrolled_on >= ?", *f.EnrolledFrom)
	}
	if f.EnrolledTo != nil {
		q = q.Where("enrolled_on <= ?", *f.EnrolledTo)
	}
	if f.Search != "" {
		q = q.Where("search_name LIKE ? ESCAPE '!'", "%"+escapeLike(f.Search)+"%")
	}
	return findCandidates(keyset(q, "id", f.Page), pageRows(f.Page))
}

// Candidate reads one candidate, and with it the version of their certification's
// referential, in the same statement: Certification then takes the referential
// from the cache without a read of its own when that version is the cached one,
// and it is the version of the same snapshot. The statement goes to the
// connection (or the transaction) directly: the read by id is the most frequent
// of the service, and GORM's statement building was a tenth of its cost.
func (t *tx) Candidate(id string) (certification.Candidate, error) { return t.candidate(id, true) }

// CandidateOnly reads a candidate without the version of its certification's
// referential, for a read that does not go on to the referential: on MariaDB the
// version's subquery made a read by id cost the server 1.27–1.40 times what the
// floor's costs it, 1.13–1.20 times without (docs/performance.md).
func (t *tx) CandidateOnly(id string) (certification.Candidate, error) { return t.candidate(id, false) }

func (t *tx) candidate(id string, withVersion bool) (certification.Candidate, error) {
	var (
		r       candidateRow
		version sql.NullInt64
	)
	query, extra := candidateOnlyByID, []any(nil)
	if withVersion {
		query, extra = candidateByID, []any{&version}
	}
	st := t.db.Statement
	err := st.ConnPool.QueryRowContext(st.Context, query, id).Scan(scanCandidate(&r, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return certification.Candidate{}, certification.NotFoundf("candidate %s", id)
	}
	if err != nil {
		return certification.Candidate{}, err
	}
	if version.Valid {
		t.sawReferential(r.CertificationCode, int(version.Int64))
	}
	return candidateFromRow(r), nil
}

// candidateByID reads a candidate and their certification's version;
// candidateOnlyByID the candidate alone.
const (
	candidateByID = "SELECT " + candidateColumns + ", (SELECT version FROM certifications WHERE certifications.code = candidates.certification_code)" +
		" FROM candidates WHERE id = ?"
	candidateOnlyByID = "SELECT " + candidateColumns + " FROM candidates WHERE id = ?"
)

// candidateColumns are candidateRow's columns, in the order scanCandidate reads
// them (a test holds the two to the model).
const candidateColumns = "id, certification_code, route, training_site_id, enrolled_on, first_name, birth_name, usage_name, " +
	"sex, birth_date, birth_insee_code, birth_postal_code, birth_place_name, birth_country_code, email, phone, line1, line2, " +
	"postal_code, city, country_code, status, vae_admissibility, vae_decided_on, vae_experience_months, vae_required_months, " +
	"withdrawn_on, withdrawal_reason, superseded_by, certificate_number, identity_key, person_key, search_name, version, " +
	"created_at, updated_at"

// findCandidates runs a query of candidates, of at most n rows, and scans its
// rows by hand. Candidates are the rows read most, and GORM's reflective scan into
// a struct of 36 fields costs as much as the query itself on the embedded
// database. Every row is scanned into the same destinations (Scan sets each of
// them) and converted at once: a page's rows, grown one by one and then copied,
// were more than a quarter of what a list allocated before a28b934.
func findCandidates(q *gorm.DB, n int) ([]certification.Candidate, error) {
	rows, err := q.Model(&candidateRow{}).Select(candidateColumns).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var r candidateRow
	dest := scanCandidate(&r)
	out := make([]certification.Candidate, 0, n)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, candidateFromRow(r))
	}
	return out, rows.Err()
}

// scanCandidate lists where each of candidateColumns goes, then the extra
// destinations of the columns a statement reads after them.
func scanCandidate(r *candidateRow, extra ...any) []any {
	return append(append(make([]any, 0, 36+len(extra)), &r.ID, &r.CertificationCode, &r.Route, &r.TrainingSiteID, &r.EnrolledOn, &r.FirstName, &r.BirthName, &r.UsageName,
		&r.Sex, &r.BirthDate, &r.BirthINSEECode, &r.BirthPostalCode, &r.BirthPlaceName, &r.BirthCountryCode, &r.Email, &r.Phone,
		&r.Line1, &r.Line2, &r.PostalCode, &r.City, &r.CountryCode, &r.Status, &r.VAEAdmissibility, &r.VAEDecidedOn,
		&r.VAEExperienceMonths, &r.VAERequiredMonths, &r.WithdrawnOn, &r.WithdrawalReason, &r.SupersededBy, &r.CertificateNumber,
		&r.IdentityKey, &r.PersonKey, &r.SearchName, &r.Version, &r.CreatedAt, &r.UpdatedAt), extra...)
}

func (t *tx) LockCandidate(id string) (certification.Candidate, error) {
	var r candidateRow
	if err := t.forUpdate().Take(&r, "id = ?", id).Error; err != nil {
		return certification.Candidate{}, notFound(err, "candidate %s", id)
	}
	return candidateFromRow(r), nil
}

func (t *tx) CandidateByIdentity(key string) (certification.Candidate, error) {
	var r candidateRow
	if err := t.db.Take(&r, "identity_key = ?", key).Error; err != nil {
		return certification.Candidate{}, notFound(err, "candidate with identity %s", key)
	}
	return candidateFromRow(r), nil
}

func (t *tx) InsertCandidate(c certification.Candidate, k service.CandidateKeys) error {
	row := candidateToRow(c, k)
	if deferred, err := t.deferInsert(&row); deferred {
		return err
	}
	return duplicate(t.insertNow(&row), "duplicate_candidate", "this person is already registered for the certification")
}

func (t *tx) UpdateCandidate(c certification.Candidate, k service.CandidateKeys) error {
	row := candidateToRow(c, k)
	return duplicate(t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error,
		"duplicate_candidate", "this person is already registered for the certification")
}

// escapeLike makes a user's search text match literally in LIKE … ESCAPE '!' (a
// backslash would need escaping differently on each database).
func escapeLike(s string) string {
	r := []rune{}
	for _, c := range s {
		if c == '%' || c == '_' || c == '!' {
			r = append(r, '!')
		}
		r = append(r, c)
	}
	return string(r)
}

func candidateToRow(c certification.Candidate, k service.CandidateKeys) candidateRow {
	r := candidateRow{
		ID: c.ID, CertificationCode: c.CertificationCode, Route: string(c.Route), TrainingSiteID: nilIfEmpty(c.TrainingSiteID),
		EnrolledOn: c.EnrolledOn, FirstName: c.FirstName, BirthName: c.BirthName, UsageName: nilIfEmpty(c.UsageName),
		Sex: c.Sex, BirthDate: c.BirthDate, BirthINSEECode: nilIfEmpty(c.BirthPlace.INSEECode),
		BirthPostalCode: nilIfEmpty(c.BirthPlace.PostalCode), BirthPlaceName: c.BirthPlace.Name, BirthCountryCode: c.BirthPlace.CountryCode,
		Email: c.Email, Phone: nilIfEmpty(c.Phone), Line1: c.Address.Line1, Line2: c.Address.Line2, PostalCode: c.Address.PostalCode,
		City: c.Address.City, CountryCode: c.Address.CountryCode, Status: string(c.Status),
		VAEAdmissibility: nilIfEmpty(string(c.VAEAdmissibility)), VAEDecidedOn: c.VAEDecidedOn,
		VAEExperienceMonths: c.VAEExperienceMonths, VAERequiredMonths: c.VAERequiredMonths,
		WithdrawnOn: c.WithdrawnOn, WithdrawalReason: nilIfEmpty(c.WithdrawalReason),
		SupersededBy: nilIfEmpty(c.SupersededBy), CertificateNumber: nilIfEmpty(c.CertificateNumber),
		IdentityKey: nilIfEmpty(k.Identity), PersonKey: k.Person, SearchName: k.Search,
		Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	return r
}

func candidateFromRow(r candidateRow) certification.Candidate {
	return certification.Candidate{
		ID: r.ID, CertificationCode: r.CertificationCode, Route: certification.RouteID(r.Route), TrainingSiteID: deref(r.TrainingSiteID),
		EnrolledOn: certification.Day(r.EnrolledOn), FirstName: r.FirstName, BirthName: r.BirthName, UsageName: deref(r.UsageName),
		Sex: r.Sex, BirthDate: certification.Day(r.BirthDate),
		BirthPlace: certification.BirthPlace{INSEECode: deref(r.BirthINSEECode), PostalCode: deref(r.BirthPostalCode),
			Name: r.BirthPlaceName, CountryCode: r.BirthCountryCode},
		Email: r.Email, Phone: deref(r.Phone),
		Address: certification.Address{Line1: r.Line1, Line2: r.Line2, PostalCode: r.PostalCode, City: r.City, CountryCode: r.CountryCode},
		Status:  certification.CandidateStatus(r.Status), VAEAdmissibility: certification.VAEAdmissibility(deref(r.VAEAdmissibility)),
		VAEDecidedOn: dayPtr(r.VAEDecidedOn), VAEExperienceMonths: r.VAEExperienceMonths, VAERequiredMonths: r.VAERequiredMonths,
		WithdrawnOn: dayPtr(r.WithdrawnOn), WithdrawalReason: deref(r.WithdrawalReason),
		SupersededBy: deref(r.SupersededBy), CertificateNumber: deref(r.CertificateNumber),
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func dayPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := certification.Day(*t)
	return &d
}

// CandidateFacts reads the facts a candidate's status follows from: their
// withdrawal, their sittings that are not cancelled and the outcome of their latest
// published decision that no correction superseded.
func (t *tx) CandidateFacts(id string) (certification.CandidateFacts, error) {
	var r candidateRow
	if err := t.db.Select("withdrawn_on").Take(&r, "id = ?", id).Error; err != nil {
		return certification.CandidateFacts{}, notFound(err, "candidate %s", id)
	}
	var n int64
	if err := t.db.Model(&evaluationRow{}).Where("candidate_id = ? AND status <> ?", id, string(certification.SittingCancelled)).Count(&n).Error; err != nil {
		return certification.CandidateFacts{}, err
	}
	var validated int64
	if err := t.db.Model(&evaluationRow{}).Where("candidate_id = ? AND validated_on IS NOT NULL", id).Count(&validated).Error; err != nil {
		return certification.CandidateFacts{}, err
	}
	f := certification.CandidateFacts{Withdrawn: r.WithdrawnOn != nil, Evaluations: int(n), Validations: int(validated)}
	var last []decisionRow
	if err := t.db.Where("candidate_id = ? AND published_at IS NOT NULL AND superseded_by IS NULL", id).
		Order("published_at DESC, id DESC").Limit(1).Find(&last).Error; err != nil {
		return f, err
	}
	if len(last) > 0 {
		f.LastOutcome = certification.Outcome(last[0].Outcome)
	}
	return f, nil
}

func (t *tx) SupersedeCandidate(id, by string, at time.Time) error {
	return t.db.Model(&candidateRow{}).Where("id = ?", id).
		Updates(map[string]any{"superseded_by": by, "identity_key": nil, "version": gorm.Expr("version + 1"), "updated_at": at}).Error
}
