package auth_test

import (
	"context"
	"errors"
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
	p := auth.Principal{Subject: "u", Role: auth.RoleSiteStaff, TrainingSiteID: "s"}
	got, ok := auth.PrincipalFrom(auth.WithPrincipal(context.Background(), p))
	if !ok || got != p {
		t.Fatalf("got %+v", got)
	}
}
