package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

// The role matrix of API.md, written out independently of openapi.yaml's x-roles:
// every operation × every role. Allowed calls may still answer 404 or 422, never
// 401 or 403; refused ones answer 403.
func TestRoleMatrix(t *testing.T) {
	all := []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate}
	adminOnly := []auth.Role{auth.RoleAdmin}
	staff := []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff}
	withCandidate := []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff, auth.RoleCandidate}
	leads := []auth.Role{auth.RoleAdmin, auth.RoleDirector}
	leadsAndJury := []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleJuryMember}
	staffAndJury := []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember}
	everyone := []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate}
	const number = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"
	session := "/v1/jury-sessions/" + "01900000-0000-7000-8000-000000000000"
	const nobody = "01900000-0000-7000-8000-000000000000"
	patch := map[string]string{"If-Match": `"99"`}
	ops := []struct {
		r       req
		allowed []auth.Role
		public  bool
	}{
		{req{method: "GET", path: "/v1/certifications"}, all, false},
		{req{method: "GET", path: "/v1/certifications/RNCP26206"}, all, false},
		{req{method: "GET", path: "/v1/certifications/RNCP26206/rules"}, all, false},
		{req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", body: map[string]any{"legal_act": "x", "effective_from": "2030-01-01", "effective_until": "2029-01-01"}}, adminOnly, false},
		{req{method: "GET", path: "/v1/certifications/RNCP26206/registration-periods"}, all, false},
		{req{method: "GET", path: "/v1/certifications/RNCP26206/registration-periods/" + periodFirst}, all, false},
		{req{method: "PATCH", path: "/v1/certifications/RNCP26206/registration-periods/" + periodFirst, contentType: "application/merge-patch+json", body: `{"legal_act":"x"}`, headers: patch}, adminOnly, false},
		{req{method: "GET", path: "/v1/training-sites"}, staff, false},
		{req{method: "POST", path: "/v1/training-sites", body: newSite("X", "98800")}, adminOnly, false},
		{req{method: "GET", path: "/v1/training-sites/" + siteMontpellier}, staff, false},
		{req{method: "PATCH", path: "/v1/training-sites/" + siteMontpellier, contentType: "application/merge-patch+json", body: `{"name":"x"}`, headers: patch}, adminOnly, false},
		{req{method: "DELETE", path: "/v1/training-sites/" + siteMontpellier, headers: patch}, adminOnly, false},
		{req{method: "GET", path: "/v1/users"}, adminOnly, false},
		{req{method: "POST", path: "/v1/users", body: map[string]any{"email": "x@x.example", "role": "site_staff", "password": "a-long-enough-password"}}, adminOnly, false},
		{req{method: "GET", path: "/v1/users/01900000-0000-7000-8000-000000000000"}, adminOnly, false},
		{req{method: "PATCH", path: "/v1/users/01900000-0000-7000-8000-000000000000", contentType: "application/merge-patch+json", body: `{"role":"admin"}`, headers: patch}, adminOnly, false},
		{req{method: "DELETE", path: "/v1/users/01900000-0000-7000-8000-000000000000", headers: patch}, adminOnly, false},
		{req{method: "GET", path: "/v1/audit-events"}, adminOnly, false},
		{req{method: "GET", path: "/v1/candidates"}, staff, false},
		{req{method: "POST", path: "/v1/candidates", body: candidateBody(map[string]any{"route": "apprenticeship"})}, staff, false},
		{req{method: "GET", path: "/v1/candidates/" + nobody}, everyone, false},
		{req{method: "PATCH", path: "/v1/candidates/" + nobody, contentType: "application/merge-patch+json", body: `{"phone":"0102030405"}`, headers: patch}, staff, false},
		{req{method: "POST", path: "/v1/candidates/" + nobody + "/withdrawal", body: map[string]any{"reason": "x"}, headers: patch}, staff, false},
		{req{method: "POST", path: "/v1/candidates/" + nobody + "/vae-admissibility", body: map[string]any{"decision": "admissible", "decided_on": "2019-07-01"}, headers: patch}, leads, false},
		{req{method: "GET", path: "/v1/candidates/" + nobody + "/transcript"}, everyone, false},
		{req{method: "GET", path: "/v1/candidates/" + nobody + "/decisions"}, withCandidate, false},
		{req{method: "GET", path: "/v1/candidates/" + nobody + "/certificates"}, withCandidate, false},
		{req{method: "GET", path: "/v1/evaluations"}, staffAndJury, false},
		{req{method: "POST", path: "/v1/evaluations", body: map[string]any{"candidate_id": nobody, "component": "E1", "site_id": sitePierreBayle, "scheduled_at": "2019-09-02T09:00:00Z"}}, staff, false},
		{req{method: "GET", path: "/v1/evaluations/" + nobody}, staffAndJury, false},
		{req{method: "PATCH", path: "/v1/evaluations/" + nobody, contentType: "application/merge-patch+json", body: `{"scheduled_at":"2019-09-02T09:00:00Z"}`, headers: patch}, staff, false},
		{req{method: "POST", path: "/v1/evaluations/" + nobody + "/cancellation", body: map[string]any{"reason": "x"}, headers: patch}, staff, false},
		{req{method: "POST", path: "/v1/evaluations/" + nobody + "/result", body: map[string]any{"grade": 12}}, staffAndJury, false},
		{req{method: "POST", path: "/v1/evaluations/" + nobody + "/result-correction", body: map[string]any{"grade": 12, "reason": "x"}, headers: patch}, leads, false},
		{req{method: "GET", path: "/v1/jury-members"}, leadsAndJury, false},
		{req{method: "POST", path: "/v1/jury-members", body: map[string]any{"full_name": "X", "role": "professional", "organisation": "O", "email": "x@x.example",
			"links": []any{map[string]any{"kind": "other", "candidate_id": nobody}}}}, leads, false},
		{req{method: "GET", path: "/v1/jury-members/" + nobody}, leadsAndJury, false},
		{req{method: "PATCH", path: "/v1/jury-members/" + nobody, contentType: "application/merge-patch+json", body: `{"organisation":"x"}`, headers: patch}, leads, false},
		{req{method: "DELETE", path: "/v1/jury-members/" + nobody, headers: patch}, leads, false},
		{req{method: "GET", path: "/v1/jury-sessions"}, leadsAndJury, false},
		{req{method: "POST", path: "/v1/jury-sessions", body: map[string]any{"certification_code": "RNCP26206", "training_site_id": siteMontpellier, "held_on": "2019-10-01"}}, leads, false},
		{req{method: "GET", path: session}, leadsAndJury, false},
		{req{method: "PATCH", path: session, contentType: "application/merge-patch+json", body: `{"held_on":"2019-10-02"}`, headers: patch}, leads, false},
		{req{method: "PUT", path: session + "/members/" + nobody}, leads, false},
		{req{method: "DELETE", path: session + "/members/" + nobody}, leads, false},
		{req{method: "GET", path: session + "/candidates"}, leadsAndJury, false},
		{req{method: "GET", path: session + "/decisions"}, leadsAndJury, false},
		{req{method: "POST", path: session + "/decisions", body: map[string]any{"candidate_id": nobody, "reason": "x"}}, leads, false},
		{req{method: "GET", path: session + "/decisions/" + nobody}, leadsAndJury, false},
		{req{method: "DELETE", path: session + "/decisions/" + nobody}, leads, false},
		{req{method: "POST", path: session + "/close", body: map[string]any{"signatures": []any{map[string]any{"member_id": nobody, "signed_at": "2019-10-01T17:00:00Z"}}}}, leads, false},
		{req{method: "GET", path: session + "/minutes"}, leadsAndJury, false},
		{req{method: "GET", path: "/v1/certificates/" + number}, everyone, true},
		{req{method: "POST", path: "/v1/certificates/" + number + "/revocation", body: map[string]any{"reason": "fraud"}}, adminOnly, false},
		{req{method: "POST", path: "/v1/auth/revoke", contentType: "application/x-www-form-urlencoded", body: "token=rt_none"}, everyone, true},
		{req{method: "POST", path: "/v1/auth/password-reset", body: map[string]any{"reset_token": "pr_none", "new_password": "a-brand-new-passphrase"}}, everyone, true},
		{req{method: "GET", path: "/v1/me"}, everyone, false},
		{req{method: "POST", path: "/v1/me/password", body: map[string]any{"current_password": "not-the-password", "new_password": "a-brand-new-passphrase"}}, everyone, false},
		{req{method: "GET", path: "/v1/me/sittings"}, []auth.Role{auth.RoleCandidate}, false},
		{req{method: "POST", path: "/v1/users/" + nobody + "/reactivation", headers: patch}, adminOnly, false},
		{req{method: "POST", path: "/v1/users/" + nobody + "/password-reset"}, adminOnly, false},
		{req{method: "GET", path: "/v1/api-clients"}, adminOnly, false},
		{req{method: "POST", path: "/v1/api-clients", body: map[string]any{"name": "X", "scopes": []string{"results:read"}}}, adminOnly, false},
		{req{method: "GET", path: "/v1/api-clients/" + nobody}, adminOnly, false},
		{req{method: "PATCH", path: "/v1/api-clients/" + nobody, contentType: "application/merge-patch+json", body: `{"name":"x"}`, headers: patch}, adminOnly, false},
		{req{method: "DELETE", path: "/v1/api-clients/" + nobody, headers: patch}, adminOnly, false},
		{req{method: "POST", path: "/v1/api-clients/" + nobody + "/secret", headers: patch}, adminOnly, false},
		{req{method: "GET", path: "/v1/results"}, leads, false},
		{req{method: "GET", path: "/v1/certificates"}, leads, false},
		{req{method: "GET", path: "/v1/statistics"}, leads, false},
		{req{method: "GET", path: "/v1/webhook-subscriptions"}, adminOnly, false},
		{req{method: "POST", path: "/v1/webhook-subscriptions", body: map[string]any{"url": "https://93.184.215.14/hooks", "events": []string{"result.published"}}}, nil, false},
		{req{method: "GET", path: "/v1/webhook-subscriptions/" + nobody}, adminOnly, false},
		{req{method: "PATCH", path: "/v1/webhook-subscriptions/" + nobody, contentType: "application/merge-patch+json", body: `{"active":false}`, headers: patch}, adminOnly, false},
		{req{method: "DELETE", path: "/v1/webhook-subscriptions/" + nobody}, adminOnly, false},
		{req{method: "GET", path: "/v1/webhook-subscriptions/" + nobody + "/deliveries"}, adminOnly, false},
		{req{method: "GET", path: "/v1/exports/holders-declaration?from=2019-01-01&to=2019-12-31"}, adminOnly, false},
		{req{method: "GET", path: "/v1/exports/holders-declaration/awards"}, adminOnly, false},
		{req{method: "GET", path: "/v1/exports/holders-declaration/files"}, adminOnly, false},
		{req{method: "POST", path: "/v1/exports/holders-declaration/files", body: map[string]any{"awarded_to": "2019-12-31"}}, adminOnly, false},
		{req{method: "GET", path: "/v1/exports/holders-declaration/files/" + nobody}, adminOnly, false},
		{req{method: "POST", path: "/v1/exports/holders-declaration/files/" + nobody + "/receipt", contentType: "application/xml", body: "<rapport/>"}, adminOnly, false},
	}
	// The table covers every operation of the contract but the token endpoint.
	doc, router := contract(t)
	covered := map[string]bool{}
	for _, op := range ops {
		route, _, err := router.FindRoute(httptest.NewRequest(op.r.method, op.r.path, nil))
		if err != nil {
			t.Fatalf("%s %s: %v", op.r.method, op.r.path, err)
		}
		covered[op.r.method+" "+route.Path] = true
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !covered[method+" "+path] && path != "/v1/auth/token" && strings.HasPrefix(path, "/v1/") {
				t.Errorf("the role matrix does not cover %s %s", method, path)
			}
		}
	}
	forEachDialect(t, func(t *testing.T, h *harness) {
		for _, op := range ops {
			for _, role := range all {
				r := op.r
				r.bearer = h.as(role)
				res := h.do(r)
				allowed := slices.Contains(op.allowed, role)
				switch {
				case allowed && (res.code == http.StatusUnauthorized || res.code == http.StatusForbidden):
					t.Errorf("%s %s as %s: %d, want it allowed", r.method, r.path, role, res.code)
				case !allowed && res.code != http.StatusForbidden:
					t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, res.code)
				}
				// And without credentials, every one of them is a 401 but the public ones.
				r.bearer = ""
				switch res := h.do(r); {
				case op.public && (res.code == http.StatusUnauthorized || res.code == http.StatusForbidden):
					t.Errorf("%s %s without a token: %d, want it allowed", r.method, r.path, res.code)
				case !op.public && res.code != http.StatusUnauthorized:
					t.Errorf("%s %s without a token: %d, want 401", r.method, r.path, res.code)
				}
			}
		}
	})
}
