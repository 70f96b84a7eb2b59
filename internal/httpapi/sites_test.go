package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

func newSite(name, postal string) map[string]any {
	return map[string]any{
		"name":                name,
		"address":             map[string]any{"line1": "2 allée Jules Guesde", "postal_code": postal, "city": "Toulouse", "country_code": "FR"},
		"roles":               []string{"preparation"},
		"certification_codes": []string{"RNCP26206"},
	}
}

func TestTrainingSiteLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		res := h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: newSite("Campus Sud", "31400")})
		site := expect(t, res, http.StatusCreated)
		id := str(site, "id")
		if res.hdr.Get("Location") != "/v1/training-sites/"+id || res.hdr.Get("ETag") != `"1"` || site["version"] != float64(1) || site["active"] != true {
			t.Fatalf("created: %v %v", res.hdr, site)
		}

		// A merge patch changes what it names and nothing else; null removes.
		res = h.do(req{method: "PATCH", path: "/v1/training-sites/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"address":{"line2":"Bâtiment B"},"roles":["preparation","certification"]}`})
		site = expect(t, res, http.StatusOK)
		addr := site["address"].(map[string]any)
		if res.hdr.Get("ETag") != `"2"` || addr["line2"] != "Bâtiment B" || addr["line1"] != "2 allée Jules Guesde" || len(site["roles"].([]any)) != 2 || str(site, "name") != "Campus Sud" {
			t.Fatalf("patched: %v", site)
		}
		site = expect(t, h.do(req{method: "PATCH", path: "/v1/training-sites/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"2"`}, body: `{"address":{"line2":null}}`}), http.StatusOK)
		if v, ok := site["address"].(map[string]any)["line2"]; ok && v != nil {
			t.Fatalf("line2 not removed: %v", site["address"])
		}

		// A stale ETag changes nothing.
		stale := h.do(req{method: "PATCH", path: "/v1/training-sites/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"name":"Lost update"}`})
		expect(t, stale, http.StatusPreconditionFailed)
		got := expect(t, h.do(req{method: "GET", path: "/v1/training-sites/" + id, bearer: admin}), http.StatusOK)
		if str(got, "name") != "Campus Sud" || got["version"] != float64(3) {
			t.Fatalf("after stale patch: %v", got)
		}
		notMod := h.do(req{method: "GET", path: "/v1/training-sites/" + id, bearer: admin, headers: map[string]string{"If-None-Match": `"3"`}})
		if notMod.code != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", notMod.code)
		}

		// Deactivation hides the site from default listings; it is never deleted.
		site = expect(t, h.do(req{method: "DELETE", path: "/v1/training-sites/" + id, bearer: admin, headers: map[string]string{"If-Match": `"3"`}}), http.StatusOK)
		if site["active"] != false {
			t.Fatalf("deactivated: %v", site)
		}
		list := expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: admin}), http.StatusOK)
		if len(items(list)) != 3 {
			t.Fatalf("active sites: %d, want the 3 seeded", len(items(list)))
		}
		list = expect(t, h.do(req{method: "GET", path: "/v1/training-sites?include_inactive=true", bearer: admin}), http.StatusOK)
		if len(items(list)) != 4 {
			t.Fatalf("all sites: %d, want 4", len(items(list)))
		}
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites/" + id, bearer: admin}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites/01900000-0000-7000-8000-000000000000", bearer: admin}), http.StatusNotFound)

		events := expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=training_site&resource_id=" + id, bearer: admin}), http.StatusOK)
		var actions []string
		for _, e := range items(events) {
			actions = append(actions, str(e, "action"))
			if str(e, "actor_id") != h.users[auth.RoleAdmin] || str(e, "request_id") == "" {
				t.Errorf("audit event without actor or request id: %v", e)
			}
		}
		if fmt.Sprint(actions) != "[create update update deactivate]" {
			t.Fatalf("audit trail: %v", actions)
		}
	})
}

func TestTrainingSiteFiltersAndPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		for i := range 4 {
			expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: newSite(fmt.Sprintf("Extra %d", i), "31000")}), http.StatusCreated)
		}
		cases := []struct {
			query string
			want  int
		}{
			{"", 7},
			{"?role=certification", 1},
			{"?role=preparation", 7},
			{"?city=toulouse", 6},
			{"?city=Montpellier%20Cedex%2002", 1},
			{"?certification_code=RNCP26206", 7},
			{"?certification_code=RNCP00001", 0},
		}
		for _, c := range cases {
			if got := len(items(expect(t, h.do(req{method: "GET", path: "/v1/training-sites" + c.query, bearer: admin}), http.StatusOK))); got != c.want {
				t.Errorf("%q: %d sites, want %d", c.query, got, c.want)
			}
		}
		// Walking the pages gives every site once, oldest first, even with inserts in between.
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			path := "/v1/training-sites?limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			page := expect(t, h.do(req{method: "GET", path: path, bearer: admin}), http.StatusOK)
			for _, s := range items(page) {
				seen = append(seen, str(s, "id"))
			}
			if pages == 0 {
				expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: newSite("Late", "31000")}), http.StatusCreated)
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 8 {
			t.Fatalf("paged through %d sites, want 8", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("pages out of order at %d: %v", i, seen)
			}
		}
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites?cursor=%21%21", bearer: admin}), http.StatusBadRequest)
	})
}

// TERRITORY: no site can be declared in New Caledonia or French Polynesia, on
// creation or on update; the refused write changes nothing.
func TestTerritoryRuleOnSites(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		p := expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: newSite("Nouméa", "98800")}), http.StatusUnprocessableEntity)
		if str(p, "code") != "rule_violation" || fmt.Sprint(violations(t, p)) != "[TERRITORY /address/postal_code]" {
			t.Fatalf("problem: %v", p)
		}
		res := h.do(req{method: "PATCH", path: "/v1/training-sites/" + siteVauquelin, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"address":{"postal_code":"98714","city":"Papeete"}}`})
		p = expect(t, res, http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[TERRITORY /address/postal_code]" {
			t.Fatalf("violations: %v", violations(t, p))
		}
		site := expect(t, h.do(req{method: "GET", path: "/v1/training-sites/" + siteVauquelin, bearer: admin}), http.StatusOK)
		if site["address"].(map[string]any)["postal_code"] != "31100" || site["version"] != float64(1) {
			t.Fatalf("refused update changed the site: %v", site)
		}
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/training-sites?include_inactive=true", bearer: admin}), http.StatusOK))); n != 3 {
			t.Fatalf("refused creation left %d sites", n)
		}
	})
}

// site_staff see their own site only; another site is a 404, not a 403.
func TestSiteStaffSeeOnlyTheirSite(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		staff := h.as(auth.RoleSiteStaff)
		list := expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: staff}), http.StatusOK)
		if it := items(list); len(it) != 1 || str(it[0], "id") != siteMontpellier {
			t.Fatalf("site_staff list: %v", list)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites/" + siteMontpellier, bearer: staff}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites/" + sitePierreBayle, bearer: staff}), http.StatusNotFound)
	})
}

// Concurrent writes never answer 500: 20 parallel creations of sites, then 20
// parallel changes and 20 parallel deactivations of different sites, all succeed
// (on MariaDB they used to deadlock on the certification row).
func TestConcurrentSiteWrites(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		const n = 20
		ids := make([]string, n)
		codes := concurrently(n, func(i int) response {
			res := h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: newSite(fmt.Sprint("Parallel ", i), "31000")})
			if res.code == http.StatusCreated {
				ids[i] = str(res.json(t), "id")
			}
			return res
		})
		if count(codes, http.StatusCreated) != n {
			t.Fatalf("parallel creations: %v", codes)
		}
		codes = concurrently(n, func(i int) response {
			return h.do(req{method: "PATCH", path: "/v1/training-sites/" + ids[i], bearer: admin, contentType: "application/merge-patch+json",
				headers: map[string]string{"If-Match": `"1"`}, body: `{"name":"Renamed"}`})
		})
		if count(codes, http.StatusOK) != n {
			t.Fatalf("parallel changes: %v", codes)
		}
		codes = concurrently(n, func(i int) response {
			return h.do(req{method: "DELETE", path: "/v1/training-sites/" + ids[i], bearer: admin, headers: map[string]string{"If-Match": `"2"`}})
		})
		if count(codes, http.StatusOK) != n {
			t.Fatalf("parallel deactivations: %v", codes)
		}
	})
}
