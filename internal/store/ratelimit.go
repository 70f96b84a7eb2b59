package store

import (
	"context"
	"time"

	"github.com/apformation/certapi/internal/ratelimit"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var _ ratelimit.Counter = (*Store)(nil)

// Count adds n to a rate-limit count (an upsert: concurrent attempts all count) and
// reads it.
func (s *Store) Count(ctx context.Context, key string, start, expires time.Time, n int) (int, error) {
	if len(key) > 250 {
		key = key[:250]
	}
	var hits int
	read := func(db *gorm.DB) error {
		return db.Model(&rateLimitRow{}).Select("hits").Where("limit_key = ? AND window_start = ?", key, start).Scan(&hits).Error
	}
	if n == 0 {
		return hits, unavailable(read(s.db.WithContext(ctx)))
	}
	defer s.lockWriter()()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := rateLimitRow{LimitKey: key, WindowStart: start, Hits: n, ExpiresAt: expires}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "limit_key"}, {Name: "window_start"}},
			DoUpdates: clause.Assignments(map[string]any{"hits": gorm.Expr("hits + ?", n)}),
		}).Create(&row).Error
		if err != nil {
			return err
		}
		return read(tx)
	})
	return hits, unavailable(err)
}

// PurgeCounts forgets the counts of windows that ended before t.
func (s *Store) PurgeCounts(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", before).Delete(&rateLimitRow{})
	return res.RowsAffected, unavailable(res.Error)
}
