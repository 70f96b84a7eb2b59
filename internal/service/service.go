// Package service holds the use cases of the API, one file per resource. Each write
// runs in one transaction that loads what the rules need, applies the rules of
// package certification, writes, and appends its audit event; each read applies what
// the caller's role lets them see.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/webhook"
	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/expirable"
)

// ErrUnavailable is a database that cannot be reached, or so overloaded that a
// write could not get its locks: the caller retries later.
var ErrUnavailable = errors.New("the database is unavailable")

// Store runs units of work against the database.
type Store interface {
	// Read runs fn without a transaction: for reads that need no lock.
	Read(ctx context.Context, fn func(Tx) error) error
	// Snapshot runs fn's reads in one consistent snapshot of the database: for a
	// view composed of several reads (a transcript, minutes).
	Snapshot(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in one transaction, retried on deadlock; fn may run more than once.
	Write(ctx context.Context, fn func(Tx) error) error
}

// Tx is what a unit of work can read and write. Methods named Lock… take a row lock
// (on databases that have them) for the rest of the transaction.
type Tx interface {
	// What the partners' and people's accounts, the results feed and its webhooks,
	// and the holders declaration read and write (accounts.go, results.go,
	// declarations.go).
	AccountsTx
	ResultsTx
	DeclarationsTx

	Certifications(page Page) ([]certification.Certification, error)
	// CertificationCached says whether Certification(code) would come from the
	// cache, without a read, at the version this Tx has seen.
	CertificationCached(code string) bool
	Certification(code string) (certification.Certification, error)
	// ExcludedTerritories returns the territories where the certification is not
	// accessible, without loading the rest of the referential.
	ExcludedTerritories(code string) ([]certification.Territory, error)
	LockCertification(code string) (version int, err error)
	SetCertificationVersion(code string, version int, at time.Time) error
	// TouchCertification moves a certification's version on: its declared sites changed.
	TouchCertification(code string, at time.Time) error
	// RegistrationPeriods pages a certification's periods by id, in the order they
	// were recorded; ErrNotFound when there is no such certification.
	RegistrationPeriods(code string, p Page) ([]certification.RegistrationPeriod, error)
	RegistrationPeriod(code, id string) (certification.RegistrationPeriod, error)
	LockRegistrationPeriod(code, id string) (certification.RegistrationPeriod, error)
	InsertRegistrationPeriod(p certification.RegistrationPeriod) error
	UpdateRegistrationPeriod(p certification.RegistrationPeriod) error

	TrainingSites(f TrainingSiteFilter) ([]certification.TrainingSite, error)
	TrainingSite(id string) (certification.TrainingSite, error)
	LockTrainingSite(id string) (certification.TrainingSite, error)
	InsertTrainingSite(s certification.TrainingSite) error
	UpdateTrainingSite(s certification.TrainingSite) error

	Candidates(f CandidateFilter) ([]certification.Candidate, error)
	// Candidate reads a candidate and notes the version of their
	// certification's referential, which a Certification that follows in the
	// transaction then needs not read; CandidateOnly reads the candidate alone.
	Candidate(id string) (certification.Candidate, error)
	CandidateOnly(id string) (certification.Candidate, error)
	LockCandidate(id string) (certification.Candidate, error)
	CandidateByIdentity(key string) (certification.Candidate, error)
	// CandidateFacts gathers the facts a candidate's status follows from.
	CandidateFacts(id string) (certification.CandidateFacts, error)
	InsertCandidate(c certification.Candidate, k CandidateKeys) error
	UpdateCandidate(c certification.Candidate, k CandidateKeys) error

	// SupersedeCandidate releases the identity of a registration the person's new one
	// replaces (CARRY-OVER).
	SupersedeCandidate(id, by string, at time.Time) error

	Evaluations(f EvaluationFilter) ([]certification.Evaluation, error)
	// PersonSittings are the sittings of every registration of the person (the
	// candidates that share the person key), each with its registration's route.
	PersonSittings(personKey string) ([]certification.PersonSitting, error)
	// CandidateSittings reads a candidate and their person's sittings (as
	// PersonSittings) in one statement, itself one snapshot.
	CandidateSittings(id string) (certification.Candidate, []certification.PersonSitting, error)
	// PersonRegistrations are the ids of every registration of the person.
	PersonRegistrations(personKey string) ([]string, error)
	Evaluation(id string) (certification.Evaluation, error)
	LockEvaluation(id string) (certification.Evaluation, error)
	InsertEvaluation(e certification.Evaluation) error
	UpdateEvaluation(e certification.Evaluation) error
	// SessionDefences are the defences booked in a jury session, cancelled ones included.
	SessionDefences(sessionID string) ([]certification.Evaluation, error)

	JuryMembers(f JuryMemberFilter) ([]certification.JuryMember, error)
	JuryMember(id string) (certification.JuryMember, error)
	LockJuryMember(id string) (certification.JuryMember, error)
	// JuryMembersByID returns the members that exist among ids, by id.
	JuryMembersByID(ids []string) (map[string]certification.JuryMember, error)
	InsertJuryMember(m certification.JuryMember) error
	UpdateJuryMember(m certification.JuryMember) error
	// OpenSessionsOf lists the sessions not yet closed that the member sits in.
	OpenSessionsOf(memberID string) ([]certification.JurySession, error)

	JurySessions(f JurySessionFilter) ([]certification.JurySession, error)
	JurySession(id string) (certification.JurySession, error)
	LockJurySession(id string) (certification.JurySession, error)
	InsertJurySession(s certification.JurySession) error
	UpdateJurySession(s certification.JurySession) error
	// SitsWithCandidate reports whether the member sits in a session that hears the
	// candidate's defence or decides on them.
	SitsWithCandidate(memberID, candidateID string) (bool, error)

	Decisions(f DecisionFilter) ([]certification.Decision, error)
	Decision(id string) (certification.Decision, error)
	// CurrentDecision is the candidate's decision in the session that no correction
	// superseded; ErrNotFound when there is none.
	CurrentDecision(sessionID, candidateID string) (certification.Decision, error)
	// LatestAward is the candidate's published, current award; ErrNotFound when none.
	LatestAward(candidateID string) (certification.Decision, error)
	// LatestPublished is the candidate's latest published decision that no
	// correction superseded; ErrNotFound when none.
	LatestPublished(candidateID string) (certification.Decision, error)
	// PendingDecision is the candidate's draft decision in a session other than
	// except; ErrNotFound when none.
	PendingDecision(candidateID, except string) (certification.Decision, error)
	// DeliberatedThrough is the day of the latest session that published a decision
	// on the candidate; nil when none did.
	DeliberatedThrough(candidateID string) (*time.Time, error)
	InsertDecision(d certification.Decision) error
	UpdateDecision(d certification.Decision) error
	DeleteDecision(id string) error

	Certificate(number string) (certification.Certificate, error)
	LockCertificate(number string) (certification.Certificate, error)
	CertificateOfDecision(decisionID string) (certification.Certificate, error)
	// CertificatesOfCandidate pages a candidate's certificates by the id of the
	// decision that issued each (one each), in the order the decisions were made.
	CertificatesOfCandidate(candidateID string, p Page) ([]certification.Certificate, error)
	InsertCertificate(c certification.Certificate) error
	UpdateCertificate(c certification.Certificate) error

	Users(f UserFilter) ([]User, error)
	User(id string) (User, error)
	LockUser(id string) (User, error)
	UserByEmail(email string) (User, error)
	AdminExists() (bool, error)
	// CountActiveAdmins counts the active admins other than the account except.
	CountActiveAdmins(except string) (int, error)
	InsertUser(u User) error
	UpdateUser(u User) error

	AppendAudit(e AuditEvent) error
	AuditEvents(f AuditFilter) ([]AuditEvent, error)
}

// Page is a keyset page request: up to Limit items after the item with id After.
type Page struct {
	Limit int
	After string
}

// ErrUnknownCursor is a page that starts after an item its list does not have: the
// cursor is not one this API issued for the list.
var ErrUnknownCursor = errors.New("the cursor names no item of the list")

// Unlimited is the Limit of a page that is every item: what a use case needs whole
// (a session's decisions to close it, its minutes).
const Unlimited = 1<<31 - 2

// Service implements the use cases.
type Service struct {
	store   Store
	tokens  *auth.Tokens
	limiter *ratelimit.Limiter
	now     func() time.Time
	log     *slog.Logger
	// principals caches the account (or partner application) behind a token for
	// PrincipalTTL, so that a request does not pay a database round trip to learn
	// who its caller is. A change to an account or an application evicts it here at
	// once; another instance sees the change within PrincipalTTL.
	principals *expirable.LRU[string, account]
	// verified remembers the tokens whose signature was checked, with their claims:
	// a client sends the same token on every request until it expires, and checking
	// its signature again each time would cost more than the rest of a small read.
	// An entry is still judged by the token's expiry.
	verified *expirable.LRU[string, auth.Claims]
	// refreshTTL is how long a refresh token lives.
	refreshTTL time.Duration
	// webhooks says which URLs webhook subscriptions may name.
	webhooks webhook.Policy
}

// PrincipalTTL bounds how long an instance goes on trusting the account or partner
// application it read for a token: a deactivation, a change of role, a password
// change, a revoked application or a rotated secret made on another instance takes
// effect there within it.
const PrincipalTTL = 5 * time.Second

// New returns the service over store; limiter counts failed logins per account.
func New(store Store, tokens *auth.Tokens, limiter *ratelimit.Limiter, now func() time.Time, log *slog.Logger, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, tokens: tokens, limiter: limiter, now: now, log: log,
		principals: expirable.NewLRU[string, account](10000, nil, PrincipalTTL),
		verified:   expirable.NewLRU[string, auth.Claims](10000, nil, time.Minute),
		refreshTTL: DefaultRefreshTokenTTL}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Now is the service's clock, in UTC, to the second (the databases' precision).
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Second) }

// Today is the service's calendar day.
func (s *Service) Today() time.Time { return certification.Day(s.Now()) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// AuditEvent records who did what to which resource.
type AuditEvent struct {
	ID           string
	OccurredAt   time.Time
	ActorID      string
	ActorRole    string
	Action       string
	ResourceType string
	ResourceID   string
	Changes      map[string]any
	RequestID    string
}

// AuditFilter selects audit events.
type AuditFilter struct {
	Page
	ResourceType string
	ResourceID   string
	ActorID      string
	Action       string
	From         *time.Time // at or after
	To           *time.Time // before
}

type (
	requestIDKey     struct{}
	clientAddressKey struct{}
	probesKey        struct{}
)

// WithRequestID returns a context carrying the request id, for the audit trail.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// WithClientAddress returns a context carrying the caller's address, which the audit
// trail records of probing (failed logins, refused reads).
func WithClientAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddressKey{}, addr)
}

// probes are the refused attempts of one request, audited after it whatever its
// answer: a refused request writes nothing else, and its transaction rolls back.
type probes struct {
	mu     sync.Mutex
	events map[string]AuditEvent
}

// WithProbes returns a context that collects the request's refused attempts, for
// FlushProbes.
func WithProbes(ctx context.Context) context.Context {
	return context.WithValue(ctx, probesKey{}, &probes{events: map[string]AuditEvent{}})
}

// probe records a refused attempt of the caller, to audit once the request ends
// (once, even when a retried transaction meets it again).
func (s *Service) probe(ctx context.Context, action, resourceType, resourceID string) {
	p, ok := ctx.Value(probesKey{}).(*probes)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events[action+" "+resourceType+" "+resourceID] = s.auditEvent(ctx, action, resourceType, resourceID, nil)
}

// ForgetProbes drops the refused attempts of the request of ctx: it is answered as
// the earlier request with its Idempotency-Key was (a retry), not refused.
func ForgetProbes(ctx context.Context) {
	if p, ok := ctx.Value(probesKey{}).(*probes); ok {
		p.mu.Lock()
		clear(p.events)
		p.mu.Unlock()
	}
}

// FlushProbes audits the refused attempts of the request of ctx, so that an admin
// sees who probes what.
func (s *Service) FlushProbes(ctx context.Context) error {
	p, ok := ctx.Value(probesKey{}).(*probes)
	if !ok {
		return nil
	}
	p.mu.Lock()
	events := slices.Collect(maps.Values(p.events))
	clear(p.events)
	p.mu.Unlock()
	if len(events) == 0 {
		return nil
	}
	return s.store.Write(ctx, func(tx Tx) error {
		for _, e := range events {
			if err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// audit appends an audit event for the caller of ctx, inside tx. A map of changes
// is recorded as it is, with the caller's address added to it (the callers build
// one for the event); other changes as their JSON reads.
func (s *Service) audit(ctx context.Context, tx Tx, action, resourceType, resourceID string, changes any) error {
	m, ok := changes.(map[string]any)
	if !ok && changes != nil {
		b, err := json.Marshal(changes)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
	}
	return tx.AppendAudit(s.auditEvent(ctx, action, resourceType, resourceID, m))
}

// auditEvent is an event of the caller of ctx: who (or, for a caller who is nobody
// yet, from which address), what, when, in which request.
func (s *Service) auditEvent(ctx context.Context, action, resourceType, resourceID string, changes map[string]any) AuditEvent {
	p, _ := auth.PrincipalFrom(ctx)
	rid, _ := ctx.Value(requestIDKey{}).(string)
	role := string(p.Role)
	if role == "" {
		role = "anonymous"
	}
	if addr, _ := ctx.Value(clientAddressKey{}).(string); addr != "" {
		if changes == nil {
			changes = map[string]any{}
		}
		changes["address"] = addr
	}
	return AuditEvent{ID: newID(), OccurredAt: s.Now(), ActorID: p.Subject, ActorRole: role,
		Action: action, ResourceType: resourceType, ResourceID: resourceID, Changes: changes, RequestID: rid}
}

// changed is an update's audit record: what the fields it changed were before and
// are after.
func changed(before, after map[string]any) map[string]any {
	was, is := map[string]any{}, map[string]any{}
	for k, v := range after {
		if b, err := json.Marshal(before[k]); err == nil {
			if a, err := json.Marshal(v); err == nil && string(a) == string(b) {
				continue
			}
		}
		was[k], is[k] = before[k], v
	}
	return map[string]any{"before": was, "after": is}
}

// ListAuditEvents returns the audit trail, oldest first (admin only: the operation's
// roles say so).
func (s *Service) ListAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	return read(ctx, s, func(tx Tx) ([]AuditEvent, error) { return tx.AuditEvents(f) })
}

// AdminExists says whether the service has an administrator, for the first start.
func (s *Service) AdminExists(ctx context.Context) (bool, error) {
	return read(ctx, s, func(tx Tx) (bool, error) { return tx.AdminExists() })
}

// read runs fn, one read of the store outside a transaction, and returns what it
// read.
func read[T any](ctx context.Context, s *Service, fn func(Tx) (T, error)) (T, error) {
	var out T
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}
