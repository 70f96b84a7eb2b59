package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apformation/certapi/internal/idempotency"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var _ idempotency.Store = (*Store)(nil)

// unknownResource marks a record whose write committed without naming what it did.
const unknownResource = "-"

// Lookup reads the caller's key: one statement, outside any transaction.
func (s *Store) Lookup(ctx context.Context, principalID, key string) (idempotency.Record, error) {
	var row idempotencyRow
	err := s.db.WithContext(ctx).Where("principal_id = ? AND idem_key = ?", principalID, key).Limit(1).Find(&row).Error
	switch {
	case err != nil:
		return idempotency.Record{}, unavailable(err)
	case row.IdemKey == "":
		return idempotency.Record{}, idempotency.ErrNotFound
	}
	return recordFromRow(row), nil
}

// recordClaim records, in the write's own transaction, the Idempotency-Key of the
// request the write serves: with the id of what the write did (its last audit
// event: every creating operation ends with one) and, when the handler renders it
// from the write's result, its answer. Once the transaction commits, a retry is
// answered from the record, even if the process dies before the answer is sent.
// The primary key (caller, key) makes the write of a concurrent request with the
// same key fail here, on both databases (on MySQL it waits for the first one's
// commit): it rolls back, idempotency.ErrRaced.
func (t *tx) recordClaim(ctx context.Context) error {
	c, ok := idempotency.ClaimFrom(ctx)
	if !ok || c.Done {
		return nil
	}
	resource := t.resource
	if resource == "" {
		resource = unknownResource
	}
	row := rowFromRecord(c.Record)
	row.StatusCode, row.ContentType, row.ETag, row.ResponseBody, row.Location = 0, "", "", "", resource
	answer, answered, err := c.Answer()
	if err != nil {
		return fmt.Errorf("render the answer to record with the Idempotency-Key: %w", err)
	}
	if answered {
		row.StatusCode, row.ContentType, row.Location, row.ETag, row.ResponseBody =
			answer.StatusCode, answer.ContentType, answer.Location, answer.ETag, string(answer.Body)
	}
	if t.batch != nil {
		// A MySQL write sends the record with its batch, and the commit (see
		// writeSession), which calls claimTaken if the key is recorded already.
		t.batch.claim = &row
		return t.insertBy(&row, (*batch).addClaim)
	}
	if err := t.insertNow(&row); !errors.Is(err, gorm.ErrDuplicatedKey) {
		return err
	}
	return t.claimTaken(row)
}

// claimTaken follows the INSERT of a write's Idempotency-Key record that found the
// key recorded already: by another request, live (this write rolls back,
// idempotency.ErrRaced), or long enough ago to be forgotten (this write replaces
// it).
func (t *tx) claimTaken(row idempotencyRow) error {
	res := t.db.Where("principal_id = ? AND idem_key = ? AND created_at <= ?", row.PrincipalID, row.IdemKey,
		row.CreatedAt.Add(-idempotency.TTL)).Delete(&idempotencyRow{})
	switch {
	case res.Error != nil:
		return res.Error
	case res.RowsAffected == 0:
		return idempotency.ErrRaced
	}
	return t.db.Create(&row).Error
}

// Complete records the answer: over the record the request's write made, or, for
// a request that committed no write of its own, in a new record unless one holds
// the key. On SQLite it goes through the records' own pool (see Store.records).
func (s *Store) Complete(ctx context.Context, r idempotency.Record) error {
	defer s.lockWriter()()
	db := s.records.WithContext(ctx)
	res := db.Model(&idempotencyRow{}).
		Where("principal_id = ? AND idem_key = ? AND request_hash = ? AND status_code = 0", r.PrincipalID, r.Key, r.RequestHash).
		Updates(map[string]any{"status_code": r.StatusCode, "content_type": r.ContentType,
			"location": r.Location, "etag": r.ETag, "response_body": string(r.Body)})
	if res.Error != nil || res.RowsAffected == 1 {
		return unavailable(res.Error)
	}
	row := rowFromRecord(r)
	return unavailable(db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error)
}

func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	res := s.records.WithContext(ctx).Where("created_at < ?", before).Delete(&idempotencyRow{})
	return res.RowsAffected, unavailable(res.Error)
}

func rowFromRecord(r idempotency.Record) idempotencyRow {
	row := idempotencyRow{PrincipalID: r.PrincipalID, IdemKey: r.Key, Method: r.Method, Path: r.Path,
		RequestHash: r.RequestHash, StatusCode: r.StatusCode, ContentType: r.ContentType, Location: r.Location,
		ETag: r.ETag, ResponseBody: string(r.Body), CreatedAt: r.CreatedAt}
	if !r.LeaseUntil.IsZero() {
		lease := r.LeaseUntil
		row.LeaseUntil = &lease
	}
	return row
}

func recordFromRow(r idempotencyRow) idempotency.Record {
	rec := idempotency.Record{PrincipalID: r.PrincipalID, Key: r.IdemKey, Method: r.Method, Path: r.Path,
		RequestHash: r.RequestHash, Answer: idempotency.Answer{StatusCode: r.StatusCode, ContentType: r.ContentType,
			Location: r.Location, ETag: r.ETag, Body: []byte(r.ResponseBody)}, CreatedAt: r.CreatedAt.UTC()}
	if r.LeaseUntil != nil {
		rec.LeaseUntil = r.LeaseUntil.UTC()
	}
	if rec.StatusCode == 0 && rec.Location == unknownResource {
		rec.Location = ""
	}
	return rec
}

// lockWriter takes the embedded database's one writer, as Write does, and returns
// what releases it; on MySQL it does nothing.
func (s *Store) lockWriter() func() {
	if s.dialect != SQLite {
		return func() {}
	}
	s.writer <- struct{}{}
	return func() { <-s.writer }
}
