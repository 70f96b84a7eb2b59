package webhook

import (
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// Status is where a delivery stands.
type Status string

// A delivery is pending until a 2xx answer delivers it or its last attempt fails.
const (
	Pending   Status = "pending"
	Delivered Status = "delivered"
	Failed    Status = "failed"
)

// Backoff is the wait after each failed attempt: the retries of one delivery span
// a little over three days, so that a receiver down for a weekend still gets it.
var Backoff = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// MaxAttempts is how many times a delivery is tried: once, then once after each wait.
var MaxAttempts = len(Backoff) + 1

// Attempt is one try of a delivery.
type Attempt struct {
	At time.Time
	// StatusCode is the receiver's answer; 0 when none came.
	StatusCode int
	Error      string
	Duration   time.Duration
}

// Succeeded says whether the receiver took the delivery: any 2xx answer.
func (a Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// Delivery is one event to send to one subscription: the outbox row the event's
// transaction writes. Its ID is the webhook-id of every attempt, so that a
// receiver recognises a delivery it already took.
type Delivery struct {
	ID             string
	SubscriptionID string
	// Sequence is the results feed entry the event carries.
	Sequence      int64
	Event         EventType
	Status        Status
	Attempts      []Attempt
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// NewDelivery is the delivery of a feed entry to a subscription, due at once.
func NewDelivery(id string, s Subscription, e certification.ResultEntry, now time.Time) Delivery {
	return Delivery{ID: id, SubscriptionID: s.ID, Sequence: e.Sequence, Event: EventOf(e.Type), Status: Pending,
		Attempts: []Attempt{}, NextAttemptAt: &now, CreatedAt: now}
}

// After records an attempt: a 2xx delivers; a failure schedules the next attempt
// after its wait, or, after the last one, gives up.
func (d Delivery) After(a Attempt) Delivery {
	d.Attempts = append(append([]Attempt{}, d.Attempts...), a)
	switch {
	case a.Succeeded():
		at := a.At
		d.Status, d.NextAttemptAt, d.DeliveredAt = Delivered, nil, &at
	case len(d.Attempts) >= MaxAttempts:
		d.Status, d.NextAttemptAt = Failed, nil
	default:
		next := a.At.Add(Backoff[len(d.Attempts)-1])
		d.NextAttemptAt = &next
	}
	return d
}
