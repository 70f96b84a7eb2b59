package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/service"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var _ idempotency.Store = (*Store)(nil)

// unknownResource marks a claim whose write committed without naming what it did.
const unknownResource = "-"

// Claim inserts the in-progress record; the primary key (caller, key) makes a
// concurrent duplicate fail here, on both databases. On MySQL it reads at READ
// COMMITTED, like the writes: at REPEATABLE READ the locking read of a key not
// there yet would lock the gap around it, and two new keys in one gap deadlock on
// their inserts. A deadlock or lock wait timeout is tried again, as in Write.
func (s *Store) Claim(ctx context.Context, r idempotency.Record) (idempotency.Record, error) {
	for attempt := 1; ; attempt++ {
		existing, err := s.claim(ctx, r)
		switch {
		case !retryable(err):
			return existing, unavailable(err)
		case attempt == writeAttempts:
			return existing, fmt.Errorf("%w: claiming the key still conflicts after %d attempts: %v", service.ErrUnavailable, attempt, err)
		}
		select {
		case <-ctx.Done():
			return idempotency.Record{}, ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
}

func (s *Store) claim(ctx context.Context, r idempotency.Record) (idempotency.Record, error) {
	defer s.lockWriter()()
	// A new key, the usual case, is one INSERT that commits by itself. Only a key
	// already recorded needs the transaction below, which decides whether its
	// record still holds it.
	lease := r.LeaseUntil
	err := s.records.WithContext(ctx).Create(&idempotencyRow{PrincipalID: r.PrincipalID, IdemKey: r.Key, Method: r.Method, Path: r.Path,
		RequestHash: r.RequestHash, CreatedAt: r.CreatedAt, LeaseUntil: &lease}).Error
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return idempotency.Record{}, err
	}
	var existing idempotency.Record
	err = s.records.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row idempotencyRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&row, "principal_id = ? AND idem_key = ?", r.PrincipalID, r.Key).Error
		live := err == nil && row.CreatedAt.After(r.CreatedAt.Add(-idempotency.TTL))
		abandoned := err == nil && row.StatusCode == 0 && (row.LeaseUntil == nil || row.LeaseUntil.Before(r.CreatedAt))
		// The write of an abandoned claim that names what it did had committed:
		// only its answer is missing, and doing the write again would do it twice.
		done := abandoned && row.Location != ""
		switch {
		case live && done && row.RequestHash == r.RequestHash:
			existing = recordFromRow(row)
			if existing.Location == unknownResource {
				existing.Location = ""
			}
			return idempotency.ErrAnswerLost
		case live && (!abandoned || done):
			existing = recordFromRow(row)
			return idempotency.ErrExists
		case err == nil:
			if err := tx.Delete(&row).Error; err != nil {
				return err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		row = idempotencyRow{PrincipalID: r.PrincipalID, IdemKey: r.Key, Method: r.Method, Path: r.Path,
			RequestHash: r.RequestHash, CreatedAt: r.CreatedAt, LeaseUntil: &lease}
		return tx.Create(&row).Error
	}, s.writeOptions())
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another request claimed the key between our read and our insert.
		var row idempotencyRow
		if e := s.records.WithContext(ctx).Take(&row, "principal_id = ? AND idem_key = ?", r.PrincipalID, r.Key).Error; e != nil {
			return idempotency.Record{}, e
		}
		return recordFromRow(row), idempotency.ErrExists
	}
	return existing, err
}

// settleClaim marks, in the write's own transaction, the Idempotency-Key claim of
// the request as done, with the id of what the write did (its last audit event:
// every creating operation ends with it). Once the transaction commits, the claim
// is never taken over, even if the process dies before the answer is kept.
func (t *tx) settleClaim(ctx context.Context) error {
	c, ok := idempotency.ClaimFrom(ctx)
	if !ok || c.Done {
		return nil
	}
	resource := t.resource
	if resource == "" {
		resource = unknownResource
	}
	res := t.db.Model(&idempotencyRow{}).
		Where("principal_id = ? AND idem_key = ? AND status_code = 0 AND location = ''", c.PrincipalID, c.Key).
		Update("location", resource)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		// The claim ended (its lease ran out and a retry took it over): the write
		// must not commit beside the retry's.
		return fmt.Errorf("%w: the Idempotency-Key's claim ended before the write", service.ErrUnavailable)
	}
	return nil
}

func (s *Store) Complete(ctx context.Context, r idempotency.Record) error {
	defer s.lockWriter()()
	return unavailable(s.records.WithContext(ctx).Model(&idempotencyRow{}).
		Where("principal_id = ? AND idem_key = ?", r.PrincipalID, r.Key).
		Updates(map[string]any{"status_code": r.StatusCode, "content_type": r.ContentType,
			"location": r.Location, "etag": r.ETag, "response_body": string(r.Body)}).Error)
}

// Release forgets an in-progress claim, unless its write has committed (a request
// that failed after it, say while rendering its answer): that one stays, so that a
// retry does not write again.
func (s *Store) Release(ctx context.Context, principalID, key string) error {
	defer s.lockWriter()()
	return unavailable(s.records.WithContext(ctx).Where("principal_id = ? AND idem_key = ? AND status_code = 0 AND location = ''", principalID, key).
		Delete(&idempotencyRow{}).Error)
}

func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	res := s.records.WithContext(ctx).Where("created_at < ?", before).Delete(&idempotencyRow{})
	return res.RowsAffected, unavailable(res.Error)
}

func recordFromRow(r idempotencyRow) idempotency.Record {
	rec := idempotency.Record{PrincipalID: r.PrincipalID, Key: r.IdemKey, Method: r.Method, Path: r.Path,
		RequestHash: r.RequestHash, StatusCode: r.StatusCode, ContentType: r.ContentType, Location: r.Location,
		ETag: r.ETag, Body: []byte(r.ResponseBody), CreatedAt: r.CreatedAt.UTC()}
	if r.LeaseUntil != nil {
		rec.LeaseUntil = r.LeaseUntil.UTC()
	}
	return rec
}

// lockWriter takes the embedded database's one writer, as Write does, and returns
// what releases it; on MySQL it does nothing.
func (s *Store) lockWriter() func() {
	if s.dialect != SQLite {
		return func() {}
	}
	s.writer.Lock()
	return s.writer.Unlock
}
