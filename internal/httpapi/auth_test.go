package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/service"
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
		if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(900) || tok["scope"] != "director" || res.hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("token: %v %v", tok, res.hdr)
		}
		bearer := "Bearer " + str(tok, "access_token")
		expect(t, h.do(req{method: "GET", path: "/v1/certifications", bearer: bearer}), http.StatusOK)

		for name, form := range map[string]string{
			"wrong password": "grant_type=password&username=director%40example.org&password=wrong",
			"unknown user":   "grant_type=password&username=nobody%40example.org&password=correct+horse+battery",
		} {
			p := expect(t, h.do(tokenRequest(form)), http.StatusUnauthorized)
			if str(p, "code") != "invalid_grant" {
				t.Errorf("%s: %v", name, p)
			}
		}
		p := expect(t, h.do(tokenRequest("grant_type=client_credentials&client_id=x&client_secret=y")), http.StatusBadRequest)
		if str(p, "code") != "unsupported_grant_type" {
			t.Errorf("client_credentials: %v", p)
		}
		expect(t, h.do(tokenRequest("grant_type=magic")), http.StatusBadRequest)
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
		valid := jwt.MapClaims{"iss": "certapi", "sub": sub, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
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
		p := expect(t, h.do(tokenRequest("grant_type=password&username=director%40test.example&password=a-long-enough-password")), http.StatusUnauthorized)
		if str(p, "code") != "invalid_grant" {
			t.Fatalf("deactivated login: %v", p)
		}
	})
}

// Password guessing is slowed: past a burst, the token endpoint answers 429.
func TestTokenEndpointIsRateLimited(t *testing.T) {
	h := newHarness(t, "sqlite")
	codes := map[int]int{}
	for range 15 {
		codes[h.do(tokenRequest("grant_type=password&username=x%40example.org&password=guess")).code]++
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 5 {
		t.Fatalf("statuses: %v, want 10 × 401 then 5 × 429", codes)
	}
}

// The limiter counts the connection's address: X-Forwarded-For does not reset it,
// and the token endpoint's answers are never stored for replay.
func TestTokenLimiterIgnoresForwardedFor(t *testing.T) {
	h := newHarness(t, "sqlite")
	limited := 0
	for i := range 15 {
		r := tokenRequest("grant_type=password&username=x%40example.org&password=guess")
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
