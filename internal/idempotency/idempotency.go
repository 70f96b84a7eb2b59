// Package idempotency owns the record of creating requests sent with an
// Idempotency-Key: what they asked (a hash) and what they were answered, so that a
// retry gets the first answer again instead of creating twice.
package idempotency

import (
	"context"
	"errors"
	"time"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Record is one key of one caller. StatusCode 0 means the first request is still
// being served; while it is, Location is empty until the request's write commits,
// and then, set in that write's own transaction, names what the write did (see
// Claim below), until the answer is stored.
type Record struct {
	PrincipalID string
	Key         string
	Method      string
	Path        string
	RequestHash string
	StatusCode  int
	ContentType string
	Location    string
	ETag        string
	Body        []byte
	CreatedAt   time.Time
	// LeaseUntil is when an in-progress claim is abandoned: its request can run no
	// longer, so a process that died while serving it does not hold the key.
	LeaseUntil time.Time
}

// ErrExists is returned by Claim when the key is already recorded.
var ErrExists = errors.New("idempotency key already recorded")

// ErrAnswerLost is returned by Claim, with the record, when the same request was
// carried out before but its answer was never kept (the process died in between):
// the record's Location is the id of what its write created, if known.
var ErrAnswerLost = errors.New("the request of this idempotency key was carried out, its answer was lost")

// Claim is a request's hold on its key, carried in the request's context down to
// the transaction of its write. That transaction records, as it commits, that the
// write is done: a process that dies after the commit but before the answer is
// stored leaves a claim that says so, and the client's retry is told, rather than
// the write done a second time.
type Claim struct {
	PrincipalID, Key string
	// Done is set once a write of the request has committed and marked the claim.
	Done bool
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

// Store keeps the records.
type Store interface {
	// Claim records r as in progress; when a live record (younger than TTL) already
	// holds the key it returns that record and ErrExists. An expired one, or an
	// in-progress one whose lease has ended, is replaced, unless its write had
	// committed: then, for the same request, Claim returns it and ErrAnswerLost
	// (for another request, ErrExists).
	Claim(ctx context.Context, r Record) (Record, error)
	// Complete stores the answer of a claimed key.
	Complete(ctx context.Context, r Record) error
	// Release forgets a claimed key whose request failed, so that it may be retried;
	// not one whose write has committed.
	Release(ctx context.Context, principalID, key string) error
	// Purge forgets records older than before.
	Purge(ctx context.Context, before time.Time) (int64, error)
}
