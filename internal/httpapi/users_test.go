package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

func TestUsers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		res := h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{
			"email": "Staff@Grea.example", "role": "site_staff", "password": "a-long-enough-password", "training_site_id": siteMontpellier}})
		u := expect(t, res, http.StatusCreated)
		id := str(u, "id")
		if str(u, "email") != "staff@grea.example" || str(u, "training_site_id") != siteMontpellier || u["password"] != nil || res.hdr.Get("ETag") != `"1"` {
			t.Fatalf("created: %v", u)
		}
		// The new account logs in, and sees its site.
		tok := expect(t, h.do(tokenRequest("grant_type=password&username=staff%40grea.example&password=a-long-enough-password")), http.StatusOK)
		list := expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: "Bearer " + str(tok, "access_token")}), http.StatusOK)
		if len(items(list)) != 1 {
			t.Fatalf("site_staff sees %d sites", len(items(list)))
		}

		dup := expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{
			"email": "staff@grea.example", "role": "director", "password": "another-long-password"}}), http.StatusConflict)
		if str(dup, "code") != "duplicate_email" || str(dup, "existing_id") != id {
			t.Fatalf("duplicate: %v", dup)
		}

		bindings := []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"email": "a@x.example", "role": "site_staff", "password": "a-long-enough-password"}, "[/training_site_id]"},
			{map[string]any{"email": "b@x.example", "role": "director", "password": "a-long-enough-password", "candidate_id": siteMontpellier}, "[/candidate_id]"},
			{map[string]any{"email": "c@x.example", "role": "candidate", "password": "a-long-enough-password", "training_site_id": siteMontpellier}, "[/candidate_id /training_site_id]"},
			{map[string]any{"email": "d@x.example", "role": "site_staff", "password": "a-long-enough-password", "training_site_id": "01900000-0000-7000-8000-000000000000"}, "[/training_site_id]"},
		}
		for _, b := range bindings {
			p := expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: b.body}), http.StatusUnprocessableEntity)
			if got := fmt.Sprint(violations(t, p)); got != b.want || str(p, "code") != "invalid_value" {
				t.Errorf("%v: violations %s (%s), want %s", b.body, got, str(p, "code"), b.want)
			}
		}
		expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "e@x.example", "role": "admin", "password": "short"}}), http.StatusBadRequest)
		// Commonly used passwords, and the account's own email, are refused.
		for _, pw := range []string{"password1234", "azertyuiop!!", "elodie.vidal2024"} {
			p := expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "elodie.vidal@x.example",
				"role": "director", "password": pw}}), http.StatusUnprocessableEntity)
			if fmt.Sprint(violations(t, p)) != "[/password]" {
				t.Errorf("%q: %v", pw, p)
			}
		}

		// Patch: move to director, which drops the site binding.
		u = expect(t, h.do(req{method: "PATCH", path: "/v1/users/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"role":"director","training_site_id":null}`}), http.StatusOK)
		if str(u, "role") != "director" || u["training_site_id"] != nil || u["version"] != float64(2) {
			t.Fatalf("patched: %v", u)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/users?role=director", bearer: admin}), http.StatusOK)
		got := expect(t, h.do(req{method: "GET", path: "/v1/users/" + id, bearer: admin}), http.StatusOK)
		if str(got, "role") != "director" {
			t.Fatalf("get: %v", got)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/users/01900000-0000-7000-8000-000000000000", bearer: admin}), http.StatusNotFound)

		// bcrypt reads 72 bytes: a longer password is refused, never cut.
		expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "long@x.example", "role": "director", "password": strings.Repeat("x", 100)}}), http.StatusBadRequest)
		p72 := expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "long@x.example", "role": "director", "password": strings.Repeat("é", 40)}}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p72)) != "[/password]" {
			t.Fatalf("80 bytes: %v", p72)
		}
		// The last admin can neither step down nor go.
		last := expect(t, h.do(req{method: "PATCH", path: "/v1/users/" + h.users[auth.RoleAdmin], bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"role":"director"}`}), http.StatusConflict)
		if str(last, "code") != "last_admin" {
			t.Fatalf("last admin: %v", last)
		}
		self := expect(t, h.do(req{method: "DELETE", path: "/v1/users/" + h.users[auth.RoleAdmin], bearer: admin, headers: map[string]string{"If-Match": `"1"`}}), http.StatusConflict)
		if str(self, "code") != "self_deactivation" {
			t.Fatalf("self deactivation: %v", self)
		}
		// The audit trail records the account's life, never its password.
		events := expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=user&resource_id=" + id, bearer: admin}), http.StatusOK)
		if n := len(items(events)); n != 2 {
			t.Fatalf("audit events: %d", n)
		}
		for _, e := range items(events) {
			if fmt.Sprint(e["changes"]) == "" || e["changes"].(map[string]any)["password_hash"] != nil {
				t.Fatalf("audit changes: %v", e["changes"])
			}
		}
	})
}

func TestBootstrapAdminOnlyOnce(t *testing.T) {
	h := newHarness(t, "sqlite")
	ctx := t.Context()
	created, err := h.svc.BootstrapAdmin(ctx, "root@example.org", "a-long-enough-password")
	if err != nil || !created {
		t.Fatalf("first bootstrap: %t %v", created, err)
	}
	created, err = h.svc.BootstrapAdmin(ctx, "other@example.org", "a-long-enough-password")
	if err != nil || created {
		t.Fatalf("second bootstrap: %t %v", created, err)
	}
	expect(t, h.do(tokenRequest("grant_type=password&username=root%40example.org&password=a-long-enough-password")), http.StatusOK)
	expect(t, h.do(tokenRequest("grant_type=password&username=other%40example.org&password=a-long-enough-password")), http.StatusBadRequest)
}
