package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// The request id is the server's own: a client's id, overlong or forged, never
// reaches the audit trail, and never fails a write.
func TestRequestIDsAreTheServers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		for _, id := range []string{strings.Repeat("x", 150), "forged-id-0001", "bad id\twith spaces"} {
			res := h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: newSite("Site "+id[:5], "31000"),
				headers: map[string]string{"X-Request-Id": id}})
			site := expect(t, res, http.StatusCreated)
			rid := res.hdr.Get("X-Request-Id")
			if rid == "" || rid == id || !uuidRE.MatchString(rid) {
				t.Fatalf("the response's request id %q, the client's %q", rid, id)
			}
			events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_id=" + str(site, "id"), bearer: admin}), http.StatusOK))
			if len(events) != 1 || str(events[0], "request_id") != rid {
				t.Fatalf("audit: %v, want request id %s", events, rid)
			}
		}
	})
}

// One JSON value, unique member names; anything else is a 400 that changes nothing.
func TestStrictJSONBodies(t *testing.T) {
	h := newHarness(t, "sqlite")
	admin := h.as(auth.RoleAdmin)
	valid := `{"name":"Campus","address":{"line1":"1 rue","postal_code":"31000","city":"Toulouse","country_code":"FR"},"roles":["preparation"],"certification_codes":["RNCP26206"]}`
	for name, body := range map[string]string{
		"trailing data":          valid + "xyz",
		"a second value":         valid + valid,
		"a duplicate name":       `{"name":"A","name":"B"` + valid[len(`{"name":"Campus"`):],
		"a nested duplicate":     strings.Replace(valid, `"city":"Toulouse"`, `"city":"Toulouse","city":"Paris"`, 1),
		"truncated":              valid[:len(valid)-1],
		"not JSON at all":        "name=Campus",
		"a duplicate in a patch": `{"name":"x","name":"y"}`,
	} {
		path, method, ct := "/v1/training-sites", "POST", "application/json"
		hdr := map[string]string{}
		if strings.Contains(name, "patch") {
			path, method, ct = "/v1/training-sites/"+siteVauquelin, "PATCH", "application/merge-patch+json"
			hdr["If-Match"] = `"1"`
		}
		p := expect(t, h.do(req{method: method, path: path, bearer: admin, body: body, contentType: ct, headers: hdr}), http.StatusBadRequest)
		if str(p, "code") != "invalid_request" {
			t.Errorf("%s: %v", name, p)
		}
	}
	if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: admin}), http.StatusOK))); n != 3 {
		t.Fatalf("refused bodies created sites: %d", n)
	}
	expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: valid}), http.StatusCreated)
}

// A body over the limit is a 413, announced (Content-Length) or not (chunked).
func TestBodyOverTheLimitIs413(t *testing.T) {
	h := newHarness(t, "sqlite")
	big := `{"name":"` + strings.Repeat("a", 70*1024) + `"}`
	for _, chunked := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/v1/training-sites", bytes.NewReader([]byte(big)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", h.as(auth.RoleAdmin))
		if chunked {
			r.ContentLength = -1
			r.TransferEncoding = []string{"chunked"}
		}
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, r)
		res := response{code: rec.Code, hdr: rec.Header(), raw: rec.Body.Bytes()}
		validateResponse(t, req{method: "POST", path: "/v1/training-sites"}, res)
		if res.code != http.StatusRequestEntityTooLarge || str(res.json(t), "code") != "payload_too_large" {
			t.Errorf("chunked=%t: %d %s", chunked, res.code, res.raw)
		}
	}
}

// Every answer says nosniff; the API's are never cached; the reference page runs
// nothing and cannot be framed.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, "sqlite")
	for _, r := range []req{
		{method: "GET", path: "/v1/candidates", bearer: h.as(auth.RoleAdmin)},
		{method: "GET", path: "/v1/candidates"},
		{method: "GET", path: "/v1/certificates/AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"},
	} {
		res := h.do(r)
		if res.hdr.Get("X-Content-Type-Options") != "nosniff" || res.hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s (%d): %v", r.method, r.path, res.code, res.hdr)
		}
	}
	res := h.do(req{method: "GET", path: "/docs"})
	csp := res.hdr.Get("Content-Security-Policy")
	// Scripts only from the service itself; styles only its own, those with the page's
	// nonce (Redoc's, through the script that starts it, a new nonce each time) and two
	// style attributes by their hashes.
	nonce := regexp.MustCompile(`nonce="([^"]+)"`).FindSubmatch(res.raw)
	if res.code != http.StatusOK || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || nonce == nil ||
		!strings.Contains(csp, "style-src 'self' 'nonce-"+string(nonce[1])+"'") || res.hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("/docs: %d %v", res.code, res.hdr)
	}
	if again := h.do(req{method: "GET", path: "/docs"}); again.hdr.Get("Content-Security-Policy") == csp {
		t.Error("/docs gives the same nonce twice")
	}
}

// Required text is text: made only of spaces, it is refused, never stored empty.
func TestBlankRequiredTextIsRefused(t *testing.T) {
	h := newHarness(t, "sqlite")
	admin := h.as(auth.RoleAdmin)
	cand := h.candidate(nil)
	for _, c := range []struct {
		name  string
		r     req
		field string
	}{
		{"a first name", req{method: "POST", path: "/v1/candidates", body: candidateBody(map[string]any{"first_name": "   "})}, "/first_name"},
		{"an address line", req{method: "POST", path: "/v1/candidates", body: candidateBody(map[string]any{"address": map[string]any{
			"line1": " \t ", "postal_code": "34000", "city": "Montpellier", "country_code": "FR"}})}, "/address/line1"},
		{"a city in a patch", req{method: "PATCH", path: "/v1/training-sites/" + siteVauquelin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"address":{"city":"  "}}`}, "/address/city"},
		{"a withdrawal reason", req{method: "POST", path: "/v1/candidates/" + cand + "/withdrawal", headers: map[string]string{"If-Match": `"1"`},
			body: map[string]any{"reason": "  "}}, "/reason"},
		{"a decision's reason", req{method: "POST", path: "/v1/jury-sessions/" + h.session("2019-10-01") + "/decisions",
			body: map[string]any{"candidate_id": cand, "reason": " "}}, "/reason"},
	} {
		c.r.bearer = admin
		p := expect(t, h.do(c.r), http.StatusBadRequest)
		if got := violations(t, p); len(got) != 1 || got[0] != c.field {
			t.Errorf("%s: %v, want [%s]", c.name, got, c.field)
		}
	}
}

// Every date lies in a sensible range (1900 to 2199); outside it, a 400 on both
// databases, never a 500 from a date the database cannot store or add a day to.
func TestDatesOutOfRangeAre400(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		for _, c := range []struct {
			name  string
			r     req
			field string
		}{
			{"a birth date in year 0", req{method: "POST", path: "/v1/candidates", body: candidateBody(map[string]any{"birth_date": "0000-01-01"})}, "/birth_date"},
			{"an enrolment in 9999", req{method: "POST", path: "/v1/candidates", body: candidateBody(map[string]any{"enrolled_on": "9999-12-31"})}, "/enrolled_on"},
			{"a period start in 0001", req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods",
				body: map[string]any{"legal_act": "x", "effective_from": "0001-01-01", "effective_until": "2030-01-01"}}, "/effective_from"},
			{"a filter at the end of time", req{method: "GET", path: "/v1/evaluations?scheduled_to=9999-12-31"}, "/scheduled_to"},
			{"a sitting in 9999", req{method: "POST", path: "/v1/evaluations", body: map[string]any{"candidate_id": cand, "component": "E1",
				"training_site_id": sitePierreBayle, "scheduled_at": "9999-12-31T23:00:00Z"}}, "/scheduled_at"},
			{"a transcript in 1800", req{method: "GET", path: "/v1/candidates/" + cand + "/transcript?as_of=1800-01-01"}, "/as_of"},
		} {
			c.r.bearer = admin
			p := expect(t, h.do(c.r), http.StatusBadRequest)
			if got := violations(t, p); len(got) != 1 || got[0] != c.field {
				t.Errorf("%s: %v, want [%s]", c.name, got, c.field)
			}
		}
		// The edges are fine.
		expect(t, h.do(req{method: "GET", path: "/v1/evaluations?scheduled_to=2199-12-31&scheduled_from=1900-01-01", bearer: admin}), http.StatusOK)
	})
}
