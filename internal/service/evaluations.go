package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
)

// EvaluationFilter selects sittings.
type EvaluationFilter struct {
	Page
	CandidateID string
	// CandidateSiteID restricts to the candidates of one training site (site_staff).
	CandidateSiteID string
	Component       string
	SiteID          string
	Status          certification.SittingStatus
	From            *time.Time // scheduled at or after
	Before          *time.Time // scheduled before
}

// EvaluationInput is where and when a sitting takes place.
type EvaluationInput struct {
	CandidateID string
	Component   string
	SiteID      string
	ScheduledAt time.Time
}

// EvaluationView is a sitting with what its result means under the certification's
// grading settings.
type EvaluationView struct {
	certification.Evaluation
	Passed bool
}

// ListEvaluations lists the sittings the caller may see.
func (s *Service) ListEvaluations(ctx context.Context, f EvaluationFilter) ([]EvaluationView, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleSiteStaff {
		f.CandidateSiteID = p.TrainingSiteID
	}
	var out []EvaluationView
	err := s.store.Read(ctx, func(tx Tx) error {
		evals, err := tx.Evaluations(f)
		if err != nil {
			return err
		}
		out, err = s.views(tx, evals)
		return err
	})
	return out, err
}

// GetEvaluation returns one sitting, if the caller may see its candidate.
func (s *Service) GetEvaluation(ctx context.Context, id string) (EvaluationView, error) {
	var out EvaluationView
	err := s.store.Read(ctx, func(tx Tx) error {
		e, err := s.visibleEvaluation(ctx, tx, id)
		if err != nil {
			return err
		}
		vs, err := s.views(tx, []certification.Evaluation{e})
		if err == nil {
			out = vs[0]
		}
		return err
	})
	return out, err
}

// ScheduleEvaluation schedules a sitting under SITE-CERTIFICATION and COMPONENTS,
// refusing a component the candidate holds, awaits validation for, or has scheduled.
func (s *Service) ScheduleEvaluation(ctx context.Context, in EvaluationInput) (EvaluationView, error) {
	now := s.Now()
	e := certification.Evaluation{ID: newID(), CandidateID: in.CandidateID, Component: in.Component, SiteID: in.SiteID,
		ScheduledAt: in.ScheduledAt.UTC().Truncate(time.Second), Status: certification.SittingScheduled, Version: 1, CreatedAt: now, UpdatedAt: now}
	var view EvaluationView
	err := s.store.Write(ctx, func(tx Tx) error {
		// The candidate's row lock serialises the schedules of one candidate.
		cand, err := tx.LockCandidate(in.CandidateID)
		if errors.Is(err, certification.ErrNotFound) || (err == nil && !canSeeCandidate(ctx, cand)) {
			return certification.Check([]certification.Violation{{Field: "/candidate_id", Message: "no such candidate"}})
		} else if err != nil {
			return err
		}
		if cand.WithdrawnOn != nil {
			return &certification.ConflictError{Code: "candidate_withdrawn", Message: "the candidate withdrew on " + cand.WithdrawnOn.Format(time.DateOnly)}
		}
		e.CertificationCode = cand.CertificationCode
		ref, err := tx.Certification(cand.CertificationCode)
		if err != nil {
			return err
		}
		if err := s.checkSitting(tx, ref, cand, e); err != nil {
			return err
		}
		sittings, err := tx.EvaluationsOfCandidate(cand.ID)
		if err != nil {
			return err
		}
		pending := false
		for _, x := range sittings {
			pending = pending || (x.Component == e.Component && x.Status == certification.SittingScheduled)
		}
		standing := standingOn(ref, cand, sittings, e.Component, e.ScheduledAt)
		if err := certification.CheckSchedulable(standing, pending); err != nil {
			return err
		}
		if err := tx.InsertEvaluation(e); err != nil {
			return err
		}
		if err := s.refreshStatus(tx, cand); err != nil {
			return err
		}
		view = EvaluationView{Evaluation: e}
		return s.audit(ctx, tx, "schedule", "evaluation", e.ID, map[string]any{"candidate_id": e.CandidateID,
			"component": e.Component, "site_id": e.SiteID, "scheduled_at": e.ScheduledAt})
	})
	return view, err
}

// RescheduleEvaluation moves a sitting that has no result yet.
func (s *Service) RescheduleEvaluation(ctx context.Context, id string, expected int, siteID string, at time.Time) (EvaluationView, error) {
	return s.changeEvaluation(ctx, id, expected, "reschedule", func(tx Tx, e *certification.Evaluation, ref certification.Certification, cand certification.Candidate) (map[string]any, error) {
		if e.Status != certification.SittingScheduled {
			return nil, &certification.ConflictError{Code: "evaluation_not_scheduled", Message: "only a scheduled sitting without a result can move; this one is " + string(e.Status)}
		}
		e.SiteID, e.ScheduledAt = siteID, at.UTC().Truncate(time.Second)
		if err := s.checkSitting(tx, ref, cand, *e); err != nil {
			return nil, err
		}
		return map[string]any{"site_id": e.SiteID, "scheduled_at": e.ScheduledAt}, nil
	})
}

// CancelEvaluation cancels a sitting that has no result.
func (s *Service) CancelEvaluation(ctx context.Context, id string, expected int, reason string) (EvaluationView, error) {
	return s.changeEvaluation(ctx, id, expected, "cancel", func(tx Tx, e *certification.Evaluation, _ certification.Certification, _ certification.Candidate) (map[string]any, error) {
		if e.Status != certification.SittingScheduled {
			return nil, &certification.ConflictError{Code: "evaluation_not_scheduled", Message: "only a scheduled sitting without a result can be cancelled; this one is " + string(e.Status)}
		}
		now := s.Now()
		e.Status, e.CancelledAt, e.CancellationReason = certification.SittingCancelled, &now, strings.TrimSpace(reason)
		return map[string]any{"reason": e.CancellationReason}, nil
	})
}

// RecordResult records the result of a sitting, once, under GRADING.
func (s *Service) RecordResult(ctx context.Context, id string, r certification.Result) (EvaluationView, error) {
	return s.changeEvaluation(ctx, id, -1, "record_result", func(tx Tx, e *certification.Evaluation, ref certification.Certification, _ certification.Candidate) (map[string]any, error) {
		switch {
		case e.HasResult():
			return nil, &certification.ConflictError{Code: "result_already_recorded", Message: "this sitting has its result; a correction is its own act (result-correction)"}
		case e.Status == certification.SittingCancelled:
			return nil, &certification.ConflictError{Code: "evaluation_cancelled", Message: "this sitting was cancelled"}
		case e.ScheduledAt.After(s.Now()):
			return nil, &certification.ConflictError{Code: "evaluation_not_held", Message: "this sitting is scheduled at " + e.ScheduledAt.Format(time.RFC3339) + " and has not been held yet"}
		}
		if err := s.applyResult(ref, e, r); err != nil {
			return nil, err
		}
		return resultChanges(*e), nil
	})
}

// CorrectResult replaces a recorded result that no jury has validated, with a reason.
func (s *Service) CorrectResult(ctx context.Context, id string, expected int, r certification.Result, reason string) (EvaluationView, error) {
	return s.changeEvaluation(ctx, id, expected, "correct_result", func(tx Tx, e *certification.Evaluation, ref certification.Certification, _ certification.Candidate) (map[string]any, error) {
		switch {
		case !e.HasResult():
			return nil, &certification.ConflictError{Code: "no_result", Message: "this sitting has no result to correct"}
		case e.ValidatedOn != nil:
			return nil, &certification.ConflictError{Code: "result_validated",
				Message: "a jury validated this result on " + e.ValidatedOn.Format(time.DateOnly) + ": it is corrected by a new decision, not here"}
		}
		before := resultChanges(*e)
		if err := s.applyResult(ref, e, r); err != nil {
			return nil, err
		}
		e.ResultCorrected = true
		return map[string]any{"before": before, "after": resultChanges(*e), "reason": strings.TrimSpace(reason)}, nil
	})
}

// ValidateResult records a jury's validation of a passing result on a day: from
// then on the component counts as acquired (VALIDITY runs from that day). The
// deliberation records this act; it is not an operation of its own.
func (s *Service) ValidateResult(ctx context.Context, id string, on time.Time) (EvaluationView, error) {
	return s.changeEvaluation(ctx, id, -1, "validate_result", func(tx Tx, e *certification.Evaluation, ref certification.Certification, _ certification.Candidate) (map[string]any, error) {
		comp, _ := certification.CheckComponent(e.Component, ref)
		if e.Status != certification.SittingGraded || e.Grade == nil || !certification.Passed(comp, *e.Grade) {
			return nil, &certification.ConflictError{Code: "result_not_passing", Message: "only a passing grade is validated"}
		}
		day := certification.Day(on)
		e.ValidatedOn = &day
		return map[string]any{"validated_on": day.Format(time.DateOnly)}, nil
	})
}

// changeEvaluation is the one transaction every change of a sitting runs in: lock,
// check visibility and version (expected < 0: no If-Match), change, refresh the
// candidate's status, audit.
func (s *Service) changeEvaluation(ctx context.Context, id string, expected int, action string,
	change func(Tx, *certification.Evaluation, certification.Certification, certification.Candidate) (map[string]any, error)) (EvaluationView, error) {
	var view EvaluationView
	err := s.store.Write(ctx, func(tx Tx) error {
		e, err := tx.LockEvaluation(id)
		if err != nil {
			return err
		}
		cand, err := tx.LockCandidate(e.CandidateID)
		if err != nil {
			return err
		}
		if !canSeeCandidate(ctx, cand) {
			return certification.NotFoundf("evaluation %s", id)
		}
		if expected >= 0 && e.Version != expected {
			return certification.ErrStale
		}
		ref, err := tx.Certification(e.CertificationCode)
		if err != nil {
			return err
		}
		changes, err := change(tx, &e, ref, cand)
		if err != nil {
			return err
		}
		e.Version++
		e.UpdatedAt = s.Now()
		if err := tx.UpdateEvaluation(e); err != nil {
			return err
		}
		if err := s.refreshStatus(tx, cand); err != nil {
			return err
		}
		view = viewOf(ref, e)
		return s.audit(ctx, tx, action, "evaluation", e.ID, changes)
	})
	return view, err
}

// Transcript computes where a candidate stands on asOf (nil: today); a candidate
// reading their own sees only what a jury has validated.
func (s *Service) Transcript(ctx context.Context, candidateID string, asOf *time.Time) (certification.Candidate, certification.Transcript, error) {
	day := s.Today()
	if asOf != nil {
		day = certification.Day(*asOf)
	}
	p, _ := auth.PrincipalFrom(ctx)
	var (
		cand certification.Candidate
		tr   certification.Transcript
	)
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if cand, err = tx.Candidate(candidateID); err != nil {
			return err
		}
		if !canSeeCandidate(ctx, cand) {
			return certification.NotFoundf("candidate %s", candidateID)
		}
		ref, err := tx.Certification(cand.CertificationCode)
		if err != nil {
			return err
		}
		evals, err := tx.EvaluationsOfCandidate(cand.ID)
		if err != nil {
			return err
		}
		tr = certification.TranscriptOf(ref, cand, certification.Sittings(evals), day, p.Role == auth.RoleCandidate)
		return nil
	})
	return cand, tr, err
}

func (s *Service) checkSitting(tx Tx, ref certification.Certification, cand certification.Candidate, e certification.Evaluation) error {
	_, vs := certification.CheckComponent(e.Component, ref)
	var site *certification.TrainingSite
	if got, err := tx.TrainingSite(e.SiteID); err == nil {
		site = &got
	} else if !errors.Is(err, certification.ErrNotFound) {
		return err
	}
	vs = append(vs, certification.CheckSiteCertification("/site_id", ref.Code, site)...)
	if certification.Day(e.ScheduledAt).Before(cand.EnrolledOn) {
		vs = append(vs, certification.Violation{Field: "/scheduled_at", Message: "a sitting comes after the enrolment, on " + cand.EnrolledOn.Format(time.DateOnly)})
	}
	return certification.Check(vs)
}

func (s *Service) applyResult(ref certification.Certification, e *certification.Evaluation, r certification.Result) error {
	comp, vs := certification.CheckComponent(e.Component, ref)
	if len(vs) > 0 {
		return certification.Check(vs)
	}
	grade, vs := certification.GradeResult(comp, r)
	if err := certification.Check(vs); err != nil {
		return err
	}
	now := s.Now()
	e.Grade, e.DossierGrade, e.DefenceGrade, e.ResultRecordedAt = grade, r.DossierGrade, r.DefenceGrade, &now
	e.Status = certification.SittingGraded
	if r.Absent {
		e.Status, e.DossierGrade, e.DefenceGrade = certification.SittingAbsent, nil, nil
	}
	return nil
}

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
	return tx.UpdateCandidate(cand, candidateKeys(cand))
}

func (s *Service) visibleEvaluation(ctx context.Context, tx Tx, id string) (certification.Evaluation, error) {
	e, err := tx.Evaluation(id)
	if err != nil {
		return e, err
	}
	cand, err := tx.Candidate(e.CandidateID)
	if err != nil {
		return e, err
	}
	if !canSeeCandidate(ctx, cand) {
		return e, certification.NotFoundf("evaluation %s", id)
	}
	return e, nil
}

func (s *Service) views(tx Tx, evals []certification.Evaluation) ([]EvaluationView, error) {
	refs := map[string]certification.Certification{}
	out := make([]EvaluationView, 0, len(evals))
	for _, e := range evals {
		ref, ok := refs[e.CertificationCode]
		if !ok {
			var err error
			if ref, err = tx.Certification(e.CertificationCode); err != nil {
				return nil, err
			}
			refs[e.CertificationCode] = ref
		}
		out = append(out, viewOf(ref, e))
	}
	return out, nil
}

func viewOf(ref certification.Certification, e certification.Evaluation) EvaluationView {
	comp, _ := certification.CheckComponent(e.Component, ref)
	return EvaluationView{Evaluation: e, Passed: e.Grade != nil && certification.Passed(comp, *e.Grade)}
}

// standingOn is where the candidate stands on one component on the day of at.
func standingOn(ref certification.Certification, cand certification.Candidate, evals []certification.Evaluation, component string, at time.Time) certification.ComponentStanding {
	tr := certification.TranscriptOf(ref, cand, certification.Sittings(evals), at, false)
	for _, c := range tr.Components {
		if c.Component == component {
			return c
		}
	}
	return certification.ComponentStanding{Component: component, Status: certification.NotTaken}
}

func resultChanges(e certification.Evaluation) map[string]any {
	return map[string]any{"status": e.Status, "grade": e.Grade, "dossier_grade": e.DossierGrade, "defence_grade": e.DefenceGrade}
}
