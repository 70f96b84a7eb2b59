package httpapi

import (
	"context"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

// rulesMiddleware is the validation middleware for the certification rules: before
// the handler of an operation that has rules, it applies those that need nothing
// but the request (the same functions the service applies again, with the others,
// in its transaction). A request they refuse gets a 422 with every violation, the
// others' too, and never opens a write transaction; one they pass costs no read.
func rulesMiddleware(svc *service.Service) api.StrictMiddlewareFunc {
	prechecks := map[string]func(ctx context.Context, request any) error{
		"RegisterCandidate": func(ctx context.Context, request any) error {
			return svc.PrecheckRegistration(ctx, candidateInputFromAPI(*request.(api.RegisterCandidateRequestObject).Body))
		},
	}
	return func(next api.StrictHandlerFunc, operationID string) api.StrictHandlerFunc {
		precheck, ok := prechecks[operationID]
		if !ok {
			return next
		}
		return func(c echo.Context, request any) (any, error) {
			if err := precheck(c.Request().Context(), request); err != nil {
				return nil, err
			}
			return next(c, request)
		}
	}
}

func (s *server) ListCandidates(ctx context.Context, req api.ListCandidatesRequestObject) (api.ListCandidatesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	q := req.Params
	f := service.CandidateFilter{Page: p, TrainingSiteID: uuidString(q.TrainingSiteId), CertificationCode: deref(q.CertificationCode),
		Search: deref(q.Q), EnrolledFrom: dateTime(q.EnrolledFrom), EnrolledTo: dateTime(q.EnrolledTo)}
	if q.Route != nil {
		f.Route = certification.RouteID(*q.Route)
	}
	if q.Status != nil {
		f.Status = certification.CandidateStatus(*q.Status)
	}
	cands, err := s.svc.ListCandidates(ctx, f)
	if err != nil {
		return nil, err
	}
	cands, next := trim(ctx, cands, p, func(c certification.Candidate) string { return c.ID })
	out := api.CandidateList{Items: make([]api.Candidate, len(cands)), NextCursor: next}
	for i, c := range cands {
		out.Items[i] = toAPICandidate(c)
	}
	return api.ListCandidates200JSONResponse{Body: out}, nil
}

func (s *server) RegisterCandidate(ctx context.Context, req api.RegisterCandidateRequestObject) (api.RegisterCandidateResponseObject, error) {
	respond := func(c certification.Candidate) api.RegisterCandidate201JSONResponse {
		return api.RegisterCandidate201JSONResponse{Body: toAPICandidate(c), Headers: api.RegisterCandidate201ResponseHeaders{
			ETag: ptr(etag(c.Version)), Location: ptr("/v1/candidates/" + c.ID)}}
	}
	answerWith(ctx, respond, api.RegisterCandidate201JSONResponse.VisitRegisterCandidateResponse)
	c, err := s.svc.RegisterCandidate(ctx, candidateInputFromAPI(*req.Body))
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(c), nil
}

func (s *server) GetCandidate(ctx context.Context, req api.GetCandidateRequestObject) (api.GetCandidateResponseObject, error) {
	c, err := s.svc.GetCandidate(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, c.Version) {
		return api.GetCandidate304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
	}
	return api.GetCandidate200JSONResponse{Body: toAPICandidate(c), Headers: api.GetCandidate200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) UpdateCandidate(ctx context.Context, req api.UpdateCandidateRequestObject) (api.UpdateCandidateResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	current, err := s.svc.GetCandidate(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(current.Version, expected); err != nil {
		return nil, err
	}
	var merged api.CandidateCreate
	if err := mergePatch(candidateCreateOf(toAPICandidate(current)), *req.Body, &merged); err != nil {
		return nil, err
	}
	c, err := s.svc.UpdateCandidate(ctx, current.ID, expected, candidateInputFromAPI(merged))
	if err != nil {
		return nil, err
	}
	return api.UpdateCandidate200JSONResponse{Body: toAPICandidate(c), Headers: api.UpdateCandidate200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) WithdrawCandidate(ctx context.Context, req api.WithdrawCandidateRequestObject) (api.WithdrawCandidateResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.WithdrawCandidate(ctx, req.Id.String(), expected, req.Body.Reason, dateTime(req.Body.WithdrawnOn))
	if err != nil {
		return nil, err
	}
	return api.WithdrawCandidate200JSONResponse{Body: toAPICandidate(c), Headers: api.WithdrawCandidate200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) DecideVaeAdmissibility(ctx context.Context, req api.DecideVaeAdmissibilityRequestObject) (api.DecideVaeAdmissibilityResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.DecideVAEAdmissibility(ctx, req.Id.String(), expected,
		certification.VAEAdmissibility(req.Body.Decision), req.Body.DecidedOn.Time, optInt(req.Body.ExperienceMonths))
	if err != nil {
		return nil, err
	}
	return api.DecideVaeAdmissibility200JSONResponse{Body: toAPICandidate(c), Headers: api.DecideVaeAdmissibility200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func candidateInputFromAPI(b api.CandidateCreate) service.CandidateInput {
	return service.CandidateInput{
		CertificationCode: b.CertificationCode, Route: certification.RouteID(b.Route), TrainingSiteID: uuidString(b.TrainingSiteId),
		EnrolledOn: dateTime(b.EnrolledOn), FirstName: b.FirstName, BirthName: b.BirthName, UsageName: deref(b.UsageName),
		Sex: string(b.Sex), BirthDate: b.BirthDate.Time,
		BirthPlace: certification.BirthPlace{INSEECode: deref(b.BirthPlace.InseeCode), PostalCode: deref(b.BirthPlace.PostalCode),
			Name: b.BirthPlace.Name, CountryCode: b.BirthPlace.CountryCode},
		Email: string(b.Email), Phone: deref(b.Phone), Address: addressFromAPI(b.Address),
	}
}

// candidateCreateOf is the patchable form of a candidate, for merge patches.
func candidateCreateOf(c api.Candidate) api.CandidateCreate {
	return api.CandidateCreate{CertificationCode: c.CertificationCode, Route: c.Route, TrainingSiteId: c.TrainingSiteId,
		EnrolledOn: &c.EnrolledOn, FirstName: c.FirstName, BirthName: c.BirthName, UsageName: c.UsageName,
		Sex: api.CandidateCreateSex(c.Sex), BirthDate: c.BirthDate, BirthPlace: api.BirthPlace(c.BirthPlace), Email: c.Email, Phone: c.Phone, Address: addressInput(c.Address)}
}

func toAPICandidate(c certification.Candidate) api.Candidate {
	out := api.Candidate{
		Id: mustUUID(c.ID), CertificationCode: c.CertificationCode, Route: api.RouteId(c.Route), TrainingSiteId: optUUID(c.TrainingSiteID),
		EnrolledOn: date(c.EnrolledOn), FirstName: c.FirstName, BirthName: c.BirthName, UsageName: nilIfEmpty(c.UsageName),
		Sex: api.CandidateSex(c.Sex), BirthDate: date(c.BirthDate),
		BirthPlace: api.BirthPlaceRecord{InseeCode: nilIfEmpty(c.BirthPlace.INSEECode), PostalCode: nilIfEmpty(c.BirthPlace.PostalCode),
			Name: c.BirthPlace.Name, CountryCode: c.BirthPlace.CountryCode},
		Email: openapi_types.Email(c.Email), Phone: nilIfEmpty(c.Phone), Address: toAPIAddress(c.Address),
		Status: api.CandidateStatus(c.Status), WithdrawalReason: nilIfEmpty(c.WithdrawalReason),
		VaeAdmissibilityDecidedOn: optDate(c.VAEDecidedOn), VaeExperienceMonths: optInt32(c.VAEExperienceMonths), VaeRequiredMonths: optInt32(c.VAERequiredMonths),
		WithdrawnOn: optDate(c.WithdrawnOn), SupersededBy: optUUID(c.SupersededBy), CertificateNumber: nilIfEmpty(c.CertificateNumber),
		Version: int32(c.Version), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.VAEAdmissibility != "" {
		out.VaeAdmissibility = ptr(api.CandidateVaeAdmissibility(c.VAEAdmissibility))
	}
	return out
}

func optDate(t *time.Time) *openapi_types.Date {
	if t == nil {
		return nil
	}
	d := date(*t)
	return &d
}

func dateTime(d *openapi_types.Date) *time.Time {
	if d == nil {
		return nil
	}
	return &d.Time
}
