package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"gorm.io/gorm"
)

// maxPrepared bounds the statements a pool keeps prepared. The store's SQL is a
// finite set, but some of it varies with its input (a list of n values is n
// placeholders): once the bound is reached, a new statement runs unprepared.
const maxPrepared = 256

// preparedPool is the embedded SQLite's pool as GORM sees it: every statement is
// prepared once on the pool and kept, so that SQLite compiles it once per
// connection instead of at each run (the driver keeps a prepared statement
// compiled), in a transaction as outside one. GORM's own cache (PrepareStmt)
// does not do that in a transaction: a statement it first meets there is prepared
// on the transaction, closed with it, and compiled again at each later run in one.
//
// A transaction holds a connection, and preparing on the pool takes another: were
// every connection held by a transaction preparing so, none would be free. So a
// statement a transaction runs that the pool does not keep yet runs unprepared,
// and the pool prepares it in the background for the next time. Outside a
// transaction it is prepared at once.
type preparedPool struct {
	db      *sql.DB
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	warming map[string]bool
	warm    sync.WaitGroup // the statements being prepared in the background
}

var (
	_ gorm.ConnPool         = (*preparedPool)(nil)
	_ gorm.ConnPoolBeginner = (*preparedPool)(nil)
	_ gorm.GetDBConnector   = (*preparedPool)(nil)
	_ gorm.TxCommitter      = (*preparedTx)(nil)
)

func newPreparedPool(db *sql.DB) *preparedPool {
	return &preparedPool{db: db, stmts: map[string]*sql.Stmt{}, warming: map[string]bool{}}
}

// kept is the pool's statement for query, if it keeps one; if not, a transaction's
// statement, it is prepared in the background.
func (p *preparedPool) kept(query string) *sql.Stmt {
	p.mu.RLock()
	s, ok := p.stmts[query]
	p.mu.RUnlock()
	if ok {
		return s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.stmts[query]; ok || p.warming[query] || len(p.stmts)+len(p.warming) >= maxPrepared {
		return nil
	}
	p.warming[query] = true
	p.warm.Add(1)
	go func() {
		defer p.warm.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := p.db.PrepareContext(ctx, query)
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.warming, query)
		if err == nil {
			p.stmts[query] = s
		}
	}()
	return nil
}

// stmt is the pool's statement for query, prepared now if it is not kept yet; nil
// when the pool keeps as many as it may, or when query does not prepare (it then
// runs unprepared and reports its error).
func (p *preparedPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.RLock()
	s, ok := p.stmts[query]
	full := len(p.stmts) >= maxPrepared
	p.mu.RUnlock()
	if ok || full {
		return s
	}
	s, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.stmts[query]; ok || len(p.stmts) >= maxPrepared {
		_ = s.Close()
		return kept
	}
	p.stmts[query] = s
	return s
}

func (p *preparedPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p *preparedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...)
}

func (p *preparedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *preparedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p *preparedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.db.BeginTx(statementContext(ctx), opts)
	if err != nil {
		return nil, err
	}
	t := &preparedTx{tx: tx, pool: p}
	if d, ok := ctx.(detached); ok {
		t.live = d.live
	}
	return t, nil
}

func (p *preparedPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

// preparedTx runs a transaction's statements with the pool's, on the
// transaction's connection, where each is prepared once (see kept).
type preparedTx struct {
	tx   *sql.Tx
	pool *preparedPool
	// live is the caller's context of a transaction begun under a detached one.
	live context.Context
}

// A SQLite write runs under a detached context: its caller's values, without its
// end. The driver watches the context of each statement that can end (BEGIN and
// COMMIT included) with a goroutine of its own, started and stopped around the
// statement: six for a registration, each waking another of the runtime's
// threads (counted during registrations alone, 11.7 futex and 14 nanosleep
// system calls per registration with them, 7.9 and 11.1 without). The caller's
// context (live)
// is checked instead, before each statement and before the commit: a write whose
// caller went away stops at its next statement, or at its commit, and rolls back,
// as an interrupted one does. The statements of a write are short (a row read or
// written by its key); a read, which may scan, keeps its context, and is
// interrupted as soon as its caller goes away.
type detached struct {
	context.Context
	live context.Context
}

// detach is the detached context of a write whose caller's is ctx.
func detach(ctx context.Context) context.Context {
	return detached{Context: context.WithoutCancel(ctx), live: ctx}
}

// statementContext is what a statement runs under: ctx, unless ctx is detached
// and its caller went away, in which case the caller's context, which fails the
// statement before it runs.
func statementContext(ctx context.Context) context.Context {
	if d, ok := ctx.(detached); ok && d.live.Err() != nil {
		return d.live
	}
	return ctx
}

func (t *preparedTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(statementContext(ctx), query)
}

func (t *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = statementContext(ctx)
	if s := t.pool.kept(query); s != nil {
		return t.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = statementContext(ctx)
	if s := t.pool.kept(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = statementContext(ctx)
	if s := t.pool.kept(query); s != nil {
		return t.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// Commit commits, unless the caller of a detached transaction went away: it then
// rolls back, as the driver does for a context that ended before the COMMIT.
func (t *preparedTx) Commit() error {
	if t.live != nil && t.live.Err() != nil {
		_ = t.tx.Rollback()
		return t.live.Err()
	}
	return t.tx.Commit()
}

func (t *preparedTx) Rollback() error { return t.tx.Rollback() }
