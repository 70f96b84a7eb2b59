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

// ErrInvalidGrant is a login with a wrong email or password, or a deactivated
// account; or a refresh token unknown, used, revoked or expired.
var ErrInvalidGrant = errors.New("invalid username or password")

// Token is an issued access token, and for a person the refresh token of the session.
type Token struct {
	AccessToken  string
	ExpiresIn    int
	Scope        string
	RefreshToken string
}

// FailedLogins limits password guesses against one account, whatever the addresses
// they come from (behind a proxy, or from many machines).
var FailedLogins = ratelimit.Policy{Name: "failed-logins", Limit: 10, Window: 15 * time.Minute}

// IssueTokenForPassword runs the OAuth2 password grant and opens a session: an
// access token and the first refresh token of a new family. Failed attempts are
// counted per account (FailedLogins) and audited with the caller's address.
func (s *Service) IssueTokenForPassword(ctx context.Context, email, password string) (Token, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if err := s.checkFailedLogins(ctx, email); err != nil {
		return Token{}, err
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
		return Token{}, s.failedLogin(ctx, "login_failed", email, ErrInvalidGrant)
	}
	var tok Token
	err = s.store.Write(ctx, func(tx Tx) error {
		// Locked, and checked again: a password changed or an account deactivated
		// since it was read revokes the sessions, this one included.
		locked, err := tx.LockUser(u.ID)
		if err != nil {
			return err
		}
		if locked.PasswordHash != u.PasswordHash || !locked.Active {
			return ErrInvalidGrant
		}
		tok, err = s.openSession(tx, locked, "")
		return err
	})
	return tok, err
}

// account is what the principal cache keeps of a token's subject.
type account struct {
	principal auth.Principal
	// endedAt is when the subject's earlier tokens stopped working (a password
	// changed or reset, a deactivation, a secret rotated): a token issued at or
	// before it is refused.
	endedAt time.Time
}

// Authenticate turns a bearer token into the principal of the request, reading the
// account or the partner application afresh (within PrincipalTTL): a deactivated
// account, a revoked application, and a token issued before the account's
// sessions were ended or the application's secret rotated are refused. A partner's
// principal holds the scopes its token asked for that the application still holds.
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
	key := claims.Subject
	if claims.Kind == auth.KindClient {
		key = clientKey(claims.Subject)
	}
	a, ok := s.principals.Get(key)
	if !ok {
		var err error
		if a, err = s.accountOf(ctx, claims); err != nil {
			return auth.Principal{}, err
		}
		s.principals.Add(key, a)
	}
	if !a.endedAt.IsZero() && !claims.IssuedAt.After(a.endedAt) {
		return auth.Principal{}, fmt.Errorf("%w: issued before the sessions ended", auth.ErrBadToken)
	}
	p := a.principal
	if claims.Kind == auth.KindClient {
		p.Scopes = make([]string, 0, len(claims.Scopes))
		for _, sc := range claims.Scopes {
			if a.principal.HasScope(sc) {
				p.Scopes = append(p.Scopes, sc)
			}
		}
	}
	return p, nil
}

// accountOf reads the account or the application a token names; one that does not
// exist, or no longer works, is a bad token.
func (s *Service) accountOf(ctx context.Context, claims auth.Claims) (account, error) {
	if claims.Kind == auth.KindClient {
		c, err := s.GetAPIClient(ctx, claims.Subject)
		if errors.Is(err, certification.ErrNotFound) || (err == nil && !c.Active) {
			return account{}, auth.ErrBadToken
		}
		if err != nil {
			return account{}, err
		}
		return account{principal: auth.Principal{Subject: c.ID, Role: auth.RolePartner, TrainingSiteID: c.TrainingSiteID, Scopes: c.Scopes},
			endedAt: c.SecretRotatedAt}, nil
	}
	u, err := s.GetUser(ctx, claims.Subject)
	if errors.Is(err, certification.ErrNotFound) || (err == nil && !u.Active) {
		return account{}, auth.ErrBadToken
	}
	if err != nil {
		return account{}, err
	}
	a := account{principal: auth.Principal{Subject: u.ID, Role: u.Role, TrainingSiteID: u.TrainingSiteID,
		JuryMemberID: u.JuryMemberID, CandidateID: u.CandidateID}}
	if u.SessionsValidAfter != nil {
		a.endedAt = *u.SessionsValidAfter
	}
	return a, nil
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
