package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

// lastAudit is the latest audit event of a resource.
func lastAudit(t *testing.T, h *harness, id string) map[string]any {
	t.Helper()
	events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?limit=100&resource_id=" + id, bearer: h.as(auth.RoleAdmin)}), http.StatusOK))
	if len(events) == 0 {
		t.Fatalf("no audit event for %s", id)
	}
	return events[len(events)-1]
}

// A change is audited with what it changed: each field before and after.
func TestAuditRecordsBeforeAndAfter(t *testing.T) {
	h := newHarness(t, "sqlite")
	admin := h.as(auth.RoleAdmin)
	cand := h.candidate(nil)
	expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + cand, bearer: admin, contentType: "application/merge-patch+json",
		headers: map[string]string{"If-Match": `"1"`}, body: `{"usage_name":"Durand","phone":null}`}), http.StatusOK)
	ch := lastAudit(t, h, cand)["changes"].(map[string]any)
	if fmt.Sprint(ch["before"]) != "map[phone:+33 6 12 34 56 78 usage_name:]" || fmt.Sprint(ch["after"]) != "map[phone: usage_name:Durand]" {
		t.Fatalf("candidate update: %v", ch)
	}
	expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + cand + "/withdrawal", bearer: admin, headers: map[string]string{"If-Match": `"2"`},
		body: map[string]any{"reason": "Déménagement", "withdrawn_on": "2019-09-01"}}), http.StatusOK)
	ch = lastAudit(t, h, cand)["changes"].(map[string]any)
	if fmt.Sprint(ch["before"]) != "map[status:enrolled withdrawal_reason: withdrawn_on:<nil>]" ||
		fmt.Sprint(ch["after"]) != "map[status:withdrawn withdrawal_reason:Déménagement withdrawn_on:2019-09-01]" {
		t.Fatalf("withdrawal: %v", ch)
	}
	u := expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "s@x.example", "role": "site_staff",
		"password": "a-long-enough-password", "training_site_id": siteMontpellier}}), http.StatusCreated)
	expect(t, h.do(req{method: "PATCH", path: "/v1/users/" + str(u, "id"), bearer: admin, contentType: "application/merge-patch+json",
		headers: map[string]string{"If-Match": `"1"`}, body: `{"role":"director","training_site_id":null,"password":"another-long-password"}`}), http.StatusOK)
	ch = lastAudit(t, h, str(u, "id"))["changes"].(map[string]any)
	if fmt.Sprint(ch["before"]) != "map[password:<nil> role:site_staff training_site_id:"+siteMontpellier+"]" ||
		fmt.Sprint(ch["after"]) != "map[password:changed role:director training_site_id:]" {
		t.Fatalf("user update: %v", ch)
	}
}

// Probing leaves a trace: a refused read of another site's candidate, and a refused
// duplicate registration, are audited with who tried and from where.
func TestProbingIsAudited(t *testing.T) {
	h := newHarness(t, "sqlite")
	staff := h.as(auth.RoleSiteStaff)
	other := h.candidate(map[string]any{"first_name": "Ailleurs", "training_site_id": siteVauquelin})
	expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + other, bearer: staff}), http.StatusNotFound)
	expect(t, h.do(req{method: "POST", path: "/v1/candidates", bearer: staff, body: candidateBody(map[string]any{"first_name": "Ailleurs"})}), http.StatusConflict)
	events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_id=" + other + "&limit=100", bearer: h.as(auth.RoleAdmin)}), http.StatusOK))
	got := map[string]bool{}
	for _, e := range events {
		if str(e, "actor_id") == h.users[auth.RoleSiteStaff] && str(e, "actor_role") == "site_staff" && str(e["changes"].(map[string]any), "address") == "192.0.2.1" {
			got[str(e, "action")] = true
		}
	}
	if !got["refused_read"] || !got["refused_duplicate"] {
		t.Fatalf("probes audited: %v in %v", got, events)
	}
}
