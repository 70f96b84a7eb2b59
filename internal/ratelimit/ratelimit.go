// Package ratelimit counts attempts per key in fixed windows, in a store every
// instance of the service shares (the database), so that a client cannot multiply
// its allowance by the number of instances behind the load balancer. The clock is
// injected: a window's count never depends on how fast the machine is.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Counter keeps the counts.
type Counter interface {
	// Count adds n to key's count in the window that starts at start (n = 0 reads
	// it), keeping it until expires, and returns the count.
	Count(ctx context.Context, key string, start, expires time.Time, n int) (int, error)
	// PurgeCounts forgets counts that expired before t.
	PurgeCounts(ctx context.Context, before time.Time) (int64, error)
}

// Policy is a limit: Limit attempts per Window, named in the RateLimit headers.
type Policy struct {
	Name   string
	Limit  int
	Window time.Duration
}

// Decision is what a policy says of one more attempt.
type Decision struct {
	Policy    Policy
	Allowed   bool
	Remaining int
	// Reset is how long until the window ends and the count starts again.
	Reset time.Duration
}

// Limiter applies policies.
type Limiter struct {
	counter Counter
	now     func() time.Time
}

// New returns a limiter over counter; now is its clock.
func New(counter Counter, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{counter: counter, now: now}
}

// Take counts one attempt under key and says whether the policy allows it.
func (l *Limiter) Take(ctx context.Context, p Policy, key string) (Decision, error) {
	return l.count(ctx, p, key, 1)
}

// Check says whether the policy would allow one more attempt, without counting it.
func (l *Limiter) Check(ctx context.Context, p Policy, key string) (Decision, error) {
	return l.count(ctx, p, key, 0)
}

// Add counts an attempt that must not happen too often (a failed login) after the
// fact.
func (l *Limiter) Add(ctx context.Context, p Policy, key string) error {
	_, err := l.count(ctx, p, key, 1)
	return err
}

func (l *Limiter) count(ctx context.Context, p Policy, key string, n int) (Decision, error) {
	now := l.now().UTC()
	start := now.Truncate(p.Window)
	end := start.Add(p.Window)
	c, err := l.counter.Count(ctx, p.Name+":"+key, start, end, n)
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", p.Name, err)
	}
	used := c
	if n == 0 {
		used++ // what the next attempt would make it
	}
	return Decision{Policy: p, Allowed: used <= p.Limit, Remaining: max(p.Limit-used, 0), Reset: end.Sub(now)}, nil
}

// SetHeaders sets the answer's rate-limit headers (draft-ietf-httpapi-ratelimit-headers):
// RateLimit-Policy and RateLimit, and Retry-After when the attempt is refused. Every
// limited request sets them, so they are built without fmt.
func (d Decision) SetHeaders(h http.Header) {
	reset := strconv.Itoa(int(math.Ceil(d.Reset.Seconds())))
	name := strconv.Quote(d.Policy.Name)
	h.Set("RateLimit-Policy", name+";q="+strconv.Itoa(d.Policy.Limit)+";w="+strconv.Itoa(int(d.Policy.Window.Seconds())))
	h.Set("RateLimit", name+";r="+strconv.Itoa(d.Remaining)+";t="+reset)
	if !d.Allowed {
		h.Set("Retry-After", reset)
	}
}

// RefusedError is an attempt a policy refuses; its decision says when to retry.
type RefusedError struct {
	Decision Decision
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("too many attempts (%s: %d per %s); retry in %s", e.Decision.Policy.Name, e.Decision.Policy.Limit,
		e.Decision.Policy.Window, e.Decision.Reset.Round(time.Second))
}
