// Package auth owns who a caller is: the roles of the API, the principal a request
// carries in its context, password hashing and the signed access tokens.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// Role is what a caller may see and do (shared/API.md, "Roles").
type Role string

// The roles.
const (
	RoleAdmin      Role = "admin"
	RoleDirector   Role = "director"
	RoleSiteStaff  Role = "site_staff"
	RoleJuryMember Role = "jury_member"
	RoleCandidate  Role = "candidate"
	RolePartner    Role = "partner"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Subject        string // the user's (or partner client's) id
	Role           Role
	TrainingSiteID string // site_staff, and partners bound to a site
	JuryMemberID   string // jury_member
	CandidateID    string // candidate
	// Scopes are what a partner application may do (results:read...); none for people.
	Scopes []string
}

// HasScope says whether a partner's principal holds the scope.
func (p Principal) HasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries; the zero Principal when none.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// ErrBadToken is any token that is malformed, expired, or not signed by us.
var ErrBadToken = errors.New("invalid access token")

// Issuer is the iss claim of the tokens this service signs.
const Issuer = "certapi"

// Audience is the aud claim of the access tokens this service signs, and the one it
// requires of every token it accepts: a token signed with the same key for another
// purpose, or by another service that shares it, names another audience or none.
const Audience = "certapi"

// Tokens issues and verifies access tokens: JWTs signed with HMAC-SHA256. Only the
// subject travels in the token (with, for a partner application, its kind and the
// scopes its token request asked for); the role and bindings are read from the
// account or the application (cached briefly by the service, see
// service.PrincipalTTL), so that a deactivated account, a revoked application or a
// changed role takes effect without waiting for its tokens to expire.
type Tokens struct {
	key      []byte
	ttl      time.Duration
	issuer   string
	audience string
	now      func() time.Time
}

// NewTokens returns a token issuer; key must be at least 32 bytes.
func NewTokens(key []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("token signing key: %d bytes, at least 32 needed", len(key))
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: key, ttl: ttl, issuer: Issuer, audience: Audience, now: now}, nil
}

// TTL is how long an issued token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Kind is what a token's subject is: a person's account, or a partner application.
// A token says it in its kind claim, so that an application's id can never be taken
// for an account's.
type Kind string

// The kinds of subject.
const (
	KindUser   Kind = "user"
	KindClient Kind = "client"
)

// Grant is what a token is issued for.
type Grant struct {
	Subject string
	Kind    Kind // KindUser when empty
	Role    Role
	// Scopes are a partner application's, as its token request narrowed them.
	Scopes []string
	// After is the latest instant at which the subject's earlier tokens were ended
	// (a password changed, a secret rotated): the token is stamped as issued after
	// it, so that the check "issued at or before it: refused", which works to the
	// second, never refuses a token issued in that same second after the change.
	After time.Time
}

// Issue signs a token for the account subject, carrying role for clients that want
// to read it.
func (t *Tokens) Issue(subject string, role Role) (string, error) {
	return t.IssueGrant(Grant{Subject: subject, Role: role})
}

// IssueGrant signs a token for g.
func (t *Tokens) IssueGrant(g Grant) (string, error) {
	now := t.now()
	issued := now.Unix()
	if !g.After.IsZero() && issued <= g.After.Unix() {
		issued = g.After.Unix() + 1
	}
	claims := jwt.MapClaims{
		"iss":  t.issuer,
		"aud":  t.audience,
		"sub":  g.Subject,
		"role": string(g.Role),
		"iat":  issued,
		"nbf":  now.Unix(),
		"exp":  now.Add(t.ttl).Unix(),
	}
	if g.Kind == KindClient {
		claims["kind"] = string(KindClient)
		claims["scope"] = strings.Join(g.Scopes, " ")
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
}

// Claims are what a verified token says.
type Claims struct {
	Subject   string
	Kind      Kind
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Verify checks a token's signature, algorithm, issuer, audience and lifetime and
// returns its subject. The expiry and the audience are required; a not-before in the
// future is refused.
func (t *Tokens) Verify(token string) (string, error) {
	c, err := t.Parse(token)
	return c.Subject, err
}

// Parse verifies a token as Verify does and returns its claims.
func (t *Tokens) Parse(token string) (Claims, error) {
	// A token is base64url segments and dots, each segment spelt as the encoder
	// spells it (strict decoding): a lenient decoder skips line breaks and ignores
	// the unused low bits of a segment's last character, so that other spellings of
	// a valid token would verify too.
	for i := 0; i < len(token); i++ {
		if c := token[i]; c != '.' && c != '-' && c != '_' && (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return Claims{}, fmt.Errorf("%w: not base64url", ErrBadToken)
		}
	}
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithStrictDecoding(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	sub, err := parsed.Claims.GetSubject()
	if err != nil || sub == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrBadToken)
	}
	c := Claims{Subject: sub, Kind: KindUser}
	if m, ok := parsed.Claims.(jwt.MapClaims); ok {
		switch kind := m["kind"]; kind {
		case nil, string(KindUser):
		case string(KindClient):
			c.Kind = KindClient
			scope, _ := m["scope"].(string)
			c.Scopes = strings.Fields(scope)
		default:
			return Claims{}, fmt.Errorf("%w: unknown kind of subject", ErrBadToken)
		}
	}
	if exp, err := parsed.Claims.GetExpirationTime(); err == nil && exp != nil {
		c.ExpiresAt = exp.Time
	}
	if iat, err := parsed.Claims.GetIssuedAt(); err == nil && iat != nil {
		c.IssuedAt = iat.Time
	}
	return c, nil
}

// Now is the clock tokens are judged by.
func (t *Tokens) Now() time.Time { return t.now() }

// NewKey returns a fresh random signing key.
func NewKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash is compared against when an account does not exist, so that a login
// takes as long for an unknown email as for a wrong password.
var dummyHash, _ = HashPassword("timing-equaliser-not-a-password")

// CheckPasswordOrDummy compares against hash, or against a dummy hash when the
// account was not found; it always costs one bcrypt comparison.
func CheckPasswordOrDummy(hash string, found bool, password string) bool {
	if !found {
		_ = CheckPassword(dummyHash, password)
		return false
	}
	return CheckPassword(hash, password)
}
