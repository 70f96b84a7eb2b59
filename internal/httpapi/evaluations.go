package httpapi

import (
	"context"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
)

func (s *server) ListEvaluations(ctx context.Context, req api.ListEvaluationsRequestObject) (api.ListEvaluationsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	q := req.Params
	f := service.EvaluationFilter{Page: p, CandidateID: uuidString(q.CandidateId), TrainingSiteID: uuidString(q.TrainingSiteId),
		JurySessionID: uuidString(q.JurySessionId), From: dateTime(q.ScheduledFrom)}
	if q.Component != nil {
		f.Component = string(*q.Component)
	}
	if q.Status != nil {
		f.Status = certification.SittingStatus(*q.Status)
	}
	if q.ScheduledTo != nil {
		next := q.ScheduledTo.Time.AddDate(0, 0, 1)
		f.Before = &next
	}
	evals, err := s.svc.ListEvaluations(ctx, f)
	if err != nil {
		return nil, err
	}
	evals, next := trim(ctx, evals, p, func(e service.EvaluationView) string { return e.ID })
	out := api.EvaluationList{Items: make([]api.Evaluation, len(evals)), NextCursor: next}
	for i, e := range evals {
		out.Items[i] = toAPIEvaluation(e)
	}
	return api.ListEvaluations200JSONResponse{Body: out}, nil
}

func (s *server) ScheduleEvaluation(ctx context.Context, req api.ScheduleEvaluationRequestObject) (api.ScheduleEvaluationResponseObject, error) {
	b := req.Body
	respond := func(e service.EvaluationView) api.ScheduleEvaluation201JSONResponse {
		return api.ScheduleEvaluation201JSONResponse{Body: toAPIEvaluation(e), Headers: api.ScheduleEvaluation201ResponseHeaders{
			ETag: ptr(etag(e.Version)), Location: ptr("/v1/evaluations/" + e.ID)}}
	}
	answerWith(ctx, respond, api.ScheduleEvaluation201JSONResponse.VisitScheduleEvaluationResponse)
	e, err := s.svc.ScheduleEvaluation(ctx, service.EvaluationInput{CandidateID: b.CandidateId.String(), Component: string(b.Component),
		TrainingSiteID: uuidString(b.TrainingSiteId), JurySessionID: uuidString(b.JurySessionId), ScheduledAt: b.ScheduledAt})
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(e), nil
}

func (s *server) GetEvaluation(ctx context.Context, req api.GetEvaluationRequestObject) (api.GetEvaluationResponseObject, error) {
	e, err := s.svc.GetEvaluation(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, e.Version) {
		return api.GetEvaluation304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(e.Version))}}, nil
	}
	return api.GetEvaluation200JSONResponse{Body: toAPIEvaluation(e), Headers: api.GetEvaluation200ResponseHeaders{ETag: ptr(etag(e.Version))}}, nil
}

// evaluationPatchable is the part of a sitting a merge patch applies to.
type evaluationPatchable struct {
	TrainingSiteID string    `json:"training_site_id"`
	JurySessionID  string    `json:"jury_session_id,omitempty"`
	ScheduledAt    time.Time `json:"scheduled_at"`
}

func (s *server) RescheduleEvaluation(ctx context.Context, req api.RescheduleEvaluationRequestObject) (api.RescheduleEvaluationResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	current, err := s.svc.GetEvaluation(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(current.Version, expected); err != nil {
		return nil, err
	}
	var merged evaluationPatchable
	cur := evaluationPatchable{TrainingSiteID: current.TrainingSiteID, JurySessionID: current.JurySessionID, ScheduledAt: current.ScheduledAt}
	if err := mergePatch(cur, *req.Body, &merged); err != nil {
		return nil, err
	}
	if merged.JurySessionID != cur.JurySessionID && merged.TrainingSiteID == cur.TrainingSiteID {
		// A defence moving to another session moves to that session's site.
		merged.TrainingSiteID = ""
	}
	e, err := s.svc.RescheduleEvaluation(ctx, current.ID, expected, service.EvaluationInput{
		TrainingSiteID: merged.TrainingSiteID, JurySessionID: merged.JurySessionID, ScheduledAt: merged.ScheduledAt})
	if err != nil {
		return nil, err
	}
	return api.RescheduleEvaluation200JSONResponse{Body: toAPIEvaluation(e), Headers: api.RescheduleEvaluation200ResponseHeaders{ETag: ptr(etag(e.Version))}}, nil
}

func (s *server) CancelEvaluation(ctx context.Context, req api.CancelEvaluationRequestObject) (api.CancelEvaluationResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	e, err := s.svc.CancelEvaluation(ctx, req.Id.String(), expected, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.CancelEvaluation200JSONResponse{Body: toAPIEvaluation(e), Headers: api.CancelEvaluation200ResponseHeaders{ETag: ptr(etag(e.Version))}}, nil
}

func (s *server) RecordEvaluationResult(ctx context.Context, req api.RecordEvaluationResultRequestObject) (api.RecordEvaluationResultResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	r, err := resultOf(b.Absent, b.Grade, b.DossierGrade, b.DefenceGrade)
	if err != nil {
		return nil, err
	}
	e, err := s.svc.RecordResult(ctx, req.Id.String(), expected, r)
	if err != nil {
		return nil, err
	}
	return api.RecordEvaluationResult200JSONResponse{Body: toAPIEvaluation(e), Headers: api.RecordEvaluationResult200ResponseHeaders{ETag: ptr(etag(e.Version))}}, nil
}

func (s *server) CorrectEvaluationResult(ctx context.Context, req api.CorrectEvaluationResultRequestObject) (api.CorrectEvaluationResultResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	r, err := resultOf(b.Absent, b.Grade, b.DossierGrade, b.DefenceGrade)
	if err != nil {
		return nil, err
	}
	e, err := s.svc.CorrectResult(ctx, req.Id.String(), expected, r, b.Reason)
	if err != nil {
		return nil, err
	}
	return api.CorrectEvaluationResult200JSONResponse{Body: toAPIEvaluation(e), Headers: api.CorrectEvaluationResult200ResponseHeaders{ETag: ptr(etag(e.Version))}}, nil
}

func (s *server) GetTranscript(ctx context.Context, req api.GetTranscriptRequestObject) (api.GetTranscriptResponseObject, error) {
	cand, tr, err := s.svc.Transcript(ctx, req.Id.String(), dateTime(req.Params.AsOf))
	if err != nil {
		return nil, err
	}
	out := api.Transcript{CandidateId: mustUUID(cand.ID), CertificationCode: cand.CertificationCode,
		AsOf: date(tr.AsOf), Awardable: tr.Awardable, Components: make([]api.TranscriptComponent, len(tr.Components)),
		Reasons: *toAPIViolations(tr.Reasons)}
	for i, c := range tr.Components {
		out.Components[i] = api.TranscriptComponent{Component: api.ComponentId(c.Component), Status: api.TranscriptComponentStatus(c.Status),
			Grade: points(c.Grade), DossierGrade: points(c.DossierGrade), DefenceGrade: points(c.DefenceGrade), Absent: c.Absent,
			AcquiredOn: optDate(c.AcquiredOn), ValidUntil: optDate(c.ValidUntil), EvaluationId: optUUID(c.EvaluationID), CarriedOver: c.CarriedOver}
	}
	return api.GetTranscript200JSONResponse{Body: out}, nil
}

// resultOf reads a result's grades exactly as the request wrote them (GRADING: at
// most two decimals).
func resultOf(absent *bool, grade, dossier, defence *api.GradeInput) (certification.Result, error) {
	r := certification.Result{Absent: absent != nil && *absent}
	var vs []certification.Violation
	for _, g := range []struct {
		field string
		in    *api.GradeInput
		out   **certification.Hundredths
	}{{"/grade", grade, &r.Grade}, {"/dossier_grade", dossier, &r.DossierGrade}, {"/defence_grade", defence, &r.DefenceGrade}} {
		if g.in == nil {
			continue
		}
		h, bad := certification.ParseGrade(g.field, g.in.String())
		vs = append(vs, bad...)
		*g.out = &h
	}
	return r, certification.Check(vs)
}

// points is a grade as the API shows it: a number of points, two decimals at most.
func points(h *certification.Hundredths) *float64 {
	if h == nil {
		return nil
	}
	return ptr(h.Float())
}

func toAPIEvaluation(e service.EvaluationView) api.Evaluation {
	out := api.Evaluation{Id: mustUUID(e.ID), CandidateId: mustUUID(e.CandidateID), CertificationCode: e.CertificationCode,
		Component: api.ComponentId(e.Component), TrainingSiteId: mustUUID(e.TrainingSiteID), JurySessionId: optUUID(e.JurySessionID),
		ScheduledAt: e.ScheduledAt, EndsAt: e.EndsAt,
		Status: api.EvaluationStatus(e.Status), ValidatedOn: optDate(e.ValidatedOn), CancelledAt: e.CancelledAt,
		CancellationReason: nilIfEmpty(e.CancellationReason), Version: int32(e.Version), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if e.HasResult() && !e.ResultHidden {
		out.Result = &api.EvaluationResult{Grade: points(e.Grade), DossierGrade: points(e.DossierGrade), DefenceGrade: points(e.DefenceGrade),
			Absent: e.Status == certification.SittingAbsent, Passed: e.Passed, RecordedAt: *e.ResultRecordedAt, Corrected: e.ResultCorrected}
	}
	return out
}
