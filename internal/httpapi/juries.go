package httpapi

import (
	"bytes"
	"context"
	"net/http"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/pdf"
	"github.com/apformation/certapi/internal/service"
	"github.com/munnerz/goautoneg"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func (s *server) ListJuryMembers(ctx context.Context, req api.ListJuryMembersRequestObject) (api.ListJuryMembersResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.JuryMemberFilter{Page: p}
	if req.Params.Role != nil {
		f.Role = certification.JuryRole(*req.Params.Role)
	}
	if req.Params.IncludeInactive != nil {
		f.IncludeInactive = *req.Params.IncludeInactive
	}
	members, err := s.svc.ListJuryMembers(ctx, f)
	if err != nil {
		return nil, err
	}
	members, next := trim(ctx, members, p, func(m certification.JuryMember) string { return m.ID })
	out := api.JuryMemberList{Items: make([]api.JuryMember, len(members)), NextCursor: next}
	for i, m := range members {
		out.Items[i] = toAPIJuryMember(m)
	}
	return api.ListJuryMembers200JSONResponse{Body: out}, nil
}

func (s *server) CreateJuryMember(ctx context.Context, req api.CreateJuryMemberRequestObject) (api.CreateJuryMemberResponseObject, error) {
	respond := func(m certification.JuryMember) api.CreateJuryMember201JSONResponse {
		return api.CreateJuryMember201JSONResponse{Body: toAPIJuryMember(m), Headers: api.CreateJuryMember201ResponseHeaders{
			ETag: ptr(etag(m.Version)), Location: ptr("/v1/jury-members/" + m.ID)}}
	}
	answerWith(ctx, respond, api.CreateJuryMember201JSONResponse.VisitCreateJuryMemberResponse)
	m, err := s.svc.CreateJuryMember(ctx, memberInputFromAPI(*req.Body))
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(m), nil
}

func (s *server) GetJuryMember(ctx context.Context, req api.GetJuryMemberRequestObject) (api.GetJuryMemberResponseObject, error) {
	m, err := s.svc.GetJuryMember(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, m.Version) {
		return api.GetJuryMember304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(m.Version))}}, nil
	}
	return api.GetJuryMember200JSONResponse{Body: toAPIJuryMember(m), Headers: api.GetJuryMember200ResponseHeaders{ETag: ptr(etag(m.Version))}}, nil
}

func (s *server) UpdateJuryMember(ctx context.Context, req api.UpdateJuryMemberRequestObject) (api.UpdateJuryMemberResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	current, err := s.svc.GetJuryMember(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(current.Version, expected); err != nil {
		return nil, err
	}
	cur := toAPIJuryMember(current)
	links := make([]api.MemberLink, len(cur.Links))
	for i, l := range cur.Links {
		links[i] = api.MemberLink{Kind: api.MemberLinkKind(l.Kind), CandidateId: l.CandidateId, TrainingSiteId: l.TrainingSiteId}
	}
	var merged api.JuryMemberCreate
	if err := mergePatch(api.JuryMemberCreate{FullName: cur.FullName, Role: cur.Role, Organisation: cur.Organisation,
		Email: cur.Email, Phone: cur.Phone, Links: &links}, *req.Body, &merged); err != nil {
		return nil, err
	}
	m, err := s.svc.UpdateJuryMember(ctx, current.ID, expected, memberInputFromAPI(merged))
	if err != nil {
		return nil, err
	}
	return api.UpdateJuryMember200JSONResponse{Body: toAPIJuryMember(m), Headers: api.UpdateJuryMember200ResponseHeaders{ETag: ptr(etag(m.Version))}}, nil
}

func (s *server) DeactivateJuryMember(ctx context.Context, req api.DeactivateJuryMemberRequestObject) (api.DeactivateJuryMemberResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.DeactivateJuryMember(ctx, req.Id.String(), expected)
	if err != nil {
		return nil, err
	}
	return api.DeactivateJuryMember200JSONResponse{Body: toAPIJuryMember(m), Headers: api.DeactivateJuryMember200ResponseHeaders{ETag: ptr(etag(m.Version))}}, nil
}

func (s *server) ListJurySessions(ctx context.Context, req api.ListJurySessionsRequestObject) (api.ListJurySessionsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	q := req.Params
	f := service.JurySessionFilter{Page: p, CertificationCode: deref(q.CertificationCode), From: dateTime(q.HeldFrom), To: dateTime(q.HeldTo)}
	if q.Status != nil {
		f.Status = certification.SessionStatus(*q.Status)
	}
	sessions, err := s.svc.ListJurySessions(ctx, f)
	if err != nil {
		return nil, err
	}
	sessions, next := trim(ctx, sessions, p, func(js certification.JurySession) string { return js.ID })
	out := api.JurySessionList{Items: make([]api.JurySession, len(sessions)), NextCursor: next}
	for i, js := range sessions {
		out.Items[i] = toAPIJurySession(js)
	}
	return api.ListJurySessions200JSONResponse{Body: out}, nil
}

func (s *server) PlanJurySession(ctx context.Context, req api.PlanJurySessionRequestObject) (api.PlanJurySessionResponseObject, error) {
	b := req.Body
	in := service.JurySessionInput{CertificationCode: b.CertificationCode, TrainingSiteID: b.TrainingSiteId.String(), HeldOn: b.HeldOn.Time}
	if b.MemberIds != nil {
		for _, id := range *b.MemberIds {
			in.MemberIDs = append(in.MemberIDs, id.String())
		}
	}
	respond := func(js certification.JurySession) api.PlanJurySession201JSONResponse {
		return api.PlanJurySession201JSONResponse{Body: toAPIJurySession(js), Headers: api.PlanJurySession201ResponseHeaders{
			ETag: ptr(etag(js.Version)), Location: ptr("/v1/jury-sessions/" + js.ID)}}
	}
	answerWith(ctx, respond, api.PlanJurySession201JSONResponse.VisitPlanJurySessionResponse)
	js, err := s.svc.PlanJurySession(ctx, in)
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(js), nil
}

func (s *server) GetJurySession(ctx context.Context, req api.GetJurySessionRequestObject) (api.GetJurySessionResponseObject, error) {
	js, err := s.svc.GetJurySession(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if notModified(req.Params.IfNoneMatch, js.Version) {
		return api.GetJurySession304Response{Headers: api.NotModifiedResponseHeaders{ETag: ptr(etag(js.Version))}}, nil
	}
	return api.GetJurySession200JSONResponse{Body: toAPIJurySession(js), Headers: api.GetJurySession200ResponseHeaders{ETag: ptr(etag(js.Version))}}, nil
}

// sessionPatchable is the part of a session a merge patch applies to.
type sessionPatchable struct {
	TrainingSiteID openapi_types.UUID `json:"training_site_id"`
	HeldOn         openapi_types.Date `json:"held_on"`
}

func (s *server) ReplanJurySession(ctx context.Context, req api.ReplanJurySessionRequestObject) (api.ReplanJurySessionResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	current, err := s.svc.GetJurySession(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(current.Version, expected); err != nil {
		return nil, err
	}
	var merged sessionPatchable
	if err := mergePatch(sessionPatchable{TrainingSiteID: mustUUID(current.TrainingSiteID), HeldOn: date(current.HeldOn)}, *req.Body, &merged); err != nil {
		return nil, err
	}
	js, err := s.svc.ReplanJurySession(ctx, current.ID, expected, merged.TrainingSiteID.String(), merged.HeldOn.Time)
	if err != nil {
		return nil, err
	}
	return api.ReplanJurySession200JSONResponse{Body: toAPIJurySession(js), Headers: api.ReplanJurySession200ResponseHeaders{ETag: ptr(etag(js.Version))}}, nil
}

func (s *server) SeatJuryMember(ctx context.Context, req api.SeatJuryMemberRequestObject) (api.SeatJuryMemberResponseObject, error) {
	expected, err := optionalVersion(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	js, err := s.svc.SeatJuryMember(ctx, req.Id.String(), expected, req.MemberId.String())
	if err != nil {
		return nil, err
	}
	return api.SeatJuryMember200JSONResponse{Body: toAPIJurySession(js), Headers: api.SeatJuryMember200ResponseHeaders{ETag: ptr(etag(js.Version))}}, nil
}

func (s *server) UnseatJuryMember(ctx context.Context, req api.UnseatJuryMemberRequestObject) (api.UnseatJuryMemberResponseObject, error) {
	expected, err := optionalVersion(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	js, err := s.svc.UnseatJuryMember(ctx, req.Id.String(), expected, req.MemberId.String())
	if err != nil {
		return nil, err
	}
	return api.UnseatJuryMember200JSONResponse{Body: toAPIJurySession(js), Headers: api.UnseatJuryMember200ResponseHeaders{ETag: ptr(etag(js.Version))}}, nil
}

// optionalVersion reads an If-Match the caller may leave out.
func optionalVersion(h *string) (int, error) {
	if h == nil {
		return service.NoPrecondition, nil
	}
	return versionFromIfMatch(h)
}

func (s *server) ListSessionCandidates(ctx context.Context, req api.ListSessionCandidatesRequestObject) (api.ListSessionCandidatesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	lines, err := s.svc.SessionCandidates(ctx, req.Id.String(), p)
	if err != nil {
		return nil, err
	}
	lines, next := trim(ctx, lines, p, func(l service.SessionCandidate) string { return l.Candidate.ID })
	out := api.SessionCandidateList{Items: make([]api.SessionCandidate, len(lines)), NextCursor: next}
	for i, l := range lines {
		item := api.SessionCandidate{CandidateId: mustUUID(l.Candidate.ID), FullName: certification.HolderName(l.Candidate),
			Route: api.RouteId(l.Candidate.Route), TrainingSiteId: optUUID(l.Candidate.TrainingSiteID),
			Proposal: api.Proposal{Outcome: api.Outcome(l.Proposal.Outcome), ValidatedComponents: toAPIDecided(l.Proposal.Components),
				Reasons: *toAPIViolations(l.Proposal.Reasons), Blockers: *toAPIViolations(l.Proposal.Blockers)}}
		if d := l.Defence; d != nil {
			item.Defence = &api.SessionDefence{EvaluationId: mustUUID(d.ID), StartsAt: d.ScheduledAt, EndsAt: d.Slot().End,
				Status: api.EvaluationStatus(d.Status)}
		}
		if l.Decision != nil {
			item.Decision = ptr(toAPIDecision(*l.Decision))
		}
		out.Items[i] = item
	}
	return api.ListSessionCandidates200JSONResponse{Body: out}, nil
}

func (s *server) ListSessionDecisions(ctx context.Context, req api.ListSessionDecisionsRequestObject) (api.ListSessionDecisionsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	decisions, err := s.svc.SessionDecisions(ctx, req.Id.String(), p)
	if err != nil {
		return nil, err
	}
	decisions, next := trim(ctx, decisions, p, func(d certification.Decision) string { return d.ID })
	return api.ListSessionDecisions200JSONResponse{Body: api.DecisionList{Items: toAPIDecisions(decisions), NextCursor: next}}, nil
}

func (s *server) RecordDecision(ctx context.Context, req api.RecordDecisionRequestObject) (api.RecordDecisionResponseObject, error) {
	b := req.Body
	in := certification.DecisionRequest{CandidateID: b.CandidateId.String(), Reason: b.Reason, CorrectsID: uuidString(b.Corrects)}
	if b.Outcome != nil {
		in.Outcome = certification.Outcome(*b.Outcome)
	}
	if b.ValidatedComponents != nil {
		in.ValidatedComponents = []string{}
		for _, c := range *b.ValidatedComponents {
			in.ValidatedComponents = append(in.ValidatedComponents, string(c))
		}
	}
	respond := func(d certification.Decision) api.RecordDecision201JSONResponse {
		return api.RecordDecision201JSONResponse{Body: toAPIDecision(d), Headers: api.RecordDecision201ResponseHeaders{
			Location: ptr("/v1/jury-sessions/" + d.JurySessionID + "/decisions/" + d.ID)}}
	}
	answerWith(ctx, respond, api.RecordDecision201JSONResponse.VisitRecordDecisionResponse)
	d, err := s.svc.RecordDecision(ctx, req.Id.String(), in)
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(d), nil
}

func (s *server) GetDecision(ctx context.Context, req api.GetDecisionRequestObject) (api.GetDecisionResponseObject, error) {
	d, err := s.svc.GetDecision(ctx, req.Id.String(), req.DecisionId.String())
	if err != nil {
		return nil, err
	}
	return api.GetDecision200JSONResponse{Body: toAPIDecision(d)}, nil
}

func (s *server) DeleteDecision(ctx context.Context, req api.DeleteDecisionRequestObject) (api.DeleteDecisionResponseObject, error) {
	if err := s.svc.DeleteDecision(ctx, req.Id.String(), req.DecisionId.String()); err != nil {
		return nil, err
	}
	return api.DeleteDecision204Response{}, nil
}

func (s *server) CloseDeliberation(ctx context.Context, req api.CloseDeliberationRequestObject) (api.CloseDeliberationResponseObject, error) {
	sigs := make([]certification.Signature, len(req.Body.Signatures))
	for i, sig := range req.Body.Signatures {
		sigs[i] = certification.Signature{MemberID: sig.MemberId.String(), SignedAt: sig.SignedAt.UTC()}
	}
	js, err := s.svc.CloseDeliberation(ctx, req.Id.String(), sigs)
	if err != nil {
		return nil, err
	}
	return api.CloseDeliberation200JSONResponse{Body: toAPIJurySession(js), Headers: api.CloseDeliberation200ResponseHeaders{ETag: ptr(etag(js.Version))}}, nil
}

func (s *server) GetMinutes(ctx context.Context, req api.GetMinutesRequestObject) (api.GetMinutesResponseObject, error) {
	m, err := s.svc.Minutes(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if preferred(ctx) == mediaPDF {
		doc, err := pdf.Minutes(m)
		if err != nil {
			return nil, err
		}
		return api.GetMinutes200ApplicationpdfResponse{Body: bytes.NewReader(doc), ContentLength: int64(len(doc))}, nil
	}
	return api.GetMinutes200JSONResponse{Body: toAPIMinutes(m)}, nil
}

func (s *server) ListCandidateDecisions(ctx context.Context, req api.ListCandidateDecisionsRequestObject) (api.ListCandidateDecisionsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	decisions, err := s.svc.CandidateDecisions(ctx, req.Id.String(), p)
	if err != nil {
		return nil, err
	}
	decisions, next := trim(ctx, decisions, p, func(d certification.Decision) string { return d.ID })
	return api.ListCandidateDecisions200JSONResponse{Body: api.DecisionList{Items: toAPIDecisions(decisions), NextCursor: next}}, nil
}

func (s *server) ListCandidateCertificates(ctx context.Context, req api.ListCandidateCertificatesRequestObject) (api.ListCandidateCertificatesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	certs, err := s.svc.CandidateCertificates(ctx, req.Id.String(), p)
	if err != nil {
		return nil, err
	}
	certs, next := trim(ctx, certs, p, func(c certification.Certificate) string { return c.DecisionID })
	out := api.CertificatePage{Items: make([]api.Certificate, len(certs)), NextCursor: next}
	for i, c := range certs {
		out.Items[i] = s.toAPICertificate(c)
	}
	return api.ListCandidateCertificates200JSONResponse{Body: out}, nil
}

func (s *server) VerifyCertificate(ctx context.Context, req api.VerifyCertificateRequestObject) (api.VerifyCertificateResponseObject, error) {
	v, err := s.svc.VerifyCertificate(ctx, req.Number)
	if err != nil {
		return nil, err
	}
	if preferred(ctx) == mediaPDF {
		doc, err := pdf.Certificate(v.Certificate, v.Certification, s.verificationURL(v.Number))
		if err != nil {
			return nil, err
		}
		return api.VerifyCertificate200ApplicationpdfResponse{Body: bytes.NewReader(doc), ContentLength: int64(len(doc))}, nil
	}
	out := api.CertificateVerification{Number: v.Number, Kind: api.CertificateKind(v.Kind), CertificationCode: v.CertificationCode,
		CertificationTitle: v.Certification.Title, HolderName: v.HolderName, AwardedOn: date(v.AwardedOn),
		Status: api.CertificateStatus(v.Status), RevokedOn: optDate(v.RevokedAt), Components: toAPICertified(v.Components),
		VerificationUrl: s.verificationURL(v.Number)}
	return api.VerifyCertificate200JSONResponse{Body: out}, nil
}

func (s *server) RevokeCertificate(ctx context.Context, req api.RevokeCertificateRequestObject) (api.RevokeCertificateResponseObject, error) {
	c, err := s.svc.RevokeCertificate(ctx, req.Number, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.RevokeCertificate200JSONResponse{Body: s.toAPICertificate(c)}, nil
}

func (s *server) verificationURL(number string) string {
	return s.publicURL + "/v1/certificates/" + number
}

func memberInputFromAPI(b api.JuryMemberCreate) service.JuryMemberInput {
	in := service.JuryMemberInput{FullName: b.FullName, Role: certification.JuryRole(b.Role), Organisation: b.Organisation,
		Email: string(b.Email), Phone: deref(b.Phone)}
	if b.Links != nil {
		for _, l := range *b.Links {
			in.Links = append(in.Links, certification.MemberLink{Kind: certification.LinkKind(l.Kind),
				CandidateID: uuidString(l.CandidateId), TrainingSiteID: uuidString(l.TrainingSiteId)})
		}
	}
	return in
}

func toAPIJuryMember(m certification.JuryMember) api.JuryMember {
	out := api.JuryMember{Id: mustUUID(m.ID), FullName: m.FullName, Role: api.JuryRole(m.Role), Organisation: m.Organisation,
		Email: openapi_types.Email(m.Email), Phone: nilIfEmpty(m.Phone), Links: make([]api.MemberLinkRecord, len(m.Links)),
		Active: m.Active, Version: int32(m.Version), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	for i, l := range m.Links {
		out.Links[i] = api.MemberLinkRecord{Kind: api.MemberLinkRecordKind(l.Kind), CandidateId: optUUID(l.CandidateID), TrainingSiteId: optUUID(l.TrainingSiteID)}
	}
	return out
}

func toAPIJurySession(js certification.JurySession) api.JurySession {
	out := api.JurySession{Id: mustUUID(js.ID), CertificationCode: js.CertificationCode, TrainingSiteId: mustUUID(js.TrainingSiteID),
		HeldOn: date(js.HeldOn), MemberIds: make([]openapi_types.UUID, len(js.MemberIDs)), Status: api.JurySessionStatus(js.Status),
		Signatures: make([]api.Signature, len(js.Signatures)), DeliberationStartedAt: js.DeliberationStartedAt, ClosedAt: js.ClosedAt,
		Version: int32(js.Version), CreatedAt: js.CreatedAt, UpdatedAt: js.UpdatedAt}
	for i, id := range js.MemberIDs {
		out.MemberIds[i] = mustUUID(id)
	}
	for i, sig := range js.Signatures {
		out.Signatures[i] = api.Signature{MemberId: mustUUID(sig.MemberID), SignedAt: sig.SignedAt}
	}
	return out
}

func toAPIDecided(cs []certification.DecidedComponent) []api.DecidedComponent {
	out := make([]api.DecidedComponent, len(cs))
	for i, c := range cs {
		out[i] = api.DecidedComponent{Component: api.ComponentId(c.Component), EvaluationId: mustUUID(c.EvaluationID),
			AcquiredOn: date(c.AcquiredOn), ValidUntil: optDate(c.ValidUntil), ValidatedNow: c.ValidatedNow}
	}
	return out
}

func toAPICertified(cs []certification.DecidedComponent) []api.CertifiedComponent {
	out := make([]api.CertifiedComponent, len(cs))
	for i, c := range cs {
		out[i] = api.CertifiedComponent{Component: api.ComponentId(c.Component), AcquiredOn: date(c.AcquiredOn), ValidUntil: optDate(c.ValidUntil)}
	}
	return out
}

func toAPIDecision(d certification.Decision) api.Decision {
	status := api.Draft
	switch {
	case d.SupersededBy != "":
		status = api.Superseded
	case d.Published():
		status = api.Published
	}
	return api.Decision{Id: mustUUID(d.ID), JurySessionId: mustUUID(d.JurySessionID), CandidateId: mustUUID(d.CandidateID),
		Outcome: api.Outcome(d.Outcome), ValidatedComponents: toAPIDecided(d.Components), Reason: d.Reason, Revision: int32(d.Revision),
		Corrects: optUUID(d.CorrectsID), SupersededBy: optUUID(d.SupersededBy), Status: status, DecidedAt: d.DecidedAt,
		DecidedBy: d.DecidedBy, PublishedAt: d.PublishedAt, CertificateNumber: nilIfEmpty(d.CertificateNumber)}
}

func toAPIDecisions(ds []certification.Decision) []api.Decision {
	out := make([]api.Decision, len(ds))
	for i, d := range ds {
		out[i] = toAPIDecision(d)
	}
	return out
}

func toAPIMinutes(m certification.Minutes) api.Minutes {
	out := api.Minutes{JurySessionId: mustUUID(m.Session.ID), CertificationCode: m.Certification.Code, CertificationTitle: m.Certification.Title,
		HeldOn: date(m.Session.HeldOn), MembersPresent: make([]api.MinutesMember, len(m.Members)),
		Decisions: make([]api.MinutesEntry, len(m.Entries)), ClosedAt: *m.Session.ClosedAt}
	out.Site.TrainingSiteId, out.Site.Name, out.Site.Address = mustUUID(m.Site.ID), m.Site.Name, toAPIAddress(m.Site.Address)
	for i, mem := range m.Members {
		out.MembersPresent[i] = api.MinutesMember{MemberId: mustUUID(mem.ID), FullName: mem.FullName, Role: api.JuryRole(mem.Role),
			Organisation: mem.Organisation, SignedAt: mem.SignedAt}
	}
	for i, e := range m.Entries {
		out.Decisions[i] = api.MinutesEntry{DecisionId: mustUUID(e.ID), CandidateId: mustUUID(e.CandidateID), CandidateName: e.CandidateName,
			Outcome: api.Outcome(e.Outcome), ValidatedComponents: toAPIDecided(e.Components), Reason: e.Reason, Corrects: optUUID(e.CorrectsID)}
	}
	return out
}

func (s *server) toAPICertificate(c certification.Certificate) api.Certificate {
	return api.Certificate{Number: c.Number, Kind: api.CertificateKind(c.Kind), CertificationCode: c.CertificationCode,
		CandidateId: mustUUID(c.CandidateID), DecisionId: mustUUID(c.DecisionID), HolderName: c.HolderName, AwardedOn: date(c.AwardedOn),
		IssuedAt: c.IssuedAt, Status: api.CertificateStatus(c.Status), RevokedAt: c.RevokedAt, RevocationReason: nilIfEmpty(c.RevocationReason),
		Components: toAPICertified(c.Components), VerificationUrl: s.verificationURL(c.Number)}
}

// The media types an operation with a PDF or an XML form answers in.
const (
	mediaJSON = "application/json"
	mediaPDF  = "application/pdf"
	mediaXML  = "application/xml"
)

type acceptKey struct{}

// negotiate puts in the request context the media type the client prefers among
// those the API answers in (JSON unless the Accept header prefers PDF or XML), for
// the operations that have a PDF or an XML form.
func negotiate(r *http.Request) *http.Request {
	m := mediaJSON
	if accept := r.Header.Get("Accept"); accept != "" {
		if best := goautoneg.Negotiate(accept, []string{mediaJSON, mediaPDF, mediaXML}); best != "" {
			m = best
		}
	}
	return r.WithContext(context.WithValue(r.Context(), acceptKey{}, m))
}

func preferred(ctx context.Context) string {
	if m, ok := ctx.Value(acceptKey{}).(string); ok {
		return m
	}
	return mediaJSON
}
