package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/ratelimit"
)

// AccountsTx is what the accounts use cases read and write in a unit of work.
type AccountsTx interface {
	APIClients(p Page) ([]APIClient, error)
	APIClient(id string) (APIClient, error)
	APIClientByClientID(clientID string) (APIClient, error)
	LockAPIClient(id string) (APIClient, error)
	InsertAPIClient(c APIClient) error
	UpdateAPIClient(c APIClient) error

	// RefreshToken is the refresh token whose hash is hash; LockRefreshToken locks it.
	RefreshToken(hash string) (RefreshToken, error)
	LockRefreshToken(hash string) (RefreshToken, error)
	InsertRefreshToken(r RefreshToken) error
	MarkRefreshTokenUsed(id string, at time.Time) error
	// RevokeRefreshFamily revokes the tokens of a family not revoked yet, and says
	// how many.
	RevokeRefreshFamily(familyID string, at time.Time) (int, error)
	// RevokeRefreshTokensOf revokes every refresh token of an account not revoked
	// yet, and says how many.
	RevokeRefreshTokensOf(userID string, at time.Time) (int, error)

	// PasswordReset is the reset whose token hashes to hash; LockPasswordReset locks it.
	PasswordReset(hash string) (PasswordReset, error)
	LockPasswordReset(hash string) (PasswordReset, error)
	// PutPasswordReset records r as the account's one reset, replacing any other.
	PutPasswordReset(r PasswordReset) error
	DeletePasswordReset(userID string) error
}

// The scopes a partner application may hold.
const (
	ScopeResultsRead      = "results:read"
	ScopeCertificatesRead = "certificates:read"
	ScopeStatisticsRead   = "statistics:read"
	ScopeWebhooksManage   = "webhooks:manage"
)

// Scopes lists every scope, in the order they are shown.
var Scopes = []string{ScopeResultsRead, ScopeCertificatesRead, ScopeStatisticsRead, ScopeWebhooksManage}

// APIClient is a partner application: it authenticates with its client_id and a
// secret of which only a hash is kept, and acts within its scopes, on one training
// site's candidates when it is bound to one.
type APIClient struct {
	ID              string
	ClientID        string
	Name            string
	Scopes          []string
	TrainingSiteID  string
	SecretHash      string
	Active          bool
	RevokedAt       *time.Time
	SecretRotatedAt time.Time
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// APIClientInput is a partner application as created, or as a merge patch leaves
// it (the training site is chosen at creation only).
type APIClientInput struct {
	Name           string
	Scopes         []string
	TrainingSiteID string
}

// RefreshToken is one refresh token of a person's session. The tokens a session
// rotates through form its family: using one twice revokes the family.
type RefreshToken struct {
	ID        string
	FamilyID  string
	UserID    string
	Hash      string
	IssuedAt  time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

// PasswordReset is the one-time reset an administrator issued for an account.
type PasswordReset struct {
	UserID    string
	Hash      string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// IssuedPasswordReset is a reset as issued: its token is shown this once.
type IssuedPasswordReset struct {
	UserID    string
	Token     string
	ExpiresAt time.Time
}

// Errors of the token endpoint, as RFC 6749 §5.2 names them.
var (
	// ErrInvalidClient is a partner application that failed to authenticate: no
	// credentials, an unknown client_id, a wrong secret, a revoked application.
	ErrInvalidClient = errors.New("client authentication failed")
	// ErrInvalidScope is a scope the application does not hold, or no scope at all.
	ErrInvalidScope = errors.New("the requested scope is unknown or not granted to this application")
)

// DefaultRefreshTokenTTL is how long a refresh token lives unless configured.
const DefaultRefreshTokenTTL = 30 * 24 * time.Hour

// PasswordResetTTL is how long a password reset token works.
const PasswordResetTTL = 24 * time.Hour

// Option configures a Service.
type Option func(*Service)

// RefreshTokenTTL sets how long a refresh token lives.
func RefreshTokenTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.refreshTTL = d
		}
	}
}

// newSecret returns a random credential of 256 bits behind prefix, and its hash.
func newSecret(prefix string) (string, string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret := prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

// hashSecret is how credentials are kept: they are random and long, so SHA-256 is
// enough to make a leaked table useless.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// clientIDOf is the client_id of the application id: its UUID in hex behind cl_.
func clientIDOf(id string) string {
	return "cl_" + strings.ReplaceAll(id, "-", "")
}

// ListAPIClients lists the partner applications, oldest first.
func (s *Service) ListAPIClients(ctx context.Context, p Page) ([]APIClient, error) {
	return read(ctx, s, func(tx Tx) ([]APIClient, error) { return tx.APIClients(p) })
}

// GetAPIClient returns one partner application.
func (s *Service) GetAPIClient(ctx context.Context, id string) (APIClient, error) {
	return read(ctx, s, func(tx Tx) (APIClient, error) { return tx.APIClient(id) })
}

// NewAPIClient is a partner application just registered, with its secret, which
// is shown once and not kept.
type NewAPIClient struct {
	APIClient
	Secret string
}

// CreateAPIClient registers a partner application and returns it with its secret.
func (s *Service) CreateAPIClient(ctx context.Context, in APIClientInput) (NewAPIClient, error) {
	now := s.Now()
	id := newID()
	secret, hash := newSecret("cs_")
	c := APIClient{ID: id, ClientID: clientIDOf(id), Name: strings.TrimSpace(in.Name), Scopes: sortedScopes(in.Scopes),
		TrainingSiteID: in.TrainingSiteID, SecretHash: hash, Active: true, SecretRotatedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := checkAPIClient(c); err != nil {
		return NewAPIClient{}, err
	}
	err := s.store.Write(ctx, func(tx Tx) error {
		if c.TrainingSiteID != "" {
			if _, err := tx.TrainingSite(c.TrainingSiteID); errors.Is(err, certification.ErrNotFound) {
				return certification.Check([]certification.Violation{{Field: "/training_site_id", Message: "no such training site"}})
			} else if err != nil {
				return err
			}
		}
		if err := tx.InsertAPIClient(c); err != nil {
			return err
		}
		idempotency.Result(ctx, NewAPIClient{APIClient: c, Secret: secret})
		return s.audit(ctx, tx, "create", "api_client", c.ID, apiClientChanges(c))
	})
	if err != nil {
		return NewAPIClient{}, err
	}
	return NewAPIClient{APIClient: c, Secret: secret}, nil
}

// UpdateAPIClient renames a partner application or changes its scopes, if it is
// still at version expected. A scope taken away stops working at once, in the
// tokens already issued too.
func (s *Service) UpdateAPIClient(ctx context.Context, id string, expected int, in APIClientInput) (APIClient, error) {
	return s.changeAPIClient(ctx, id, expected, "update", func(c *APIClient) error {
		c.Name, c.Scopes = strings.TrimSpace(in.Name), sortedScopes(in.Scopes)
		return checkAPIClient(*c)
	})
}

// RevokeAPIClient turns a partner application off for good: its tokens stop working.
func (s *Service) RevokeAPIClient(ctx context.Context, id string, expected int) (APIClient, error) {
	return s.changeAPIClient(ctx, id, expected, "revoke", func(c *APIClient) error {
		at := s.Now()
		c.Active, c.RevokedAt = false, &at
		return nil
	})
}

// RotateAPIClientSecret gives a partner application a new secret, returned this
// once; the old secret, and the tokens obtained with it, stop working.
func (s *Service) RotateAPIClientSecret(ctx context.Context, id string, expected int) (APIClient, string, error) {
	secret, hash := newSecret("cs_")
	c, err := s.changeAPIClient(ctx, id, expected, "rotate_secret", func(c *APIClient) error {
		c.SecretHash, c.SecretRotatedAt = hash, nextEnd(s.Now(), &c.SecretRotatedAt)
		return nil
	})
	if err != nil {
		return APIClient{}, "", err
	}
	return c, secret, nil
}

// changeAPIClient locks an application, checks its version, applies change, saves
// and audits it; a revoked application no longer changes.
func (s *Service) changeAPIClient(ctx context.Context, id string, expected int, action string, change func(*APIClient) error) (APIClient, error) {
	defer s.forgetClient(id)()
	var c APIClient
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if c, err = tx.LockAPIClient(id); err != nil {
			return err
		}
		if !matches(c.Version, expected) {
			return certification.ErrStale
		}
		if !c.Active {
			return &certification.ConflictError{Code: "api_client_revoked", Message: "the application is revoked: register a new one"}
		}
		before := apiClientChanges(c)
		if err := change(&c); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt = s.Now()
		if err := tx.UpdateAPIClient(c); err != nil {
			return err
		}
		after := apiClientChanges(c)
		if action == "rotate_secret" {
			// What changed is the secret, which the audit trail never holds.
			after["secret_rotated_at"] = c.SecretRotatedAt
		}
		return s.audit(ctx, tx, action, "api_client", c.ID, changed(before, after))
	})
	return c, err
}

func checkAPIClient(c APIClient) error {
	var vs []certification.Violation
	if c.Name == "" {
		vs = append(vs, certification.Violation{Field: "/name", Message: "a name is required"})
	}
	if len(c.Scopes) == 0 {
		vs = append(vs, certification.Violation{Field: "/scopes", Message: "an application holds at least one scope"})
	}
	for i, sc := range c.Scopes {
		if !slices.Contains(Scopes, sc) {
			vs = append(vs, certification.Violation{Field: fmt.Sprintf("/scopes/%d", i), Message: "no such scope: " + sc})
		}
	}
	return certification.Check(vs)
}

// sortedScopes are scopes without repeats, in the order of Scopes (unknown ones
// last, for the check to name).
func sortedScopes(in []string) []string {
	out := make([]string, 0, len(in))
	for _, sc := range Scopes {
		if slices.Contains(in, sc) {
			out = append(out, sc)
		}
	}
	for _, sc := range in {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func apiClientChanges(c APIClient) map[string]any {
	return map[string]any{"client_id": c.ClientID, "name": c.Name, "scopes": c.Scopes,
		"training_site_id": c.TrainingSiteID, "active": c.Active}
}

// IssueTokenForClient runs the OAuth2 client credentials grant: the application
// authenticates with its secret and gets a token for the scopes it asks for among
// its own (all of them when scope is empty). A failed authentication is audited
// with the caller's address.
func (s *Service) IssueTokenForClient(ctx context.Context, clientID, secret, scope string) (Token, error) {
	var c APIClient
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.APIClientByClientID(clientID)
		return err
	})
	if err != nil && !errors.Is(err, certification.ErrNotFound) {
		return Token{}, err
	}
	// The comparison costs the same whether the application exists or not.
	want := c.SecretHash
	if want == "" {
		want = strings.Repeat("0", sha256.Size*2)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(want)) != 1 || err != nil || !c.Active {
		s.probe(ctx, "client_auth_failed", "api_client", clientID)
		return Token{}, ErrInvalidClient
	}
	granted := c.Scopes
	if requested := strings.Fields(scope); len(requested) > 0 {
		for _, sc := range requested {
			if !slices.Contains(c.Scopes, sc) {
				return Token{}, fmt.Errorf("%w: %s", ErrInvalidScope, sc)
			}
		}
		granted = sortedScopes(requested)
	}
	tok, err := s.tokens.IssueGrant(auth.Grant{Subject: c.ID, Kind: auth.KindClient, Role: auth.RolePartner,
		Scopes: granted, After: c.SecretRotatedAt})
	if err != nil {
		return Token{}, err
	}
	return Token{AccessToken: tok, ExpiresIn: int(s.tokens.TTL().Seconds()), Scope: strings.Join(granted, " ")}, nil
}

// forgetClient evicts an application whose scopes, secret or state are changing,
// as forgetPrincipal does for accounts.
func (s *Service) forgetClient(id string) func() {
	return s.forgetPrincipal(clientKey(id))
}

// clientKey is where the principal cache keeps an application: apart from accounts.
func clientKey(id string) string { return "client:" + id }

// RefreshSession runs the OAuth2 refresh token grant: the token is rotated (it
// stops working, and a new one of the same family is returned with the new access
// token). A token used a second time means that two parties hold it: the whole
// family is revoked, so that both must sign in again, and the reuse is audited.
func (s *Service) RefreshSession(ctx context.Context, refreshToken string) (Token, error) {
	hash := hashSecret(refreshToken)
	now := s.Now()
	var (
		out    Token
		reused bool
	)
	err := s.store.Write(ctx, func(tx Tx) error {
		reused = false
		found, err := tx.RefreshToken(hash)
		if errors.Is(err, certification.ErrNotFound) {
			return ErrInvalidGrant
		} else if err != nil {
			return err
		}
		// The account first, then its token: the order every writer locks them in.
		u, err := tx.LockUser(found.UserID)
		if err != nil {
			return err
		}
		r, err := tx.LockRefreshToken(hash)
		if err != nil {
			return err
		}
		switch {
		case r.RevokedAt != nil:
			return ErrInvalidGrant
		case r.UsedAt != nil:
			reused = true
			n, err := tx.RevokeRefreshFamily(r.FamilyID, now)
			if err != nil {
				return err
			}
			return s.audit(ctx, tx, "refresh_reused", "user", u.ID, map[string]any{"family_id": r.FamilyID, "tokens_revoked": n})
		case !now.Before(r.ExpiresAt) || !u.Active:
			return ErrInvalidGrant
		}
		if err := tx.MarkRefreshTokenUsed(r.ID, now); err != nil {
			return err
		}
		out, err = s.openSession(tx, u, r.FamilyID)
		return err
	})
	if err == nil && reused {
		return Token{}, ErrInvalidGrant
	}
	return out, err
}

// openSession issues an access token and a refresh token of the family (a new
// family when familyID is empty) to the account u, locked in tx.
func (s *Service) openSession(tx Tx, u User, familyID string) (Token, error) {
	if familyID == "" {
		familyID = newID()
	}
	now := s.Now()
	secret, hash := newSecret("rt_")
	if err := tx.InsertRefreshToken(RefreshToken{ID: newID(), FamilyID: familyID, UserID: u.ID, Hash: hash,
		IssuedAt: now, ExpiresAt: now.Add(s.refreshTTL)}); err != nil {
		return Token{}, err
	}
	g := auth.Grant{Subject: u.ID, Role: u.Role}
	if u.SessionsValidAfter != nil {
		g.After = *u.SessionsValidAfter
	}
	access, err := s.tokens.IssueGrant(g)
	if err != nil {
		return Token{}, err
	}
	return Token{AccessToken: access, ExpiresIn: int(s.tokens.TTL().Seconds()), Scope: string(u.Role), RefreshToken: secret}, nil
}

// RevokeRefreshToken ends the session a refresh token belongs to (RFC 7009). A token
// that is not one is no error: the answer must not tell.
func (s *Service) RevokeRefreshToken(ctx context.Context, token string) error {
	hash := hashSecret(token)
	return s.store.Write(ctx, func(tx Tx) error {
		r, err := tx.RefreshToken(hash)
		if errors.Is(err, certification.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		n, err := tx.RevokeRefreshFamily(r.FamilyID, s.Now())
		if err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, "session_revoked", "user", r.UserID, map[string]any{"family_id": r.FamilyID, "tokens_revoked": n})
	})
}

// endSessions makes the account's earlier access tokens stop working and revokes
// its refresh tokens, in the transaction that changes its password or state.
func (s *Service) endSessions(tx Tx, u *User) (int, error) {
	end := nextEnd(s.Now(), u.SessionsValidAfter)
	u.SessionsValidAfter = &end
	return tx.RevokeRefreshTokensOf(u.ID, s.Now())
}

// nextEnd is the instant a subject's tokens end at when they are ended at now, the
// previous end being prev (nil: never). Tokens are judged to the second: one issued
// at or before the end is refused, and one issued in the second of an end is
// stamped after it (auth.Grant.After). When two ends fall in one second, the later
// is put a second after the earlier, so that the tokens stamped after the earlier
// are ended too.
func nextEnd(now time.Time, prev *time.Time) time.Time {
	if prev != nil && !now.After(*prev) {
		return prev.Add(time.Second)
	}
	return now
}

// ChangeMyPassword changes the caller's password, given the current one. A wrong
// current password counts as a failed login (FailedLogins). Every session of the
// account ends: its refresh tokens are revoked and its access tokens issued before
// stop working.
func (s *Service) ChangeMyPassword(ctx context.Context, current, next string) error {
	p, _ := auth.PrincipalFrom(ctx)
	if p.Role == auth.RolePartner || p.Subject == "" {
		return certification.ErrForbidden
	}
	u, err := s.GetUser(ctx, p.Subject)
	if err != nil {
		return err
	}
	if err := s.checkFailedLogins(ctx, u.Email); err != nil {
		return err
	}
	wrong := certification.Check([]certification.Violation{{Field: "/current_password", Message: "the current password is wrong"}})
	if !auth.CheckPassword(u.PasswordHash, current) {
		return s.failedLogin(ctx, "password_change_failed", u.Email, wrong)
	}
	if next == current {
		return certification.Check([]certification.Violation{{Field: "/new_password", Message: "the new password is the current one"}})
	}
	hash, err := passwordHash(next, u.Email, "/new_password")
	if err != nil {
		return err
	}
	defer s.forgetPrincipal(u.ID)()
	return s.store.Write(ctx, func(tx Tx) error {
		locked, err := tx.LockUser(u.ID)
		if err != nil {
			return err
		}
		if locked.PasswordHash != u.PasswordHash {
			// Changed meanwhile: the password checked is no longer the current one.
			return wrong
		}
		return s.setPassword(ctx, tx, locked, hash, "change_password")
	})
}

// setPassword gives the account locked in tx a new password hash, ends its
// sessions, saves and audits it.
func (s *Service) setPassword(ctx context.Context, tx Tx, u User, hash, action string) error {
	u.PasswordHash = hash
	n, err := s.endSessions(tx, &u)
	if err != nil {
		return err
	}
	u.Version++
	u.UpdatedAt = s.Now()
	if err := tx.UpdateUser(u); err != nil {
		return err
	}
	return s.audit(ctx, tx, action, "user", u.ID, map[string]any{"password": "changed", "refresh_tokens_revoked": n})
}

// checkFailedLogins refuses an attempt on an account that failed too often lately.
func (s *Service) checkFailedLogins(ctx context.Context, email string) error {
	if s.limiter == nil {
		return nil
	}
	d, err := s.limiter.Check(ctx, FailedLogins, email)
	if err != nil {
		return err
	}
	if !d.Allowed {
		s.probe(ctx, "login_refused", "account", email)
		return &ratelimit.RefusedError{Decision: d}
	}
	return nil
}

// failedLogin counts and audits a wrong password for the account email, and
// returns err.
func (s *Service) failedLogin(ctx context.Context, action, email string, err error) error {
	if s.limiter != nil {
		if aerr := s.limiter.Add(ctx, FailedLogins, email); aerr != nil {
			return aerr
		}
	}
	s.probe(ctx, action, "account", email)
	return err
}

// ReactivateUser turns a deactivated account on again. Its access tokens issued
// before the deactivation still do not work.
func (s *Service) ReactivateUser(ctx context.Context, id string, expected int) (User, error) {
	defer s.forgetPrincipal(id)()
	var u User
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.LockUser(id); err != nil {
			return err
		}
		if !matches(u.Version, expected) {
			return certification.ErrStale
		}
		if u.Active {
			return &certification.ConflictError{Code: "account_active", Message: "the account is active already"}
		}
		before := userChanges(u)
		u.Active = true
		u.Version++
		u.UpdatedAt = s.Now()
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		return s.audit(ctx, tx, "reactivate", "user", u.ID, changed(before, userChanges(u)))
	})
	return u, err
}

// IssuePasswordReset issues a one-time reset token for an account, valid for
// PasswordResetTTL; it replaces any earlier one. The token is returned this once.
func (s *Service) IssuePasswordReset(ctx context.Context, userID string) (IssuedPasswordReset, error) {
	token, hash := newSecret("pr_")
	now := s.Now()
	out := IssuedPasswordReset{UserID: userID, Token: token, ExpiresAt: now.Add(PasswordResetTTL)}
	err := s.store.Write(ctx, func(tx Tx) error {
		u, err := tx.LockUser(userID)
		if err != nil {
			return err
		}
		if !u.Active {
			return &certification.ConflictError{Code: "account_inactive", Message: "the account is deactivated: reactivate it first"}
		}
		if err := tx.PutPasswordReset(PasswordReset{UserID: u.ID, Hash: hash, ExpiresAt: out.ExpiresAt, CreatedAt: now}); err != nil {
			return err
		}
		return s.audit(ctx, tx, "issue_password_reset", "user", u.ID, map[string]any{"expires_at": out.ExpiresAt})
	})
	if err != nil {
		return IssuedPasswordReset{}, err
	}
	return out, nil
}

// ResetPassword sets an account's password with a reset token, which then stops
// working; every session of the account ends.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	hash := hashSecret(token)
	unusable := certification.Check([]certification.Violation{{Field: "/reset_token", Message: "this reset token is unknown, used or expired: ask an administrator for another"}})
	var r PasswordReset
	var u User
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.PasswordReset(hash); err != nil {
			return err
		}
		u, err = tx.User(r.UserID)
		return err
	})
	if errors.Is(err, certification.ErrNotFound) {
		return unusable
	} else if err != nil {
		return err
	}
	newHash, err := passwordHash(password, u.Email, "/new_password")
	if err != nil {
		return err
	}
	defer s.forgetPrincipal(u.ID)()
	return s.store.Write(ctx, func(tx Tx) error {
		locked, err := tx.LockUser(r.UserID)
		if err != nil {
			return err
		}
		r, err := tx.LockPasswordReset(hash)
		if errors.Is(err, certification.ErrNotFound) {
			return unusable
		} else if err != nil {
			return err
		}
		if !s.Now().Before(r.ExpiresAt) || !locked.Active {
			return unusable
		}
		if err := tx.DeletePasswordReset(locked.ID); err != nil {
			return err
		}
		return s.setPassword(ctx, tx, locked, newHash, "reset_password")
	})
}

// Me is the caller as GET /v1/me shows it: a person's account, or a partner
// application with the scopes its token holds.
type Me struct {
	Kind   auth.Kind
	User   User
	Client APIClient
	Scopes []string
}

// GetMe returns the caller.
func (s *Service) GetMe(ctx context.Context) (Me, error) {
	p, _ := auth.PrincipalFrom(ctx)
	if p.Role == auth.RolePartner {
		c, err := s.GetAPIClient(ctx, p.Subject)
		return Me{Kind: auth.KindClient, Client: c, Scopes: p.Scopes}, err
	}
	u, err := s.GetUser(ctx, p.Subject)
	return Me{Kind: auth.KindUser, User: u, Scopes: []string{}}, err
}

// MySitting is a candidate's own sitting, with the training site it takes place at.
type MySitting struct {
	EvaluationView
	Site certification.TrainingSite
}

// ListMySittings lists the calling candidate's sittings, oldest first, with their
// places; grades no jury has deliberated on are hidden, as on the transcript
// (PUBLICATION).
func (s *Service) ListMySittings(ctx context.Context, page Page) ([]MySitting, error) {
	p, _ := auth.PrincipalFrom(ctx)
	if p.Role != auth.RoleCandidate || p.CandidateID == "" {
		return nil, certification.ErrForbidden
	}
	var out []MySitting
	err := s.store.Snapshot(ctx, func(tx Tx) error {
		evals, err := tx.Evaluations(EvaluationFilter{Page: page, CandidateID: p.CandidateID})
		if err != nil {
			return err
		}
		v, err := s.visibility(ctx, tx, p.CandidateID)
		if err != nil {
			return err
		}
		views, err := s.views(ctx, tx, evals)
		if err != nil {
			return err
		}
		sites := map[string]certification.TrainingSite{}
		refs := map[string]certification.Certification{}
		out = make([]MySitting, len(views))
		for i, e := range views {
			site, ok := sites[e.TrainingSiteID]
			if !ok {
				if site, err = tx.TrainingSite(e.TrainingSiteID); err != nil {
					return err
				}
				sites[e.TrainingSiteID] = site
			}
			ref, ok := refs[e.CertificationCode]
			if !ok {
				if ref, err = tx.Certification(e.CertificationCode); err != nil {
					return err
				}
				refs[e.CertificationCode] = ref
			}
			comp, _ := certification.CheckComponent(e.Component, ref)
			// An absence is no grade: the candidate knows whether they sat.
			e.ResultHidden = e.Status == certification.SittingGraded && v.HidesResultOf(comp, e.ScheduledAt)
			out[i] = MySitting{EvaluationView: e, Site: site}
		}
		return nil
	})
	return out, err
}
