package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// EvaluationFilter selects sittings.
type EvaluationFilter struct {
	Page
	CandidateID string
	// CandidateSiteID restricts to the candidates of one training site (site_staff).
	CandidateSiteID string
	// MemberID restricts to the candidates of the sessions a jury member sits in.
	MemberID       string
	Component      string
	TrainingSiteID string
	JurySessionID  string
	Status         certification.SittingStatus
	From           *time.Time // scheduled at or after
	Before         *time.Time // scheduled before
}

// EvaluationInput is where and when a sitting takes place; a defence names its jury
// session.
type EvaluationInput struct {
	CandidateID    string
	Component      string
	TrainingSiteID string
	JurySessionID  string
	ScheduledAt    time.Time
}

// EvaluationView is a sitting with what its result means under the certification's
// grading settings.
type EvaluationView struct {
	certification.Evaluation
	Passed bool
	// ResultHidden: the caller may not see the result yet (PUBLICATION).
	ResultHidden bool
}

// ListEvaluations lists the sittings the caller may see.
func (s *Service) ListEvaluations(ctx context.Context, f EvaluationFilter) ([]EvaluationView, error) {
	switch p, _ := auth.PrincipalFrom(ctx); p.Role {
	case auth.RoleSiteStaff:
		f.CandidateSiteID = p.TrainingSiteID
	case auth.RoleJuryMember:
		f.MemberID = p.JuryMemberID
	}
	var out []EvaluationView
	err := s.store.Read(ctx, func(tx Tx) error {
		evals, err := tx.Evaluations(f)
		if err != nil {
			return err
		}
		out, err = s.views(ctx, tx, evals)
		return err
	})
	return out, err
}

// GetEvaluation returns one sitting, if the caller may see its candidate.
func (s *Service) GetEvaluation(ctx context.Context, id string) (EvaluationView, error) {
	var out EvaluationView
	err := s.store.Read(ctx, func(tx Tx) error {
		e, err := tx.Evaluation(id)
		if err != nil {
			return err
		}
		cand, err := tx.Candidate(e.CandidateID)
		if err != nil {
			return err
		}
		if err := s.mustSeeCandidate(ctx, tx, cand, "evaluation "+id); err != nil {
			return err
		}
		vs, err := s.views(ctx, tx, []certification.Evaluation{e})
		if err == nil {
			out = vs[0]
		}
		return err
	})
	return out, err
}

// ScheduleEvaluation schedules a sitting, or books a defence in a jury session; the
// rules are certification.ScheduleSitting's.
func (s *Service) ScheduleEvaluation(ctx context.Context, in EvaluationInput) (EvaluationView, error) {
	var view EvaluationView
	err := s.store.Write(ctx, func(tx Tx) error {
		f, err := s.sittingFacts(ctx, tx, in.CandidateID, in.TrainingSiteID, in.JurySessionID)
		if err != nil {
			return err
		}
		e, err := certification.ScheduleSitting(f, sittingRequest(in), newID())
		if err != nil {
			return err
		}
		if err := tx.InsertEvaluation(e); err != nil {
			return err
		}
		if err := s.refreshStatus(tx, f.Candidate); err != nil {
			return err
		}
		view = viewOf(f.Certification, e)
		idempotency.Result(ctx, view)
		return s.audit(ctx, tx, "schedule", "evaluation", e.ID, placeChanges(e))
	})
	return view, err
}

// RescheduleEvaluation moves a sitting that has no result yet.
func (s *Service) RescheduleEvaluation(ctx context.Context, id string, expected int, in EvaluationInput) (EvaluationView, error) {
	var view EvaluationView
	err := s.store.Write(ctx, func(tx Tx) error {
		current, err := tx.Evaluation(id)
		if err != nil {
			return err
		}
		f, err := s.sittingFacts(ctx, tx, current.CandidateID, in.TrainingSiteID, in.JurySessionID)
		if errors.As(err, new(*certification.ViolationError)) {
			return certification.NotFoundf("evaluation %s", id)
		} else if err != nil {
			return err
		}
		e, err := lockEvaluationAt(tx, id, expected)
		if err != nil {
			return err
		}
		if e, err = certification.RescheduleSitting(f, e, sittingRequest(in)); err != nil {
			return err
		}
		if err := tx.UpdateEvaluation(e); err != nil {
			return err
		}
		view = viewOf(f.Certification, e)
		return s.audit(ctx, tx, "reschedule", "evaluation", e.ID, placeChanges(e))
	})
	return view, err
}

// CancelEvaluation cancels a sitting that has no result.
func (s *Service) CancelEvaluation(ctx context.Context, id string, expected int, reason string) (EvaluationView, error) {
	return s.changeResult(ctx, id, expected, "cancel", func(_ certification.ResultFacts, e certification.Evaluation) (certification.Evaluation, map[string]any, error) {
		e, err := certification.CancelSitting(e, reason, s.Now())
		return e, map[string]any{"reason": e.CancellationReason}, err
	})
}

// RecordResult records the result of a sitting, once; the rules are
// certification.RecordResult's.
func (s *Service) RecordResult(ctx context.Context, id string, expected int, r certification.Result) (EvaluationView, error) {
	return s.changeResult(ctx, id, expected, "record_result", func(f certification.ResultFacts, e certification.Evaluation) (certification.Evaluation, map[string]any, error) {
		e, err := certification.RecordResult(f, e, r)
		return e, resultChanges(e), err
	})
}

// CorrectResult replaces a recorded result that no jury has validated, with a reason.
func (s *Service) CorrectResult(ctx context.Context, id string, expected int, r certification.Result, reason string) (EvaluationView, error) {
	return s.changeResult(ctx, id, expected, "correct_result", func(f certification.ResultFacts, e certification.Evaluation) (certification.Evaluation, map[string]any, error) {
		before := resultChanges(e)
		e, err := certification.CorrectResult(f, e, r)
		return e, map[string]any{"before": before, "after": resultChanges(e), "reason": strings.TrimSpace(reason)}, err
	})
}

// NoPrecondition is the expected version of a change made whatever the version
// (no If-Match, or If-Match: *).
const NoPrecondition = -1

// matches reports whether a resource at version meets the expected version.
func matches(version, expected int) bool { return expected == NoPrecondition || version == expected }

// changeResult is the one transaction a change of a sitting's state or result runs
// in: load the facts (the session of a defence, then the candidate, then the sitting,
// each locked, parents first), decide, save, refresh the candidate's status, audit.
func (s *Service) changeResult(ctx context.Context, id string, expected int, action string,
	decide func(certification.ResultFacts, certification.Evaluation) (certification.Evaluation, map[string]any, error)) (EvaluationView, error) {
	var view EvaluationView
	err := s.store.Write(ctx, func(tx Tx) error {
		current, err := tx.Evaluation(id)
		if err != nil {
			return err
		}
		f := certification.ResultFacts{Now: s.Now()}
		if current.JurySessionID != "" {
			session, err := tx.LockJurySession(current.JurySessionID)
			if err != nil {
				return err
			}
			f.Session = &session
		}
		if f.Candidate, err = tx.LockCandidate(current.CandidateID); err != nil {
			return err
		}
		if err := s.mustSeeCandidate(ctx, tx, f.Candidate, "evaluation "+id); err != nil {
			return err
		}
		e, err := lockEvaluationAt(tx, id, expected)
		if err != nil {
			return err
		}
		if e.JurySessionID != current.JurySessionID {
			return &certification.ConflictError{Code: "evaluation_moved", Message: "the defence moved to another session meanwhile: retry"}
		}
		if err := mayChange(ctx, action, f.Session); err != nil {
			return err
		}
		if f.Certification, err = tx.Certification(e.CertificationCode); err != nil {
			return err
		}
		if f.UnderDeliberation, err = underDeliberation(tx, e); err != nil {
			return err
		}
		e, changes, err := decide(f, e)
		if err != nil {
			return err
		}
		if err := tx.UpdateEvaluation(e); err != nil {
			return err
		}
		if err := s.refreshStatus(tx, f.Candidate); err != nil {
			return err
		}
		view = viewOf(f.Certification, e)
		return s.audit(ctx, tx, action, "evaluation", e.ID, changes)
	})
	return view, err
}

// lockEvaluationAt locks a sitting and checks the version the change is based on.
func lockEvaluationAt(tx Tx, id string, expected int) (certification.Evaluation, error) {
	e, err := tx.LockEvaluation(id)
	if err != nil {
		return e, err
	}
	if !matches(e.Version, expected) {
		return e, certification.ErrStale
	}
	return e, nil
}

// mayChange says who changes a sitting: a defence is the jury's (its members record
// its result; the director and admins run it); another sitting is the staff's who
// see the candidate.
func mayChange(ctx context.Context, action string, session *certification.JurySession) error {
	p, _ := auth.PrincipalFrom(ctx)
	switch {
	case p.Role == auth.RoleAdmin || p.Role == auth.RoleDirector:
		return nil
	case session != nil:
		if action == "record_result" && p.Role == auth.RoleJuryMember && session.HasMember(p.JuryMemberID) {
			return nil
		}
	case p.Role == auth.RoleSiteStaff:
		return nil
	}
	return certification.ErrForbidden
}

// underDeliberation reports whether a draft decision validates the sitting's result.
func underDeliberation(tx Tx, e certification.Evaluation) (bool, error) {
	if !e.HasResult() || e.ValidatedOn != nil {
		return false, nil
	}
	drafts, err := tx.Decisions(DecisionFilter{CandidateID: e.CandidateID, DraftsOnly: true, Page: Page{Limit: 1000}})
	if err != nil {
		return false, err
	}
	for _, d := range drafts {
		for _, c := range d.ValidatedNow() {
			if c.EvaluationID == e.ID {
				return true, nil
			}
		}
	}
	return false, nil
}

// sittingFacts loads what placing a sitting is decided on, parents locked first: the
// jury session a defence is booked in, then the candidate. A candidate the caller
// may not see is no candidate at all; so is a session.
func (s *Service) sittingFacts(ctx context.Context, tx Tx, candidateID, siteID, sessionID string) (certification.SittingFacts, error) {
	f := certification.SittingFacts{Now: s.Now()}
	if sessionID != "" {
		session, err := tx.LockJurySession(sessionID)
		switch {
		case err == nil && canSeeSession(ctx, session):
			f.Session = &session
			siteID = session.TrainingSiteID
			defences, err := tx.SessionDefences(session.ID)
			if err != nil {
				return f, err
			}
			f.SessionDefences = defences
		case err != nil && !errors.Is(err, certification.ErrNotFound):
			return f, err
		}
	}
	cand, err := tx.LockCandidate(candidateID)
	if err == nil {
		err = s.mustSeeCandidate(ctx, tx, cand, "candidate "+candidateID)
	}
	if errors.Is(err, certification.ErrNotFound) {
		return f, certification.Check([]certification.Violation{{Field: "/candidate_id", Message: "no such candidate"}})
	} else if err != nil {
		return f, err
	}
	f.Candidate = cand
	if f.Certification, err = tx.Certification(cand.CertificationCode); err != nil {
		return f, err
	}
	if f.Sittings, err = tx.PersonSittings(PersonKey(cand)); err != nil {
		return f, err
	}
	if siteID != "" {
		site, err := tx.TrainingSite(siteID)
		switch {
		case err == nil:
			f.Site = &site
		case !errors.Is(err, certification.ErrNotFound):
			return f, err
		}
	}
	return f, nil
}

func sittingRequest(in EvaluationInput) certification.SittingRequest {
	return certification.SittingRequest{Component: in.Component, TrainingSiteID: in.TrainingSiteID,
		JurySessionID: in.JurySessionID, ScheduledAt: in.ScheduledAt}
}

// Transcript computes where a candidate stands on asOf (nil: today); a candidate
// reading their own sees only what a jury has validated.
func (s *Service) Transcript(ctx context.Context, candidateID string, asOf *time.Time) (certification.Candidate, certification.Transcript, error) {
	day := s.Today()
	if asOf != nil {
		day = certification.Day(*asOf)
	}
	var (
		cand certification.Candidate
		tr   certification.Transcript
	)
	// The candidate and the sittings come in one statement, one snapshot in itself.
	// When the caller's access and visibility need no read (the certifier's
	// staff) and the referential is the cached one, that is the whole transcript;
	// otherwise it is read again, all in one snapshot transaction.
	read, alone := s.store.Snapshot, false
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleAdmin || p.Role == auth.RoleDirector {
		read, alone = s.store.Read, true
	}
	transcript := func(tx Tx) error {
		var (
			sittings []certification.PersonSitting
			err      error
		)
		if cand, sittings, err = tx.CandidateSittings(candidateID); err != nil {
			return err
		}
		if alone && !tx.CertificationCached(cand.CertificationCode) {
			return errNeedsSnapshot
		}
		if err := s.mustSeeCandidate(ctx, tx, cand, "candidate "+candidateID); err != nil {
			return err
		}
		ref, err := tx.Certification(cand.CertificationCode)
		if err != nil {
			return err
		}
		v, err := s.visibility(ctx, tx, cand.ID)
		if err != nil {
			return err
		}
		tr = certification.TranscriptOf(ref, cand, certification.Sittings(sittings), day, v)
		return nil
	}
	err := read(ctx, transcript)
	if errors.Is(err, errNeedsSnapshot) {
		alone = false
		err = s.store.Snapshot(ctx, transcript)
	}
	return cand, tr, err
}

// errNeedsSnapshot stops a read that would need more than its one statement.
var errNeedsSnapshot = errors.New("the read needs a snapshot")

// refreshStatus derives the candidate's status from the facts again and writes it
// when it changed.
func (s *Service) refreshStatus(tx Tx, cand certification.Candidate) error {
	facts, err := tx.CandidateFacts(cand.ID)
	if err != nil {
		return err
	}
	status := certification.StatusOf(facts)
	if status == cand.Status {
		return nil
	}
	cand.Status = status
	cand.Version++
	cand.UpdatedAt = s.Now()
	return tx.UpdateCandidate(cand, CandidateKeysOf(cand))
}

// visibility is what the caller may see of a candidate's results no jury has
// deliberated on (PUBLICATION): a candidate none, their site's staff none of the
// defences (the jury's), everyone else all.
func (s *Service) visibility(ctx context.Context, tx Tx, candidateID string) (certification.Visibility, error) {
	p, _ := auth.PrincipalFrom(ctx)
	if p.Role != auth.RoleCandidate && p.Role != auth.RoleSiteStaff {
		return certification.Everything, nil
	}
	through, err := tx.DeliberatedThrough(candidateID)
	return certification.Visibility{Hide: true, DefencesOnly: p.Role == auth.RoleSiteStaff, DeliberatedThrough: through}, err
}

// views are sittings as the caller sees them: to a preparation site's staff, the
// result of a defence whose session has not closed is the jury's, not yet theirs.
func (s *Service) views(ctx context.Context, tx Tx, evals []certification.Evaluation) ([]EvaluationView, error) {
	p, _ := auth.PrincipalFrom(ctx)
	refs := map[string]certification.Certification{}
	closed := map[string]bool{}
	out := make([]EvaluationView, 0, len(evals))
	for _, e := range evals {
		hidden := false
		if p.Role == auth.RoleSiteStaff && e.JurySessionID != "" && e.HasResult() {
			c, ok := closed[e.JurySessionID]
			if !ok {
				session, err := tx.JurySession(e.JurySessionID)
				if err != nil {
					return nil, err
				}
				c = session.Status == certification.SessionClosed
				closed[e.JurySessionID] = c
			}
			hidden = !c
		}
		ref, ok := refs[e.CertificationCode]
		if !ok {
			var err error
			if ref, err = tx.Certification(e.CertificationCode); err != nil {
				return nil, err
			}
			refs[e.CertificationCode] = ref
		}
		v := viewOf(ref, e)
		v.ResultHidden = hidden
		out = append(out, v)
	}
	return out, nil
}

func viewOf(ref certification.Certification, e certification.Evaluation) EvaluationView {
	comp, _ := certification.CheckComponent(e.Component, ref)
	return EvaluationView{Evaluation: e, Passed: e.Grade != nil && certification.Passed(comp, *e.Grade)}
}

func placeChanges(e certification.Evaluation) map[string]any {
	return map[string]any{"candidate_id": e.CandidateID, "component": e.Component, "training_site_id": e.TrainingSiteID,
		"jury_session_id": e.JurySessionID, "scheduled_at": e.ScheduledAt, "ends_at": e.EndsAt}
}

func resultChanges(e certification.Evaluation) map[string]any {
	points := func(h *certification.Hundredths) any {
		if h == nil {
			return nil
		}
		return h.Float()
	}
	return map[string]any{"status": e.Status, "grade": points(e.Grade), "dossier_grade": points(e.DossierGrade), "defence_grade": points(e.DefenceGrade)}
}
