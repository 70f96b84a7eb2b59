package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/contracttest"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/testdb"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// forEachDialectAt is forEachDialect with a clock that moves only when told.
func forEachDialectAt(t *testing.T, fn func(t *testing.T, h *harness, clock *stoppedClock)) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			fn(t, newHarnessOn(t, testdb.Open(t, d), clock.now), clock)
		})
	}
}

// passwordGrant signs in with the password grant.
func passwordGrant(h *harness, email, password string) response {
	return h.do(tokenRequest(url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}.Encode()))
}

// refreshGrant exchanges a refresh token.
func refreshGrant(h *harness, token string) response {
	return h.do(tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}.Encode()))
}

// oauthErrorOf fails unless res is the OAuth error code with status.
func oauthErrorOf(t *testing.T, res response, status int, code string) {
	t.Helper()
	if body := expect(t, res, status); str(body, "error") != code || res.hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s (%s), want the OAuth error %s", res.code, res.raw, res.hdr.Get("Content-Type"), code)
	}
}

// fresh is a new bearer for the account of the role, issued now by the harness's
// clock: one issued earlier may have expired since.
func (h *harness) fresh(role auth.Role) string {
	h.t.Helper()
	h.as(role)
	tok, err := h.tokens.Issue(h.users[role], role)
	if err != nil {
		h.t.Fatal(err)
	}
	return "Bearer " + tok
}

// newAccount creates an account through the API and returns its id.
func newAccount(t *testing.T, h *harness, body map[string]any) string {
	t.Helper()
	return str(expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: h.as(auth.RoleAdmin), body: body}), http.StatusCreated), "id")
}

// The mobile app of a candidate: the password grant, who am I, my transcript and
// sittings, a refresh, a password change; then the refresh token and the access
// tokens of before the change are refused, and the new password signs in.
func TestMobileFlow(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		cand := h.candidate(map[string]any{"first_name": "Mobile", "birth_name": "Appli"})
		id := newAccount(t, h, map[string]any{"email": "camille@mobile.example", "role": "candidate",
			"password": "first-long-passphrase", "candidate_id": cand})

		tok := expect(t, passwordGrant(h, "camille@mobile.example", "first-long-passphrase"), http.StatusOK)
		access, refresh := "Bearer "+str(tok, "access_token"), str(tok, "refresh_token")
		if str(tok, "scope") != "candidate" || !strings.HasPrefix(refresh, "rt_") {
			t.Fatalf("token: %v", tok)
		}
		me := expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: access}), http.StatusOK)
		if str(me, "kind") != "user" || str(me, "id") != id || str(me, "role") != "candidate" || str(me, "candidate_id") != cand ||
			str(me, "email") != "camille@mobile.example" || me["client_id"] != nil || len(me["scopes"].([]any)) != 0 {
			t.Fatalf("me: %v", me)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + str(me, "candidate_id") + "/transcript", bearer: access}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/me/sittings", bearer: access}), http.StatusOK)

		clock.advance(14 * time.Minute)
		next := expect(t, refreshGrant(h, refresh), http.StatusOK)
		access2, refresh2 := "Bearer "+str(next, "access_token"), str(next, "refresh_token")
		if refresh2 == "" || refresh2 == refresh || access2 == access {
			t.Fatalf("refresh: %v", next)
		}
		clock.advance(2 * time.Minute)
		// The first access token has expired; the refreshed one works.
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: access}), http.StatusUnauthorized)
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: access2}), http.StatusOK)

		expect(t, h.do(req{method: "POST", path: "/v1/me/password", bearer: access2,
			body: map[string]any{"current_password": "first-long-passphrase", "new_password": "second-long-passphrase"}}), http.StatusNoContent)
		oauthErrorOf(t, refreshGrant(h, refresh2), http.StatusBadRequest, "invalid_grant")
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: access2}), http.StatusUnauthorized)
		oauthErrorOf(t, passwordGrant(h, "camille@mobile.example", "first-long-passphrase"), http.StatusBadRequest, "invalid_grant")

		// In the very second of the change, the new password signs in.
		again := expect(t, passwordGrant(h, "camille@mobile.example", "second-long-passphrase"), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: "Bearer " + str(again, "access_token")}), http.StatusOK)
		expect(t, refreshGrant(h, str(again, "refresh_token")), http.StatusOK)
	})
}

// A refresh token used twice revokes its family: the thief's copy and the
// rightful holder's newer token alike; other sessions of the account go on. The
// reuse is audited.
func TestRefreshTokenReuseRevokesTheFamily(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		id := newAccount(t, h, map[string]any{"email": "reuse@mobile.example", "role": "director", "password": "a-long-enough-password"})
		first := str(expect(t, passwordGrant(h, "reuse@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		other := str(expect(t, passwordGrant(h, "reuse@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		clock.advance(time.Minute)
		second := str(expect(t, refreshGrant(h, first), http.StatusOK), "refresh_token")

		oauthErrorOf(t, refreshGrant(h, first), http.StatusBadRequest, "invalid_grant")
		oauthErrorOf(t, refreshGrant(h, second), http.StatusBadRequest, "invalid_grant")
		expect(t, refreshGrant(h, other), http.StatusOK)
		oauthErrorOf(t, refreshGrant(h, "rt_not-a-token-this-service-issued"), http.StatusBadRequest, "invalid_grant")

		events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?action=refresh_reused", bearer: h.as(auth.RoleAdmin)}), http.StatusOK))
		if len(events) != 1 || str(events[0], "resource_type") != "user" || str(events[0], "resource_id") != id ||
			events[0]["changes"].(map[string]any)["tokens_revoked"] != float64(2) || str(events[0], "actor_role") != "anonymous" {
			t.Fatalf("audit of the reuse: %v", events)
		}
	})
}

// Two refreshes with one token at once, as an app that retries does: one wins, the
// other is a reuse, which revokes the family, the winner's new token included. The
// token's row is locked: never do both win.
func TestConcurrentRefreshes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		newAccount(t, h, map[string]any{"email": "twice@mobile.example", "role": "director", "password": "a-long-enough-password"})
		// Three rounds of four token requests: within the 20 a minute of one address.
		for range 3 {
			rt := str(expect(t, passwordGrant(h, "twice@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
			results := make(chan response, 2)
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results <- refreshGrant(h, rt)
				}()
			}
			wg.Wait()
			close(results)
			var won []string
			for res := range results {
				switch res.code {
				case http.StatusOK:
					won = append(won, str(res.json(t), "refresh_token"))
				case http.StatusBadRequest:
				default:
					t.Fatalf("a concurrent refresh: %d %s", res.code, res.raw)
				}
			}
			if len(won) != 1 {
				t.Fatalf("%d concurrent refreshes of one token won, want 1", len(won))
			}
			oauthErrorOf(t, refreshGrant(h, won[0]), http.StatusBadRequest, "invalid_grant")
		}
	})
}

// A refresh token lives 30 days; the account's deactivation revokes it.
func TestRefreshTokenLifetime(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		id := newAccount(t, h, map[string]any{"email": "lasting@mobile.example", "role": "director", "password": "a-long-enough-password"})
		rt := str(expect(t, passwordGrant(h, "lasting@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		clock.advance(30*24*time.Hour - time.Second)
		rt = str(expect(t, refreshGrant(h, rt), http.StatusOK), "refresh_token")
		clock.advance(30 * 24 * time.Hour)
		oauthErrorOf(t, refreshGrant(h, rt), http.StatusBadRequest, "invalid_grant")

		rt = str(expect(t, passwordGrant(h, "lasting@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		admin := h.fresh(auth.RoleAdmin)
		expect(t, h.do(req{method: "DELETE", path: "/v1/users/" + id, bearer: admin, headers: map[string]string{"If-Match": "*"}}), http.StatusOK)
		oauthErrorOf(t, refreshGrant(h, rt), http.StatusBadRequest, "invalid_grant")
		expect(t, h.do(req{method: "POST", path: "/v1/users/" + id + "/reactivation", bearer: admin, headers: map[string]string{"If-Match": "*"}}), http.StatusOK)
		oauthErrorOf(t, refreshGrant(h, rt), http.StatusBadRequest, "invalid_grant")
	})
}

// RFC 7009: revoking a refresh token ends its session; the answer is 200 whether
// the token was one or not.
func TestTokenRevocation(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		newAccount(t, h, map[string]any{"email": "bye@mobile.example", "role": "director", "password": "a-long-enough-password"})
		first := str(expect(t, passwordGrant(h, "bye@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		second := str(expect(t, refreshGrant(h, first), http.StatusOK), "refresh_token")
		other := str(expect(t, passwordGrant(h, "bye@mobile.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		revoke := func(form string) response {
			return h.do(req{method: "POST", path: "/v1/auth/revoke", contentType: "application/x-www-form-urlencoded", body: form})
		}
		// Revoking the older token of the family ends the session it led to.
		expect(t, revoke("token="+url.QueryEscape(first)+"&token_type_hint=refresh_token"), http.StatusOK)
		oauthErrorOf(t, refreshGrant(h, second), http.StatusBadRequest, "invalid_grant")
		expect(t, refreshGrant(h, other), http.StatusOK)
		expect(t, revoke("token=rt_unknown"), http.StatusOK)
		expect(t, revoke("token="+url.QueryEscape(first)), http.StatusOK)
		oauthErrorOf(t, revoke("token_type_hint=refresh_token"), http.StatusBadRequest, "invalid_request")
		events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?action=session_revoked", bearer: h.as(auth.RoleAdmin)}), http.StatusOK))
		if len(events) != 1 {
			t.Fatalf("%d revocations audited, want 1: %v", len(events), events)
		}
	})
}

// validating serves the harness's API over HTTP, checking every answer against
// openapi.yaml as the harness's own requests are.
func validating(t *testing.T, h *harness) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, r)
		if err := contracttest.Check(r.Method, r.URL.RequestURI(), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("%s %s: the %d answer does not match openapi.yaml: %v: %s", r.Method, r.URL, rec.Code, err, rec.Body.Bytes())
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A standard OAuth2 client library gets a partner token with the client
// credentials grant, both ways it authenticates, and reads the errors it is given.
func TestClientCredentialsWithTheOAuth2Library(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		srv := validating(t, h)
		c := expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: h.as(auth.RoleAdmin), body: map[string]any{
			"name": "Opco Atlas", "scopes": []string{"results:read", "statistics:read"}, "training_site_id": siteMontpellier}}), http.StatusCreated)
		ctx := context.Background()
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cfg := clientcredentials.Config{ClientID: str(c, "client_id"), ClientSecret: str(c, "client_secret"),
				TokenURL: srv.URL + "/v1/auth/token", Scopes: []string{"statistics:read"}, AuthStyle: style}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatalf("auth style %d: %v", style, err)
			}
			if tok.TokenType != "Bearer" || tok.Extra("scope") != "statistics:read" || tok.Expiry.IsZero() {
				t.Fatalf("auth style %d: %+v %v", style, tok, tok.Extra("scope"))
			}
			res, err := cfg.Client(ctx).Get(srv.URL + "/v1/me")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"kind":"client"`)) || !bytes.Contains(body, []byte(`"scopes":["statistics:read"]`)) {
				t.Fatalf("auth style %d: GET /v1/me: %d %s", style, res.StatusCode, body)
			}

			for name, bad := range map[string]struct {
				cfg  clientcredentials.Config
				code string
			}{
				"a wrong secret":       {clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: "cs_wrong", TokenURL: cfg.TokenURL, AuthStyle: style}, "invalid_client"},
				"an unknown client":    {clientcredentials.Config{ClientID: "cl_unknown", ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL, AuthStyle: style}, "invalid_client"},
				"a scope it lacks":     {clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL, AuthStyle: style, Scopes: []string{"webhooks:manage"}}, "invalid_scope"},
				"a scope that is none": {clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL, AuthStyle: style, Scopes: []string{"admin"}}, "invalid_scope"},
			} {
				_, err := bad.cfg.Token(ctx)
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != bad.code {
					t.Errorf("auth style %d, %s: %v, want %s", style, name, err, bad.code)
				}
			}
		}
	})
}

// The client's authentication, as the token endpoint checks it.
func TestClientAuthentication(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: h.as(auth.RoleAdmin), body: map[string]any{
			"name": "Financeur", "scopes": []string{"results:read", "statistics:read"}}}), http.StatusCreated)
		id, secret := str(c, "client_id"), str(c, "client_secret")
		basic := func(user, pass string) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user)+":"+url.QueryEscape(pass)))
		}
		withAuth := func(form, authorization string) response {
			r := tokenRequest(form)
			r.headers = map[string]string{"Authorization": authorization}
			return h.do(r)
		}
		tok := expect(t, withAuth("grant_type=client_credentials", basic(id, secret)), http.StatusOK)
		if str(tok, "scope") != "results:read statistics:read" || tok["refresh_token"] != nil || str(tok, "token_type") != "Bearer" {
			t.Fatalf("token: %v", tok)
		}
		narrowed := expect(t, h.do(tokenRequest("grant_type=client_credentials&scope=statistics%3Aread&client_id="+id+"&client_secret="+secret)), http.StatusOK)
		if str(narrowed, "scope") != "statistics:read" {
			t.Fatalf("narrowed: %v", narrowed)
		}
		for name, res := range map[string]response{
			"a wrong secret in Basic":      withAuth("grant_type=client_credentials", basic(id, secret+"x")),
			"an unknown client in Basic":   withAuth("grant_type=client_credentials", basic("cl_0000", secret)),
			"Basic that is not base64":     withAuth("grant_type=client_credentials", "Basic %%%"),
			"Basic without a colon":        withAuth("grant_type=client_credentials", "Basic "+base64.StdEncoding.EncodeToString([]byte(id))),
			"a wrong secret in the form":   h.do(tokenRequest("grant_type=client_credentials&client_id=" + id + "&client_secret=cs_x")),
			"no credentials":               h.do(tokenRequest("grant_type=client_credentials")),
			"a client_id without a secret": h.do(tokenRequest("grant_type=client_credentials&client_id=" + id)),
			"a bearer token instead":       withAuth("grant_type=client_credentials", "Bearer "+str(tok, "access_token")),
		} {
			if res.code != http.StatusUnauthorized || str(res.json(t), "error") != "invalid_client" || !strings.HasPrefix(res.hdr.Get("WWW-Authenticate"), "Basic realm=") {
				t.Errorf("%s: %d %s %v", name, res.code, res.raw, res.hdr)
			}
		}
		oauthErrorOf(t, withAuth("grant_type=client_credentials&client_id="+id+"&client_secret="+secret, basic(id, secret)), http.StatusBadRequest, "invalid_request")
		oauthErrorOf(t, withAuth("grant_type=client_credentials&scope=results%3Aread+webhooks%3Amanage", basic(id, secret)), http.StatusBadRequest, "invalid_scope")
		oauthErrorOf(t, withAuth("grant_type=client_credentials&scope=everything", basic(id, secret)), http.StatusBadRequest, "invalid_scope")
		// A password grant ignores client credentials (public clients send an empty
		// Basic header).
		h.as(auth.RoleDirector)
		expect(t, withAuth("grant_type=password&username=director%40test.example&password=a-long-enough-password", basic("", "")), http.StatusOK)

		failed := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?action=client_auth_failed&limit=100", bearer: h.as(auth.RoleAdmin)}), http.StatusOK))
		if len(failed) != 3 {
			t.Errorf("%d failed client authentications audited, want 3 (those with a client_id and a secret to check)", len(failed))
		}
	})
}

// A revoked application and a rotated secret end the tokens issued before, in the
// very second of the change too; the new secret works at once.
func TestRevokedClientsAndRotatedSecrets(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		admin := h.as(auth.RoleAdmin)
		c := expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, body: map[string]any{
			"name": "Employeur", "scopes": []string{"results:read"}}}), http.StatusCreated)
		id, clientID, secret := str(c, "id"), str(c, "client_id"), str(c, "client_secret")
		before := h.clientToken(clientID, secret, "")
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: before}), http.StatusOK)

		// The clock has not moved: the rotation falls in the second of the token.
		rotated := expect(t, h.do(req{method: "POST", path: "/v1/api-clients/" + id + "/secret", bearer: admin,
			headers: map[string]string{"If-Match": `"1"`}}), http.StatusOK)
		newSecret := str(rotated, "client_secret")
		if newSecret == "" || newSecret == secret || rotated["version"] != float64(2) {
			t.Fatalf("rotated: %v", rotated)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: before}), http.StatusUnauthorized)
		oauthErrorOf(t, h.do(tokenRequest("grant_type=client_credentials&client_id="+clientID+"&client_secret="+secret)), http.StatusUnauthorized, "invalid_client")
		after := h.clientToken(clientID, newSecret, "")
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: after}), http.StatusOK)

		clock.advance(time.Minute)
		revoked := expect(t, h.do(req{method: "DELETE", path: "/v1/api-clients/" + id, bearer: admin,
			headers: map[string]string{"If-Match": `"2"`}}), http.StatusOK)
		if revoked["active"] != false || str(revoked, "revoked_at") != "2026-11-27T10:01:30Z" {
			t.Fatalf("revoked: %v", revoked)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: after}), http.StatusUnauthorized)
		oauthErrorOf(t, h.do(tokenRequest("grant_type=client_credentials&client_id="+clientID+"&client_secret="+newSecret)), http.StatusUnauthorized, "invalid_client")
		for _, r := range []req{
			{method: "DELETE", path: "/v1/api-clients/" + id},
			{method: "POST", path: "/v1/api-clients/" + id + "/secret"},
			{method: "PATCH", path: "/v1/api-clients/" + id, contentType: "application/merge-patch+json", body: `{"name":"Encore"}`},
		} {
			r.bearer, r.headers = admin, map[string]string{"If-Match": "*"}
			if p := expect(t, h.do(r), http.StatusConflict); str(p, "code") != "api_client_revoked" {
				t.Errorf("%s %s of a revoked application: %v", r.method, r.path, p)
			}
		}
	})
}

// A partner's site binding shows in /v1/me; its scopes are enforced, and a scope
// taken away stops working in the tokens already issued.
func TestPartnerScopesAndSite(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		bearer, id := h.partnerClient(siteMontpellier, "statistics:read", "certificates:read")
		me := expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: bearer}), http.StatusOK)
		if str(me, "kind") != "client" || str(me, "id") != id || str(me, "role") != "partner" || str(me, "training_site_id") != siteMontpellier ||
			!strings.HasPrefix(str(me, "client_id"), "cl_") || str(me, "name") == "" || me["email"] != nil || me["candidate_id"] != nil ||
			fmt.Sprint(me["scopes"]) != "[certificates:read statistics:read]" {
			t.Fatalf("me: %v", me)
		}
		// Without results:read, the feed is refused; people's operations are too.
		for _, path := range []string{"/v1/results", "/v1/candidates", "/v1/users", "/v1/api-clients", "/v1/me/sittings", "/v1/audit-events"} {
			if p := expect(t, h.do(req{method: "GET", path: path, bearer: bearer}), http.StatusForbidden); str(p, "code") != "forbidden" {
				t.Errorf("GET %s: %v", path, p)
			}
		}
		expect(t, h.do(req{method: "POST", path: "/v1/me/password", bearer: bearer,
			body: map[string]any{"current_password": "whatever-it-is", "new_password": "a-long-enough-password"}}), http.StatusForbidden)

		admin := h.as(auth.RoleAdmin)
		patched := expect(t, h.do(req{method: "PATCH", path: "/v1/api-clients/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"1"`}, body: `{"scopes":["certificates:read","results:read"]}`}), http.StatusOK)
		if fmt.Sprint(patched["scopes"]) != "[results:read certificates:read]" || patched["version"] != float64(2) {
			t.Fatalf("patched: %v", patched)
		}
		me = expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: bearer}), http.StatusOK)
		if fmt.Sprint(me["scopes"]) != "[certificates:read]" {
			t.Fatalf("scopes after statistics:read was taken away: %v", me["scopes"])
		}
	})
}

// The administration of partner applications: the secret is shown once and is
// nowhere in the audit trail; changes need If-Match; a site that does not exist is
// refused.
func TestApiClients(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		res := h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, headers: map[string]string{"Idempotency-Key": "opco-1"},
			body: map[string]any{"name": " Opco Atlas ", "scopes": []string{"statistics:read", "results:read"}, "training_site_id": siteVauquelin}})
		c := expect(t, res, http.StatusCreated)
		id, secret := str(c, "id"), str(c, "client_secret")
		if str(c, "name") != "Opco Atlas" || fmt.Sprint(c["scopes"]) != "[results:read statistics:read]" || !strings.HasPrefix(secret, "cs_") || len(secret) < 40 ||
			str(c, "client_id") != "cl_"+strings.ReplaceAll(id, "-", "") || str(c, "training_site_id") != siteVauquelin || c["active"] != true ||
			c["revoked_at"] != nil || str(c, "secret_rotated_at") != str(c, "created_at") || res.hdr.Get("ETag") != `"1"` ||
			res.hdr.Get("Location") != "/v1/api-clients/"+id {
			t.Fatalf("created: %v %v", c, res.hdr)
		}
		replay := h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, headers: map[string]string{"Idempotency-Key": "opco-1"},
			body: map[string]any{"name": " Opco Atlas ", "scopes": []string{"statistics:read", "results:read"}, "training_site_id": siteVauquelin}})
		if replay.hdr.Get("Idempotent-Replayed") != "true" || str(replay.json(t), "id") != id {
			t.Fatalf("replay: %d %s", replay.code, replay.raw)
		}

		got := expect(t, h.do(req{method: "GET", path: "/v1/api-clients/" + id, bearer: admin}), http.StatusOK)
		if got["client_secret"] != nil || str(got, "name") != "Opco Atlas" {
			t.Fatalf("got: %v", got)
		}
		other := str(expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, body: map[string]any{
			"name": "Région", "scopes": []string{"statistics:read"}}}), http.StatusCreated), "id")
		list := expect(t, h.do(req{method: "GET", path: "/v1/api-clients?limit=1", bearer: admin}), http.StatusOK)
		if len(items(list)) != 1 || str(items(list)[0], "id") != id || list["next_cursor"] == nil {
			t.Fatalf("first page: %v", list)
		}
		list = expect(t, h.do(req{method: "GET", path: "/v1/api-clients?limit=1&cursor=" + str(list, "next_cursor"), bearer: admin}), http.StatusOK)
		if len(items(list)) != 1 || str(items(list)[0], "id") != other || list["next_cursor"] != nil {
			t.Fatalf("second page: %v", list)
		}

		patch := func(ifMatch, body string) response {
			r := req{method: "PATCH", path: "/v1/api-clients/" + id, bearer: admin, contentType: "application/merge-patch+json", body: body}
			if ifMatch != "" {
				r.headers = map[string]string{"If-Match": ifMatch}
			}
			return h.do(r)
		}
		expect(t, patch("", `{"name":"Sans If-Match"}`), http.StatusPreconditionRequired)
		expect(t, patch(`"7"`, `{"name":"Périmé"}`), http.StatusPreconditionFailed)
		expect(t, patch(`"1"`, `{"name":null}`), http.StatusBadRequest)
		expect(t, patch(`"1"`, `{"scopes":[]}`), http.StatusBadRequest)
		expect(t, patch(`"1"`, `{"training_site_id":"`+siteMontpellier+`"}`), http.StatusBadRequest)
		renamed := expect(t, patch(`"1"`, `{"name":"Opco Atlas Occitanie"}`), http.StatusOK)
		if str(renamed, "name") != "Opco Atlas Occitanie" || fmt.Sprint(renamed["scopes"]) != "[results:read statistics:read]" || renamed["version"] != float64(2) {
			t.Fatalf("renamed: %v", renamed)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/api-clients/" + id + "/secret", bearer: admin}), http.StatusPreconditionRequired)
		rotated := expect(t, h.do(req{method: "POST", path: "/v1/api-clients/" + id + "/secret", bearer: admin, headers: map[string]string{"If-Match": `"2"`}}), http.StatusOK)
		expect(t, h.do(req{method: "DELETE", path: "/v1/api-clients/" + id, bearer: admin, headers: map[string]string{"If-Match": `"2"`}}), http.StatusPreconditionFailed)
		expect(t, h.do(req{method: "DELETE", path: "/v1/api-clients/" + id, bearer: admin, headers: map[string]string{"If-Match": `"3"`}}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/api-clients/" + nowhere.site, bearer: admin}), http.StatusNotFound)

		p := expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, body: map[string]any{
			"name": "Nulle part", "scopes": []string{"results:read"}, "training_site_id": nowhere.site}}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[/training_site_id]" {
			t.Fatalf("unknown site: %v", p)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, body: map[string]any{
			"name": "Doublons", "scopes": []string{"results:read", "results:read"}}}), http.StatusBadRequest)

		trail := h.do(req{method: "GET", path: "/v1/audit-events?resource_type=api_client&limit=100", bearer: admin})
		events := items(expect(t, trail, http.StatusOK))
		var actions []string
		for _, e := range events {
			if str(e, "resource_id") == id {
				actions = append(actions, str(e, "action"))
			}
		}
		if fmt.Sprint(actions) != "[create update rotate_secret revoke]" {
			t.Fatalf("audited: %v", actions)
		}
		for _, s := range []string{secret, str(rotated, "client_secret"), secret[3:], str(rotated, "client_secret")[3:]} {
			if bytes.Contains(trail.raw, []byte(s)) {
				t.Fatalf("the audit trail holds a secret")
			}
		}
	})
}

// GET /v1/me for each role, with the binding the role needs.
func TestMe(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		for _, role := range roles {
			me := expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: h.as(role)}), http.StatusOK)
			u := expect(t, h.do(req{method: "GET", path: "/v1/users/" + h.users[role], bearer: h.as(auth.RoleAdmin)}), http.StatusOK)
			if str(me, "kind") != "user" || str(me, "id") != h.users[role] || str(me, "role") != string(role) || str(me, "email") != str(u, "email") {
				t.Errorf("%s: %v", role, me)
			}
			for _, binding := range []string{"training_site_id", "candidate_id", "jury_member_id"} {
				if me[binding] != u[binding] {
					t.Errorf("%s: %s is %v, the account's %v", role, binding, me[binding], u[binding])
				}
			}
		}
		expect(t, h.do(req{method: "GET", path: "/v1/me"}), http.StatusUnauthorized)
	})
}

// Changing one's password: the current one is checked and a wrong one counts as a
// failed login; weak passwords are refused; the other sessions end.
func TestChangeMyPassword(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		newAccount(t, h, map[string]any{"email": "change@test.example", "role": "site_staff", "password": "a-long-enough-password",
			"training_site_id": siteMontpellier})
		tok := expect(t, passwordGrant(h, "change@test.example", "a-long-enough-password"), http.StatusOK)
		bearer := "Bearer " + str(tok, "access_token")
		otherDevice := str(expect(t, passwordGrant(h, "change@test.example", "a-long-enough-password"), http.StatusOK), "refresh_token")
		change := func(current, next string) response {
			return h.do(req{method: "POST", path: "/v1/me/password", bearer: bearer, body: map[string]any{"current_password": current, "new_password": next}})
		}
		for _, c := range []struct {
			current, next, field string
		}{
			{"the-wrong-password", "a-brand-new-passphrase", "/current_password"},
			{"a-long-enough-password", "a-long-enough-password", "/new_password"},
			{"a-long-enough-password", "password1234", "/new_password"},
			{"a-long-enough-password", "change@test.example!", "/new_password"},
			{"a-long-enough-password", strings.Repeat("long-", 15), "/new_password"},
		} {
			if p := expect(t, change(c.current, c.next), http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "["+c.field+"]" {
				t.Errorf("%q → %q: %v", c.current, c.next, p)
			}
		}
		expect(t, change("a-long-enough-password", "short"), http.StatusBadRequest)
		// The wrong current password counted: nine more and the account is limited.
		for range 9 {
			expect(t, change("the-wrong-password", "a-brand-new-passphrase"), http.StatusUnprocessableEntity)
		}
		limited := change("a-long-enough-password", "a-brand-new-passphrase")
		if limited.code != http.StatusTooManyRequests || limited.hdr.Get("Retry-After") == "" {
			t.Fatalf("after 10 wrong current passwords: %d %v", limited.code, limited.hdr)
		}
		expect(t, passwordGrant(h, "change@test.example", "a-long-enough-password"), http.StatusTooManyRequests)

		// The next window: this device's session goes on, the other refreshes.
		clock.advance(10 * time.Minute)
		next := expect(t, refreshGrant(h, str(tok, "refresh_token")), http.StatusOK)
		bearer = "Bearer " + str(next, "access_token")
		other := expect(t, refreshGrant(h, otherDevice), http.StatusOK)
		clock.advance(5 * time.Minute)
		expect(t, change("a-long-enough-password", "a-brand-new-passphrase"), http.StatusNoContent)
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: bearer}), http.StatusUnauthorized)
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: "Bearer " + str(other, "access_token")}), http.StatusUnauthorized)
		oauthErrorOf(t, refreshGrant(h, str(other, "refresh_token")), http.StatusBadRequest, "invalid_grant")
		expect(t, passwordGrant(h, "change@test.example", "a-brand-new-passphrase"), http.StatusOK)

		events := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?limit=100&action=password_change_failed", bearer: h.fresh(auth.RoleAdmin)}), http.StatusOK))
		if len(events) != 10 || str(events[0], "resource_id") != "change@test.example" {
			t.Fatalf("%d failed password changes audited, want 10", len(events))
		}
	})
}

// A candidate's own sittings: dates and places, and the grades a jury has not
// deliberated on hidden, as on the transcript.
func TestMySittings(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, bearer := h.as(auth.RoleAdmin), h.as(auth.RoleCandidate)
		cand := h.ownCandidate()
		e1 := h.sit(cand, "E1", "2019-09-02T09:00:00Z", 14)
		e2 := str(expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-09-03T09:00:00Z"), http.StatusCreated), "id")
		expect(t, recordResult(h, admin, e2, map[string]any{"absent": true}), http.StatusOK)
		e3 := str(expect(t, schedule(h, admin, cand, "E3", sitePierreBayle, "2030-01-07T09:00:00Z"), http.StatusCreated), "id")
		h.sit(h.candidate(map[string]any{"first_name": "Autre"}), "E1", "2019-09-02T10:00:00Z", 12)

		list := func(query string) map[string]any {
			return expect(t, h.do(req{method: "GET", path: "/v1/me/sittings" + query, bearer: bearer}), http.StatusOK)
		}
		got := items(list(""))
		if len(got) != 3 || str(got[0], "id") != e1 || str(got[1], "id") != e2 || str(got[2], "id") != e3 {
			t.Fatalf("sittings: %v", got)
		}
		place := got[0]["place"].(map[string]any)
		if str(place, "training_site_id") != sitePierreBayle || str(place, "name") == "" || str(place["address"].(map[string]any), "city") == "" {
			t.Fatalf("place: %v", place)
		}
		if str(got[0], "status") != "graded" || got[0]["result_hidden"] != true || got[0]["grade"] != nil {
			t.Fatalf("a grade no jury deliberated on: %v", got[0])
		}
		if str(got[1], "status") != "absent" || got[1]["absent"] != true || got[1]["result_hidden"] != false {
			t.Fatalf("an absence: %v", got[1])
		}
		if str(got[2], "status") != "scheduled" || str(got[2]["place"].(map[string]any), "training_site_id") != sitePierreBayle || got[2]["result_hidden"] != false {
			t.Fatalf("a sitting to come: %v", got[2])
		}
		page := list("?limit=2")
		if len(items(page)) != 2 || page["next_cursor"] == nil || len(items(list("?limit=2&cursor="+str(page, "next_cursor")))) != 1 {
			t.Fatalf("pages: %v", page)
		}

		// Once a jury has deliberated on the candidate, the grade shows.
		h.deliberate(cand, "2019-10-01")
		got = items(list(""))
		if got[0]["result_hidden"] != false || got[0]["grade"] != float64(14) {
			t.Fatalf("after the deliberation: %v", got[0])
		}
	})
}

// An administrator issues a one-time password reset: it works once, within 24
// hours, for an active account, and ends the account's sessions.
func TestPasswordReset(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		admin := h.as(auth.RoleAdmin)
		id := newAccount(t, h, map[string]any{"email": "forgot@test.example", "role": "director", "password": "a-long-enough-password"})
		session := expect(t, passwordGrant(h, "forgot@test.example", "a-long-enough-password"), http.StatusOK)
		issue := func() map[string]any {
			return expect(t, h.do(req{method: "POST", path: "/v1/users/" + id + "/password-reset", bearer: admin}), http.StatusCreated)
		}
		use := func(token, password string) response {
			return h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]any{"reset_token": token, "new_password": password}})
		}
		first := issue()
		if str(first, "user_id") != id || !strings.HasPrefix(str(first, "reset_token"), "pr_") || str(first, "expires_at") != "2026-11-28T10:00:30Z" {
			t.Fatalf("issued: %v", first)
		}
		second := issue()
		// A new reset voids the previous one.
		if p := expect(t, use(str(first, "reset_token"), "a-brand-new-passphrase"), http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "[/reset_token]" {
			t.Fatalf("the voided reset: %v", p)
		}
		// A weak password is refused, and the token still works after.
		if p := expect(t, use(str(second, "reset_token"), "forgot@test.example"), http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "[/new_password]" {
			t.Fatalf("weak: %v", p)
		}
		clock.advance(time.Hour)
		admin = h.fresh(auth.RoleAdmin)
		expect(t, use(str(second, "reset_token"), "a-brand-new-passphrase"), http.StatusNoContent)
		expect(t, use(str(second, "reset_token"), "yet-another-passphrase"), http.StatusUnprocessableEntity)
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: "Bearer " + str(session, "access_token")}), http.StatusUnauthorized)
		oauthErrorOf(t, refreshGrant(h, str(session, "refresh_token")), http.StatusBadRequest, "invalid_grant")
		expect(t, passwordGrant(h, "forgot@test.example", "a-brand-new-passphrase"), http.StatusOK)

		// Expired after 24 hours.
		late := issue()
		clock.advance(24 * time.Hour)
		admin = h.fresh(auth.RoleAdmin)
		expect(t, use(str(late, "reset_token"), "yet-another-passphrase"), http.StatusUnprocessableEntity)
		expect(t, use("pr_never-issued", "yet-another-passphrase"), http.StatusUnprocessableEntity)

		// Not for a deactivated account, nor for nobody.
		expect(t, h.do(req{method: "DELETE", path: "/v1/users/" + id, bearer: admin, headers: map[string]string{"If-Match": "*"}}), http.StatusOK)
		if p := expect(t, h.do(req{method: "POST", path: "/v1/users/" + id + "/password-reset", bearer: admin}), http.StatusConflict); str(p, "code") != "account_inactive" {
			t.Fatalf("reset of a deactivated account: %v", p)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/users/" + nowhere.site + "/password-reset", bearer: admin}), http.StatusNotFound)

		var actions []string
		trail := h.do(req{method: "GET", path: "/v1/audit-events?limit=100&resource_id=" + id, bearer: admin})
		for _, e := range items(expect(t, trail, http.StatusOK)) {
			actions = append(actions, str(e, "action"))
		}
		if !slices.Contains(actions, "issue_password_reset") || !slices.Contains(actions, "reset_password") {
			t.Fatalf("audited: %v", actions)
		}
		for _, r := range []map[string]any{first, second, late} {
			if bytes.Contains(trail.raw, []byte(str(r, "reset_token"))) {
				t.Fatal("the audit trail holds a reset token")
			}
		}
	})
}

// The public reset endpoint is limited per address.
func TestPasswordResetIsRateLimited(t *testing.T) {
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), newClock().now)
	codes := map[int]int{}
	for i := range 12 {
		res := h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]any{"reset_token": fmt.Sprintf("pr_guess%d", i), "new_password": "a-brand-new-passphrase"}})
		codes[res.code]++
	}
	if codes[http.StatusUnprocessableEntity] != 10 || codes[http.StatusTooManyRequests] != 2 {
		t.Fatalf("statuses: %v, want 10 × 422 then 2 × 429", codes)
	}
}

// Reactivating an account: its access tokens issued before the deactivation stay
// refused; it signs in again.
func TestReactivateUser(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		admin := h.as(auth.RoleAdmin)
		id := newAccount(t, h, map[string]any{"email": "back@test.example", "role": "director", "password": "a-long-enough-password"})
		old := "Bearer " + str(expect(t, passwordGrant(h, "back@test.example", "a-long-enough-password"), http.StatusOK), "access_token")
		reactivate := func(ifMatch string) response {
			r := req{method: "POST", path: "/v1/users/" + id + "/reactivation", bearer: admin}
			if ifMatch != "" {
				r.headers = map[string]string{"If-Match": ifMatch}
			}
			return h.do(r)
		}
		if p := expect(t, reactivate(`"1"`), http.StatusConflict); str(p, "code") != "account_active" {
			t.Fatalf("an active account: %v", p)
		}
		expect(t, h.do(req{method: "DELETE", path: "/v1/users/" + id, bearer: admin, headers: map[string]string{"If-Match": `"1"`}}), http.StatusOK)
		expect(t, reactivate(""), http.StatusPreconditionRequired)
		expect(t, reactivate(`"1"`), http.StatusPreconditionFailed)
		clock.advance(time.Minute)
		res := reactivate(`"2"`)
		u := expect(t, res, http.StatusOK)
		if u["active"] != true || u["version"] != float64(3) || res.hdr.Get("ETag") != `"3"` {
			t.Fatalf("reactivated: %v", u)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/me", bearer: old}), http.StatusUnauthorized)
		expect(t, passwordGrant(h, "back@test.example", "a-long-enough-password"), http.StatusOK)
		expect(t, h.do(req{method: "POST", path: "/v1/users/" + nowhere.site + "/reactivation", bearer: admin, headers: map[string]string{"If-Match": "*"}}), http.StatusNotFound)
	})
}

// The audit trail's filters: action, and a time window.
func TestAuditFilters(t *testing.T) {
	forEachDialectAt(t, func(t *testing.T, h *harness, clock *stoppedClock) {
		newAccount(t, h, map[string]any{"email": "one@audit.example", "role": "director", "password": "a-long-enough-password"})
		clock.advance(time.Hour)
		admin := h.fresh(auth.RoleAdmin)
		expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{
			"email": "two@audit.example", "role": "director", "password": "a-long-enough-password"}}), http.StatusCreated)
		passwordGrant(h, "two@audit.example", "not-the-password")
		list := func(query string) []map[string]any {
			return items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?limit=100&" + query, bearer: admin}), http.StatusOK))
		}
		// The admin's account, then one, an hour later two.
		if got := list("action=create&resource_type=user"); len(got) != 3 {
			t.Fatalf("creations: %v", got)
		}
		if got := list("action=create&resource_type=user&occurred_from=2026-11-27T10:30:00Z"); len(got) != 1 || str(got[0]["changes"].(map[string]any), "email") != "two@audit.example" {
			t.Fatalf("creations after: %v", got)
		}
		if got := list("action=create&resource_type=user&occurred_to=2026-11-27T10:30:00Z"); len(got) != 2 {
			t.Fatalf("creations before: %v", got)
		}
		if got := list("action=login_failed"); len(got) != 1 || str(got[0], "resource_id") != "two@audit.example" {
			t.Fatalf("failed logins: %v", got)
		}
		if got := list("occurred_from=2026-11-27T12:00:00Z"); len(got) != 0 {
			t.Fatalf("after the last: %v", got)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/audit-events?occurred_from=yesterday", bearer: admin}), http.StatusBadRequest)
	})
}

// Every operation of accounts, called by every role, by partner applications (of
// site A, with every scope and with none) and by nobody: the roles x-roles lists
// get their answer, the others 403, and nobody 401 unless the operation is public.
func TestAccountOperationsByRole(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		target := newAccount(t, h, map[string]any{"email": "target@roles.example", "role": "director", "password": "a-long-enough-password"})
		client := str(expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, body: map[string]any{
			"name": "Cible", "scopes": []string{"results:read"}}}), http.StatusCreated), "id")
		callers := map[string]string{"anonymous": "", "partner": h.partner(siteMontpellier, service.Scopes...), "partner without scopes": h.partner(siteMontpellier)}
		for _, role := range roles {
			callers[string(role)] = h.as(role)
		}
		people := func(status int) map[string]int {
			return map[string]int{"admin": status, "director": status, "site_staff": status, "jury_member": status, "candidate": status}
		}
		everyone := func(status int) map[string]int {
			m := people(status)
			m["partner"], m["partner without scopes"], m["anonymous"] = status, status, status
			return m
		}
		stale := map[string]string{"If-Match": `"999"`}
		ops := []struct {
			r       req
			allowed map[string]int
		}{
			{req{method: "GET", path: "/v1/me"}, func() map[string]int {
				m := people(http.StatusOK)
				m["partner"], m["partner without scopes"] = http.StatusOK, http.StatusOK
				return m
			}()},
			{req{method: "POST", path: "/v1/me/password", body: map[string]any{"current_password": "not-the-password", "new_password": "a-brand-new-passphrase"}},
				people(http.StatusUnprocessableEntity)},
			{req{method: "GET", path: "/v1/me/sittings"}, map[string]int{"candidate": http.StatusOK}},
			{req{method: "GET", path: "/v1/api-clients"}, map[string]int{"admin": http.StatusOK}},
			{req{method: "POST", path: "/v1/api-clients", body: map[string]any{"name": "Nouveau", "scopes": []string{"results:read"}}}, map[string]int{"admin": http.StatusCreated}},
			{req{method: "GET", path: "/v1/api-clients/" + client}, map[string]int{"admin": http.StatusOK}},
			{req{method: "PATCH", path: "/v1/api-clients/" + client, contentType: "application/merge-patch+json", body: `{"name":"Autre"}`, headers: stale},
				map[string]int{"admin": http.StatusPreconditionFailed}},
			{req{method: "DELETE", path: "/v1/api-clients/" + client, headers: stale}, map[string]int{"admin": http.StatusPreconditionFailed}},
			{req{method: "POST", path: "/v1/api-clients/" + client + "/secret", headers: stale}, map[string]int{"admin": http.StatusPreconditionFailed}},
			{req{method: "POST", path: "/v1/users/" + target + "/reactivation", headers: stale}, map[string]int{"admin": http.StatusPreconditionFailed}},
			{req{method: "POST", path: "/v1/users/" + target + "/password-reset"}, map[string]int{"admin": http.StatusCreated}},
			{req{method: "GET", path: "/v1/audit-events?action=create"}, map[string]int{"admin": http.StatusOK}},
			{req{method: "POST", path: "/v1/auth/revoke", contentType: "application/x-www-form-urlencoded", body: "token=rt_none"}, everyone(http.StatusOK)},
			{req{method: "POST", path: "/v1/auth/password-reset", body: map[string]any{"reset_token": "pr_none", "new_password": "a-brand-new-passphrase"}},
				everyone(http.StatusUnprocessableEntity)},
		}
		for _, op := range ops {
			for caller, bearer := range callers {
				want, ok := op.allowed[caller]
				switch {
				case ok:
				case caller == "anonymous":
					want = http.StatusUnauthorized
				default:
					want = http.StatusForbidden
				}
				r := op.r
				r.bearer = bearer
				if res := h.do(r); res.code != want {
					t.Errorf("%s %s as %s: %d, want %d: %s", r.method, r.path, caller, res.code, want, res.raw)
				}
			}
		}
	})
}

// The credentials of accounts never reach the log or the audit trail: client
// secrets, refresh tokens, reset tokens, and the passwords a change or a reset
// carries.
func TestAccountSecretsStayOutOfLogs(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			h := newLoggedHarness(t, d, []byte("log-test-signing-key-0f1e2d3c4b5a69788796a5b4"), &out)
			const (
				adminPassword   = "Orchid-Velvet-Canyon-4821"
				changedPassword = "Indigo-Glacier-Harbor-3408"
				resetPassword   = "Saffron-Tundra-Beacon-5512"
				wrongPassword   = "Quartz-Meadow-Lantern-9373"
			)
			if _, err := h.svc.CreateUser(adminContext(), service.UserInput{Email: "root@logs.example", Role: auth.RoleAdmin, Password: adminPassword}); err != nil {
				t.Fatal(err)
			}
			secrets := map[string]string{}
			tok := expect(t, passwordGrant(h, "root@logs.example", adminPassword), http.StatusOK)
			bearer := "Bearer " + str(tok, "access_token")
			secrets["a refresh token"] = str(tok, "refresh_token")
			next := expect(t, refreshGrant(h, str(tok, "refresh_token")), http.StatusOK)
			secrets["a rotated refresh token"] = str(next, "refresh_token")
			bearer = "Bearer " + str(next, "access_token")
			refreshGrant(h, str(tok, "refresh_token")) // reused: the family is revoked

			c := expect(t, h.do(req{method: "POST", path: "/v1/api-clients", bearer: bearer, body: map[string]any{
				"name": "Journal", "scopes": []string{"results:read"}}}), http.StatusCreated)
			secrets["a client secret"] = str(c, "client_secret")
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(str(c, "client_id")+":"+str(c, "client_secret")))
			secrets["a client's Basic credentials"] = basic[len("Basic "):]
			r := tokenRequest("grant_type=client_credentials")
			r.headers = map[string]string{"Authorization": basic}
			secrets["a partner's access token"] = str(expect(t, h.do(r), http.StatusOK), "access_token")
			h.do(tokenRequest("grant_type=client_credentials&client_id=" + str(c, "client_id") + "&client_secret=" + url.QueryEscape(str(c, "client_secret")+"x")))
			rotated := expect(t, h.do(req{method: "POST", path: "/v1/api-clients/" + str(c, "id") + "/secret", bearer: bearer,
				headers: map[string]string{"If-Match": "*"}}), http.StatusOK)
			secrets["a rotated client secret"] = str(rotated, "client_secret")

			staff := newAccount(t, h, map[string]any{"email": "staff@logs.example", "role": "director", "password": adminPassword + "!"})
			own := "Bearer " + str(expect(t, passwordGrant(h, "staff@logs.example", adminPassword+"!"), http.StatusOK), "access_token")
			h.do(req{method: "POST", path: "/v1/me/password", bearer: own, body: map[string]any{"current_password": wrongPassword, "new_password": changedPassword}})
			expect(t, h.do(req{method: "POST", path: "/v1/me/password", bearer: own,
				body: map[string]any{"current_password": adminPassword + "!", "new_password": changedPassword}}), http.StatusNoContent)
			reset := expect(t, h.do(req{method: "POST", path: "/v1/users/" + staff + "/password-reset", bearer: bearer}), http.StatusCreated)
			secrets["a reset token"] = str(reset, "reset_token")
			expect(t, h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]any{
				"reset_token": str(reset, "reset_token"), "new_password": resetPassword}}), http.StatusNoContent)
			expect(t, h.do(req{method: "POST", path: "/v1/auth/revoke", contentType: "application/x-www-form-urlencoded",
				body: "token=" + url.QueryEscape(secrets["a rotated refresh token"])}), http.StatusOK)
			h.do(req{method: "GET", path: "/v1/me?refresh_token=" + url.QueryEscape(secrets["a rotated refresh token"]) + "&client_secret=" + url.QueryEscape(secrets["a client secret"])})
			audit := expect(t, h.do(req{method: "GET", path: "/v1/audit-events?limit=100", bearer: bearer}), http.StatusOK)
			trail, _ := json.Marshal(audit)

			for _, p := range []string{adminPassword, changedPassword, resetPassword, wrongPassword} {
				secrets["the password "+p] = p
			}
			log := out.String()
			for name, s := range secrets {
				for _, form := range []string{s, url.QueryEscape(s)} {
					if strings.Contains(log, form) {
						t.Errorf("the log holds %s", name)
					}
					if bytes.Contains(trail, []byte(form)) {
						t.Errorf("the audit trail holds %s", name)
					}
				}
			}
			if t.Failed() {
				t.Logf("the log:\n%s", log)
			}
		})
	}
}
