package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/ratelimit"
)

// ErrInvalidGrant is a login with a wrong email or password, or a deactivated account.
var ErrInvalidGrant = errors.New("invalid username or password")

// ErrUnsupportedGrant is a grant type the token endpoint does not serve.
var ErrUnsupportedGrant = errors.New("unsupported grant type")

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   int
	Scope       string
}

// FailedLogins limits password guesses against one account, whatever the addresses
// they come from (behind a proxy, or from many machines).
var FailedLogins = ratelimit.Policy{Name: "failed-logins", Limit: 10, Window: 15 * time.Minute}

// IssueTokenForPassword runs the OAuth2 password grant. Failed attempts are counted
// per account (FailedLogins) and audited with the caller's address.
func (s *Service) IssueTokenForPassword(ctx context.Context, email, password string) (Token, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if s.limiter != nil {
		d, err := s.limiter.Check(ctx, FailedLogins, email)
		if err != nil {
			return Token{}, err
		}
		if !d.Allowed {
			s.probe(ctx, "login_refused", "account", email)
			return Token{}, &ratelimit.RefusedError{Decision: d}
		}
	}
	var u User
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		u, err = tx.UserByEmail(email)
		return err
	})
	found := err == nil
	if err != nil && !errors.Is(err, certification.ErrNotFound) {
		return Token{}, err
	}
	if !auth.CheckPasswordOrDummy(u.PasswordHash, found, password) || !u.Active {
		if s.limiter != nil {
			if err := s.limiter.Add(ctx, FailedLogins, email); err != nil {
				return Token{}, err
			}
		}
		s.probe(ctx, "login_failed", "account", email)
		return Token{}, ErrInvalidGrant
	}
	tok, err := s.tokens.Issue(u.ID, u.Role)
	if err != nil {
		return Token{}, err
	}
	return Token{AccessToken: tok, ExpiresIn: int(s.tokens.TTL().Seconds()), Scope: string(u.Role)}, nil
}

// Authenticate turns a bearer token into the principal of the request, reading the
// account afresh: a deactivated account is refused at once.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	claims, ok := s.verified.Get(token)
	if !ok {
		var err error
		if claims, err = s.tokens.Parse(token); err != nil {
			return auth.Principal{}, err
		}
		s.verified.Add(token, claims)
	}
	if !s.tokens.Now().Before(claims.ExpiresAt) {
		return auth.Principal{}, fmt.Errorf("%w: expired", auth.ErrBadToken)
	}
	sub := claims.Subject
	if p, ok := s.principals.Get(sub); ok {
		return p, nil
	}
	u, err := s.GetUser(ctx, sub)
	if errors.Is(err, certification.ErrNotFound) || (err == nil && !u.Active) {
		return auth.Principal{}, auth.ErrBadToken
	}
	if err != nil {
		return auth.Principal{}, err
	}
	p := auth.Principal{Subject: u.ID, Role: u.Role, TrainingSiteID: u.TrainingSiteID,
		JuryMemberID: u.JuryMemberID, CandidateID: u.CandidateID}
	s.principals.Add(sub, p)
	return p, nil
}

// forgetPrincipal evicts an account whose role, binding or state is changing, before
// and after the change commits, so that this instance never serves it from the
// cache once the change is acknowledged.
func (s *Service) forgetPrincipal(id string) func() {
	s.principals.Remove(id)
	return func() { s.principals.Remove(id) }
}

func sortViolations(vs []certification.Violation) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Field < vs[j].Field })
}
