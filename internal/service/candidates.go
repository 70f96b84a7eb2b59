package service

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// CandidateFilter selects candidates.
type CandidateFilter struct {
	Page
	TrainingSiteID    string
	CertificationCode string
	Route             certification.RouteID
	Status            certification.CandidateStatus
	EnrolledFrom      *time.Time
	EnrolledTo        *time.Time
	// Search is matched against the names, lower-cased and without accents.
	Search string
}

// CandidateKeys are the derived columns the store indexes a candidate by.
type CandidateKeys struct {
	// Identity is the same for the same person registered for the same certification;
	// empty once the candidate has withdrawn, so that they may register again.
	Identity string
	Search   string
}

// CandidateInput is a candidate's record as registered, or as a merge patch leaves it.
type CandidateInput struct {
	CertificationCode string
	Route             certification.RouteID
	TrainingSiteID    string
	EnrolledOn        *time.Time // nil: today
	FirstName         string
	BirthName         string
	UsageName         string
	Sex               string
	BirthDate         time.Time
	BirthPlace        certification.BirthPlace
	Email             string
	Phone             string
	Address           certification.Address
}

// ListCandidates lists the candidates the caller may see: site_staff only their site's.
func (s *Service) ListCandidates(ctx context.Context, f CandidateFilter) ([]certification.Candidate, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleSiteStaff {
		if f.TrainingSiteID != "" && f.TrainingSiteID != p.TrainingSiteID {
			return nil, nil
		}
		f.TrainingSiteID = p.TrainingSiteID
	}
	f.Search = fold(f.Search)
	var out []certification.Candidate
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Candidates(f)
		return err
	})
	return out, err
}

// GetCandidate returns one candidate, if the caller may see them.
func (s *Service) GetCandidate(ctx context.Context, id string) (certification.Candidate, error) {
	var c certification.Candidate
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.Candidate(id)
		if err == nil && !canSeeCandidate(ctx, c) {
			err = certification.NotFoundf("candidate %s", id)
		}
		return err
	})
	return c, err
}

func canSeeCandidate(ctx context.Context, c certification.Candidate) bool {
	p, _ := auth.PrincipalFrom(ctx)
	switch p.Role {
	case auth.RoleAdmin, auth.RoleDirector:
		return true
	case auth.RoleSiteStaff:
		return c.TrainingSiteID != "" && c.TrainingSiteID == p.TrainingSiteID
	case auth.RoleCandidate:
		return c.ID == p.CandidateID
	}
	return false
}

// mayRegisterAt refuses a site_staff caller a candidate without a site: they
// register their own site's candidates only. (Another site is one they cannot see:
// checkRegistration answers it as no such site.)
func mayRegisterAt(ctx context.Context, siteID string) error {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleSiteStaff && siteID == "" {
		return certification.ErrForbidden
	}
	return nil
}

// PrecheckRegistration applies the registration rules to a request without a write
// transaction, so that a request bound to fail never queues for the write lock.
// RegisterCandidate and UpdateCandidate apply the same rules again inside theirs.
func (s *Service) PrecheckRegistration(ctx context.Context, in CandidateInput) error {
	if err := mayRegisterAt(ctx, in.TrainingSiteID); err != nil {
		return err
	}
	c := s.newCandidate(in)
	return s.store.Read(ctx, func(tx Tx) error { return s.checkRegistration(ctx, tx, c) })
}

// RegisterCandidate registers a candidate under ROUTE-OPEN, TERRITORY,
// SITE-PREPARATION and REGISTRATION-PERIOD, refusing the same person twice.
func (s *Service) RegisterCandidate(ctx context.Context, in CandidateInput) (certification.Candidate, error) {
	if err := mayRegisterAt(ctx, in.TrainingSiteID); err != nil {
		return certification.Candidate{}, err
	}
	c := s.newCandidate(in)
	now := s.Now()
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = newID(), 1, now, now
	c.Status = certification.StatusOf(certification.CandidateFacts{})
	if c.Route == certification.RouteVAE {
		c.VAEAdmissibility = certification.VAEPending
	}
	err := s.store.Write(ctx, func(tx Tx) error {
		if err := s.checkRegistration(ctx, tx, c); err != nil {
			return err
		}
		if err := s.insertOrUpdateUnique(ctx, tx, c, true); err != nil {
			return err
		}
		return s.audit(ctx, tx, "register", "candidate", c.ID, candidateChanges(c))
	})
	return c, err
}

// UpdateCandidate replaces a candidate's record, if still at version expected, under
// the same rules as a registration.
func (s *Service) UpdateCandidate(ctx context.Context, id string, expected int, in CandidateInput) (certification.Candidate, error) {
	var c certification.Candidate
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if c, err = s.lockVisibleCandidate(ctx, tx, id, expected); err != nil {
			return err
		}
		if err := mayRegisterAt(ctx, in.TrainingSiteID); err != nil {
			return err
		}
		updated := s.newCandidate(in)
		updated.ID, updated.CertificationCode, updated.Status = c.ID, c.CertificationCode, c.Status
		updated.VAEAdmissibility, updated.VAEDecidedOn = c.VAEAdmissibility, c.VAEDecidedOn
		updated.WithdrawnOn, updated.WithdrawalReason = c.WithdrawnOn, c.WithdrawalReason
		updated.Version, updated.CreatedAt, updated.UpdatedAt = c.Version+1, c.CreatedAt, s.Now()
		switch {
		case updated.Route != certification.RouteVAE:
			updated.VAEAdmissibility, updated.VAEDecidedOn = "", nil
		case c.Route != certification.RouteVAE:
			updated.VAEAdmissibility = certification.VAEPending
		}
		if err := s.checkRegistration(ctx, tx, updated); err != nil {
			return err
		}
		if err := s.insertOrUpdateUnique(ctx, tx, updated, false); err != nil {
			return err
		}
		c = updated
		return s.audit(ctx, tx, "update", "candidate", c.ID, candidateChanges(c))
	})
	return c, err
}

// WithdrawCandidate records a withdrawal; the record stays.
func (s *Service) WithdrawCandidate(ctx context.Context, id string, expected int, reason string, on *time.Time) (certification.Candidate, error) {
	var c certification.Candidate
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if c, err = s.lockVisibleCandidate(ctx, tx, id, expected); err != nil {
			return err
		}
		if c.WithdrawnOn != nil {
			return &certification.ConflictError{Code: "already_withdrawn", Message: "the candidate withdrew on " + c.WithdrawnOn.Format(time.DateOnly)}
		}
		day := s.Today()
		if on != nil {
			day = certification.Day(*on)
		}
		if day.Before(c.EnrolledOn) {
			return certification.Check([]certification.Violation{{Field: "/withdrawn_on", Message: "a withdrawal comes after the enrolment, on " + c.EnrolledOn.Format(time.DateOnly)}})
		}
		c.WithdrawnOn, c.WithdrawalReason = &day, strings.TrimSpace(reason)
		facts, err := tx.CandidateFacts(c.ID)
		if err != nil {
			return err
		}
		facts.Withdrawn = true
		c.Status = certification.StatusOf(facts)
		c.Version++
		c.UpdatedAt = s.Now()
		if err := tx.UpdateCandidate(c, candidateKeys(c)); err != nil {
			return err
		}
		return s.audit(ctx, tx, "withdraw", "candidate", c.ID, map[string]any{"withdrawn_on": day.Format(time.DateOnly), "reason": c.WithdrawalReason})
	})
	return c, err
}

// DecideVAEAdmissibility records whether a VAE application is admissible (recevable).
func (s *Service) DecideVAEAdmissibility(ctx context.Context, id string, expected int, decision certification.VAEAdmissibility, on time.Time) (certification.Candidate, error) {
	var c certification.Candidate
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if c, err = s.lockVisibleCandidate(ctx, tx, id, expected); err != nil {
			return err
		}
		if c.Route != certification.RouteVAE {
			return &certification.ConflictError{Code: "not_vae", Message: "only a VAE candidate has an admissibility decision"}
		}
		if c.WithdrawnOn != nil {
			return &certification.ConflictError{Code: "already_withdrawn", Message: "the candidate has withdrawn"}
		}
		day := certification.Day(on)
		if day.Before(c.EnrolledOn) {
			return certification.Check([]certification.Violation{{Field: "/decided_on", Message: "the decision comes after the enrolment, on " + c.EnrolledOn.Format(time.DateOnly)}})
		}
		c.VAEAdmissibility, c.VAEDecidedOn = decision, &day
		c.Version++
		c.UpdatedAt = s.Now()
		if err := tx.UpdateCandidate(c, candidateKeys(c)); err != nil {
			return err
		}
		return s.audit(ctx, tx, "decide_vae_admissibility", "candidate", c.ID, map[string]any{"decision": decision, "decided_on": day.Format(time.DateOnly)})
	})
	return c, err
}

func (s *Service) lockVisibleCandidate(ctx context.Context, tx Tx, id string, expected int) (certification.Candidate, error) {
	c, err := tx.LockCandidate(id)
	if err != nil {
		return c, err
	}
	if !canSeeCandidate(ctx, c) {
		return c, certification.NotFoundf("candidate %s", id)
	}
	if c.Version != expected {
		return c, certification.ErrStale
	}
	return c, nil
}

func (s *Service) newCandidate(in CandidateInput) certification.Candidate {
	enrolled := s.Today()
	if in.EnrolledOn != nil {
		enrolled = certification.Day(*in.EnrolledOn)
	}
	return certification.Candidate{
		CertificationCode: in.CertificationCode, Route: in.Route, TrainingSiteID: in.TrainingSiteID, EnrolledOn: enrolled,
		FirstName: strings.TrimSpace(in.FirstName), BirthName: strings.TrimSpace(in.BirthName), UsageName: strings.TrimSpace(in.UsageName),
		Sex: in.Sex, BirthDate: certification.Day(in.BirthDate), BirthPlace: in.BirthPlace,
		Email: strings.ToLower(strings.TrimSpace(in.Email)), Phone: strings.TrimSpace(in.Phone), Address: in.Address,
	}
}

// checkRegistration loads what the registration rules need and applies them all. A
// site the caller may not see counts as no site at all.
func (s *Service) checkRegistration(ctx context.Context, tx Tx, c certification.Candidate) error {
	ref, err := tx.Certification(c.CertificationCode)
	if errors.Is(err, certification.ErrNotFound) {
		return certification.Check([]certification.Violation{{Field: "/certification_code", Message: "unknown certification " + c.CertificationCode}})
	} else if err != nil {
		return err
	}
	r := certification.Registration{Candidate: c, Certification: ref}
	if c.TrainingSiteID != "" && canSeeSite(ctx, c.TrainingSiteID) == nil {
		site, err := tx.TrainingSite(c.TrainingSiteID)
		switch {
		case err == nil:
			r.Site = &site
		case !errors.Is(err, certification.ErrNotFound):
			return err
		}
	}
	return certification.Check(certification.CheckRegistration(r))
}

// insertOrUpdateUnique writes the candidate, refusing a second registration of the
// same person for the same certification with a 409 that names the first one (when
// the caller may see it).
func (s *Service) insertOrUpdateUnique(ctx context.Context, tx Tx, c certification.Candidate, insert bool) error {
	keys := candidateKeys(c)
	existing, err := tx.CandidateByIdentity(keys.Identity)
	switch {
	case err == nil && existing.ID != c.ID:
		return duplicateCandidate(ctx, existing)
	case err != nil && !errors.Is(err, certification.ErrNotFound):
		return err
	}
	if insert {
		err = tx.InsertCandidate(c, keys)
	} else {
		err = tx.UpdateCandidate(c, keys)
	}
	var conflict *certification.ConflictError
	if errors.As(err, &conflict) {
		// A concurrent registration of the same person won the unique index.
		if existing, e := tx.CandidateByIdentity(keys.Identity); e == nil {
			return duplicateCandidate(ctx, existing)
		}
	}
	return err
}

func duplicateCandidate(ctx context.Context, existing certification.Candidate) error {
	e := &certification.ConflictError{Code: "duplicate_candidate",
		Message: "this person (birth name, first name, birth date) is already registered for the certification"}
	if canSeeCandidate(ctx, existing) {
		e.ExistingID = existing.ID
	}
	return e
}

func candidateKeys(c certification.Candidate) CandidateKeys {
	k := CandidateKeys{Search: fold(strings.Join([]string{c.BirthName, c.UsageName, c.FirstName}, " "))}
	if c.WithdrawnOn == nil {
		k.Identity = strings.Join([]string{c.CertificationCode, fold(c.BirthName), fold(c.FirstName), c.BirthDate.Format(time.DateOnly)}, "|")
	}
	return k
}

// fold lower-cases s, strips its accents and collapses its spaces, so that "Élodie
// DUPONT" and "elodie  dupont" compare equal.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}

func candidateChanges(c certification.Candidate) map[string]any {
	return map[string]any{"certification_code": c.CertificationCode, "route": c.Route, "training_site_id": c.TrainingSiteID,
		"enrolled_on": c.EnrolledOn.Format(time.DateOnly), "first_name": c.FirstName, "birth_name": c.BirthName,
		"usage_name": c.UsageName, "sex": c.Sex, "birth_date": c.BirthDate.Format(time.DateOnly), "birth_place": c.BirthPlace,
		"email": c.Email, "phone": c.Phone, "address": c.Address, "status": c.Status, "vae_admissibility": c.VAEAdmissibility}
}
