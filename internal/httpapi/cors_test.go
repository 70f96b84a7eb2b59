package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/testdb"
)

// A browser application on a configured origin may call the API: its preflight is
// answered (and may be cached), its requests may carry the headers the contract
// names, and it may read the answer headers a client acts on. Any other origin gets
// no CORS header at all.
func TestCORSForTheSPA(t *testing.T) {
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), time.Now, func(o *httpapi.Options) {
		o.CORSOrigins = []string{"https://app.example.org"}
	})
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/v1/candidates", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key, x-request-id")
		w := httptest.NewRecorder()
		h.e.ServeHTTP(w, r)
		return w
	}
	w := preflight("https://app.example.org")
	allowed := strings.ToLower(w.Header().Get("Access-Control-Allow-Headers"))
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		w.Header().Get("Access-Control-Max-Age") != "600" || !strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "PATCH") {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	for _, hdr := range []string{"authorization", "content-type", "idempotency-key", "x-request-id", "if-match"} {
		if !strings.Contains(allowed, hdr) {
			t.Errorf("the preflight does not allow %s: %q", hdr, allowed)
		}
	}
	if w := preflight("https://elsewhere.example"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin is allowed: %v", w.Header())
	}

	res := h.do(req{method: "GET", path: "/v1/candidates", headers: map[string]string{"Origin": "https://app.example.org"}})
	exposed := strings.ToLower(res.hdr.Get("Access-Control-Expose-Headers"))
	if res.code != http.StatusUnauthorized || res.hdr.Get("Access-Control-Allow-Origin") != "https://app.example.org" {
		t.Fatalf("a request from the application: %d %v", res.code, res.hdr)
	}
	for _, hdr := range []string{"www-authenticate", "retry-after", "etag", "location", "x-request-id", "ratelimit"} {
		if !strings.Contains(exposed, hdr) {
			t.Errorf("the application cannot read %s: %q", hdr, exposed)
		}
	}
	ok := h.do(req{method: "GET", path: "/v1/candidates", bearer: h.as(auth.RoleAdmin), headers: map[string]string{"Origin": "https://app.example.org"}})
	if ok.code != http.StatusOK || ok.hdr.Get("Access-Control-Allow-Origin") != "https://app.example.org" || ok.hdr.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("an authenticated request from the application: %d %v", ok.code, ok.hdr)
	}
}
