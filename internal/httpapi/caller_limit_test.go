package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/testdb"
)

// Each caller has a general allowance of requests per window, told in every answer's
// RateLimit headers: past it, 429 with Retry-After until the window ends; another
// caller is not touched, and the routes with limits of their own are not counted.
func TestGeneralLimitPerCaller(t *testing.T) {
	clock := newClock()
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), clock.now, func(o *httpapi.Options) {
		o.CallerLimit = ratelimit.Policy{Name: "api", Limit: 3, Window: time.Minute}
	})
	admin, director := h.as(auth.RoleAdmin), h.as(auth.RoleDirector)
	for i := 3; i > 0; i-- {
		res := h.do(req{method: "GET", path: "/v1/training-sites", bearer: admin})
		if res.code != http.StatusOK || res.hdr.Get("RateLimit-Policy") != `"api";q=3;w=60` ||
			!strings.HasPrefix(res.hdr.Get("RateLimit"), `"api";r=`+string(rune('0'+i-1))+`;t=`) {
			t.Fatalf("request %d: %d %v", 4-i, res.code, res.hdr)
		}
	}
	refused := h.do(req{method: "GET", path: "/v1/training-sites", bearer: admin})
	if p := expect(t, refused, http.StatusTooManyRequests); str(p, "code") != "too_many_requests" || refused.hdr.Get("Retry-After") != "30" {
		t.Fatalf("the fourth request: %v %v", p, refused.hdr)
	}
	// Another caller, and a route limited on its own, are not counted here.
	expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: director}), http.StatusOK)
	if v := h.do(req{method: "GET", path: "/v1/certificates/AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}); v.code != http.StatusNotFound ||
		v.hdr.Get("RateLimit-Policy") == `"api";q=3;w=60` {
		t.Errorf("verification: %d %v", v.code, v.hdr)
	}
	// Anonymous callers are counted by address: three refusals, then the limit.
	for range 3 {
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites"}), http.StatusUnauthorized)
	}
	expect(t, h.do(req{method: "GET", path: "/v1/training-sites"}), http.StatusTooManyRequests)
	clock.advance(30 * time.Second)
	expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: admin}), http.StatusOK)
}
