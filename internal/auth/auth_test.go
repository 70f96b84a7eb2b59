package auth_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/golang-jwt/jwt/v5"
)

func TestTokensRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Issue("user-1", auth.RoleDirector)
	if err != nil {
		t.Fatal(err)
	}
	if sub, err := tokens.Verify(tok); err != nil || sub != "user-1" {
		t.Fatalf("verify: %q %v", sub, err)
	}
	now = now.Add(16 * time.Minute)
	if _, err := tokens.Verify(tok); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("an expired token: %v", err)
	}
	other, _ := auth.NewTokens([]byte(strings.Repeat("o", 32)), time.Minute, clock)
	tok2, _ := other.Issue("user-1", auth.RoleAdmin)
	if _, err := tokens.Verify(tok2); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("a token of another key: %v", err)
	}
	if _, err := auth.NewTokens([]byte("short"), time.Minute, nil); err == nil {
		t.Fatal("a short key is accepted")
	}
}

// The tokens name their audience, and Verify accepts no token that does not name
// it: signed with the right key, issuer and lifetime, a token for another audience,
// or for none, is still refused.
func TestTokensAudience(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("k", 32))
	tokens, err := auth.NewTokens(key, 15*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Issue("user-1", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if aud, err := parsed.Claims.GetAudience(); err != nil || len(aud) != 1 || aud[0] != auth.Audience {
		t.Fatalf("issued aud %v (%v), want [%s]", aud, err, auth.Audience)
	}
	if iss, _ := parsed.Claims.GetIssuer(); iss != auth.Issuer {
		t.Fatalf("issued iss %q, want %q", iss, auth.Issuer)
	}

	sign := func(aud any) string {
		claims := jwt.MapClaims{"iss": auth.Issuer, "sub": "user-1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if aud != nil {
			claims["aud"] = aud
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, c := range []struct {
		name string
		aud  any
		ok   bool
	}{
		{"the audience as a string", auth.Audience, true},
		{"the audience among others", []string{"reporting", auth.Audience}, true},
		{"no audience", nil, false},
		{"an empty audience", "", false},
		{"an empty list", []string{}, false},
		{"another audience", "reporting", false},
		{"other audiences only", []string{"reporting", "billing"}, false},
		{"a prefix of the audience", auth.Audience[:len(auth.Audience)-1], false},
		{"the audience with another case", strings.ToUpper(auth.Audience), false},
	} {
		sub, err := tokens.Verify(sign(c.aud))
		switch {
		case c.ok && (err != nil || sub != "user-1"):
			t.Errorf("%s: refused: %q %v", c.name, sub, err)
		case !c.ok && !errors.Is(err, auth.ErrBadToken):
			t.Errorf("%s: accepted (%q, %v)", c.name, sub, err)
		}
	}
}

func TestPasswords(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery")
	if err != nil || strings.Contains(h, "correct") {
		t.Fatalf("hash: %q %v", h, err)
	}
	if !auth.CheckPassword(h, "correct horse battery") || auth.CheckPassword(h, "wrong") {
		t.Fatal("check")
	}
	// An unknown account never authenticates, not even with the password of the
	// dummy hash it is checked against to take the same time.
	for _, pw := range []string{"anything", "timing-equaliser-not-a-password"} {
		if auth.CheckPasswordOrDummy("", false, pw) {
			t.Fatalf("an unknown account authenticates with %q", pw)
		}
	}
	if !auth.CheckPasswordOrDummy(h, true, "correct horse battery") || auth.CheckPasswordOrDummy(h, true, "wrong") {
		t.Fatal("a known account")
	}
}

func TestPrincipalInContext(t *testing.T) {
	if _, ok := auth.PrincipalFrom(context.Background()); ok {
		t.Fatal("a principal out of nowhere")
	}
	p := auth.Principal{Subject: "u", Role: auth.RoleSiteStaff, TrainingSiteID: "s", Scopes: []string{"results:read"}}
	got, ok := auth.PrincipalFrom(auth.WithPrincipal(context.Background(), p))
	if !ok || !reflect.DeepEqual(got, p) {
		t.Fatalf("got %+v", got)
	}
}

// A partner application's token says so, with its scopes; a person's says nothing
// of a kind, and a kind the service does not know is refused.
func TestTokenKinds(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("k", 32))
	tokens, err := auth.NewTokens(key, 15*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	client, err := tokens.IssueGrant(auth.Grant{Subject: "c1", Kind: auth.KindClient, Role: auth.RolePartner, Scopes: []string{"results:read", "statistics:read"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tokens.Parse(client)
	if err != nil || c.Kind != auth.KindClient || c.Subject != "c1" || !reflect.DeepEqual(c.Scopes, []string{"results:read", "statistics:read"}) {
		t.Fatalf("client token: %+v %v", c, err)
	}
	person, _ := tokens.Issue("u1", auth.RoleDirector)
	if p, err := tokens.Parse(person); err != nil || p.Kind != auth.KindUser || p.Scopes != nil {
		t.Fatalf("person's token: %+v %v", p, err)
	}
	sign := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := func(kind any) jwt.MapClaims {
		return jwt.MapClaims{"iss": auth.Issuer, "aud": auth.Audience, "sub": "x", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "kind": kind}
	}
	for _, kind := range []any{"robot", "", "CLIENT", 1, true} {
		if _, err := tokens.Parse(sign(base(kind))); !errors.Is(err, auth.ErrBadToken) {
			t.Errorf("kind %v: %v", kind, err)
		}
	}
	if p, err := tokens.Parse(sign(base("user"))); err != nil || p.Kind != auth.KindUser {
		t.Errorf("kind user: %+v %v", p, err)
	}
}

// A token issued in the second its subject's tokens were ended is stamped after
// that second, so that "issued at or before the end" refuses exactly the earlier
// ones; it is usable at once.
func TestGrantStampedAfterAnEnd(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 400_000_000, time.UTC)
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), 15*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		after time.Time
		want  int64
	}{
		{"no end", time.Time{}, now.Unix()},
		{"an end long before", now.Add(-time.Hour), now.Unix()},
		{"an end in the same second", now.Truncate(time.Second), now.Unix() + 1},
		{"an end a second ahead", now.Truncate(time.Second).Add(time.Second), now.Unix() + 2},
	} {
		tok, err := tokens.IssueGrant(auth.Grant{Subject: "u1", Role: auth.RoleDirector, After: c.after})
		if err != nil {
			t.Fatal(err)
		}
		claims, err := tokens.Parse(tok)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if claims.IssuedAt.Unix() != c.want {
			t.Errorf("%s: issued at %d, want %d", c.name, claims.IssuedAt.Unix(), c.want)
		}
	}
}
