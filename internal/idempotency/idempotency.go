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
// being served.
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

// Store keeps the records.
type Store interface {
	// Claim records r as in progress; when a live record (younger than TTL) already
	// holds the key it returns that record and ErrExists. An expired one, or an
	// in-progress one whose lease has ended, is replaced.
	Claim(ctx context.Context, r Record) (Record, error)
	// Complete stores the answer of a claimed key.
	Complete(ctx context.Context, r Record) error
	// Release forgets a claimed key whose request failed, so that it may be retried.
	Release(ctx context.Context, principalID, key string) error
	// Purge forgets records older than before.
	Purge(ctx context.Context, before time.Time) (int64, error)
}
