package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
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
