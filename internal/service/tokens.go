package service

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
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

// IssueTokenForPassword runs the OAuth2 password grant.
func (s *Service) IssueTokenForPassword(ctx context.Context, email, password string) (Token, error) {
	var u User
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		u, err = tx.UserByEmail(strings.ToLower(strings.TrimSpace(email)))
		return err
	})
	found := err == nil
	if err != nil && !errors.Is(err, certification.ErrNotFound) {
		return Token{}, err
	}
	if !auth.CheckPasswordOrDummy(u.PasswordHash, found, password) || !u.Active {
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
	sub, err := s.tokens.Verify(token)
	if err != nil {
		return auth.Principal{}, err
	}
	u, err := s.GetUser(ctx, sub)
	if errors.Is(err, certification.ErrNotFound) || (err == nil && !u.Active) {
		return auth.Principal{}, auth.ErrBadToken
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Subject: u.ID, Role: u.Role, TrainingSiteID: u.TrainingSiteID,
		JuryMemberID: u.JuryMemberID, CandidateID: u.CandidateID}, nil
}

func sortViolations(vs []certification.Violation) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Field < vs[j].Field })
}
