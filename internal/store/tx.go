package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"syscall"
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
	// resource is the id the transaction's latest audit event names.
	resource string
	// referentials are the versions of referentials this transaction has read
	// along with other rows (see Candidate): code → version.
	referentials map[string]int
	// snapshot is set in a transaction: its reads are one snapshot.
	snapshot bool
	// writing is set in a write transaction, whose referentials read are cached
	// only once it commits: committed holds them until then.
	writing   bool
	committed map[string]cachedReferential
	// batch, in a MySQL write, holds the INSERTs sent together before the commit.
	batch *batch
	// assumed holds, in a MySQL write, the versions of the rows it took from the
	// cache instead of reading them, which its commit checks (see assumed.go);
	// changed the ones it changes; committedSites the sites it read, cached once
	// it commits.
	assumed        map[assumption]int
	changed        map[assumption]bool
	committedSites map[string]cachedSite
	// deferInserts lets a MySQL write defer an INSERT to its batch (deferInsert);
	// batchFailed is the error of a batch sent before one of its statements, or
	// of taking the write's connection at its first statement.
	deferInserts bool
	batchFailed  error
	// session is a MySQL write's connection, as GORM sees it.
	session *session
}

// sawReferential notes the version of a referential read along with another row.
func (t *tx) sawReferential(code string, version int) {
	if t.referentials == nil {
		t.referentials = map[string]int{}
	}
	t.referentials[code] = version
}

var _ service.Tx = (*tx)(nil)

// Read runs fn against the pool, without a transaction.
//
// Reads are admitted in the order they come, at most as many at once as the pool
// has connections for them, and the others wait their turn (enterRead). Without
// that, more reads than connections would wait in the pool, which hands a freed
// connection to a random waiter (database/sql since Go 1.22): a read could wait
// behind any number of later ones, and under load the slowest reads were several
// times the median. Goroutines blocked sending on a channel are served first
// come, first served. What fn reads takes no second turn (see snapshot).
func (s *Store) Read(ctx context.Context, fn func(service.Tx) error) error {
	if err := s.enterRead(ctx); err != nil {
		return err
	}
	defer s.leaveRead()
	return unavailable(fn(&tx{db: s.db.WithContext(ctx), store: s}))
}

// enterRead waits for a read's turn, or for ctx to end. leaveRead ends the turn.
func (s *Store) enterRead(ctx context.Context) error {
	select {
	case s.reads <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) leaveRead() { <-s.reads }

// Snapshot runs fn in a read-only transaction: every read of fn sees the database
// as it was at its first one (REPEATABLE READ on MySQL; a deferred transaction on
// SQLite, whose WAL keeps the reader's snapshot without blocking writers).
func (s *Store) Snapshot(ctx context.Context, fn func(service.Tx) error) error {
	if err := s.enterRead(ctx); err != nil {
		return err
	}
	defer s.leaveRead()
	return s.snapshot(ctx, fn)
}

// snapshot is Snapshot in the turn of a read already admitted: a read that waited
// for a second turn while holding its first could wait for ever, once every turn
// is held by such reads.
func (s *Store) snapshot(ctx context.Context, fn func(service.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true, Isolation: s.snapshotIsolation}
	return unavailable(s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		return fn(&tx{db: gtx, store: s, snapshot: true})
	}, opts))
}

// writeAttempts is how many times a write whose transaction lost a deadlock, or
// waited too long for a lock, is run before the database counts as overloaded.
const writeAttempts = 8

// Write runs fn in one transaction. A deadlock or a lock wait timeout (MySQL) rolls
// back and runs fn again, backing off exponentially with jitter, so that writers
// that collided do not collide again in step; when the attempts are spent the
// database is overloaded, and that, like a database out of reach, is
// service.ErrUnavailable. The write of a request that holds an Idempotency-Key
// records the key in the same transaction (recordClaim).
//
// On MySQL the transaction runs at READ COMMITTED, so that what a write reads
// after taking its row locks is what other writers committed before releasing
// them (under InnoDB's default REPEATABLE READ, the first plain read fixes a
// snapshot that a rule would then check stale facts against). The connections of
// writes default to it (see Store.writes): no statement per transaction sets it.
// A MySQL write is as few round trips as its reads allow (see writeSession): it
// may take training sites from a cache its commit checks (see assumed.go) and
// defer an INSERT to its commit (see deferInsert).
// SQLite has one writer at a time: its transactions always see the latest commit,
// and writes waiting for it commit together (see writeGrouped). Their statements
// run under a detached context, which checks the caller's before each statement
// rather than watching it during one (see detached).
func (s *Store) Write(ctx context.Context, fn func(service.Tx) error) error {
	if s.dialect == SQLite {
		return unavailable(s.writeGrouped(ctx, fn))
	}
	deferInserts := true
	for attempt := 1; ; attempt++ {
		err := s.writeSession(ctx, deferInserts, func(t *tx) error {
			if err := fn(t); err != nil {
				return err
			}
			return t.recordClaim(ctx)
		})
		// A write whose cached rows changed, or whose deferred INSERT met a unique
		// key, runs again at once: it conflicted with nobody still running.
		again := errors.Is(err, errStale) || errors.Is(err, errDeferredConflict)
		switch {
		case !again && !retryable(err):
			return unavailable(err)
		case attempt == writeAttempts:
			return fmt.Errorf("%w: the transaction still conflicts after %d attempts: %v", service.ErrUnavailable, attempt, err)
		case errors.Is(err, errDeferredConflict):
			deferInserts = false
			continue
		case again:
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
}

// backoff is the pause before the next attempt: 5 ms doubling up to 320 ms, times a
// random factor between ½ and 1½.
func backoff(attempt int) time.Duration {
	d := 5 * time.Millisecond << min(attempt-1, 6)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

func retryable(err error) bool {
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	return false
}

// unavailable marks an error that says the database cannot be reached (refused,
// reset, closed connections) as service.ErrUnavailable: the caller gets a 503 to
// retry, not a 500.
func unavailable(err error) error {
	if err == nil || errors.Is(err, service.ErrUnavailable) {
		return err
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldriver.ErrInvalidConn) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("%w: %v", service.ErrUnavailable, err)
	}
	return err
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
	return db.Order(idColumn).Limit(pageRows(p))
}

// pageRows is how many rows keyset reads for a page: one more than its limit, to
// tell whether a next page follows.
func pageRows(p service.Page) int {
	if p.Limit <= 0 {
		return 21
	}
	return p.Limit + 1
}
