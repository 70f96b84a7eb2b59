package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/webhook"
)

// WebhookPolicy says which URLs webhook subscriptions may name (https URLs of
// public addresses only, by default).
func WebhookPolicy(p webhook.Policy) Option { return func(s *Service) { s.webhooks = p } }

// SubscriptionFilter selects webhook subscriptions.
type SubscriptionFilter struct {
	Page
	// ClientID keeps one partner application's.
	ClientID string
}

// DeliveryFilter selects a subscription's deliveries, newest first.
type DeliveryFilter struct {
	SubscriptionID string
	// Before is the id to resume before; Limit how many to read.
	Before string
	Limit  int
	Status webhook.Status
}

// subscriptionOwner is whose subscriptions the caller sees: a partner its own, an
// administrator everyone's (empty).
func subscriptionOwner(ctx context.Context) string {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RolePartner {
		return p.Subject
	}
	return ""
}

// visibleSubscription reads a subscription the caller may see; any other is not found.
func (s *Service) visibleSubscription(ctx context.Context, load func(string) (webhook.Subscription, error), id string) (webhook.Subscription, error) {
	sub, err := load(id)
	if err == nil {
		if owner := subscriptionOwner(ctx); owner != "" && sub.ClientID != owner {
			s.probe(ctx, "refused_read", "webhook_subscription", id)
			err = certification.NotFoundf("webhook subscription %s", id)
		}
	}
	return sub, err
}

// ListWebhookSubscriptions lists the subscriptions the caller sees, oldest first.
func (s *Service) ListWebhookSubscriptions(ctx context.Context, page Page) ([]webhook.Subscription, error) {
	f := SubscriptionFilter{Page: page, ClientID: subscriptionOwner(ctx)}
	return read(ctx, s, func(tx Tx) ([]webhook.Subscription, error) { return tx.WebhookSubscriptions(f) })
}

// GetWebhookSubscription returns a subscription the caller sees.
func (s *Service) GetWebhookSubscription(ctx context.Context, id string) (webhook.Subscription, error) {
	var out webhook.Subscription
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = s.visibleSubscription(ctx, tx.WebhookSubscription, id)
		return err
	})
	return out, err
}

// Subscribe records a subscription of the calling partner application, with a new
// signing secret. Deliveries carry the results feed: the application needs the
// scope that reads it. A site-bound application's subscription receives its site's
// events only.
func (s *Service) Subscribe(ctx context.Context, in webhook.Input) (webhook.Subscription, error) {
	p, _ := auth.PrincipalFrom(ctx)
	if p.Role != auth.RolePartner {
		return webhook.Subscription{}, certification.ErrForbidden
	}
	if !p.HasScope(ScopeResultsRead) {
		return webhook.Subscription{}, certification.Check([]certification.Violation{{Field: "/events",
			Message: "deliveries carry the results feed: the application needs the " + ScopeResultsRead + " scope"}})
	}
	in.Active = true
	sub, err := webhook.Subscribe(in, s.webhooks.CheckURL(ctx, in.URL), p.Subject, p.TrainingSiteID, newID(), webhook.NewSecret(), s.Now())
	if err != nil {
		return sub, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if err := tx.InsertWebhookSubscription(sub); err != nil {
			return s.duplicateSubscription(tx, err, sub)
		}
		stored, err := tx.WebhookSubscription(sub.ID)
		if err != nil {
			return err
		}
		sub.PublicClientID = stored.PublicClientID
		idempotency.Result(ctx, sub)
		return s.audit(ctx, tx, "create", "webhook_subscription", sub.ID, subscriptionChanges(sub))
	})
	return sub, err
}

// UpdateWebhookSubscription changes a subscription's URL, events or state; expected
// is the version the change is based on. A new URL is checked (its host looked up)
// before the subscription is locked.
func (s *Service) UpdateWebhookSubscription(ctx context.Context, id string, expected int, in webhook.Input) (webhook.Subscription, error) {
	read, err := s.GetWebhookSubscription(ctx, id)
	if err != nil {
		return read, err
	}
	var problems []certification.Violation
	if in.URL != read.URL {
		problems = s.webhooks.CheckURL(ctx, in.URL)
	}
	var out webhook.Subscription
	err = s.store.Write(ctx, func(tx Tx) error {
		current, err := s.visibleSubscription(ctx, tx.LockWebhookSubscription, id)
		if err != nil {
			return err
		}
		if (expected != NoPrecondition && current.Version != expected) || current.URL != read.URL {
			return certification.ErrStale
		}
		if out, err = webhook.Change(current, in, problems, s.Now()); err != nil || out.Version == current.Version {
			return err
		}
		if err := tx.UpdateWebhookSubscription(out); err != nil {
			return s.duplicateSubscription(tx, err, out)
		}
		return s.audit(ctx, tx, "update", "webhook_subscription", out.ID, changed(subscriptionChanges(current), subscriptionChanges(out)))
	})
	return out, err
}

// DeleteWebhookSubscription deletes a subscription; its pending deliveries are
// dropped.
func (s *Service) DeleteWebhookSubscription(ctx context.Context, id string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		sub, err := s.visibleSubscription(ctx, tx.LockWebhookSubscription, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhookSubscription(sub.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "delete", "webhook_subscription", sub.ID, subscriptionChanges(sub))
	})
}

// WebhookDeliveries lists a subscription's deliveries, newest first, with their
// attempts and the feed entries they carry.
func (s *Service) WebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryView, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	var out []DeliveryView
	err := s.store.Snapshot(ctx, func(tx Tx) error {
		if _, err := s.visibleSubscription(ctx, tx.WebhookSubscription, f.SubscriptionID); err != nil {
			return err
		}
		ds, err := tx.WebhookDeliveries(f)
		if err != nil {
			return err
		}
		seqs := make([]int64, len(ds))
		for i, d := range ds {
			seqs[i] = d.Sequence
		}
		entries, err := tx.ResultEntriesAt(seqs)
		if err != nil {
			return err
		}
		bySequence := map[int64]certification.ResultEntry{}
		for _, e := range entries {
			bySequence[e.Sequence] = e
		}
		out = make([]DeliveryView, len(ds))
		for i, d := range ds {
			out[i] = DeliveryView{Delivery: d, Entry: bySequence[d.Sequence]}
		}
		return nil
	})
	return out, err
}

// DeliveryView is a delivery and the feed entry it carries.
type DeliveryView struct {
	webhook.Delivery
	Entry certification.ResultEntry
}

// duplicateSubscription turns the unique index on an application's URLs into the
// conflict it is, naming the subscription that has the URL.
func (s *Service) duplicateSubscription(tx Tx, err error, sub webhook.Subscription) error {
	var ce *certification.ConflictError
	if !errors.As(err, &ce) {
		return err
	}
	out := &certification.ConflictError{Code: "duplicate_subscription", Message: "the application has a subscription for this URL already"}
	if subs, e := tx.WebhookSubscriptions(SubscriptionFilter{ClientID: sub.ClientID, Page: Page{Limit: Unlimited}}); e == nil {
		for _, other := range subs {
			if other.URL == sub.URL && other.ID != sub.ID {
				out.ExistingID = other.ID
			}
		}
	}
	return out
}

func subscriptionChanges(s webhook.Subscription) map[string]any {
	return map[string]any{"client_id": s.ClientID, "training_site_id": s.TrainingSiteID, "url": s.URL, "events": s.Events, "active": s.Active}
}

// Renderer renders the body of a delivery: the WebhookEvent of the contract.
type Renderer func(certification.ResultEntry) ([]byte, error)

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	// Sender makes the attempts.
	Sender *webhook.Sender
	// Render renders a delivery's body.
	Render Renderer
	// Owner names this instance in the leases it takes; a random name when empty.
	Owner string
	// Lease is how long a claimed delivery is this instance's alone: longer than
	// an attempt can last (a minute when zero).
	Lease time.Duration
	// Batch is how many deliveries one round claims at most (20 when zero), and
	// Workers how many it sends at once (4 when zero).
	Batch   int
	Workers int
	// Interval is the pause between rounds that found nothing to do (a second
	// when zero).
	Interval time.Duration
	// Now is the clock that says which deliveries are due and stamps attempts;
	// the service's when nil.
	Now func() time.Time
	Log *slog.Logger
}

// Dispatcher sends the deliveries of the outbox. Any number of instances may run
// one on the same database: each delivery is claimed with a lease (an atomic update
// that only succeeds where no other instance holds an unexpired one), so that two
// never send the same delivery at once. A delivery whose instance died mid-attempt
// is taken over when its lease expires: receivers tell a repeated delivery by its
// webhook-id.
type Dispatcher struct {
	svc *Service
	o   DispatcherOptions
}

// NewDispatcher returns a dispatcher of the service's outbox.
func NewDispatcher(svc *Service, o DispatcherOptions) *Dispatcher {
	if o.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		o.Owner = fmt.Sprintf("%.60s-%s", host, hex.EncodeToString(b))
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Log == nil {
		o.Log = svc.log
	}
	if o.Now == nil {
		o.Now = svc.Now
	}
	return &Dispatcher{svc: svc, o: o}
}

// now is the dispatcher's clock, in UTC, to the second (the databases' precision).
func (d *Dispatcher) now() time.Time { return d.o.Now().UTC().Truncate(time.Second) }

// Run sends due deliveries until ctx ends, then returns once the attempts under
// way are recorded.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		n, err := d.RunDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.o.Log.Warn("webhook deliveries", "error", err.Error())
		}
		if n == d.o.Batch && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.o.Interval):
		}
	}
}

// RunDue claims the deliveries due now (up to a batch), sends them and records
// each attempt; it returns how many it claimed. Attempts run to their end even if
// ctx ends meanwhile, so that a shutdown records them.
func (d *Dispatcher) RunDue(ctx context.Context) (int, error) {
	now := d.now()
	var ids []string
	err := d.svc.store.Read(ctx, func(tx Tx) error {
		var err error
		ids, err = tx.DueDeliveries(now, d.o.Batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	var claimed []string
	for _, id := range ids {
		var ok bool
		err := d.svc.store.Write(ctx, func(tx Tx) error {
			var err error
			ok, err = tx.ClaimDelivery(id, d.o.Owner, now, now.Add(d.o.Lease))
			return err
		})
		if err != nil {
			return len(claimed), err
		}
		if ok {
			claimed = append(claimed, id)
		}
	}
	work := make(chan string)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range min(d.o.Workers, len(claimed)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if err := d.deliver(context.WithoutCancel(ctx), id); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("delivery %s: %w", id, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range claimed {
		work <- id
	}
	close(work)
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// deliver makes one attempt of a claimed delivery and records it.
func (d *Dispatcher) deliver(ctx context.Context, id string) error {
	var (
		del   webhook.Delivery
		sub   webhook.Subscription
		entry certification.ResultEntry
	)
	if err := d.svc.store.Read(ctx, func(tx Tx) error {
		var err error
		del, sub, entry, err = tx.Delivery(id)
		return err
	}); err != nil {
		return err
	}
	body, err := d.o.Render(entry)
	if err != nil {
		return err
	}
	attempt := d.o.Sender.Send(ctx, webhook.Message{ID: del.ID, URL: sub.URL, Secret: sub.Secret, Body: body, At: d.now()})
	err = d.svc.store.Write(ctx, func(tx Tx) error {
		current, err := tx.LockLeasedDelivery(id, d.o.Owner)
		if err != nil {
			return err
		}
		return tx.SaveDeliveryAttempt(current.After(attempt))
	})
	if errors.Is(err, certification.ErrNotFound) {
		// Deleted with its subscription meanwhile, or the lease was lost: the
		// attempt is not this instance's to record.
		d.o.Log.Info("webhook attempt not recorded: the delivery is no longer leased to this instance", "delivery", id)
		return nil
	}
	return err
}
