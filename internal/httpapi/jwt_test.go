package httpapi_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
	"github.com/golang-jwt/jwt/v5"
)

// jwtTarget is the protected operation every attack is sent to: any authenticated
// admin may list the training sites.
const jwtTarget = "/v1/training-sites"

// TestJWTAttacks sends a protected operation tokens that are forged, tampered with,
// signed with another algorithm or key, made for another issuer or audience, out of
// their lifetime, without a subject, of a deactivated account, or not tokens at all,
// and bearers carried where the API does not read them. Each must be a 401
// problem+json with a Bearer challenge. Each forged token differs from a control
// token, which is accepted, in the one respect its case names. Time is the harness's
// stopped clock, never the machine's.
func TestJWTAttacks(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			h := newHarnessOn(t, testdb.Open(t, d), clock.now)
			admin := h.as(auth.RoleAdmin)
			sub := h.users[auth.RoleAdmin]
			key := []byte(strings.Repeat("k", 32)) // the harness's signing key
			now := clock.now()

			// claims are the control token's claims, with changes: a nil value
			// removes the claim.
			claims := func(changes map[string]any) jwt.MapClaims {
				c := jwt.MapClaims{"iss": auth.Issuer, "aud": auth.Audience, "sub": sub, "role": "admin",
					"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
				for k, v := range changes {
					if v == nil {
						delete(c, k)
					} else {
						c[k] = v
					}
				}
				return c
			}
			sign := func(method jwt.SigningMethod, k any, c jwt.MapClaims) string {
				t.Helper()
				s, err := jwt.NewWithClaims(method, c).SignedString(k)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			hs256 := func(changes map[string]any) string { return sign(jwt.SigningMethodHS256, key, claims(changes)) }
			// raw assembles a token from a header and claims, signed with HMAC-SHA256
			// under key whatever the header says, or not signed when key is nil.
			raw := func(header map[string]any, c jwt.MapClaims, key []byte) string {
				t.Helper()
				hj, _ := json.Marshal(header)
				cj, _ := json.Marshal(c)
				input := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(cj)
				if key == nil {
					return input + "."
				}
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(input))
				return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
			}
			rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			control := hs256(nil)
			parts := strings.Split(control, ".")
			// The control token with its payload rewritten to another subject, and
			// its signature kept.
			forgedPayload, _ := json.Marshal(claims(map[string]any{"sub": "01900000-0000-7000-8000-000000000000"}))
			tamperedSub := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2]

			// The controls: the token the harness issued, and the forged one, are
			// accepted; so the attacks below fail for what they change, not for how
			// they are made.
			for name, bearer := range map[string]string{
				"the issued token":                    admin,
				"the forged control token":            "Bearer " + control,
				"the scheme in lower case (RFC 6750)": "bearer " + control,
			} {
				if res := h.do(req{method: "GET", path: jwtTarget, bearer: bearer}); res.code != http.StatusOK {
					t.Fatalf("control %s: %d, want 200: %s", name, res.code, res.raw)
				}
			}

			cases := []struct {
				name          string
				authorization string // the Authorization header; empty: none
				query         string // added to the target's query string
			}{
				// The algorithm.
				{"alg none, unsigned", "Bearer " + raw(map[string]any{"alg": "none", "typ": "JWT"}, claims(nil), nil), ""},
				{"alg None, unsigned", "Bearer " + raw(map[string]any{"alg": "None", "typ": "JWT"}, claims(nil), nil), ""},
				{"alg NONE, unsigned", "Bearer " + raw(map[string]any{"alg": "NONE", "typ": "JWT"}, claims(nil), nil), ""},
				{"alg none, with the HS256 signature", "Bearer " + raw(map[string]any{"alg": "none", "typ": "JWT"}, claims(nil), key), ""},
				{"alg HS256, signature stripped", "Bearer " + parts[0] + "." + parts[1] + ".", ""},
				{"alg HS256, no signature part", "Bearer " + parts[0] + "." + parts[1], ""},
				{"HS384 with the same key", "Bearer " + sign(jwt.SigningMethodHS384, key, claims(nil)), ""},
				{"HS512 with the same key", "Bearer " + sign(jwt.SigningMethodHS512, key, claims(nil)), ""},
				{"RS256 header over an HMAC signature with the key", "Bearer " + raw(map[string]any{"alg": "RS256", "typ": "JWT"}, claims(nil), key), ""},
				{"RS256, signed with an RSA key", "Bearer " + sign(jwt.SigningMethodRS256, rsaKey, claims(nil)), ""},
				{"no alg in the header", "Bearer " + raw(map[string]any{"typ": "JWT"}, claims(nil), key), ""},
				// The key and the signature.
				{"HS256 with another key", "Bearer " + sign(jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), claims(nil)), ""},
				{"HS256 with an empty key", "Bearer " + raw(map[string]any{"alg": "HS256", "typ": "JWT"}, claims(nil), []byte{}), ""},
				{"another key named by kid and jku", "Bearer " + raw(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "attacker",
					"jku": "https://attacker.example/jwks.json"}, claims(nil), []byte(strings.Repeat("a", 32))), ""},
				{"payload rewritten, signature kept", "Bearer " + tamperedSub, ""},
				{"signature's last characters changed", "Bearer " + control[:len(control)-4] + flip(control[len(control)-4:]), ""},
				// The issuer and the audience.
				{"another issuer", "Bearer " + hs256(map[string]any{"iss": "someone-else"}), ""},
				{"no issuer", "Bearer " + hs256(map[string]any{"iss": nil}), ""},
				{"another audience", "Bearer " + hs256(map[string]any{"aud": "reporting"}), ""},
				{"other audiences only", "Bearer " + hs256(map[string]any{"aud": []string{"reporting", "billing"}}), ""},
				{"an empty audience", "Bearer " + hs256(map[string]any{"aud": ""}), ""},
				{"no audience", "Bearer " + hs256(map[string]any{"aud": nil}), ""},
				// The lifetime, on the harness's clock.
				{"expired a second ago", "Bearer " + hs256(map[string]any{"iat": now.Add(-time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix(),
					"exp": now.Add(-time.Second).Unix()}), ""},
				{"expiring now", "Bearer " + hs256(map[string]any{"exp": now.Unix()}), ""},
				{"no exp", "Bearer " + hs256(map[string]any{"exp": nil}), ""},
				{"exp not a number", "Bearer " + hs256(map[string]any{"exp": "never"}), ""},
				{"not valid before a minute from now", "Bearer " + hs256(map[string]any{"nbf": now.Add(time.Minute).Unix()}), ""},
				// The subject.
				{"no sub", "Bearer " + hs256(map[string]any{"sub": nil}), ""},
				{"an empty sub", "Bearer " + hs256(map[string]any{"sub": ""}), ""},
				{"a sub that is not a string", "Bearer " + hs256(map[string]any{"sub": 42}), ""},
				{"a sub of no account", "Bearer " + hs256(map[string]any{"sub": "01900000-0000-7000-8000-000000000000"}), ""},
				{"a sub that is not an id", "Bearer " + hs256(map[string]any{"sub": "admin"}), ""},
				// Not tokens.
				{"garbage", "Bearer garbage", ""},
				{"three dots of garbage", "Bearer not.a.token", ""},
				{"base64 noise", "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\x00\xff", 64))), ""},
				{"a JSON object", `Bearer {"sub":"` + sub + `"}`, ""},
				{"two tokens", "Bearer " + control + " " + control, ""},
				{"an overlong token", "Bearer " + control + strings.Repeat("A", 6000), ""},
				// No token where the API reads it.
				{"Bearer and no token", "Bearer", ""},
				{"Bearer, a space and no token", "Bearer ", ""},
				{"Bearer and blanks", "Bearer    ", ""},
				{"the token without a scheme", control, ""},
				{"the token under Basic", "Basic " + control, ""},
				{"the token under another scheme", "Token " + control, ""},
				{"no Authorization, the token in the query string", "", "access_token=" + url.QueryEscape(control)},
				{"a bad token, a good one in the query string", "Bearer garbage", "access_token=" + url.QueryEscape(control)},
			}
			for _, c := range cases {
				path := jwtTarget
				if c.query != "" {
					path += "?" + c.query
				}
				expectChallenge(t, h, c.name, req{method: "GET", path: path, bearer: c.authorization})
			}

			// A deactivated account: its token, valid until then, is refused at once.
			u, err := h.svc.CreateUser(adminContext(), service.UserInput{Email: "leaving@test.example", Role: auth.RoleAdmin, Password: "a-long-enough-password"})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := h.tokens.Issue(u.ID, auth.RoleAdmin)
			if err != nil {
				t.Fatal(err)
			}
			if res := h.do(req{method: "GET", path: jwtTarget, bearer: "Bearer " + tok}); res.code != http.StatusOK {
				t.Fatalf("the account's token before it is deactivated: %d, want 200", res.code)
			}
			if _, err := h.svc.DeactivateUser(adminContext(), u.ID, service.NoPrecondition); err != nil {
				t.Fatal(err)
			}
			expectChallenge(t, h, "a token of a deactivated account", req{method: "GET", path: jwtTarget, bearer: "Bearer " + tok})

			// Expiry of an issued token, as the clock moves: accepted a second
			// before its lifetime ends, refused from then on.
			issued, err := h.tokens.Issue(sub, auth.RoleAdmin)
			if err != nil {
				t.Fatal(err)
			}
			clock.advance(h.tokens.TTL() - time.Second)
			if res := h.do(req{method: "GET", path: jwtTarget, bearer: "Bearer " + issued}); res.code != http.StatusOK {
				t.Fatalf("an issued token a second before it expires: %d, want 200", res.code)
			}
			clock.advance(time.Second)
			expectChallenge(t, h, "an issued token at its expiry", req{method: "GET", path: jwtTarget, bearer: "Bearer " + issued})
			clock.advance(time.Hour)
			expectChallenge(t, h, "an issued token an hour after its expiry", req{method: "GET", path: jwtTarget, bearer: "Bearer " + issued})
			t.Logf("%d attacks refused", len(cases)+3)
		})
	}
}

// expectChallenge checks that a request is refused as unauthenticated: 401, a
// problem+json body with the status and code, and a Bearer challenge.
func expectChallenge(t *testing.T, h *harness, name string, r req) {
	t.Helper()
	res := h.do(r)
	if res.code != http.StatusUnauthorized {
		t.Errorf("%s: %d, want 401: %s", name, res.code, res.raw)
		return
	}
	if ct := res.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", name, ct)
	}
	if ch := res.hdr.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") {
		t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", name, ch)
	}
	var p map[string]any
	if err := json.Unmarshal(res.raw, &p); err != nil || p["status"] != float64(http.StatusUnauthorized) || p["code"] != "unauthenticated" {
		t.Errorf("%s: problem %s, want status 401 and code unauthenticated", name, res.raw)
	}
}

// flip changes every character of a base64url text into another of the alphabet.
func flip(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// syncBuffer is a log destination requests may write to concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newLoggedHarness is the harness of newHarnessOn with the service's and the
// router's logger writing JSON lines, debug level and up, to out, and tokens signed
// with key.
func newLoggedHarness(t *testing.T, d store.Dialect, key []byte, out io.Writer) *harness {
	s := testdb.Open(t, d)
	now := newClock().now
	tokens, err := auth.NewTokens(key, 15*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	limiter := ratelimit.New(s, now)
	svc := service.New(s, tokens, limiter, now, log)
	e, err := httpapi.New(httpapi.Options{Service: svc, Idempotency: s, DB: s, Log: log, BodyLimit: "64K", Now: now, Limiter: limiter})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, e: e, store: s, svc: svc, tokens: tokens, bearers: map[auth.Role]string{}, users: map[auth.Role]string{}}
}

// TestLogsHoldNoSecrets runs logins (right and wrong password), account creations
// and changes with passwords, password-bearing requests the contract or the rules
// refuse, authenticated calls, and bearers sent where the API does not read them,
// with the logger writing to a buffer. The log must hold none of the passwords, the
// bearer tokens (whole, or their signatures alone) or the signing key, in any of the
// encodings a request carries them in; and it must hold a line for every request, so
// that the test reads a log that is written. The audit trail holds none of them
// either.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			key := []byte("log-test-signing-key-0f1e2d3c4b5a69788796a5b4")
			var out syncBuffer
			h := newLoggedHarness(t, d, key, &out)
			const (
				adminPassword   = "Orchid-Velvet-Canyon-4821"
				wrongPassword   = "Quartz-Meadow-Lantern-9373"
				createdPassword = "Marble-Horizon-Falcon-2764"
				refusedPassword = "Cobalt-Prairie-Ember-6157"
				jsonPassword    = "Saffron-Tundra-Beacon-5512"
				changedPassword = "Indigo-Glacier-Harbor-3408"
				weakPassword    = "weakling@logs.example!!"
			)
			if _, err := h.svc.CreateUser(adminContext(), service.UserInput{Email: "root@logs.example", Role: auth.RoleAdmin, Password: adminPassword}); err != nil {
				t.Fatal(err)
			}
			form := func(user, password string) req {
				return tokenRequest("grant_type=password&username=" + url.QueryEscape(user) + "&password=" + url.QueryEscape(password))
			}
			type sent struct {
				method, uri string
				status      int
			}
			var requests []sent
			do := func(r req, status int) response {
				t.Helper()
				res := h.do(r)
				if res.code != status {
					t.Fatalf("%s %s: %d, want %d: %s", r.method, r.path, res.code, status, res.raw)
				}
				requests = append(requests, sent{r.method, r.path, res.code})
				return res
			}

			// Logins.
			token := str(do(form("root@logs.example", adminPassword), http.StatusOK).json(t), "access_token")
			bearer := "Bearer " + token
			do(form("root@logs.example", wrongPassword), http.StatusBadRequest)
			do(form("nobody@logs.example", wrongPassword), http.StatusBadRequest)
			do(req{method: "POST", path: "/v1/auth/token", body: map[string]any{"grant_type": "password", "username": "root@logs.example", "password": jsonPassword}},
				http.StatusUnsupportedMediaType)

			// Accounts with passwords: created, refused by the contract, refused
			// by the password rules, changed.
			created := do(req{method: "POST", path: "/v1/users", bearer: bearer, body: map[string]any{
				"email": "staff@logs.example", "role": "director", "password": createdPassword}}, http.StatusCreated)
			do(req{method: "POST", path: "/v1/users", bearer: bearer, body: map[string]any{
				"email": "not-an-email", "role": "director", "password": refusedPassword}}, http.StatusBadRequest)
			do(req{method: "POST", path: "/v1/users", bearer: bearer, body: map[string]any{
				"email": "weakling@logs.example", "role": "director", "password": weakPassword}}, http.StatusUnprocessableEntity)
			do(req{method: "PATCH", path: "/v1/users/" + str(created.json(t), "id"), bearer: bearer, contentType: "application/merge-patch+json",
				headers: map[string]string{"If-Match": "*"}, body: `{"password":"` + changedPassword + `"}`}, http.StatusOK)
			other := str(do(form("staff@logs.example", changedPassword), http.StatusOK).json(t), "access_token")

			// Authenticated calls, answered and refused.
			do(req{method: "GET", path: "/v1/certifications", bearer: bearer}, http.StatusOK)
			do(req{method: "GET", path: "/v1/users", bearer: bearer}, http.StatusOK)
			do(req{method: "GET", path: "/v1/candidates/" + nowhere.candidate, bearer: bearer}, http.StatusNotFound)
			do(req{method: "GET", path: "/v1/candidates?limit=0", bearer: bearer}, http.StatusBadRequest)
			do(req{method: "GET", path: "/v1/users", bearer: "Bearer " + other}, http.StatusForbidden)
			do(req{method: "GET", path: "/v1/certifications", bearer: bearer + "x"}, http.StatusUnauthorized)
			// Bearers where the API does not read them: refused, and not logged
			// either, though a log of request lines is where they would show.
			do(req{method: "GET", path: "/v1/certifications?access_token=" + url.QueryEscape(token)}, http.StatusUnauthorized)
			do(req{method: "GET", path: "/v1/certifications?limit=5&access_token=" + url.QueryEscape(other) + "&password=" + url.QueryEscape(adminPassword)},
				http.StatusUnauthorized)
			audit := do(req{method: "GET", path: "/v1/audit-events?limit=100", bearer: bearer}, http.StatusOK)

			log := out.String()
			secrets := map[string]string{"the signing key": string(key), "the signing key in base64": base64.StdEncoding.EncodeToString(key),
				"the signing key in base64url": base64.RawURLEncoding.EncodeToString(key)}
			for _, p := range []string{adminPassword, wrongPassword, createdPassword, refusedPassword, jsonPassword, changedPassword, weakPassword} {
				secrets["the password "+p] = p
				secrets["the password "+p+" form-encoded"] = url.QueryEscape(p)
			}
			for name, tok := range map[string]string{"the admin's token": token, "the director's token": other} {
				secrets[name] = tok
				secrets[name+"'s signature"] = tok[strings.LastIndex(tok, ".")+1:]
			}
			for name, s := range secrets {
				if strings.Contains(log, s) {
					t.Errorf("the log holds %s", name)
				}
				if strings.Contains(string(audit.raw), s) {
					t.Errorf("the audit trail holds %s", name)
				}
			}

			// Every request has its line, with its method, address and status.
			logged := map[sent]int{}
			for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
				var l struct {
					Msg, Method, URI string
					Status           int
				}
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("a log line is not JSON: %v: %s", err, line)
				}
				if l.Msg == "request" {
					path, _, _ := strings.Cut(l.URI, "?")
					logged[sent{l.Method, path, l.Status}]++
				}
			}
			for _, r := range requests {
				path, _, _ := strings.Cut(r.uri, "?")
				if logged[sent{r.method, path, r.status}] == 0 {
					t.Errorf("no log line for %s %s (%d)", r.method, r.uri, r.status)
				} else {
					logged[sent{r.method, path, r.status}]--
				}
			}
			// The query string's other parameters stay readable.
			if !strings.Contains(log, `"uri":"/v1/certifications?limit=5&access_token=REDACTED&password=REDACTED"`) {
				t.Errorf("no readable log line for the request with credentials in its query string")
			}
			if t.Failed() {
				t.Logf("the log:\n%s", log)
			}
		})
	}
}
