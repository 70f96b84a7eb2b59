package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/service"
	"github.com/getkin/kin-openapi/openapi3"
)

// The security matrix: every operation of openapi.yaml, called by every role and
// without credentials, on objects of the caller's own side and of the other side.
//
// Two sides are built once per database. Side A is what the scoped accounts are
// bound to: training site A (Montpellier), candidate A registered there, candidate
// A's sittings, jury session A, which hears candidate A's defence and seats the jury
// member the jury_member account is bound to, and that session's decision. Side B is
// the same at training site B (Vauquelin), with a jury that does not seat that
// member. The site_staff account is bound to site A, the candidate account to
// candidate A, the jury_member account to a member of session A; admins and
// directors see both sides.
//
// What each call must answer follows from the operation's x-roles, not from a table
// written beside it:
//   - without credentials, 401 (public operations aside);
//   - a role x-roles does not list, 403, whatever object it names;
//   - a listed role on its own side's objects, neither 401, 403 nor 404;
//   - a listed role on the other side's objects it may not see, exactly the answer
//     it gets for ids that exist nowhere (404 for an object in the path), so that
//     ids cannot be probed.
//
// Lists must show the caller's own side and never the other side's objects, even
// when the query asks for them.

// kind is a kind of object some roles see only part of.
type kind string

const (
	kSite       kind = "training site"
	kCandidate  kind = "candidate"
	kEvaluation kind = "evaluation"
	kSession    kind = "jury session"
	kMember     kind = "jury member"
	kDecision   kind = "decision"
)

// scopes are the kinds of objects each role sees only some of (shared/API.md,
// "Roles"): site staff their site's training site, candidates and sittings; a jury
// member the sessions they sit on, those sessions' candidates and decisions, and
// themselves; a candidate themselves; a partner application bound to a site, that
// site's candidates and their results. Admins and directors see everything.
var scopes = map[auth.Role][]kind{
	auth.RolePartner:    {kSite, kCandidate, kDecision},
	auth.RoleSiteStaff:  {kSite, kCandidate, kEvaluation},
	auth.RoleJuryMember: {kSession, kCandidate, kEvaluation, kMember, kDecision},
	auth.RoleCandidate:  {kCandidate},
}

// anonymous is the caller without credentials, in the matrix's role column.
const anonymous auth.Role = "anonymous"

// partnerWithoutScopes is a partner application bound to site A whose token holds
// no scope: it may call what x-roles opens to partners and asks no scope of
// (GET /v1/me), and nothing else. The partner column (auth.RolePartner) is an
// application bound to site A that holds every scope.
const partnerWithoutScopes auth.Role = "partner without scopes"

// matrixRoles are the callers of the matrix: every role of the API, partner
// applications, and nobody.
var matrixRoles = []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate,
	auth.RolePartner, partnerWithoutScopes, anonymous}

// objects are the ids a request names, one of each kind.
type objects struct {
	site, candidate, evaluation, session, member, decision string
}

// nowhere are ids of no object at all.
var nowhere = objects{
	site: "01900000-0000-7000-8000-0000000000a1", candidate: "01900000-0000-7000-8000-0000000000a2",
	evaluation: "01900000-0000-7000-8000-0000000000a3", session: "01900000-0000-7000-8000-0000000000a4",
	member: "01900000-0000-7000-8000-0000000000a5", decision: "01900000-0000-7000-8000-0000000000a6",
}

// matrixOp is how the matrix calls one operation.
type matrixOp struct {
	// path and body are the kinds of the objects the request names in its path,
	// and in its body or query.
	path, body []kind
	// build is the request on the objects given; the runner adds the method, the
	// credentials and, where the operation takes one, a stale If-Match, so that an
	// allowed change is refused once the object is found (412) and the fixtures
	// stay as they are. Creations make new objects of their own.
	build func(f *matrixFixture, o objects) req
	// list, for a list of objects some roles see only part of: the kind listed,
	// and a query that narrows the list to side B.
	list   kind
	filter func(f *matrixFixture) string
}

func (op matrixOp) kinds() []kind {
	out := append(append([]kind{}, op.path...), op.body...)
	if op.list != "" {
		out = append(out, op.list)
	}
	return out
}

// matrixFixture is the data of the matrix, built once per database.
type matrixFixture struct {
	h       *harness
	bearers map[auth.Role]string
	names   map[auth.Role]string
	a, b    objects
	// defences are the E4 sittings of candidates A and B in their sessions: the
	// evaluations a jury member is concerned with.
	defences map[string]string
	// listed are the objects of each side a list of the kind must show or hide.
	listed      map[kind]map[string][]string
	user        string // the account the /v1/users/{id} operations name
	client      string // the partner application the /v1/api-clients/{id} operations name
	certificate string // the number of an awarded certificate
	adminEmail  string
	serial      int // makes each created object's name unique
}

func (f *matrixFixture) next() int { f.serial++; return f.serial }

// objectsOf are the ids a role's request on side "A" or "B" names: a jury member's
// evaluation is a defence in the session.
func (f *matrixFixture) objectsOf(role auth.Role, side string, op matrixOp) objects {
	var o objects
	switch side {
	case "A":
		o = f.a
	case "B":
		o = f.b
	default:
		return nowhere
	}
	if role == auth.RoleJuryMember {
		o.evaluation = f.defences[side]
	}
	if slices.Contains(op.kinds(), kDecision) {
		o.decision = f.decisionIn(o.session, o.candidate)
	}
	return o
}

// decisionIn is the draft decision of a session on a candidate, recorded again if a
// case of the matrix took it back.
func (f *matrixFixture) decisionIn(session, candidate string) string {
	h := f.h
	h.t.Helper()
	res := decide(h, f.bearers[auth.RoleAdmin], session, candidate, nil)
	switch m := res.json(h.t); res.code {
	case http.StatusCreated:
		return str(m, "id")
	case http.StatusConflict:
		if id := str(m, "existing_id"); id != "" {
			return id
		}
	}
	h.t.Fatalf("the decision of session %s on candidate %s: %d %s", session, candidate, res.code, res.raw)
	return ""
}

// newMatrixFixture builds both sides, a certificate, and an account of each role.
func newMatrixFixture(t *testing.T, h *harness) *matrixFixture {
	admin := h.as(auth.RoleAdmin)
	f := &matrixFixture{h: h, adminEmail: string(auth.RoleAdmin) + "@test.example",
		bearers: map[auth.Role]string{auth.RoleAdmin: admin, auth.RoleDirector: h.as(auth.RoleDirector), anonymous: ""},
		names:   map[auth.Role]string{auth.RoleAdmin: "admin", auth.RoleDirector: "director", anonymous: "anonymous"}}

	candA := h.candidate(map[string]any{"first_name": "Anaïs", "birth_name": "Côté-A", "training_site_id": siteMontpellier})
	candB := h.candidate(map[string]any{"first_name": "Bastien", "birth_name": "Côté-B", "sex": "M", "training_site_id": siteVauquelin})
	e1A := str(expect(t, schedule(h, admin, candA, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
	e1B := str(expect(t, schedule(h, admin, candB, "E1", sitePierreBayle, "2019-09-02T13:00:00Z"), http.StatusCreated), "id")
	panel := func(side string) []string {
		ids := []string{h.member("Directrice "+side, certification.PedagogicalDirector)}
		for i := range 4 {
			ids = append(ids, h.member(fmt.Sprintf("Professionnel %s%d", side, i+1), certification.Professional))
		}
		return ids
	}
	juryA, juryB := panel("A"), panel("B")
	sessionA, sessionB := h.session("2019-10-01", juryA...), h.session("2019-10-02", juryB...)
	defA := str(expect(t, defence(h, admin, candA, sessionA, "2019-10-01T09:00:00Z"), http.StatusCreated), "id")
	defB := str(expect(t, defence(h, admin, candB, sessionB, "2019-10-02T09:00:00Z"), http.StatusCreated), "id")
	f.a = objects{site: siteMontpellier, candidate: candA, evaluation: e1A, session: sessionA, member: juryA[1]}
	f.b = objects{site: siteVauquelin, candidate: candB, evaluation: e1B, session: sessionB, member: juryB[1]}
	f.defences = map[string]string{"A": defA, "B": defB}
	f.decisionIn(sessionA, candA)
	f.decisionIn(sessionB, candB)
	f.listed = map[kind]map[string][]string{
		kSite:       {"A": {siteMontpellier}, "B": {siteVauquelin}},
		kCandidate:  {"A": {candA}, "B": {candB}},
		kEvaluation: {"A": {e1A, defA}, "B": {e1B, defB}},
		kSession:    {"A": {sessionA}, "B": {sessionB}},
		kMember:     {"A": {juryA[1]}, "B": {juryB[1]}},
	}

	// A candidate awarded the certification by a third session, for the
	// certificate operations.
	laureate := h.candidate(map[string]any{"first_name": "Céleste", "birth_name": "Lauréate", "training_site_id": siteMontpellier})
	for i, c := range []string{"E1", "E2", "E3"} {
		h.sit(laureate, c, fmt.Sprintf("2019-09-1%dT09:00:00Z", i+1), 14)
	}
	sessionC := h.session("2019-10-03")
	h.defend(laureate, sessionC, "2019-10-03T09:00:00Z", 14, 15)
	if f.certificate = str(h.decideIn(sessionC, laureate, "2019-10-03"), "certificate_number"); f.certificate == "" {
		t.Fatal("the laureate's decision has no certificate number")
	}

	account := func(role auth.Role, name string, in service.UserInput) string {
		in.Email, in.Role, in.Password = fmt.Sprintf("%s@matrix.example", role), role, "a-long-enough-password"
		u, err := h.svc.CreateUser(adminContext(), in)
		if err != nil {
			t.Fatalf("create the %s account: %v", role, err)
		}
		tok, err := h.tokens.Issue(u.ID, role)
		if err != nil {
			t.Fatal(err)
		}
		f.bearers[role], f.names[role] = "Bearer "+tok, name
		return u.ID
	}
	f.user = account(auth.RoleSiteStaff, "site_staff (of site A)", service.UserInput{TrainingSiteID: siteMontpellier})
	account(auth.RoleCandidate, "candidate (candidate A)", service.UserInput{CandidateID: candA})
	account(auth.RoleJuryMember, "jury_member (sits in session A)", service.UserInput{JuryMemberID: juryA[1]})
	f.bearers[auth.RolePartner], f.client = h.partnerClient(siteMontpellier, service.Scopes...)
	f.names[auth.RolePartner] = "partner (of site A, every scope)"
	f.bearers[partnerWithoutScopes], f.names[partnerWithoutScopes] = h.partner(siteMontpellier), "partner (of site A, no scope)"
	return f
}

// matrixOps says how to call each operation of the contract. The requests are valid
// against the contract, so that each reaches the object it names; writes are
// refused after that (a stale If-Match, a rule they break) or create new objects.
func matrixOps() map[string]matrixOp {
	get := func(path string) matrixOp {
		return matrixOp{build: func(*matrixFixture, objects) req { return req{path: path} }}
	}
	onSite := func(suffix string, body any) matrixOp {
		return matrixOp{path: []kind{kSite}, build: func(_ *matrixFixture, o objects) req {
			return req{path: "/v1/training-sites/" + o.site + suffix, body: body, contentType: contentTypeOf(body)}
		}}
	}
	onCandidate := func(suffix string, body any) matrixOp {
		return matrixOp{path: []kind{kCandidate}, build: func(_ *matrixFixture, o objects) req {
			return req{path: "/v1/candidates/" + o.candidate + suffix, body: body, contentType: contentTypeOf(body)}
		}}
	}
	onEvaluation := func(suffix string, body any) matrixOp {
		return matrixOp{path: []kind{kEvaluation}, build: func(_ *matrixFixture, o objects) req {
			return req{path: "/v1/evaluations/" + o.evaluation + suffix, body: body, contentType: contentTypeOf(body)}
		}}
	}
	onMember := func(body any) matrixOp {
		return matrixOp{path: []kind{kMember}, build: func(_ *matrixFixture, o objects) req {
			return req{path: "/v1/jury-members/" + o.member, body: body, contentType: contentTypeOf(body)}
		}}
	}
	onSession := func(suffix string, body any) matrixOp {
		return matrixOp{path: []kind{kSession}, build: func(_ *matrixFixture, o objects) req {
			return req{path: "/v1/jury-sessions/" + o.session + suffix, body: body, contentType: contentTypeOf(body)}
		}}
	}
	onSeat := matrixOp{path: []kind{kSession, kMember}, build: func(_ *matrixFixture, o objects) req {
		return req{path: "/v1/jury-sessions/" + o.session + "/members/" + o.member}
	}}
	onDecision := matrixOp{path: []kind{kSession, kDecision}, build: func(_ *matrixFixture, o objects) req {
		return req{path: "/v1/jury-sessions/" + o.session + "/decisions/" + o.decision}
	}}
	list := func(path string, k kind, filter func(f *matrixFixture) string) matrixOp {
		return matrixOp{list: k, filter: filter, build: func(*matrixFixture, objects) req { return req{path: path + "?limit=100"} }}
	}
	return map[string]matrixOp{
		"POST /v1/auth/token": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/auth/token", contentType: "application/x-www-form-urlencoded",
				body: "grant_type=password&username=" + url.QueryEscape(f.adminEmail) + "&password=a-long-enough-password"}
		}},
		"GET /v1/certifications":              get("/v1/certifications"),
		"GET /v1/certifications/{code}":       get("/v1/certifications/RNCP26206"),
		"GET /v1/certifications/{code}/rules": get("/v1/certifications/RNCP26206/rules"),
		"POST /v1/certifications/{code}/registration-periods": {build: func(*matrixFixture, objects) req {
			// Ends before it starts: refused by the rules, never recorded.
			return req{path: "/v1/certifications/RNCP26206/registration-periods",
				body: map[string]any{"legal_act": "Arrêté d'essai", "effective_from": "2031-01-01", "effective_until": "2030-01-01"}}
		}},
		"GET /v1/certifications/{code}/registration-periods":      get("/v1/certifications/RNCP26206/registration-periods"),
		"GET /v1/certifications/{code}/registration-periods/{id}": get("/v1/certifications/RNCP26206/registration-periods/" + periodFirst),
		"PATCH /v1/certifications/{code}/registration-periods/{id}": {build: func(*matrixFixture, objects) req {
			return req{path: "/v1/certifications/RNCP26206/registration-periods/" + periodFirst, contentType: "application/merge-patch+json",
				body: `{"legal_act":"Arrêté rectifié"}`}
		}},
		"GET /v1/training-sites": list("/v1/training-sites", kSite, func(*matrixFixture) string { return "city=Toulouse" }),
		"POST /v1/training-sites": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/training-sites", body: map[string]any{"name": fmt.Sprintf("Campus %d", f.next()),
				"address": map[string]any{"line1": "2 allée Jules Guesde", "postal_code": "31400", "city": "Toulouse", "country_code": "FR"},
				"roles":   []string{"preparation"}, "certification_codes": []string{"RNCP26206"}}}
		}},
		"GET /v1/training-sites/{id}":    onSite("", nil),
		"PATCH /v1/training-sites/{id}":  onSite("", mergePatchBody(`{"name":"Renommé"}`)),
		"DELETE /v1/training-sites/{id}": onSite("", nil),
		"GET /v1/users":                  get("/v1/users"),
		"POST /v1/users": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/users", body: map[string]any{"email": fmt.Sprintf("new%d@matrix.example", f.next()),
				"role": "site_staff", "password": "a-long-enough-password", "training_site_id": siteMontpellier}}
		}},
		"GET /v1/users/{id}": {build: func(f *matrixFixture, _ objects) req { return req{path: "/v1/users/" + f.user} }},
		"PATCH /v1/users/{id}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/users/" + f.user, contentType: "application/merge-patch+json", body: `{"role":"admin"}`}
		}},
		"DELETE /v1/users/{id}": {build: func(f *matrixFixture, _ objects) req { return req{path: "/v1/users/" + f.user} }},
		"GET /v1/audit-events":  get("/v1/audit-events"),
		"POST /v1/users/{id}/reactivation": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/users/" + f.user + "/reactivation"}
		}},
		"POST /v1/users/{id}/password-reset": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/users/" + f.user + "/password-reset"}
		}},
		"POST /v1/auth/revoke": {build: func(*matrixFixture, objects) req {
			return req{path: "/v1/auth/revoke", contentType: "application/x-www-form-urlencoded", body: "token=rt_none"}
		}},
		"POST /v1/auth/password-reset": {build: func(*matrixFixture, objects) req {
			return req{path: "/v1/auth/password-reset", body: map[string]any{"reset_token": "pr_none", "new_password": "a-brand-new-passphrase"}}
		}},
		"GET /v1/me": get("/v1/me"),
		// The current password is wrong: refused by the rules, nothing changes.
		"POST /v1/me/password": {build: func(*matrixFixture, objects) req {
			return req{path: "/v1/me/password", body: map[string]any{"current_password": "not-the-password", "new_password": "a-brand-new-passphrase"}}
		}},
		"GET /v1/me/sittings": get("/v1/me/sittings"),
		"GET /v1/api-clients": get("/v1/api-clients"),
		"POST /v1/api-clients": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/api-clients", body: map[string]any{"name": fmt.Sprintf("Partenaire %d", f.next()), "scopes": []string{"results:read"}}}
		}},
		"GET /v1/api-clients/{id}": {build: func(f *matrixFixture, _ objects) req { return req{path: "/v1/api-clients/" + f.client} }},
		"PATCH /v1/api-clients/{id}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/api-clients/" + f.client, contentType: "application/merge-patch+json", body: `{"name":"Renommé"}`}
		}},
		"DELETE /v1/api-clients/{id}": {build: func(f *matrixFixture, _ objects) req { return req{path: "/v1/api-clients/" + f.client} }},
		"POST /v1/api-clients/{id}/secret": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/api-clients/" + f.client + "/secret"}
		}},
		"GET /v1/candidates": list("/v1/candidates", kCandidate, func(f *matrixFixture) string { return "training_site_id=" + f.b.site }),
		"POST /v1/candidates": {body: []kind{kSite}, build: func(f *matrixFixture, o objects) req {
			return req{path: "/v1/candidates", body: candidateBody(map[string]any{"first_name": fmt.Sprintf("Inscrit%d", f.next()),
				"birth_name": "Matrice", "training_site_id": o.site})}
		}},
		"GET /v1/candidates/{id}":                    onCandidate("", nil),
		"PATCH /v1/candidates/{id}":                  onCandidate("", mergePatchBody(`{"phone":"+33 6 00 00 00 00"}`)),
		"POST /v1/candidates/{id}/withdrawal":        onCandidate("/withdrawal", map[string]any{"reason": "Abandon"}),
		"POST /v1/candidates/{id}/vae-admissibility": onCandidate("/vae-admissibility", map[string]any{"decision": "admissible", "decided_on": "2019-07-01"}),
		"GET /v1/candidates/{id}/transcript":         onCandidate("/transcript", nil),
		"GET /v1/candidates/{id}/decisions":          onCandidate("/decisions", nil),
		"GET /v1/candidates/{id}/certificates":       onCandidate("/certificates", nil),
		"GET /v1/evaluations":                        list("/v1/evaluations", kEvaluation, func(f *matrixFixture) string { return "candidate_id=" + f.b.candidate }),
		"POST /v1/evaluations": {body: []kind{kCandidate}, build: func(f *matrixFixture, o objects) req {
			return req{path: "/v1/evaluations", body: map[string]any{"candidate_id": o.candidate, "component": "E2",
				"training_site_id": sitePierreBayle, "scheduled_at": fmt.Sprintf("2019-09-20T%02d:00:00Z", 8+f.next()%10)}}
		}},
		"GET /v1/evaluations/{id}":                    onEvaluation("", nil),
		"PATCH /v1/evaluations/{id}":                  onEvaluation("", mergePatchBody(`{"scheduled_at":"2019-09-25T09:00:00Z"}`)),
		"POST /v1/evaluations/{id}/cancellation":      onEvaluation("/cancellation", map[string]any{"reason": "Salle indisponible"}),
		"POST /v1/evaluations/{id}/result":            onEvaluation("/result", map[string]any{"grade": 12}),
		"POST /v1/evaluations/{id}/result-correction": onEvaluation("/result-correction", map[string]any{"grade": 12, "reason": "Erreur de saisie"}),
		"GET /v1/jury-members":                        list("/v1/jury-members", kMember, func(*matrixFixture) string { return "role=professional" }),
		"POST /v1/jury-members": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/jury-members", body: map[string]any{"full_name": fmt.Sprintf("Membre %d", f.next()),
				"role": "professional", "organisation": "Agence", "email": "membre@matrix.example"}}
		}},
		"GET /v1/jury-members/{id}":    onMember(nil),
		"PATCH /v1/jury-members/{id}":  onMember(mergePatchBody(`{"organisation":"Autre agence"}`)),
		"DELETE /v1/jury-members/{id}": onMember(nil),
		"GET /v1/jury-sessions": list("/v1/jury-sessions", kSession, func(*matrixFixture) string {
			return "held_from=2019-10-02&held_to=2019-10-02"
		}),
		"POST /v1/jury-sessions": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/jury-sessions", body: map[string]any{"certification_code": "RNCP26206",
				"training_site_id": sitePierreBayle, "held_on": fmt.Sprintf("2019-11-%02d", 1+f.next()%28)}}
		}},
		"GET /v1/jury-sessions/{id}":                        onSession("", nil),
		"PATCH /v1/jury-sessions/{id}":                      onSession("", mergePatchBody(`{"held_on":"2019-10-20"}`)),
		"PUT /v1/jury-sessions/{id}/members/{member_id}":    onSeat,
		"DELETE /v1/jury-sessions/{id}/members/{member_id}": onSeat,
		"GET /v1/jury-sessions/{id}/candidates":             onSession("/candidates", nil),
		"GET /v1/jury-sessions/{id}/decisions":              onSession("/decisions", nil),
		"POST /v1/jury-sessions/{id}/decisions": {path: []kind{kSession}, body: []kind{kCandidate}, build: func(_ *matrixFixture, o objects) req {
			return req{path: "/v1/jury-sessions/" + o.session + "/decisions", body: map[string]any{"candidate_id": o.candidate, "reason": "Délibération"}}
		}},
		"GET /v1/jury-sessions/{id}/decisions/{decision_id}":    onDecision,
		"DELETE /v1/jury-sessions/{id}/decisions/{decision_id}": onDecision,
		// Signed by someone who does not sit in the session: refused by the rules.
		"POST /v1/jury-sessions/{id}/close": onSession("/close", map[string]any{"signatures": []any{
			map[string]any{"member_id": nowhere.member, "signed_at": "2019-10-01T17:00:00Z"}}}),
		"GET /v1/jury-sessions/{id}/minutes": onSession("/minutes", nil),
		"GET /v1/certificates/{number}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/certificates/" + f.certificate}
		}},
		"POST /v1/certificates/{number}/revocation": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/certificates/" + f.certificate + "/revocation", body: map[string]any{"reason": "Fraude"}}
		}},
		"GET /v1/results":               get("/v1/results?limit=100"),
		"GET /v1/certificates":          get("/v1/certificates?limit=100"),
		"GET /v1/statistics":            get("/v1/statistics?limit=100"),
		"GET /v1/webhook-subscriptions": get("/v1/webhook-subscriptions"),
		"POST /v1/webhook-subscriptions": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/webhook-subscriptions", body: matrixSubscriptionBody(f)}
		}},
		"GET /v1/webhook-subscriptions/{id}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/webhook-subscriptions/" + f.webhookSubscription(false)}
		}},
		"PATCH /v1/webhook-subscriptions/{id}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/webhook-subscriptions/" + f.webhookSubscription(false), contentType: "application/merge-patch+json",
				body: `{"active":false}`}
		}},
		// Each deletion deletes a subscription of its own.
		"DELETE /v1/webhook-subscriptions/{id}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/webhook-subscriptions/" + f.webhookSubscription(true)}
		}},
		"GET /v1/webhook-subscriptions/{id}/deliveries": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/webhook-subscriptions/" + f.webhookSubscription(false) + "/deliveries"}
		}},
		// The harness has no ids at the Caisse: the export and a new file are refused
		// by the rules. A receipt of another flux is refused once the file is found.
		"GET /v1/exports/holders-declaration":        get("/v1/exports/holders-declaration?from=2019-01-01&to=2019-12-31"),
		"GET /v1/exports/holders-declaration/awards": get("/v1/exports/holders-declaration/awards"),
		"GET /v1/exports/holders-declaration/files":  get("/v1/exports/holders-declaration/files"),
		"POST /v1/exports/holders-declaration/files": {build: func(*matrixFixture, objects) req {
			return req{path: "/v1/exports/holders-declaration/files", body: map[string]any{"awarded_to": "2019-12-31"}}
		}},
		"GET /v1/exports/holders-declaration/files/{id}": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/exports/holders-declaration/files/" + matrixDeclarationFile(f)}
		}},
		"POST /v1/exports/holders-declaration/files/{id}/receipt": {build: func(f *matrixFixture, _ objects) req {
			return req{path: "/v1/exports/holders-declaration/files/" + matrixDeclarationFile(f) + "/receipt", contentType: "application/xml",
				body: receiptOf(nowhere.site, nil, nil)}
		}},
		"GET /healthz":         get("/healthz"),
		"GET /readyz":          get("/readyz"),
		"GET /metrics":         get("/metrics"),
		"GET /openapi.yaml":    get("/openapi.yaml"),
		"GET /docs":            get("/docs"),
		"GET /docs/{bundle}":   get(httpapi.ReferenceBundle),
		"GET /problems/{code}": get("/problems/rule_violation"),
	}
}

// mergePatchBody marks a body as an RFC 7386 merge patch.
type mergePatchBody string

func contentTypeOf(body any) string {
	if _, ok := body.(mergePatchBody); ok {
		return "application/merge-patch+json"
	}
	return ""
}

// contractOp is an operation as openapi.yaml declares it.
type contractOp struct {
	method, path string
	public       bool
	roles        map[auth.Role]bool
	ifMatch      bool
}

// contractOps walks openapi.yaml: every operation, who may call it, and whether it
// takes If-Match.
func contractOps(t *testing.T) []contractOp {
	doc, _ := contract(t)
	var out []contractOp
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			c := contractOp{method: method, path: path, roles: map[auth.Role]bool{}}
			c.public = op.Security != nil && len(*op.Security) == 0
			raw, ok := op.Extensions["x-roles"].([]any)
			if !ok {
				t.Fatalf("%s %s has no x-roles", method, path)
			}
			for _, r := range raw {
				c.roles[auth.Role(fmt.Sprint(r))] = true
			}
			if _, scoped := op.Extensions["x-scopes"]; c.roles[auth.RolePartner] && !scoped {
				c.roles[partnerWithoutScopes] = true
			}
			params := append(openapi3.Parameters{}, item.Parameters...)
			for _, p := range append(params, op.Parameters...) {
				c.ifMatch = c.ifMatch || (p.Value != nil && p.Value.In == "header" && p.Value.Name == "If-Match")
			}
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].method < out[j].method
	})
	return out
}

func TestSecurityMatrix(t *testing.T) {
	ops := matrixOps()
	specOps := contractOps(t)
	for _, c := range specOps {
		if _, ok := ops[c.method+" "+c.path]; !ok {
			t.Errorf("the security matrix does not say how to call %s %s", c.method, c.path)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	forEachDialect(t, func(t *testing.T, h *harness) {
		f := newMatrixFixture(t, h)
		cases, expected := 0, map[string]int{}
		for _, c := range specOps {
			op := ops[c.method+" "+c.path]
			for _, role := range matrixRoles {
				sides := []string{""}
				if len(op.kinds()) > 0 {
					sides = []string{"A", "B"}
				}
				for _, side := range sides {
					cases++
					expected[f.check(t, c, op, role, side)]++
				}
			}
		}
		t.Logf("%d operations × %d callers: %d cases: %d public, %d without credentials (401), %d of roles x-roles does not list (403), "+
			"%d lists checked for what they show, %d allowed on objects the caller sees, %d on objects they may not see (as for no object)",
			len(specOps), len(matrixRoles), cases, expected["public"], expected["401"], expected["403"], expected["list"], expected["allowed"], expected["hidden"])
	})
}

// check runs one case of the matrix and says which answer it expected: "public",
// "401", "403", "list", "allowed" or "hidden" (answered as for no object).
func (f *matrixFixture) check(t *testing.T, c contractOp, op matrixOp, role auth.Role, side string) string {
	t.Helper()
	h := f.h
	name := fmt.Sprintf("%s %s × %s", c.method, c.path, f.names[role])
	switch side {
	case "A":
		name += " × site A's objects"
	case "B":
		name += " × site B's objects"
	}
	send := func(o objects) response {
		r := op.build(f, o)
		r.method, r.bearer = c.method, f.bearers[role]
		if mp, ok := r.body.(mergePatchBody); ok {
			r.body = string(mp)
		}
		if c.ifMatch {
			if r.headers == nil {
				r.headers = map[string]string{}
			}
			r.headers["If-Match"] = `"999"`
		}
		if side == "B" && op.filter != nil {
			r.path += "&" + op.filter(f)
		}
		return h.do(r)
	}
	res := send(f.objectsOf(role, side, op))
	scoped := side == "B" && overlaps(scopes[role], op.kinds())
	if res.code >= 500 {
		t.Errorf("%s: %s", name, outcome(res, true))
	}
	switch {
	case c.public:
		if res.code == http.StatusUnauthorized || res.code == http.StatusForbidden {
			t.Errorf("%s: %s, want it served: the operation is public", name, outcome(res, false))
		}
		return "public"
	case role == anonymous:
		if res.code != http.StatusUnauthorized {
			t.Errorf("%s: %s, want 401", name, outcome(res, true))
		}
		return "401"
	case !c.roles[role]:
		if res.code != http.StatusForbidden {
			t.Errorf("%s: %s, want 403: x-roles does not list %s", name, outcome(res, true), role)
		}
		return "403"
	case op.list != "":
		// A list never answers 404: it leaves out what the caller may not see.
		if res.code != http.StatusOK {
			t.Errorf("%s: %s, want 200", name, outcome(res, true))
		} else {
			f.checkList(t, name, role, side, op.list, res)
		}
		return "list"
	case !scoped:
		if res.code == http.StatusUnauthorized || res.code == http.StatusForbidden || res.code == http.StatusNotFound {
			t.Errorf("%s: %s, want it allowed: x-roles lists %s and the objects are theirs to see", name, outcome(res, true), role)
		}
		return "allowed"
	default:
		// Objects the caller may not see: the answer is the one for ids that
		// exist nowhere, and for an object in the path, 404.
		absent := send(nowhere)
		switch {
		case len(op.path) > 0 && overlaps(scopes[role], op.path) && res.code != http.StatusNotFound:
			t.Errorf("%s: %s, want 404 as for an id that does not exist", name, outcome(res, true))
		case res.code != absent.code || problemCode(res) != problemCode(absent) || !slices.Equal(problemViolations(res), problemViolations(absent)):
			t.Errorf("%s: %s %v, but %s %v for ids that exist nowhere: the answer tells them apart",
				name, outcome(res, false), problemViolations(res), outcome(absent, false), problemViolations(absent))
		}
		return "hidden"
	}
}

// checkList checks what a list shows the caller: their side's objects, and the
// other side's only if they may see them; on side B the query asks for side B's.
func (f *matrixFixture) checkList(t *testing.T, name string, role auth.Role, side string, k kind, res response) {
	t.Helper()
	shown := map[string]bool{}
	for _, it := range items(res.json(t)) {
		shown[str(it, "id")] = true
	}
	if res.json(t)["next_cursor"] != nil {
		t.Errorf("%s: the list does not fit one page of 100", name)
	}
	seesAll := !slices.Contains(scopes[role], k)
	for _, id := range f.listed[k]["B"] {
		if seesAll && !shown[id] {
			t.Errorf("%s: the list leaves out %s %s of site B, which %s may see", name, k, id, role)
		}
		if !seesAll && shown[id] {
			t.Errorf("%s: the list shows %s %s of site B, which %s may not see", name, k, id, role)
		}
	}
	if side == "A" {
		for _, id := range f.listed[k]["A"] {
			if !shown[id] {
				t.Errorf("%s: the list leaves out %s %s of site A, which %s may see", name, k, id, role)
			}
		}
	}
}

func overlaps(a, b []kind) bool {
	for _, k := range a {
		if slices.Contains(b, k) {
			return true
		}
	}
	return false
}

// outcome is an answer as a failure message shows it: its status, its problem's
// code, and, when asked, the beginning of its body.
func outcome(res response, body bool) string {
	out := fmt.Sprint(res.code)
	if code := problemCode(res); code != "" {
		out += " " + code
	}
	if body && len(res.raw) > 0 {
		raw := strings.TrimSpace(string(res.raw))
		if len(raw) > 300 {
			raw = raw[:300] + "…"
		}
		out += " (" + raw + ")"
	}
	return out
}

// problemCode is a problem's code, or "" for an answer that is not a problem.
func problemCode(res response) string {
	var p struct {
		Code string `json:"code"`
	}
	if !strings.HasPrefix(res.hdr.Get("Content-Type"), "application/problem+json") || json.Unmarshal(res.raw, &p) != nil {
		return ""
	}
	return p.Code
}

// problemViolations are a problem's violations as "rule field" strings, in order.
func problemViolations(res response) []string {
	var p struct {
		Violations []struct {
			Rule  string `json:"rule"`
			Field string `json:"field"`
		} `json:"violations"`
	}
	_ = json.Unmarshal(res.raw, &p)
	var out []string
	for _, v := range p.Violations {
		out = append(out, strings.TrimSpace(v.Rule+" "+v.Field))
	}
	return out
}

// TestSecurityMassAssignment sends the write operations of candidates, training
// sites, users, jury members, jury sessions and evaluations the fields the server
// owns: for each operation, every member of the resource it answers that its request
// schema does not have (id, status, version, timestamps, and what other operations
// change: a candidate's certification, a session's members...), one at a time, with
// a value of the right type. Each must be refused, or ignored, and never change the
// data; the request without it must then succeed, so that the refusals are the
// forged member's. Then the fields a caller's role may not change: a site's staff
// moving a candidate to another site, anybody but an admin giving an account
// another role.
func TestSecurityMassAssignment(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		doc, _ := contract(t)
		cand := h.candidate(map[string]any{"first_name": "Assignée", "birth_name": "Masse"})
		site := str(expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: map[string]any{"name": "Campus Masse",
			"address": map[string]any{"line1": "1 rue Alsace-Lorraine", "postal_code": "31000", "city": "Toulouse", "country_code": "FR"},
			"roles":   []string{"preparation"}, "certification_codes": []string{"RNCP26206"}}}), http.StatusCreated), "id")
		user := str(expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{
			"email": "target@mass.example", "role": "director", "password": "a-long-enough-password"}}), http.StatusCreated), "id")
		member := h.member("Membre Cible", certification.Professional)
		session := h.session("2019-11-05")
		eval := str(expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-09-05T09:00:00Z"), http.StatusCreated), "id")

		writes := []struct {
			method, path, resource string // resource: where to read it back; "" for a creation
			base                   map[string]any
		}{
			{"POST", "/v1/candidates", "", candidateBody(map[string]any{"first_name": "Nouvelle", "birth_name": "Masse"})},
			{"PATCH", "/v1/candidates/{id}", "/v1/candidates/" + cand, map[string]any{"phone": "+33 6 11 22 33 44"}},
			{"POST", "/v1/training-sites", "", map[string]any{"name": "Campus Neuf",
				"address": map[string]any{"line1": "5 quai de Tounis", "postal_code": "31000", "city": "Toulouse", "country_code": "FR"},
				"roles":   []string{"preparation"}, "certification_codes": []string{"RNCP26206"}}},
			{"PATCH", "/v1/training-sites/{id}", "/v1/training-sites/" + site, map[string]any{"name": "Campus Renommé"}},
			{"POST", "/v1/users", "", map[string]any{"email": "created@mass.example", "role": "director", "password": "a-long-enough-password"}},
			{"PATCH", "/v1/users/{id}", "/v1/users/" + user, map[string]any{"email": "renamed@mass.example"}},
			{"POST", "/v1/jury-members", "", map[string]any{"full_name": "Membre Neuf", "role": "professional", "organisation": "Agence", "email": "m@mass.example"}},
			{"PATCH", "/v1/jury-members/{id}", "/v1/jury-members/" + member, map[string]any{"organisation": "Autre agence"}},
			{"POST", "/v1/jury-sessions", "", map[string]any{"certification_code": "RNCP26206", "training_site_id": sitePierreBayle, "held_on": "2019-11-12"}},
			{"PATCH", "/v1/jury-sessions/{id}", "/v1/jury-sessions/" + session, map[string]any{"held_on": "2019-11-06"}},
			{"POST", "/v1/evaluations", "", map[string]any{"candidate_id": cand, "component": "E3", "training_site_id": sitePierreBayle, "scheduled_at": "2019-09-06T09:00:00Z"}},
			{"PATCH", "/v1/evaluations/{id}", "/v1/evaluations/" + eval, map[string]any{"scheduled_at": "2019-09-05T14:00:00Z"}},
		}
		forged := 0
		for _, w := range writes {
			op := doc.Paths.Find(w.path).GetOperation(w.method)
			mediaType, requestSchema := requestSchemaOf(op)
			owned := serverOwned(responseSchemaOf(op), requestSchema)
			if len(owned) == 0 {
				t.Fatalf("%s %s: no server-owned member found in the contract", w.method, w.path)
			}
			path := w.path
			if w.resource != "" {
				path = w.resource
			}
			send := func(body map[string]any) response {
				r := req{method: w.method, path: path, bearer: admin, body: encodeJSON(body), contentType: mediaType}
				if w.method == "PATCH" {
					r.headers = map[string]string{"If-Match": "*"}
				}
				return h.do(r)
			}
			for _, name := range slices.Sorted(maps.Keys(owned)) {
				forged++
				before, beforeData := "", fingerprint(t, h)
				var current map[string]any
				if w.resource != "" {
					res := h.do(req{method: "GET", path: w.resource, bearer: admin})
					before, current = string(res.raw), expect(t, res, http.StatusOK)
				}
				value := forgedValue(owned[name], current[name])
				what := fmt.Sprintf("%s %s with %s=%s", w.method, w.path, name, encodeJSON(value))
				res := send(merged(w.base, name, value))
				switch {
				case res.code >= 500:
					t.Errorf("%s: %d %s", what, res.code, res.raw)
				case res.code >= 400:
					// Refused: nothing changed.
					if after := fingerprint(t, h); after != beforeData {
						t.Errorf("%s: refused with %d, yet the data changed:\n%s\n%s", what, res.code, beforeData, after)
					}
					if w.resource != "" {
						if after := h.do(req{method: "GET", path: w.resource, bearer: admin}); string(after.raw) != before {
							t.Errorf("%s: refused with %d, yet the resource changed:\n%s\n%s", what, res.code, before, after.raw)
						}
					}
				default:
					// Accepted: the member must have been ignored.
					got := res.json(t)
					if encodeJSON(got[name]) == encodeJSON(value) {
						t.Errorf("%s: %d and the server took the forged value: %s", what, res.code, res.raw)
					}
					if w.resource != "" && name != "version" && name != "updated_at" && encodeJSON(got[name]) != encodeJSON(current[name]) {
						t.Errorf("%s: %d and %s changed from %s to %s", what, res.code, name, encodeJSON(current[name]), encodeJSON(got[name]))
					}
				}
			}
			// The same request without the forged member is accepted.
			if res := send(w.base); res.code >= 300 {
				t.Errorf("%s %s without a server-owned member: %d %s", w.method, w.path, res.code, res.raw)
			}
		}

		// What a role may not change, on objects it may otherwise write.
		staff := h.as(auth.RoleSiteStaff) // bound to site A (Montpellier), cand's site
		unchanged := func(what, path string, refused response, before string) {
			t.Helper()
			if refused.code < 400 || refused.code >= 500 {
				t.Errorf("%s: %d %s, want it refused", what, refused.code, refused.raw)
			}
			if after := h.do(req{method: "GET", path: path, bearer: admin}); string(after.raw) != before {
				t.Errorf("%s: the resource changed:\n%s\n%s", what, before, after.raw)
			}
		}
		read := func(path string) string { return string(h.do(req{method: "GET", path: path, bearer: admin}).raw) }
		patch := func(bearer, path, body string) response {
			return h.do(req{method: "PATCH", path: path, bearer: bearer, contentType: "application/merge-patch+json", body: body,
				headers: map[string]string{"If-Match": "*"}})
		}
		roleCases := 0
		for _, c := range []struct{ what, body string }{
			{"site_staff moving their candidate to another site", `{"training_site_id":"` + siteVauquelin + `"}`},
			{"site_staff moving their candidate to a site that does not exist", `{"training_site_id":"` + nowhere.site + `"}`},
			{"site_staff taking their candidate off any site", `{"training_site_id":null}`},
		} {
			roleCases++
			before := read("/v1/candidates/" + cand)
			unchanged(c.what, "/v1/candidates/"+cand, patch(staff, "/v1/candidates/"+cand, c.body), before)
		}
		for _, c := range []struct {
			what string
			site any
		}{{"site_staff registering a candidate at another site", siteVauquelin}, {"site_staff registering a candidate at no site", nil}} {
			roleCases++
			before := fingerprint(t, h)
			res := h.do(req{method: "POST", path: "/v1/candidates", bearer: staff,
				body: candidateBody(map[string]any{"first_name": "Ailleurs", "birth_name": "Masse", "training_site_id": c.site})})
			if res.code < 400 || res.code >= 500 || fingerprint(t, h) != before {
				t.Errorf("%s: %d %s, want it refused and nothing written", c.what, res.code, res.raw)
			}
		}
		// Nobody but an admin changes an account's role, their own included, or
		// creates an account.
		for _, role := range []auth.Role{auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate} {
			bearer, self := h.as(role), "/v1/users/"+h.users[role]
			for _, body := range []string{`{"role":"admin"}`, `{"training_site_id":"` + siteVauquelin + `"}`,
				`{"email":"taken-over@mass.example","password":"another-long-password"}`} {
				roleCases++
				before := read(self)
				unchanged(fmt.Sprintf("%s patching their own account with %s", role, body), self, patch(bearer, self, body), before)
			}
			roleCases++
			before := fingerprint(t, h)
			res := h.do(req{method: "POST", path: "/v1/users", bearer: bearer, body: map[string]any{
				"email": "escalate-" + string(role) + "@mass.example", "role": "admin", "password": "a-long-enough-password"}})
			if res.code != http.StatusForbidden || fingerprint(t, h) != before {
				t.Errorf("%s creating an admin account: %d %s, want 403 and nothing written", role, res.code, res.raw)
			}
			// And the role they hold is still the one they had.
			if res := h.do(req{method: "GET", path: "/v1/users", bearer: bearer}); res.code != http.StatusForbidden {
				t.Errorf("%s listing the accounts after trying to change role: %d, want 403", role, res.code)
			}
		}
		for _, c := range []struct{ what, bearer, path, body string }{
			{"jury_member making themselves pedagogical director", h.as(auth.RoleJuryMember), "/v1/jury-members/" + h.jury()[1], `{"role":"pedagogical_director"}`},
			{"candidate changing their own record", h.as(auth.RoleCandidate), "/v1/candidates/" + h.ownCandidate(), `{"first_name":"Autre"}`},
			{"site_staff renaming their own site", staff, "/v1/training-sites/" + siteMontpellier, `{"name":"Mon site"}`},
			{"jury_member moving a session they sit in", h.as(auth.RoleJuryMember), "/v1/jury-sessions/" + h.session("2019-11-20"), `{"held_on":"2019-11-21"}`},
		} {
			roleCases++
			before := read(c.path)
			unchanged(c.what, c.path, patch(c.bearer, c.path, c.body), before)
		}
		t.Logf("%d server-owned members forged on %d write operations; %d role-bound changes refused", forged, len(writes), roleCases)
	})
}

// requestSchemaOf is an operation's request media type and body schema.
func requestSchemaOf(op *openapi3.Operation) (string, *openapi3.Schema) {
	for mt, c := range op.RequestBody.Value.Content {
		return mt, c.Schema.Value
	}
	return "", nil
}

// responseSchemaOf is the schema of an operation's successful JSON answer.
func responseSchemaOf(op *openapi3.Operation) *openapi3.Schema {
	for _, status := range []int{http.StatusCreated, http.StatusOK} {
		if r := op.Responses.Status(status); r != nil && r.Value != nil {
			if c := r.Value.Content.Get("application/json"); c != nil {
				return c.Schema.Value
			}
		}
	}
	return nil
}

// serverOwned are the members of a resource a request to write it may not set.
func serverOwned(resource, request *openapi3.Schema) map[string]*openapi3.Schema {
	out := map[string]*openapi3.Schema{}
	if resource == nil || request == nil {
		return out
	}
	for name, p := range resource.Properties {
		if _, ok := request.Properties[name]; !ok && p.Value != nil {
			out[name] = p.Value
		}
	}
	return out
}

// forgedValue is a value of the schema's type that differs from current.
func forgedValue(s *openapi3.Schema, current any) any {
	for s.Type == nil && len(s.AllOf) > 0 {
		s = s.AllOf[0].Value
	}
	for _, e := range s.Enum {
		if e != nil && e != current {
			return e
		}
	}
	switch {
	case s.Type.Is("string"):
		switch s.Format {
		case "uuid":
			return "01900000-0000-7000-8000-0000000000f1"
		case "date":
			return "2001-02-03"
		case "date-time":
			return "2001-02-03T04:05:06Z"
		}
		return "FORGED-0000"
	case s.Type.Is("integer"), s.Type.Is("number"):
		if n, ok := current.(float64); ok {
			return n + 41
		}
		return 41
	case s.Type.Is("boolean"):
		b, _ := current.(bool)
		return !b
	case s.Type.Is("array"):
		if l, ok := current.([]any); ok && len(l) > 0 {
			return []any{}
		}
		return []any{exampleOf(s.Items)}
	}
	return map[string]any{"forged": true}
}
