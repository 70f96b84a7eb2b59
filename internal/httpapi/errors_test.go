package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/labstack/echo/v4"
)

// Bad input gets a precise 400 and changes nothing.
func TestContractViolationsAre400(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		long := strings.Repeat("x", 201)
		cases := []struct {
			name      string
			r         req
			wantField string
		}{
			{"malformed JSON", req{method: "POST", path: "/v1/training-sites", body: `{"name": "x",`}, ""},
			{"unknown field", req{method: "POST", path: "/v1/training-sites", body: with(newSite("A", "31000"), "colour", "blue")}, "/colour"},
			{"wrong type", req{method: "POST", path: "/v1/training-sites", body: with(newSite("A", "31000"), "name", 42)}, "/name"},
			{"string past maxLength", req{method: "POST", path: "/v1/training-sites", body: with(newSite("A", "31000"), "name", long)}, "/name"},
			{"unknown enum value", req{method: "POST", path: "/v1/training-sites", body: with(newSite("A", "31000"), "roles", []string{"exam"})}, "/roles/0"},
			{"missing required field", req{method: "POST", path: "/v1/training-sites", body: without(newSite("A", "31000"), "address")}, "/address"},
			{"nested missing field", req{method: "POST", path: "/v1/training-sites", body: with(newSite("A", "31000"), "address", map[string]any{"line1": "x", "city": "y", "country_code": "FR"})}, "/address/postal_code"},
			{"malformed UUID in the path", req{method: "GET", path: "/v1/training-sites/not-a-uuid"}, "/id"},
			{"limit out of range", req{method: "GET", path: "/v1/training-sites?limit=1000"}, "/limit"},
			{"null for a non-nullable patch field", req{method: "PATCH", path: "/v1/training-sites/" + siteVauquelin, contentType: "application/merge-patch+json", headers: map[string]string{"If-Match": `"1"`}, body: `{"name":null}`}, "/name"},
			{"malformed email", req{method: "POST", path: "/v1/users", body: map[string]any{"email": "nobody", "role": "admin", "password": "a-long-enough-password"}}, "/email"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.r.bearer = admin
				p := expect(t, h.do(c.r), http.StatusBadRequest)
				if str(p, "code") != "invalid_request" {
					t.Fatalf("code %q", str(p, "code"))
				}
				if c.wantField != "" && !slices.Contains(violations(t, p), c.wantField) {
					t.Fatalf("violations %v, want one at %s", violations(t, p), c.wantField)
				}
			})
		}
		// Every mistake of one request comes back at once.
		both := with(with(newSite("A", "31000"), "name", 42), "roles", []string{"exam"})
		p := expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: both}), http.StatusBadRequest)
		if v := violations(t, p); !slices.Contains(v, "/name") || !slices.Contains(v, "/roles/0") {
			t.Fatalf("violations %v, want /name and /roles/0", v)
		}
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/training-sites?include_inactive=true", bearer: admin}), http.StatusOK))); n != 3 {
			t.Fatalf("bad requests created sites: %d", n)
		}
		site := expect(t, h.do(req{method: "GET", path: "/v1/training-sites/" + siteVauquelin, bearer: admin}), http.StatusOK)
		if site["version"] != float64(1) {
			t.Fatalf("bad patches changed the site: %v", site)
		}
	})
}

func TestProtocolErrorsAreProblems(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cases := []struct {
			name   string
			r      req
			status int
			code   string
		}{
			{"unknown route", req{method: "GET", path: "/v1/nothing-here"}, http.StatusNotFound, "not_found"},
			{"unknown route outside /v1", req{method: "GET", path: "/nothing-here"}, http.StatusNotFound, "not_found"},
			{"method not allowed", req{method: "PUT", path: "/v1/training-sites", body: `{}`}, http.StatusMethodNotAllowed, "method_not_allowed"},
			{"wrong media type", req{method: "POST", path: "/v1/training-sites", contentType: "text/plain", body: "name=x"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"body too large", req{method: "POST", path: "/v1/training-sites", body: `{"name":"` + strings.Repeat("x", 70_000) + `"}`}, http.StatusRequestEntityTooLarge, "payload_too_large"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.r.bearer = admin
				p := expect(t, h.do(c.r), c.status)
				if str(p, "code") != c.code || p["status"] != float64(c.status) || str(p, "request_id") == "" {
					t.Fatalf("problem: %v", p)
				}
				// Its type is the page that explains its code, and its title the code's.
				if str(p, "type") != "/problems/"+c.code || str(p, "title") != httpapi.ProblemTitle(c.code) || str(p, "title") == "" {
					t.Fatalf("type and title: %v", p)
				}
				page := h.do(req{method: "GET", path: str(p, "type")})
				if page.code != http.StatusOK || !strings.HasPrefix(page.hdr.Get("Content-Type"), "text/html") ||
					!strings.Contains(string(page.raw), "<code>"+c.code+"</code>") {
					t.Fatalf("the page of %s: %d %s", c.code, page.code, page.raw)
				}
			})
		}
	})
}

// A panic is a 500 whose body says nothing of its cause.
func TestPanicIsAnOpaque500(t *testing.T) {
	h := newHarness(t, "sqlite")
	h.e.GET("/boom", func(echo.Context) error { panic("secret internal detail") })
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	res := response{code: rec.Code, hdr: rec.Header(), raw: rec.Body.Bytes()}
	p := expect(t, res, http.StatusInternalServerError)
	if str(p, "code") != "internal_error" || strings.Contains(string(res.raw), "secret") {
		t.Fatalf("500 body: %s", res.raw)
	}
	if err := checkResponse(req{method: "GET", path: "/boom"}, res); err != nil {
		t.Fatal(err)
	}
}

// The response check is not vacuous: an undeclared status, a missing field and a
// non-problem error all fail it.
func TestResponseCheckCatchesDrift(t *testing.T) {
	json := http.Header{"Content-Type": []string{"application/json"}}
	cases := []struct {
		name string
		r    req
		res  response
	}{
		{"undeclared status", req{method: "GET", path: "/v1/training-sites"}, response{code: http.StatusTeapot, hdr: json, raw: []byte(`{}`)}},
		{"missing required field", req{method: "GET", path: "/v1/training-sites"}, response{code: http.StatusOK, hdr: json, raw: []byte(`{"items":[]}`)}},
		{"error that is not a problem", req{method: "GET", path: "/v1/nowhere"}, response{code: http.StatusNotFound, hdr: json, raw: []byte(`{"message":"no"}`)}},
	}
	for _, c := range cases {
		if err := checkResponse(c.r, c.res); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// The operational endpoints answer as the contract says, public.
func TestOperationalEndpoints(t *testing.T) {
	h := newHarness(t, "sqlite")
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/docs", "/metrics"} {
		if res := h.do(req{method: "GET", path: path}); res.code != http.StatusOK || len(res.raw) == 0 {
			t.Errorf("%s: %d", path, res.code)
		}
	}
	// The reference page renders the contract with the bundle the binary serves; what
	// it shows is checked in a browser (scripts/docs-check.sh).
	page := string(h.do(req{method: "GET", path: "/docs"}).raw)
	bundle := regexp.MustCompile(`<script src="(/docs/redoc-[0-9a-f]+\.js)">`).FindStringSubmatch(page)
	if !strings.Contains(page, `<div id="reference">`) || bundle == nil || !strings.Contains(page, `<script src="/docs/init-`) {
		t.Fatalf("/docs: %s", page)
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("/docs loads something from the internet")
	}
	js := h.do(req{method: "GET", path: bundle[1]})
	if js.code != http.StatusOK || !strings.HasPrefix(js.hdr.Get("Content-Type"), "text/javascript") || len(js.raw) < 100000 ||
		!strings.Contains(js.hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("%s: %d %v, %d bytes", bundle[1], js.code, js.hdr, len(js.raw))
	}
	metrics := string(h.do(req{method: "GET", path: "/metrics"}).raw)
	if !strings.Contains(metrics, `certapi_http_requests_total{method="GET",route="/docs",status="200"} 2`) {
		t.Errorf("/metrics does not count requests by route: %.500s", metrics)
	}
	h.store.Close()
	if res := h.do(req{method: "GET", path: "/readyz"}); res.code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database closed: %d", res.code)
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}
