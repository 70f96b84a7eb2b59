// Package idempotency owns the record of creating requests sent with an
// Idempotency-Key: what they asked (a hash) and what they were answered, so that a
// retry gets the first answer again instead of creating twice.
//
// A key is recorded by the transaction of its request's write, as that write
// commits, never before: a request that fails, or whose process dies before its
// write commits, leaves nothing, and its retry is served as a new request. A write
// that commits records, in the same transaction, what it did and, when the handler
// could render it then, the whole answer; otherwise the answer is added once sent.
package idempotency

import (
	"context"
	"errors"
	"time"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Answer is what a request was answered.
type Answer struct {
	StatusCode  int
	ContentType string
	Location    string
	ETag        string
	Body        []byte
}

// Record is one key of one caller. StatusCode 0 means the answer is not recorded
// yet: the request's write has committed (Location then names what it did, its
// resource id) and the answer is about to be added, or, once LeaseUntil is past,
// was lost with the process that served it.
type Record struct {
	PrincipalID string
	Key         string
	Method      string
	Path        string
	RequestHash string
	Answer
	CreatedAt time.Time
	// LeaseUntil is when a record without its answer counts as having lost it:
	// the request that wrote it can run no longer.
	LeaseUntil time.Time
}

// Live says whether the record still holds its key at now (younger than TTL).
func (r Record) Live(now time.Time) bool { return r.CreatedAt.After(now.Add(-TTL)) }

// ErrNotFound is returned by Lookup when no record holds the key.
var ErrNotFound = errors.New("no record of this idempotency key")

// ErrRaced is returned by a write whose request's key was recorded by another
// request's write while it ran: it rolls back, and the request is answered as
// the other one was.
var ErrRaced = errors.New("another request with this idempotency key committed first")

// Renderer turns what a request's write did into the answer its handler will send.
type Renderer func(result any) (Answer, error)

// Claim is a request's hold on its key, carried in the request's context down to
// the transaction of its write, which records the key as it commits.
type Claim struct {
	// Record is the request: caller, key, hash, time and lease.
	Record
	// Done is set once a write of the request has committed and recorded the key;
	// Answered, when that record holds the answer too (see Render).
	Done, Answered bool

	render  Renderer
	result  any
	pending *Answer
}

// Render sets how the answer is rendered from the result the write reports (see
// Result), so that the write records it in its own transaction.
func (c *Claim) Render(r Renderer) { c.render = r }

// Answer renders the answer of the write's result, if the handler set a renderer
// and the write reported its result; the write's transaction records it.
func (c *Claim) Answer() (Answer, bool, error) {
	if c.render == nil || c.result == nil {
		return Answer{}, false, nil
	}
	a, err := c.render(c.result)
	if err != nil {
		return Answer{}, false, err
	}
	c.pending = &a
	return a, true, nil
}

// Committed marks the claim recorded by a write that has committed, with the
// answer it rendered, if any.
func (c *Claim) Committed() {
	c.Done = true
	if c.pending != nil {
		c.Answered, c.Record.Answer = true, *c.pending
	}
}

type claimKey struct{}

// WithClaim returns ctx carrying c.
func WithClaim(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

// ClaimFrom returns the claim of the request of ctx, if it holds one.
func ClaimFrom(ctx context.Context) (*Claim, bool) {
	c, ok := ctx.Value(claimKey{}).(*Claim)
	return c, ok
}

// Result reports, from inside a write, what the write did, for the claim of the
// request of ctx, if it holds one, to render its answer. A write that runs again
// (a deadlock retried) reports again.
func Result(ctx context.Context, v any) {
	if c, ok := ClaimFrom(ctx); ok {
		c.result = v
	}
}

// Store keeps the records. The write that records a key is the store's own (its
// write transactions record the claim of their context); Store is the rest.
type Store interface {
	// Lookup returns the record of the caller's key, expired or not, or ErrNotFound.
	Lookup(ctx context.Context, principalID, key string) (Record, error)
	// Complete records the answer of a request: over the record its write made,
	// or as a new record when the request committed no write of its own.
	Complete(ctx context.Context, r Record) error
	// Purge forgets records older than before.
	Purge(ctx context.Context, before time.Time) (int64, error)
}
