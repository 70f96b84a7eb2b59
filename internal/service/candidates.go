package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
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
	// Person is the same for the same person registered for the same certification:
	// their acquisitions carry over from one registration to the next (CARRY-OVER).
	Person string
	// Identity is the person key of their current registration only: empty once the
	// candidate has withdrawn or registered again, so that one person has one
	// current registration.
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
	return read(ctx, s, func(tx Tx) ([]certification.Candidate, error) { return tx.Candidates(f) })
}

// GetCandidate returns one candidate, if the caller may see them.
func (s *Service) GetCandidate(ctx context.Context, id string) (certification.Candidate, error) {
	var c certification.Candidate
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = s.visibleCandidate(ctx, tx, id)
		return err
	})
	return c, err
}

// visibleCandidate reads a candidate the caller may see; any other is not found.
// Its callers do not go on to the referential.
func (s *Service) visibleCandidate(ctx context.Context, tx Tx, id string) (certification.Candidate, error) {
	c, err := tx.CandidateOnly(id)
	if err == nil {
		err = s.mustSeeCandidate(ctx, tx, c, "candidate "+id)
	}
	return c, err
}

// canSeeCandidate says who sees a candidate: the certifier's staff all of them,
// site_staff their site's, a candidate themselves, a jury member those of the
// sessions they sit in.
func (s *Service) canSeeCandidate(ctx context.Context, tx Tx, c certification.Candidate) (bool, error) {
	p, _ := auth.PrincipalFrom(ctx)
	switch p.Role {
	case auth.RoleAdmin, auth.RoleDirector:
		return true, nil
	case auth.RoleSiteStaff:
		return c.TrainingSiteID != "" && c.TrainingSiteID == p.TrainingSiteID, nil
	case auth.RoleCandidate:
		return c.ID == p.CandidateID, nil
	case auth.RoleJuryMember:
		return tx.SitsWithCandidate(p.JuryMemberID, c.ID)
	}
	return false, nil
}

// mustSeeCandidate answers what (a candidate, or something of theirs) as not found
// when the caller may not see the candidate.
func (s *Service) mustSeeCandidate(ctx context.Context, tx Tx, c certification.Candidate, what string) error {
	ok, err := s.canSeeCandidate(ctx, tx, c)
	if err == nil && !ok {
		s.probe(ctx, "refused_read", "candidate", c.ID)
		err = certification.NotFoundf("%s", what)
	}
	return err
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

// PrecheckRegistration applies, before the handler, the registration rules that
// need nothing but the request. A request they pass goes on to the write, which
// applies every rule, these included, to the facts it loads. One they refuse is
// bound to fail: the facts the other rules need are read then, without a write
// transaction, so that the 422 names every violation at once.
func (s *Service) PrecheckRegistration(ctx context.Context, in CandidateInput) error {
	if err := mayRegisterAt(ctx, in.TrainingSiteID); err != nil {
		return err
	}
	c := s.newCandidate(in)
	if len(certification.CheckRegistrationRequest(c, cdc.BirthCountries{})) == 0 {
		return nil
	}
	return s.store.Read(ctx, func(tx Tx) error { return s.checkRegistration(ctx, tx, c) })
}

// RegisterCandidate registers a candidate under ROUTE-OPEN, ROUTE-OPENING,
// SITE-PREPARATION and REGISTRATION-PERIOD, refusing the same person twice while
// their registration is current.
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
		idempotency.Result(ctx, c)
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
		updated.VAEExperienceMonths, updated.VAERequiredMonths = c.VAEExperienceMonths, c.VAERequiredMonths
		updated.WithdrawnOn, updated.WithdrawalReason = c.WithdrawnOn, c.WithdrawalReason
		updated.SupersededBy, updated.CertificateNumber = c.SupersededBy, c.CertificateNumber
		updated.Version, updated.CreatedAt, updated.UpdatedAt = c.Version+1, c.CreatedAt, s.Now()
		switch {
		case updated.Route != certification.RouteVAE:
			updated.VAEAdmissibility, updated.VAEDecidedOn = "", nil
			updated.VAEExperienceMonths, updated.VAERequiredMonths = nil, nil
		case c.Route != certification.RouteVAE:
			updated.VAEAdmissibility = certification.VAEPending
		}
		if err := s.checkRegistration(ctx, tx, updated); err != nil {
			return err
		}
		facts, err := tx.CandidateFacts(c.ID)
		if err != nil {
			return err
		}
		if err := certification.CheckRouteChange(c, updated, facts); err != nil {
			return err
		}
		if err := s.insertOrUpdateUnique(ctx, tx, updated, false); err != nil {
			return err
		}
		before := candidateChanges(c)
		c = updated
		return s.audit(ctx, tx, "update", "candidate", c.ID, changed(before, candidateChanges(c)))
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
		day := s.Today()
		if on != nil {
			day = certification.Day(*on)
		}
		facts, err := tx.CandidateFacts(c.ID)
		if err != nil {
			return err
		}
		before := candidateChanges(c)
		if c, err = certification.Withdraw(c, facts, reason, day, s.Now()); err != nil {
			return err
		}
		if err := tx.UpdateCandidate(c, CandidateKeysOf(c)); err != nil {
			return err
		}
		return s.audit(ctx, tx, "withdraw", "candidate", c.ID, changed(before, candidateChanges(c)))
	})
	return c, err
}

// DecideVAEAdmissibility records whether a VAE application is admissible (recevable),
// and the experience the decision relied on (VAE-EXPERIENCE).
func (s *Service) DecideVAEAdmissibility(ctx context.Context, id string, expected int, decision certification.VAEAdmissibility, on time.Time, experienceMonths *int) (certification.Candidate, error) {
	var c certification.Candidate
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if c, err = s.lockVisibleCandidate(ctx, tx, id, expected); err != nil {
			return err
		}
		before := candidateChanges(c)
		if c, err = certification.DecideVAEAdmissibility(c, decision, on, experienceMonths, s.Now()); err != nil {
			return err
		}
		if err := tx.UpdateCandidate(c, CandidateKeysOf(c)); err != nil {
			return err
		}
		return s.audit(ctx, tx, "decide_vae_admissibility", "candidate", c.ID, changed(before, candidateChanges(c)))
	})
	return c, err
}

func (s *Service) lockVisibleCandidate(ctx context.Context, tx Tx, id string, expected int) (certification.Candidate, error) {
	c, err := tx.LockCandidate(id)
	if err != nil {
		return c, err
	}
	if err := s.mustSeeCandidate(ctx, tx, c, "candidate "+id); err != nil {
		return c, err
	}
	if !matches(c.Version, expected) {
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
	// The site first: the store reads the versions of its certifications with it,
	// which spares the referential a read of its own.
	var site *certification.TrainingSite
	if c.TrainingSiteID != "" && canSeeSite(ctx, c.TrainingSiteID) == nil {
		found, err := tx.TrainingSite(c.TrainingSiteID)
		switch {
		case err == nil:
			site = &found
		case !errors.Is(err, certification.ErrNotFound):
			return err
		}
	}
	ref, err := tx.Certification(c.CertificationCode)
	if errors.Is(err, certification.ErrNotFound) {
		return certification.Check([]certification.Violation{{Field: "/certification_code", Message: "unknown certification " + c.CertificationCode}})
	} else if err != nil {
		return err
	}
	return certification.Check(certification.CheckRegistration(certification.Registration{Candidate: c, Certification: ref, Site: site,
		BirthCountries: cdc.BirthCountries{}}))
}

// insertOrUpdateUnique writes the candidate, refusing a second current registration
// of the same person for the same certification with a 409 that names the first one
// (when the caller may see it). A new registration after the person's path ended
// on a refusal or a partial validation replaces that one, whose acquisitions carry
// over (CARRY-OVER).
//
// A registration inserts first: the unique index of the person's identity finds
// an earlier registration, so that a new person, the common case, costs no read.
func (s *Service) insertOrUpdateUnique(ctx context.Context, tx Tx, c certification.Candidate, insert bool) error {
	keys := CandidateKeysOf(c)
	if !insert {
		existing, err := tx.CandidateByIdentity(keys.Identity)
		switch {
		case err == nil && existing.ID != c.ID:
			return s.duplicateCandidate(ctx, tx, existing.ID)
		case err != nil && !errors.Is(err, certification.ErrNotFound):
			return err
		}
		return s.identityTaken(ctx, tx, keys, tx.UpdateCandidate(c, keys))
	}
	err := tx.InsertCandidate(c, keys)
	var conflict *certification.ConflictError
	if !errors.As(err, &conflict) {
		return err
	}
	existing, err := tx.CandidateByIdentity(keys.Identity)
	switch {
	case errors.Is(err, certification.ErrNotFound):
		return conflict // taken by a registration that has since let it go
	case err != nil:
		return err
	case !certification.MayRegisterAgain(existing):
		return s.duplicateCandidate(ctx, tx, existing.ID)
	}
	if existing, err = tx.LockCandidate(existing.ID); err != nil {
		return err
	}
	if existing.SupersededBy != "" {
		return s.duplicateCandidate(ctx, tx, existing.SupersededBy)
	}
	if err := tx.SupersedeCandidate(existing.ID, c.ID, c.UpdatedAt); err != nil {
		return err
	}
	return s.identityTaken(ctx, tx, keys, tx.InsertCandidate(c, keys))
}

// identityTaken turns the conflict of a write that lost the identity's unique index
// to a concurrent registration of the same person into the 409 that names it.
func (s *Service) identityTaken(ctx context.Context, tx Tx, keys CandidateKeys, err error) error {
	var conflict *certification.ConflictError
	if errors.As(err, &conflict) {
		if existing, e := tx.CandidateByIdentity(keys.Identity); e == nil {
			return s.duplicateCandidate(ctx, tx, existing.ID)
		}
	}
	return err
}

func (s *Service) duplicateCandidate(ctx context.Context, tx Tx, existingID string) error {
	s.probe(ctx, "refused_duplicate", "candidate", existingID)
	e := &certification.ConflictError{Code: "duplicate_candidate",
		Message: "this person (birth name, first name, birth date) is already registered for the certification"}
	if existing, err := tx.Candidate(existingID); err == nil {
		if ok, err := s.canSeeCandidate(ctx, tx, existing); err == nil && ok {
			e.ExistingID = existing.ID
		}
	}
	return e
}

// PersonKey identifies a person registered for a certification: the certification,
// the birth and first names lower-cased without accents, and the birth date.
func PersonKey(c certification.Candidate) string {
	return strings.Join([]string{c.CertificationCode, fold(c.BirthName), fold(c.FirstName), certification.Day(c.BirthDate).Format(time.DateOnly)}, "|")
}

// CandidateKeysOf returns the keys a candidate row is stored and found by: the
// person (for carry-over and duplicates), the identity (unique among active
// registrations) and the folded name the search matches.
func CandidateKeysOf(c certification.Candidate) CandidateKeys {
	k := CandidateKeys{Person: PersonKey(c), Search: fold(strings.Join([]string{c.BirthName, c.UsageName, c.FirstName}, " "))}
	if c.WithdrawnOn == nil && c.SupersededBy == "" {
		k.Identity = k.Person
	}
	return k
}

// fold lower-cases s, strips its accents and collapses its spaces, so that "Élodie
// DUPONT" and "elodie  dupont" compare equal. ASCII has no accent to strip.
func fold(s string) string {
	if !isASCII(s) {
		t := unaccent.Get().(transform.Transformer)
		if out, _, err := transform.String(t, s); err == nil {
			s = out
		}
		unaccent.Put(t)
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// unaccent holds transformers that decompose a text, drop its combining marks and
// compose it again. Each keeps its buffers (8 KiB), which a registration or a
// transcript would otherwise allocate for every name it folds.
var unaccent = sync.Pool{New: func() any { return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC) }}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func candidateChanges(c certification.Candidate) map[string]any {
	day := func(d *time.Time) any {
		if d == nil {
			return nil
		}
		return d.Format(time.DateOnly)
	}
	return map[string]any{"certification_code": c.CertificationCode, "route": c.Route, "training_site_id": c.TrainingSiteID,
		"enrolled_on": c.EnrolledOn.Format(time.DateOnly), "first_name": c.FirstName, "birth_name": c.BirthName,
		"usage_name": c.UsageName, "sex": c.Sex, "birth_date": c.BirthDate.Format(time.DateOnly), "birth_place": c.BirthPlace,
		"email": c.Email, "phone": c.Phone, "address": c.Address, "status": c.Status, "vae_admissibility": c.VAEAdmissibility,
		"vae_decided_on": day(c.VAEDecidedOn), "vae_experience_months": c.VAEExperienceMonths, "withdrawn_on": day(c.WithdrawnOn),
		"withdrawal_reason": c.WithdrawalReason}
}
