package httpapi

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	jsonpatch "github.com/evanphx/json-patch/v5"
)

// server implements api.StrictServerInterface: each handler converts the typed
// request, calls one use case and converts its result. Errors go back as Go errors
// to errorHandler.
type server struct {
	svc       *service.Service
	publicURL string
	issuer    cdc.Issuer
}

var _ api.StrictServerInterface = (*server)(nil)

func (s *server) ListCertifications(ctx context.Context, req api.ListCertificationsRequestObject) (api.ListCertificationsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	certs, err := s.svc.ListCertifications(ctx, p)
	if err != nil {
		return nil, err
	}
	certs, next := trim(ctx, certs, p, func(c certification.Certification) string { return c.Code })
	out := api.CertificationList{Items: make([]api.CertificationSummary, len(certs)), NextCursor: next}
	for i, c := range certs {
		out.Items[i] = toAPICertificationSummary(c, s.svc.Today())
	}
	return api.ListCertifications200JSONResponse{Body: out}, nil
}

func (s *server) GetCertification(ctx context.Context, req api.GetCertificationRequestObject) (api.GetCertificationResponseObject, error) {
	c, err := s.svc.GetCertification(ctx, req.Code)
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, c.Version) {
		return api.GetCertification304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
	}
	return api.GetCertification200JSONResponse{Body: toAPICertification(c, s.svc.Today()),
		Headers: api.GetCertification200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) ListCertificationRules(ctx context.Context, req api.ListCertificationRulesRequestObject) (api.ListCertificationRulesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	rules, err := s.svc.Rules(ctx, req.Code, p)
	if err != nil {
		return nil, err
	}
	rules, next := trim(ctx, rules, p, func(r certification.Rule) string { return r.ID })
	out := api.RuleList{Items: make([]api.Rule, len(rules)), NextCursor: next}
	for i, r := range rules {
		out.Items[i] = api.Rule{Id: r.ID, Statement: label(r.Statement), Source: api.RuleSource(r.Source)}
	}
	return api.ListCertificationRules200JSONResponse{Body: out}, nil
}

func (s *server) ListRegistrationPeriods(ctx context.Context, req api.ListRegistrationPeriodsRequestObject) (api.ListRegistrationPeriodsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	periods, err := s.svc.ListRegistrationPeriods(ctx, req.Code, p)
	if err != nil {
		return nil, err
	}
	periods, next := trim(ctx, periods, p, func(x certification.RegistrationPeriod) string { return x.ID })
	out := api.RegistrationPeriodList{Items: make([]api.RegistrationPeriod, len(periods)), NextCursor: next}
	for i, x := range periods {
		out.Items[i] = toAPIPeriod(x)
	}
	return api.ListRegistrationPeriods200JSONResponse{Body: out}, nil
}

func (s *server) RecordRegistrationPeriod(ctx context.Context, req api.RecordRegistrationPeriodRequestObject) (api.RecordRegistrationPeriodResponseObject, error) {
	respond := func(p certification.RegistrationPeriod) api.RecordRegistrationPeriod201JSONResponse {
		return api.RecordRegistrationPeriod201JSONResponse{Body: toAPIPeriod(p), Headers: api.RecordRegistrationPeriod201ResponseHeaders{
			ETag: ptr(etag(p.Version)), Location: ptr(periodPath(p))}}
	}
	answerWith(ctx, respond, api.RecordRegistrationPeriod201JSONResponse.VisitRecordRegistrationPeriodResponse)
	p, err := s.svc.RecordRegistrationPeriod(ctx, req.Code, service.RegistrationPeriodInput{
		LegalAct: req.Body.LegalAct, EffectiveFrom: req.Body.EffectiveFrom.Time, EffectiveUntil: req.Body.EffectiveUntil.Time})
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(p), nil
}

func (s *server) GetRegistrationPeriod(ctx context.Context, req api.GetRegistrationPeriodRequestObject) (api.GetRegistrationPeriodResponseObject, error) {
	p, err := s.svc.GetRegistrationPeriod(ctx, req.Code, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, p.Version) {
		return api.GetRegistrationPeriod304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(p.Version))}}, nil
	}
	return api.GetRegistrationPeriod200JSONResponse{Body: toAPIPeriod(p), Headers: api.GetRegistrationPeriod200ResponseHeaders{ETag: ptr(etag(p.Version))}}, nil
}

func (s *server) CorrectRegistrationPeriod(ctx context.Context, req api.CorrectRegistrationPeriodRequestObject) (api.CorrectRegistrationPeriodResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	// The contract refuses null for every member: this merge patch only sets, and
	// the service applies it to the period as locked.
	b := req.Body
	ch := service.RegistrationPeriodChange{LegalAct: b.LegalAct}
	if b.EffectiveFrom != nil {
		ch.EffectiveFrom = &b.EffectiveFrom.Time
	}
	if b.EffectiveUntil != nil {
		ch.EffectiveUntil = &b.EffectiveUntil.Time
	}
	p, err := s.svc.CorrectRegistrationPeriod(ctx, req.Code, req.Id.String(), expected, ch)
	if err != nil {
		return nil, err
	}
	return api.CorrectRegistrationPeriod200JSONResponse{Body: toAPIPeriod(p), Headers: api.CorrectRegistrationPeriod200ResponseHeaders{ETag: ptr(etag(p.Version))}}, nil
}

func periodPath(p certification.RegistrationPeriod) string {
	return "/v1/certifications/" + p.CertificationCode + "/registration-periods/" + p.ID
}

func (s *server) ListTrainingSites(ctx context.Context, req api.ListTrainingSitesRequestObject) (api.ListTrainingSitesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.TrainingSiteFilter{Page: p}
	if req.Params.Role != nil {
		f.Role = certification.SiteRole(*req.Params.Role)
	}
	if req.Params.City != nil {
		f.City = *req.Params.City
	}
	if req.Params.CertificationCode != nil {
		f.CertificationCode = *req.Params.CertificationCode
	}
	if req.Params.IncludeInactive != nil {
		f.IncludeInactive = *req.Params.IncludeInactive
	}
	sites, err := s.svc.ListTrainingSites(ctx, f)
	if err != nil {
		return nil, err
	}
	sites, next := trim(ctx, sites, p, func(t certification.TrainingSite) string { return t.ID })
	out := api.TrainingSiteList{Items: make([]api.TrainingSite, len(sites)), NextCursor: next}
	for i, t := range sites {
		out.Items[i] = toAPITrainingSite(t)
	}
	return api.ListTrainingSites200JSONResponse{Body: out}, nil
}

func (s *server) CreateTrainingSite(ctx context.Context, req api.CreateTrainingSiteRequestObject) (api.CreateTrainingSiteResponseObject, error) {
	respond := func(site certification.TrainingSite) api.CreateTrainingSite201JSONResponse {
		return api.CreateTrainingSite201JSONResponse{Body: toAPITrainingSite(site), Headers: api.CreateTrainingSite201ResponseHeaders{
			ETag: ptr(etag(site.Version)), Location: ptr("/v1/training-sites/" + site.ID)}}
	}
	answerWith(ctx, respond, api.CreateTrainingSite201JSONResponse.VisitCreateTrainingSiteResponse)
	site, err := s.svc.CreateTrainingSite(ctx, siteInputFromAPI(*req.Body))
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(site), nil
}

func (s *server) GetTrainingSite(ctx context.Context, req api.GetTrainingSiteRequestObject) (api.GetTrainingSiteResponseObject, error) {
	site, err := s.svc.GetTrainingSite(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, site.Version) {
		return api.GetTrainingSite304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(site.Version))}}, nil
	}
	return api.GetTrainingSite200JSONResponse{Body: toAPITrainingSite(site), Headers: api.GetTrainingSite200ResponseHeaders{ETag: ptr(etag(site.Version))}}, nil
}

func (s *server) UpdateTrainingSite(ctx context.Context, req api.UpdateTrainingSiteRequestObject) (api.UpdateTrainingSiteResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	current, err := s.svc.GetTrainingSite(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(current.Version, expected); err != nil {
		return nil, err
	}
	cur := toAPITrainingSite(current)
	var merged api.TrainingSiteCreate
	if err := mergePatch(api.TrainingSiteCreate{Name: cur.Name, Address: addressInput(cur.Address), Roles: cur.Roles, CertificationCodes: cur.CertificationCodes},
		*req.Body, &merged); err != nil {
		return nil, err
	}
	site, err := s.svc.UpdateTrainingSite(ctx, current.ID, expected, siteInputFromAPI(merged))
	if err != nil {
		return nil, err
	}
	return api.UpdateTrainingSite200JSONResponse{Body: toAPITrainingSite(site), Headers: api.UpdateTrainingSite200ResponseHeaders{ETag: ptr(etag(site.Version))}}, nil
}

func (s *server) DeactivateTrainingSite(ctx context.Context, req api.DeactivateTrainingSiteRequestObject) (api.DeactivateTrainingSiteResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	site, err := s.svc.DeactivateTrainingSite(ctx, req.Id.String(), expected)
	if err != nil {
		return nil, err
	}
	return api.DeactivateTrainingSite200JSONResponse{Body: toAPITrainingSite(site), Headers: api.DeactivateTrainingSite200ResponseHeaders{ETag: ptr(etag(site.Version))}}, nil
}

func (s *server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.UserFilter{Page: p}
	if req.Params.Role != nil {
		f.Role = roleOf(*req.Params.Role)
	}
	users, err := s.svc.ListUsers(ctx, f)
	if err != nil {
		return nil, err
	}
	users, next := trim(ctx, users, p, func(u service.User) string { return u.ID })
	out := api.UserList{Items: make([]api.User, len(users)), NextCursor: next}
	for i, u := range users {
		out.Items[i] = toAPIUser(u)
	}
	return api.ListUsers200JSONResponse{Body: out}, nil
}

func (s *server) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	b := req.Body
	in := service.UserInput{Email: string(b.Email), Role: roleOf(b.Role), TrainingSiteID: uuidString(b.TrainingSiteId),
		JuryMemberID: uuidString(b.JuryMemberId), CandidateID: uuidString(b.CandidateId)}
	if b.Password != nil {
		in.Password = *b.Password
	}
	respond := func(u service.User) api.CreateUser201JSONResponse {
		return api.CreateUser201JSONResponse{Body: toAPIUser(u), Headers: api.CreateUser201ResponseHeaders{
			ETag: ptr(etag(u.Version)), Location: ptr("/v1/users/" + u.ID)}}
	}
	answerWith(ctx, respond, api.CreateUser201JSONResponse.VisitCreateUserResponse)
	u, err := s.svc.CreateUser(ctx, in)
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(u), nil
}

func (s *server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.svc.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, u.Version) {
		return api.GetUser304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(u.Version))}}, nil
	}
	return api.GetUser200JSONResponse{Body: toAPIUser(u), Headers: api.GetUser200ResponseHeaders{ETag: ptr(etag(u.Version))}}, nil
}

// userPatchable is the part of an account a merge patch applies to.
type userPatchable struct {
	Email          string  `json:"email"`
	Role           string  `json:"role"`
	Password       string  `json:"password,omitempty"`
	TrainingSiteID *string `json:"training_site_id"`
	JuryMemberID   *string `json:"jury_member_id"`
	CandidateID    *string `json:"candidate_id"`
}

func (s *server) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	u, err := s.svc.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(u.Version, expected); err != nil {
		return nil, err
	}
	cur := userPatchable{Email: u.Email, Role: string(u.Role), TrainingSiteID: nilIfEmpty(u.TrainingSiteID),
		JuryMemberID: nilIfEmpty(u.JuryMemberID), CandidateID: nilIfEmpty(u.CandidateID)}
	var merged userPatchable
	if err := mergePatch(cur, *req.Body, &merged); err != nil {
		return nil, err
	}
	u, err = s.svc.UpdateUser(ctx, u.ID, expected, service.UserInput{Email: merged.Email, Role: roleOf(api.UserRole(merged.Role)),
		Password: merged.Password, TrainingSiteID: deref(merged.TrainingSiteID), JuryMemberID: deref(merged.JuryMemberID), CandidateID: deref(merged.CandidateID)})
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse{Body: toAPIUser(u), Headers: api.UpdateUser200ResponseHeaders{ETag: ptr(etag(u.Version))}}, nil
}

func (s *server) DeactivateUser(ctx context.Context, req api.DeactivateUserRequestObject) (api.DeactivateUserResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	u, err := s.svc.DeactivateUser(ctx, req.Id.String(), expected)
	if err != nil {
		return nil, err
	}
	return api.DeactivateUser200JSONResponse{Body: toAPIUser(u), Headers: api.DeactivateUser200ResponseHeaders{ETag: ptr(etag(u.Version))}}, nil
}

func (s *server) ListAuditEvents(ctx context.Context, req api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.AuditFilter{Page: p}
	if req.Params.ResourceType != nil {
		f.ResourceType = *req.Params.ResourceType
	}
	if req.Params.ResourceId != nil {
		f.ResourceID = *req.Params.ResourceId
	}
	if req.Params.ActorId != nil {
		f.ActorID = *req.Params.ActorId
	}
	if req.Params.Action != nil {
		f.Action = *req.Params.Action
	}
	f.From, f.To = req.Params.OccurredFrom, req.Params.OccurredTo
	events, err := s.svc.ListAuditEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	events, next := trim(ctx, events, p, func(e service.AuditEvent) string { return e.ID })
	out := api.AuditEventList{Items: make([]api.AuditEvent, len(events)), NextCursor: next}
	for i, e := range events {
		out.Items[i] = toAPIAuditEvent(e)
	}
	return api.ListAuditEvents200JSONResponse{Body: out}, nil
}

// mergePatch applies an RFC 7386 merge patch to current's JSON form and decodes the
// result into out, refusing fields out does not have.
func mergePatch(current any, patch []byte, out any) error {
	doc, err := json.Marshal(current)
	if err != nil {
		return err
	}
	merged, err := jsonpatch.MergePatch(doc, patch)
	if err != nil {
		return &contractError{violations: []certification.Violation{{Message: "not a JSON merge patch: " + err.Error()}}}
	}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return &contractError{violations: []certification.Violation{{Message: "the patched resource is not valid: " + err.Error()}}}
	}
	return nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
