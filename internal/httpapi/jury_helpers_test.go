package httpapi_test

import (
	"fmt"
	"net/http"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
)

// jury returns the five members of a full jury, made on first use: the pedagogical
// director first, then four professionals.
func (h *harness) jury() []string {
	h.juryOnce.Do(func() {
		for i, name := range []string{"Hélène Directrice", "Paul Pro", "Inès Pro", "Marc Pro", "Zoé Pro"} {
			role := certification.Professional
			if i == 0 {
				role = certification.PedagogicalDirector
			}
			m, err := h.svc.CreateJuryMember(adminContext(), service.JuryMemberInput{FullName: name, Role: role,
				Organisation: "Agence " + name, Email: fmt.Sprintf("jury%d@test.example", i)})
			if err != nil {
				h.t.Fatalf("create jury member: %v", err)
			}
			h.members = append(h.members, m.ID)
		}
	})
	return h.members
}

// member records one more jury member and returns their id.
func (h *harness) member(name string, role certification.JuryRole, links ...certification.MemberLink) string {
	h.t.Helper()
	m, err := h.svc.CreateJuryMember(adminContext(), service.JuryMemberInput{FullName: name, Role: role,
		Organisation: "Cabinet " + name, Email: "member@test.example", Links: links})
	if err != nil {
		h.t.Fatalf("create jury member: %v", err)
	}
	return m.ID
}

// session plans a session at the certification site on day with the members given,
// the full jury by default, and returns its id.
func (h *harness) session(day string, members ...string) string {
	h.t.Helper()
	if members == nil {
		members = h.jury()
	}
	res := h.do(req{method: "POST", path: "/v1/jury-sessions", bearer: h.as("admin"), body: map[string]any{
		"certification_code": "RNCP26206", "training_site_id": sitePierreBayle, "held_on": day, "member_ids": members}})
	return str(expect(h.t, res, http.StatusCreated), "id")
}

// defence books the candidate's E4 defence in a session, at a slot start.
func defence(h *harness, bearer, candidate, session, at string) response {
	return h.do(req{method: "POST", path: "/v1/evaluations", bearer: bearer, body: map[string]any{
		"candidate_id": candidate, "component": "E4", "jury_session_id": session, "scheduled_at": at}})
}

// decide records a decision; fields override the proposal's defaults.
func decide(h *harness, bearer, session, candidate string, fields map[string]any) response {
	body := map[string]any{"candidate_id": candidate, "reason": "Délibération du jury"}
	for k, v := range fields {
		body[k] = v
	}
	return h.do(req{method: "POST", path: "/v1/jury-sessions/" + session + "/decisions", bearer: bearer, body: body})
}

// closeSession closes a session with every member it seats signing on day at 17:00
// UTC.
func closeSession(h *harness, bearer, session, day string) response {
	js := expect(h.t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session, bearer: h.as("admin")}), http.StatusOK)
	var sigs []map[string]any
	for _, m := range js["member_ids"].([]any) {
		sigs = append(sigs, map[string]any{"member_id": m, "signed_at": day + "T17:00:00Z"})
	}
	return h.do(req{method: "POST", path: "/v1/jury-sessions/" + session + "/close", bearer: bearer, body: map[string]any{"signatures": sigs}})
}

// deliberate has a new session of the full jury on day decide on the candidate (the
// components given, or every one the facts allow) and close; it returns the
// published decision.
func (h *harness) deliberate(candidate, day string, components ...string) map[string]any {
	h.t.Helper()
	return h.decideIn(h.session(day), candidate, day, components...)
}

// decideIn has a planned session decide on the candidate and close.
func (h *harness) decideIn(session, candidate, day string, components ...string) map[string]any {
	h.t.Helper()
	admin := h.as("admin")
	fields := map[string]any{}
	if components != nil {
		fields["validated_components"] = components
	}
	d := expect(h.t, decide(h, admin, session, candidate, fields), http.StatusCreated)
	expect(h.t, closeSession(h, admin, session, day), http.StatusOK)
	return expect(h.t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session + "/decisions/" + str(d, "id"), bearer: admin}), http.StatusOK)
}
