package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

// HEAD answers wherever GET does, with the same status and headers and no body.
func TestHeadWhereverGet(t *testing.T) {
	h := newHarness(t, "sqlite")
	admin := h.as(auth.RoleAdmin)
	cand := h.candidate(nil)
	for _, path := range []string{"/v1/candidates/" + cand, "/v1/candidates?limit=1", "/v1/certifications/RNCP26206", "/healthz", "/openapi.yaml",
		"/v1/candidates/00000000-0000-7000-8000-000000000000"} {
		get := h.do(req{method: "GET", path: path, bearer: admin})
		r := httptest.NewRequest(http.MethodHead, path, nil)
		r.Header.Set("Authorization", admin)
		w := httptest.NewRecorder()
		h.e.ServeHTTP(w, r)
		if w.Code != get.code || w.Body.Len() != 0 || w.Header().Get("Content-Type") != get.hdr.Get("Content-Type") ||
			w.Header().Get("ETag") != get.hdr.Get("ETag") {
			t.Errorf("HEAD %s: %d %v %d bytes; GET: %d %v", path, w.Code, w.Header(), w.Body.Len(), get.code, get.hdr)
		}
	}
	// HEAD is refused where GET would be: no token, no answer but the 401.
	r := httptest.NewRequest(http.MethodHead, "/v1/candidates", nil)
	w := httptest.NewRecorder()
	h.e.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || w.Body.Len() != 0 {
		t.Errorf("HEAD without a token: %d, %d bytes", w.Code, w.Body.Len())
	}
}

// A method a path does not take is a 405 that says which ones it takes.
func TestMethodNotAllowedSaysAllow(t *testing.T) {
	h := newHarness(t, "sqlite")
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/certifications", "GET, HEAD"},
		{"PUT", "/v1/candidates", "GET, HEAD, POST"},
		{"POST", "/v1/candidates/00000000-0000-7000-8000-000000000000", "GET, HEAD, PATCH"},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		r.Header.Set("Authorization", h.as(auth.RoleAdmin))
		w := httptest.NewRecorder()
		h.e.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != c.allow ||
			!strings.Contains(w.Body.String(), `"code":"method_not_allowed"`) {
			t.Errorf("%s %s: %d Allow=%q %s", c.method, c.path, w.Code, w.Header().Get("Allow"), w.Body)
		}
	}
}

// A query parameter the operation does not take is a 400 naming it: a misspelt
// filter never lists everything.
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	h := newHarness(t, "sqlite")
	admin := h.as(auth.RoleAdmin)
	p := expect(t, h.do(req{method: "GET", path: "/v1/candidates?training_site=" + siteMontpellier + "&limit=5", bearer: admin}), http.StatusBadRequest)
	if vs := violations(t, p); len(vs) != 1 || vs[0] != "/training_site" {
		t.Errorf("violations: %v", p)
	}
	expect(t, h.do(req{method: "GET", path: "/v1/candidates?training_site_id=" + siteMontpellier + "&limit=5", bearer: admin}), http.StatusOK)
	if p := expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP26206?a%2Fb=1", bearer: admin}), http.StatusBadRequest); violations(t, p)[0] != "/a~1b" {
		t.Errorf("an escaped name: %v", p)
	}
}

// A cursor goes on with the filters of the page it came from: with other filters,
// or none, it is a 400, never a page of another list.
func TestCursorsKeepTheirFilters(t *testing.T) {
	h := newHarness(t, "sqlite")
	admin := h.as(auth.RoleAdmin)
	for i := range 3 {
		h.candidate(map[string]any{"birth_name": "Filtre" + string(rune('A'+i)), "email": "f" + string(rune('a'+i)) + "@example.org"})
	}
	list := "/v1/candidates?limit=1&training_site_id=" + siteMontpellier
	first := expect(t, h.do(req{method: "GET", path: list, bearer: admin}), http.StatusOK)
	next := url.QueryEscape(str(first, "next_cursor"))
	if next == "" {
		t.Fatalf("no next page: %v", first)
	}
	expect(t, h.do(req{method: "GET", path: list + "&cursor=" + next, bearer: admin}), http.StatusOK)
	for _, other := range []string{"/v1/candidates?limit=1&cursor=" + next,
		"/v1/candidates?limit=1&training_site_id=" + siteVauquelin + "&cursor=" + next,
		list + "&route=vae&cursor=" + next} {
		p := expect(t, h.do(req{method: "GET", path: other, bearer: admin}), http.StatusBadRequest)
		if vs := violations(t, p); len(vs) != 1 || vs[0] != "/cursor" || !strings.Contains(str(p, "detail")+str(p["violations"].([]any)[0].(map[string]any), "message"), "other filters") {
			t.Errorf("%s: %v", other, p)
		}
	}
	// A cursor read without filters does not go on with some.
	plain := expect(t, h.do(req{method: "GET", path: "/v1/candidates?limit=1", bearer: admin}), http.StatusOK)
	expect(t, h.do(req{method: "GET", path: list + "&cursor=" + url.QueryEscape(str(plain, "next_cursor")), bearer: admin}), http.StatusBadRequest)
	expect(t, h.do(req{method: "GET", path: "/v1/candidates?limit=1&cursor=" + url.QueryEscape(str(plain, "next_cursor")), bearer: admin}), http.StatusOK)
}
