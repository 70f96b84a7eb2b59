package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// tx implements service.Tx over one GORM handle: a transaction for writes, the pool
// for reads.
type tx struct {
	db    *gorm.DB
	store *Store
}

var _ service.Tx = (*tx)(nil)

// Read runs fn against the pool, without a transaction.
func (s *Store) Read(ctx context.Context, fn func(service.Tx) error) error {
	return fn(&tx{db: s.db.WithContext(ctx), store: s})
}

// Write runs fn in one transaction. A deadlock or lock timeout (MySQL) rolls back and
// runs fn again, up to three times, with a short pause.
func (s *Store) Write(ctx context.Context, fn func(service.Tx) error) error {
	if s.dialect == SQLite {
		s.writer.Lock()
		defer s.writer.Unlock()
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
			return fn(&tx{db: gtx, store: s})
		})
		if !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10*(attempt+1)) * time.Millisecond):
		}
	}
	return err
}

func retryable(err error) bool {
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	return false
}

// forUpdate locks the selected rows until the transaction ends (SQLite serialises
// writers instead and ignores the clause).
func (t *tx) forUpdate() *gorm.DB { return t.db.Clauses(clause.Locking{Strength: "UPDATE"}) }

// notFound turns GORM's missing-row error into the service's vocabulary.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return certification.NotFoundf(format, args...)
	}
	return err
}

// duplicate turns a unique-key violation into a conflict.
func duplicate(err error, code, msg string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return &certification.ConflictError{Code: code, Message: msg}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", code, err)
	}
	return nil
}

// keyset applies a keyset page: ids are time-ordered UUIDv7 strings, so "after this
// id, by id" is oldest first and stable under concurrent inserts. One extra row is
// read so the caller knows whether a next page exists.
func keyset(db *gorm.DB, idColumn string, p service.Page) *gorm.DB {
	if p.After != "" {
		db = db.Where(idColumn+" > ?", p.After)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 20
	}
	return db.Order(idColumn).Limit(limit + 1)
}
