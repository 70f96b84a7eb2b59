package store

import (
	"context"
	"errors"
	"time"

	"github.com/apformation/certapi/internal/idempotency"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var _ idempotency.Store = (*Store)(nil)

// Claim inserts the in-progress record; the primary key (caller, key) makes a
// concurrent duplicate fail here, on both databases.
func (s *Store) Claim(ctx context.Context, r idempotency.Record) (idempotency.Record, error) {
	var existing idempotency.Record
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row idempotencyRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&row, "principal_id = ? AND idem_key = ?", r.PrincipalID, r.Key).Error
		abandoned := err == nil && row.StatusCode == 0 && (row.LeaseUntil == nil || row.LeaseUntil.Before(r.CreatedAt))
		switch {
		case err == nil && !abandoned && row.CreatedAt.After(r.CreatedAt.Add(-idempotency.TTL)):
			existing = recordFromRow(row)
			return idempotency.ErrExists
		case err == nil:
			if err := tx.Delete(&row).Error; err != nil {
				return err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		lease := r.LeaseUntil
		row = idempotencyRow{PrincipalID: r.PrincipalID, IdemKey: r.Key, Method: r.Method, Path: r.Path,
			RequestHash: r.RequestHash, CreatedAt: r.CreatedAt, LeaseUntil: &lease}
		return tx.Create(&row).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another request claimed the key between our read and our insert.
		var row idempotencyRow
		if e := s.db.WithContext(ctx).Take(&row, "principal_id = ? AND idem_key = ?", r.PrincipalID, r.Key).Error; e != nil {
			return idempotency.Record{}, e
		}
		return recordFromRow(row), idempotency.ErrExists
	}
	return existing, err
}

func (s *Store) Complete(ctx context.Context, r idempotency.Record) error {
	return s.db.WithContext(ctx).Model(&idempotencyRow{}).
		Where("principal_id = ? AND idem_key = ?", r.PrincipalID, r.Key).
		Updates(map[string]any{"status_code": r.StatusCode, "content_type": r.ContentType,
			"location": r.Location, "etag": r.ETag, "response_body": string(r.Body)}).Error
}

func (s *Store) Release(ctx context.Context, principalID, key string) error {
	return s.db.WithContext(ctx).Where("principal_id = ? AND idem_key = ? AND status_code = 0", principalID, key).
		Delete(&idempotencyRow{}).Error
}

func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("created_at < ?", before).Delete(&idempotencyRow{})
	return res.RowsAffected, res.Error
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
