package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
)

func TestReferential(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		list := expect(t, h.do(req{method: "GET", path: "/v1/certifications", bearer: admin}), http.StatusOK)
		if it := items(list); len(it) != 1 || str(it[0], "code") != "RNCP26206" || it[0]["current_registration_period"] != nil {
			t.Fatalf("list: %v", list)
		}

		res := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: h.as(auth.RoleCandidate)})
		c := expect(t, res, http.StatusOK)
		etag := res.hdr.Get("ETag")
		if etag != `"3"` || len(c["capacities"].([]any)) != 14 || len(c["access_routes"].([]any)) != 6 || len(c["sites"].([]any)) != 4 {
			t.Fatalf("certification: etag %s, body %v", etag, c)
		}
		routes := c["access_routes"].([]any)
		if ap := routes[1].(map[string]any); ap["id"] != "apprenticeship" || ap["open"] != false || ap["jury"] != nil {
			t.Errorf("apprenticeship route: %v", ap)
		}
		if vae := routes[5].(map[string]any); vae["id"] != "vae" || vae["opens_on"] != "2014-01-01" || vae["permanent_acquisitions"] != true {
			t.Errorf("VAE route: %v", vae)
		}
		if c["award_grace_months"] != float64(12) {
			t.Errorf("award grace: %v", c["award_grace_months"])
		}
		if c["acquired_components_validity_years"] != float64(5) {
			t.Errorf("validity: %v", c["acquired_components_validity_years"])
		}

		notMod := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: admin, headers: map[string]string{"If-None-Match": etag}})
		if notMod.code != http.StatusNotModified || len(notMod.raw) != 0 {
			t.Fatalf("If-None-Match: %d %s", notMod.code, notMod.raw)
		}

		rules := expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP26206/rules", bearer: admin}), http.StatusOK)
		if it := items(rules); len(it) != 20 || str(it[0], "id") != "ROUTE-OPEN" || it[0]["statement"].(map[string]any)["fr"] == "" {
			t.Fatalf("rules: %v", rules)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP99999", bearer: admin}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP99999/rules", bearer: admin}), http.StatusNotFound)
	})
}

// Recording a renewal: the period is kept, the certification's version moves on,
// and a period covering today becomes the current one.
func TestRecordRegistrationPeriod(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		today := time.Now().UTC()
		body := map[string]any{"legal_act": "Arrêté du 2 décembre 2026, JO du 10 décembre 2026",
			"effective_from": today.AddDate(0, 0, -1).Format(time.DateOnly), "effective_until": today.AddDate(5, 0, 0).Format(time.DateOnly)}
		p := expect(t, h.do(req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", bearer: admin, body: body}), http.StatusCreated)
		res := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: admin})
		c := expect(t, res, http.StatusOK)
		cur, _ := c["current_registration_period"].(map[string]any)
		if res.hdr.Get("ETag") != `"4"` || cur == nil || cur["id"] != p["id"] || len(c["registration_periods"].([]any)) != 3 {
			t.Fatalf("after renewal: etag %s, current %v", res.hdr.Get("ETag"), cur)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", bearer: admin, body: body}), http.StatusConflict)

		backwards := map[string]any{"legal_act": "x", "effective_from": "2030-01-01", "effective_until": "2029-01-01"}
		bad := expect(t, h.do(req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", bearer: admin, body: backwards}), http.StatusUnprocessableEntity)
		if v := violations(t, bad); len(v) != 1 || v[0] != "/effective_until" {
			t.Fatalf("violations: %v", v)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/certifications/RNCP99999/registration-periods", bearer: admin, body: body}), http.StatusNotFound)
		expect(t, h.do(req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", bearer: h.as(auth.RoleDirector), body: body}), http.StatusForbidden)
	})
}

// A change to a declared site changes the certification's referential: its ETag
// moves on and the cached referential is read again.
func TestSiteChangesRefreshTheReferential(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		get := func() (string, int) {
			res := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: admin})
			return res.hdr.Get("ETag"), len(expect(t, res, http.StatusOK)["sites"].([]any))
		}
		etag, sites := get()
		site := expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: with(newSite("Exam hall", "31000"), "roles", []string{"certification"})}), http.StatusCreated)
		etag2, sites2 := get()
		if etag2 == etag || sites2 != sites+1 {
			t.Fatalf("after a new site: %s→%s, %d→%d sites", etag, etag2, sites, sites2)
		}
		if res := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: admin, headers: map[string]string{"If-None-Match": etag}}); res.code != http.StatusOK {
			t.Fatalf("the old ETag still answers %d", res.code)
		}
		expect(t, h.do(req{method: "DELETE", path: "/v1/training-sites/" + str(site, "id"), bearer: admin, headers: map[string]string{"If-Match": `"1"`}}), http.StatusOK)
		if etag3, sites3 := get(); etag3 == etag2 || sites3 != sites {
			t.Fatalf("after deactivation: %s→%s, %d sites", etag2, etag3, sites3)
		}
	})
}
