package service

import (
	"context"
	"errors"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/webhook"
)

// ResultsTx is what the results use cases read and write in a unit of work.
type ResultsTx interface {
	// AppendResultEntries numbers the entries after the feed's latest and writes
	// them. The number is taken under a lock held until the transaction ends, so
	// that entries are numbered in the order their transactions commit, without
	// gaps; an entry is never recorded earlier than the one before it.
	AppendResultEntries(entries []certification.ResultEntry) ([]certification.ResultEntry, error)
	// ResultEntries are the entries after f.After, in order, up to f.Limit and one
	// more.
	ResultEntries(f ResultFilter) ([]certification.ResultEntry, error)
	// ResultEntriesAt are the entries of the given sequences.
	ResultEntriesAt(sequences []int64) ([]certification.ResultEntry, error)
	// LastResultSequence is the number of the feed's latest entry, 0 when none.
	LastResultSequence() (int64, error)
	// ResultPage reads the entries after f.After that f keeps (at most f.Limit+1),
	// and the feed's last sequence, in one statement: one snapshot. With no entry,
	// last is unknown (0).
	ResultPage(f ResultFilter) (entries []certification.ResultEntry, last int64, err error)
	// FirstResultSince is the number of the first entry recorded at or after t;
	// false when there is none.
	FirstResultSince(t time.Time) (int64, bool, error)
	// IssuedCertificates are the certificates and attestations in the order the
	// decisions that issued them were published, up to f.Limit and one more.
	IssuedCertificates(f CertificateFilter) ([]IssuedCertificate, error)
	// Statistics are the counts of f's rows, in key order, up to f.Limit and one
	// more; computed by the database.
	Statistics(f StatisticsFilter) ([]certification.Statistic, error)

	WebhookSubscriptions(f SubscriptionFilter) ([]webhook.Subscription, error)
	WebhookSubscription(id string) (webhook.Subscription, error)
	LockWebhookSubscription(id string) (webhook.Subscription, error)
	InsertWebhookSubscription(s webhook.Subscription) error
	UpdateWebhookSubscription(s webhook.Subscription) error
	// DeleteWebhookSubscription deletes a subscription with its deliveries.
	DeleteWebhookSubscription(id string) error
	// ReceivingSubscriptions are the active subscriptions of the partner
	// applications that are active and may read results, row-locked so that none is
	// deleted before the deliveries written for it commit.
	ReceivingSubscriptions() ([]webhook.Subscription, error)
	InsertWebhookDeliveries(ds []webhook.Delivery) error
	// WebhookDeliveries are a subscription's deliveries, newest first, with their
	// attempts.
	WebhookDeliveries(f DeliveryFilter) ([]webhook.Delivery, error)
	// DueDeliveries are the ids of deliveries due at now, not leased, of active
	// subscriptions of active applications, the longest waiting first.
	DueDeliveries(now time.Time, limit int) ([]string, error)
	// ClaimDelivery leases a due delivery to owner until until, atomically: false
	// when another owner holds it, it is no longer due, or its subscription or
	// application has stopped.
	ClaimDelivery(id, owner string, now, until time.Time) (bool, error)
	// Delivery reads a delivery with its attempts, its subscription and its entry.
	Delivery(id string) (webhook.Delivery, webhook.Subscription, certification.ResultEntry, error)
	// LockLeasedDelivery reads, row-locked, a delivery owner holds the lease of;
	// ErrNotFound when it no longer does.
	LockLeasedDelivery(id, owner string) (webhook.Delivery, error)
	// SaveDeliveryAttempt writes a delivery's latest attempt and where it now
	// stands, and ends its lease.
	SaveDeliveryAttempt(d webhook.Delivery) error
}

// ResultFilter selects entries of the results feed.
type ResultFilter struct {
	// After is the sequence to resume after; Limit how many entries to read.
	After             int64
	Limit             int
	CertificationCode string
	TrainingSiteID    string
	// Since keeps the entries recorded at or after it.
	Since *time.Time
}

// ErrCursorPastEnd is a place in the feed after its latest entry: no cursor the feed
// issued is ever there (a database restored from an older backup aside, whose
// readers must start again rather than wait, unknowing, for the feed to catch up).
var ErrCursorPastEnd = errors.New("the cursor is past the results feed's latest entry")

// ResultFeed is a page of the feed and where to resume.
type ResultFeed struct {
	Entries []certification.ResultEntry
	// Next is the sequence to resume after: the last entry of a full page, or, when
	// the reader has caught up, the latest entry of the feed that the page's reads
	// saw, matched by the filters or not.
	Next int64
	// HasMore says whether more entries were ready.
	HasMore bool
}

// partnerSite is the training site a site-bound partner is confined to; empty for
// every other caller.
func partnerSite(ctx context.Context) string {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RolePartner {
		return p.TrainingSiteID
	}
	return ""
}

// narrowToSite applies a site binding to a filter on a site: false when the filter
// asks for another site than the one the caller is bound to, which shows nothing.
func narrowToSite(bound string, filter *string) bool {
	if bound == "" {
		return true
	}
	if *filter != "" && *filter != bound {
		return false
	}
	*filter = bound
	return true
}

// ResultFeed reads a page of the feed: the entries after f.After that the filters
// keep, oldest first. A partner bound to a training site sees its site's only.
// The page is read in one snapshot, so that what it says of the feed's end holds
// together with the entries it returns.
func (s *Service) ResultFeed(ctx context.Context, f ResultFilter) (ResultFeed, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	visible := narrowToSite(partnerSite(ctx), &f.TrainingSiteID)
	var out ResultFeed
	// A page that has entries is read with the feed's end in one statement, its
	// own snapshot, without a transaction (the components read after it are a
	// published decision's, which never change). Otherwise, or from a time, the
	// page is read in a snapshot transaction, its end first.
	if visible && f.Since == nil {
		var (
			entries []certification.ResultEntry
			last    int64
		)
		err := s.store.Read(ctx, func(tx Tx) (err error) {
			entries, last, err = tx.ResultPage(f)
			return err
		})
		if err != nil {
			return out, err
		}
		if len(entries) > 0 {
			return feedPage(entries, f, last), nil
		}
	}
	err := s.store.Snapshot(ctx, func(tx Tx) error {
		last, err := tx.LastResultSequence()
		if err != nil {
			return err
		}
		if f.Since != nil {
			first, ok, err := tx.FirstResultSince(*f.Since)
			if err != nil {
				return err
			}
			if !ok {
				first = last + 1
			}
			f.After = max(f.After, first-1)
		}
		if f.After > last {
			return ErrCursorPastEnd
		}
		out = feedPage([]certification.ResultEntry{}, f, last)
		if !visible || f.After >= last {
			return nil
		}
		entries, err := tx.ResultEntries(f)
		if err == nil {
			out = feedPage(entries, f, last)
		}
		return err
	})
	return out, err
}

// feedPage is the page of entries read after f.After (at most f.Limit+1, the
// last of them only to tell that more follow) when the feed ends at last.
func feedPage(entries []certification.ResultEntry, f ResultFilter, last int64) ResultFeed {
	if len(entries) > f.Limit {
		return ResultFeed{Entries: entries[:f.Limit], HasMore: true, Next: entries[f.Limit-1].Sequence}
	}
	return ResultFeed{Entries: entries, Next: max(f.After, last)}
}

// recordResults appends entries to the feed and writes, in the same transaction,
// a delivery of each to every subscription that receives it (the outbox).
func (s *Service) recordResults(tx Tx, entries ...certification.ResultEntry) error {
	if len(entries) == 0 {
		return nil
	}
	entries, err := tx.AppendResultEntries(entries)
	if err != nil {
		return err
	}
	subs, err := tx.ReceivingSubscriptions()
	if err != nil {
		return err
	}
	var deliveries []webhook.Delivery
	for _, e := range entries {
		for _, sub := range subs {
			if sub.Wants(e) {
				deliveries = append(deliveries, webhook.NewDelivery(newID(), sub, e, e.RecordedAt))
			}
		}
	}
	return tx.InsertWebhookDeliveries(deliveries)
}

// CertificateFilter selects certificates.
type CertificateFilter struct {
	// After is the feed sequence of the publication to resume after.
	After          int64
	Limit          int
	TrainingSiteID string
	Status         certification.CertificateStatus
}

// IssuedCertificate is a certificate and the feed entry of the publication that
// issued it, which orders the list.
type IssuedCertificate struct {
	certification.Certificate
	Sequence int64
}

// ListCertificates lists the certificates and attestations issued, oldest first;
// a partner bound to a training site sees those of its site's candidates only (the
// site they were attached to when the decision was published).
func (s *Service) ListCertificates(ctx context.Context, f CertificateFilter) ([]IssuedCertificate, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	if !narrowToSite(partnerSite(ctx), &f.TrainingSiteID) {
		return nil, nil
	}
	return read(ctx, s, func(tx Tx) ([]IssuedCertificate, error) { return tx.IssuedCertificates(f) })
}

// StatisticsKey is the key statistics are ordered and paged by.
type StatisticsKey struct {
	Year              int
	CertificationCode string
	Route             certification.RouteID
	// TrainingSiteID is empty for candidates without a site, who come first.
	TrainingSiteID string
}

// StatisticsFilter selects statistics rows.
type StatisticsFilter struct {
	// After is the key to resume after; nil from the start.
	After             *StatisticsKey
	Limit             int
	Year              int
	CertificationCode string
	Route             certification.RouteID
	TrainingSiteID    string
}

// Statistics counts, per year, certification, route and training site, the
// registrations, the outcomes of the published decisions that still hold, and the
// withdrawals. A partner bound to a training site sees its site's rows only.
func (s *Service) Statistics(ctx context.Context, f StatisticsFilter) ([]certification.Statistic, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	if !narrowToSite(partnerSite(ctx), &f.TrainingSiteID) {
		return nil, nil
	}
	return read(ctx, s, func(tx Tx) ([]certification.Statistic, error) { return tx.Statistics(f) })
}
