package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// Models exposes the row structs to the schema test.
var Models = models

// MigrateUpTo applies the migrations up to version v, for the tests of a migration
// on a database that holds data.
func (s *Store) MigrateUpTo(ctx context.Context, v int64) error {
	p, err := s.migrator()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, v)
	return err
}

// HoldWriter takes the embedded database's one writer, as a write does, so that a
// test can queue writes behind it; it returns what releases it.
func (s *Store) HoldWriter() func() { return s.lockWriter() }

// HoldCommitters takes every slot of the MySQL writes that commit together, so
// that a test can queue writes behind them; it returns what releases them.
func (s *Store) HoldCommitters() func() {
	for range cap(s.committers) {
		s.committers <- struct{}{}
	}
	return func() {
		for range cap(s.committers) {
			<-s.committers
		}
	}
}

// QueuedWrites counts the writes waiting for the writer (SQLite) or for a slot to
// commit together (MySQL).
func (s *Store) QueuedWrites() int {
	q := &s.queue
	if s.dialect == MySQL {
		q = &s.together
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, j := range q.jobs {
		if j.state.Load() == jobPending {
			n++
		}
	}
	return n
}

// GroupsCommitted counts the groups of more than one write committed.
func (s *Store) GroupsCommitted() int64 { return s.groups.Load() }

// WriteIsolation is the isolation level of a transaction on the pool writes use.
func (s *Store) WriteIsolation(ctx context.Context) (string, error) {
	sqlDB, err := s.writes.DB()
	if err != nil {
		return "", err
	}
	name, _ := isolationVariable(ctx, sqlDB)
	var level string
	err = s.writes.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Raw("SELECT @@SESSION." + name).Scan(&level).Error
	})
	return level, err
}

// LimitWriteConnections caps the connections writes use, so that a test can have
// one write follow another on the same connection.
func (s *Store) LimitWriteConnections(n int) {
	if sqlDB, err := s.writes.DB(); err == nil {
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	}
}

// WritesPools opens, at the MySQL dsn, the pool of writes as the store does and
// one of the same sessions whose connections keep the driver's own buffer, for the
// test of grownBuffers.
func WritesPools(ctx context.Context, dsn string) (grown, plain *sql.DB, err error) {
	probe, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, nil, err
	}
	defer probe.Close()
	name, _ := isolationVariable(ctx, probe)
	if grown, err = writesPool(dsn, name); err != nil {
		return nil, nil, err
	}
	writes, err := writesDSN(dsn, name)
	if err != nil {
		return nil, nil, err
	}
	plain, err = sql.Open("mysql", writes)
	return grown, plain, err
}

// Readers is how many of a store's reads run at once on the dialect.
func Readers(d Dialect) int { return readers(d) }
