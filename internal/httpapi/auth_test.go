package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/testdb"
	"github.com/golang-jwt/jwt/v5"
)

func tokenRequest(form string) req {
	return req{method: "POST", path: "/v1/auth/token", contentType: "application/x-www-form-urlencoded", body: form}
}

func TestPasswordGrant(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		if _, err := h.svc.CreateUser(ctx, service.UserInput{Email: "Director@Example.org", Role: auth.RoleDirector, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		res := h.do(tokenRequest("grant_type=password&username=director%40example.org&password=correct+horse+battery"))
		tok := expect(t, res, http.StatusOK)
		if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(900) || tok["scope"] != "director" || res.hdr.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(str(tok, "refresh_token"), "rt_") {
			t.Fatalf("token: %v %v", tok, res.hdr)
		}
		bearer := "Bearer " + str(tok, "access_token")
		expect(t, h.do(req{method: "GET", path: "/v1/certifications", bearer: bearer}), http.StatusOK)

		for name, form := range map[string]string{
			"wrong password": "grant_type=password&username=director%40example.org&password=wrong",
			"unknown user":   "grant_type=password&username=nobody%40example.org&password=correct+horse+battery",
		} {
			// RFC 6749 §5.2: a wrong resource owner's password is invalid_grant, 400.
			p := expect(t, h.do(tokenRequest(form)), http.StatusBadRequest)
			if str(p, "error") != "invalid_grant" {
				t.Errorf("%s: %v", name, p)
			}
		}
		res = h.do(tokenRequest("grant_type=client_credentials&client_id=x&client_secret=y"))
		if p := expect(t, res, http.StatusUnauthorized); str(p, "error") != "invalid_client" || !strings.HasPrefix(res.hdr.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("client_credentials of no application: %v %v", p, res.hdr)
		}
		for form, want := range map[string]string{
			"grant_type=magic":                        "unsupported_grant_type",
			"grant_type=authorization_code&code=abc":  "unsupported_grant_type",
			"username=director%40example.org":         "invalid_request",
			"grant_type=password&username=x%40y.org":  "invalid_request",
			"grant_type=refresh_token":                "invalid_request",
			"grant_type=refresh_token&refresh_token=": "invalid_request",
		} {
			if p := expect(t, h.do(tokenRequest(form)), http.StatusBadRequest); str(p, "error") != want {
				t.Errorf("%s: %v, want %s", form, p, want)
			}
		}
		// RFC 6749 §3.2: the token endpoint ignores parameters it does not know.
		expect(t, h.do(tokenRequest("grant_type=password&username=director%40example.org&password=correct+horse+battery&extra=1")), http.StatusOK)
	})
}

// Every kind of bad token is a 401 with a WWW-Authenticate challenge.
func TestBadTokensAre401(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		sub := h.users[auth.RoleAdmin]
		key := []byte(strings.Repeat("k", 32))
		sign := func(method jwt.SigningMethod, k any, claims jwt.MapClaims) string {
			s, err := jwt.NewWithClaims(method, claims).SignedString(k)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		now := time.Now()
		valid := jwt.MapClaims{"iss": "certapi", "aud": auth.Audience, "sub": sub, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		expired := jwt.MapClaims{"iss": "certapi", "sub": sub, "iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-time.Minute).Unix()}
		noExp := jwt.MapClaims{"iss": "certapi", "sub": sub}
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"certapi","sub":"` + sub + `","exp":9999999999}`))
		cases := map[string]string{
			"none":                "",
			"not bearer":          "Basic YWRtaW46YWRtaW4=",
			"garbage":             "Bearer not.a.token",
			"expired":             "Bearer " + sign(jwt.SigningMethodHS256, key, expired),
			"no expiry":           "Bearer " + sign(jwt.SigningMethodHS256, key, noExp),
			"wrong signature":     "Bearer " + sign(jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), valid),
			"alg none":            "Bearer " + header + "." + payload + ".",
			"other HMAC":          "Bearer " + sign(jwt.SigningMethodHS512, key, valid),
			"unknown subject":     "Bearer " + sign(jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "certapi", "sub": "01900000-0000-7000-8000-000000000000", "exp": now.Add(time.Minute).Unix()}),
			"tampered role claim": admin[:len(admin)-2] + "xx",
		}
		for name, bearer := range cases {
			res := h.do(req{method: "GET", path: "/v1/training-sites", bearer: bearer})
			p := expect(t, res, http.StatusUnauthorized)
			if str(p, "code") != "unauthenticated" || !strings.HasPrefix(res.hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %v %v", name, p, res.hdr)
			}
		}
		// The well-formed control token is accepted.
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: "Bearer " + sign(jwt.SigningMethodHS256, key, valid)}), http.StatusOK)
	})
}

// A deactivated account's token stops working at once; a role change takes effect
// on the next request.
func TestAccountChangesApplyToLiveTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, director := h.as(auth.RoleAdmin), h.as(auth.RoleDirector)
		id := h.users[auth.RoleDirector]
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: director}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/users", bearer: director}), http.StatusForbidden)
		expect(t, h.do(req{method: "PATCH", path: "/v1/users/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"role":"admin"}`}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/users", bearer: director}), http.StatusOK)
		expect(t, h.do(req{method: "DELETE", path: "/v1/users/" + id, bearer: admin, headers: map[string]string{"If-Match": `"2"`}}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/training-sites", bearer: director}), http.StatusUnauthorized)
		p := expect(t, h.do(tokenRequest("grant_type=password&username=director%40test.example&password=a-long-enough-password")), http.StatusBadRequest)
		if str(p, "error") != "invalid_grant" {
			t.Fatalf("deactivated login: %v", p)
		}
	})
}

// stoppedClock is a clock that moves only when told: a limit's window never
// depends on how fast the machine checks passwords.
type stoppedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stoppedClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *stoppedClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newClock() *stoppedClock {
	return &stoppedClock{t: time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC)}
}

// Password guessing from one address is limited per address: 20 a minute (each
// refused as invalid_grant), then
// 429 with Retry-After and the RateLimit headers, until the window ends.
func TestTokenEndpointIsRateLimited(t *testing.T) {
	clock := newClock()
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), clock.now)
	codes := map[int]int{}
	var refused response
	for i := range 25 {
		res := h.do(tokenRequest(fmt.Sprintf("grant_type=password&username=x%d%%40example.org&password=guess", i)))
		codes[res.code]++
		if res.code == http.StatusTooManyRequests {
			refused = res
		}
	}
	if codes[http.StatusBadRequest] != 20 || codes[http.StatusTooManyRequests] != 5 {
		t.Fatalf("statuses: %v, want 20 × 400 then 5 × 429", codes)
	}
	if refused.hdr.Get("Retry-After") != "30" || refused.hdr.Get("RateLimit") != `"token";r=0;t=30` ||
		refused.hdr.Get("RateLimit-Policy") != `"token";q=20;w=60` || str(refused.json(t), "code") != "too_many_requests" {
		t.Fatalf("429: %v %s", refused.hdr, refused.raw)
	}
	clock.advance(30 * time.Second)
	if res := h.do(tokenRequest("grant_type=password&username=y%40example.org&password=guess")); res.code != http.StatusBadRequest {
		t.Fatalf("in the next window: %d", res.code)
	}
}

// Guesses against one account are limited whatever their addresses: 10 failures in
// 15 minutes, then 429, even for the right password; each failure is audited with
// its address.
func TestFailedLoginsAreLimitedPerAccount(t *testing.T) {
	clock := newClock()
	proxy := netip.MustParsePrefix("192.0.2.1/32")
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), clock.now, func(o *httpapi.Options) {
		o.TrustedProxies = []*net.IPNet{{IP: proxy.Addr().AsSlice(), Mask: net.CIDRMask(32, 32)}}
	})
	h.as(auth.RoleDirector)
	codes := map[int]int{}
	for i := range 15 {
		r := tokenRequest("grant_type=password&username=director%40test.example&password=guess")
		r.headers = map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)}
		codes[h.do(r).code]++
	}
	if codes[http.StatusBadRequest] != 10 || codes[http.StatusTooManyRequests] != 5 {
		t.Fatalf("15 addresses against one account: %v, want 10 × 400 then 5 × 429", codes)
	}
	if res := h.do(tokenRequest("grant_type=password&username=director%40test.example&password=a-long-enough-password")); res.code != http.StatusTooManyRequests {
		t.Fatalf("the right password while the account is limited: %d", res.code)
	}
	clock.advance(15 * time.Minute)
	expect(t, h.do(tokenRequest("grant_type=password&username=director%40test.example&password=a-long-enough-password")), http.StatusOK)
	events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?limit=100&resource_type=account", bearer: h.as(auth.RoleAdmin)}), http.StatusOK))
	failed := 0
	for _, e := range events {
		ch := e["changes"].(map[string]any)
		if str(e, "action") == "login_failed" && str(e, "resource_id") == "director@test.example" && strings.HasPrefix(str(ch, "address"), "203.0.113.") &&
			str(e, "actor_role") == "anonymous" {
			failed++
		}
	}
	if failed != 10 {
		t.Fatalf("%d failed logins audited, want 10: %v", failed, events)
	}
}

// Without a trusted proxy the limit counts the connection's address: X-Forwarded-For
// does not reset it, and the token endpoint's answers are never stored for replay.
func TestTokenLimiterIgnoresForwardedFor(t *testing.T) {
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), newClock().now)
	limited := 0
	for i := range 25 {
		r := tokenRequest(fmt.Sprintf("grant_type=password&username=x%d%%40example.org&password=guess", i))
		r.headers = map[string]string{"X-Forwarded-For": fmt.Sprintf("10.0.0.%d", i), "Idempotency-Key": "same"}
		res := h.do(r)
		if res.code == http.StatusTooManyRequests {
			limited++
		}
		if res.hdr.Get("Idempotent-Replayed") != "" {
			t.Fatal("a token answer was replayed from the idempotency store")
		}
	}
	if limited != 5 {
		t.Fatalf("%d requests limited, want 5", limited)
	}
}
