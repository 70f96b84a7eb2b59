package store_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
)

// A refresh token lives as long as configured; once expired it is refused, and the
// hourly purge forgets it and the expired password resets, not the live ones.
func TestRefreshTokensExpireAndArePurged(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		tokens, err := auth.NewTokens(auth.NewKey(), time.Minute, clock)
		if err != nil {
			t.Fatal(err)
		}
		svc := service.New(s, tokens, nil, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), service.RefreshTokenTTL(time.Hour))
		ctx := t.Context()
		u, err := svc.CreateUser(adminCtx(), service.UserInput{Email: "ttl@store.example", Role: auth.RoleDirector, Password: "a-long-enough-password"})
		if err != nil {
			t.Fatal(err)
		}
		expiring, err := svc.IssueTokenForPassword(ctx, "ttl@store.example", "a-long-enough-password")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.IssuePasswordReset(adminCtx(), u.ID); err != nil {
			t.Fatal(err)
		}
		now = now.Add(59 * time.Minute)
		live, err := svc.IssueTokenForPassword(ctx, "ttl@store.example", "a-long-enough-password")
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		if _, err := svc.RefreshSession(ctx, expiring.RefreshToken); !errors.Is(err, service.ErrInvalidGrant) {
			t.Fatalf("a refresh token past its hour: %v", err)
		}
		count := func(table string) (n int64) {
			if err := s.DB().Table(table).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n, err := s.PurgeSessions(ctx, now.Add(time.Second)); err != nil || n != 1 || count("refresh_tokens") != 1 || count("password_resets") != 1 {
			t.Fatalf("purged %d (%v): %d refresh tokens, %d resets left", n, err, count("refresh_tokens"), count("password_resets"))
		}
		now = now.Add(24 * time.Hour)
		if n, err := s.PurgeSessions(ctx, now); err != nil || n != 2 || count("password_resets") != 0 {
			t.Fatalf("a day later, purged %d (%v)", n, err)
		}
		if _, err := svc.RefreshSession(ctx, live.RefreshToken); !errors.Is(err, service.ErrInvalidGrant) {
			t.Fatalf("a purged refresh token: %v", err)
		}
	})
}
