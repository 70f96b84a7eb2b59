package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// A MySQL write is a few round trips to the server, each of which costs both sides
// more than most of the statements it carries. So a write runs on a session whose
// first statement begins its transaction (writeSession), and the INSERTs that
// nothing in the transaction reads back — its audit events and the record of its
// Idempotency-Key — reach the server together with the COMMIT, as one
// multi-statement round trip (batch). A write may also defer an INSERT that later
// statements could depend on (deferInsert): the batch then goes before the next
// statement, if one comes, and with the commit otherwise. A registration is one
// round trip once its site is cached: the site comes from a cache that the commit
// checks (see assumed.go), its INSERT is deferred, and the audit event, the key
// record and the COMMIT follow it, the audit event's INSERT carrying the check.

// batch holds the INSERTs a MySQL write sends with its commit. The server runs
// the statements in order and stops at the first that fails, whose error the
// flush returns; the commit is then not reached. Their SQL is GORM's, built
// without running it (a dry run), and their values are parameters the driver
// escapes, as for any other statement.
type batch struct {
	stmts []batched
	// claim is the Idempotency-Key record in the batch, if any.
	claim *idempotencyRow
	// deferred is set while the batch holds an INSERT that later statements may
	// depend on: it goes before the next one (see session).
	deferred bool
	// audit is the index in stmts of the batch's audit event's INSERT, if
	// nothing but the Idempotency-Key record's came after it (auditHeld);
	// checked is set once that INSERT carries the check of the rows the write
	// took from the cache (see checkAssumed).
	audit     int
	auditHeld bool
	checked   bool
}

// batched is a statement of a batch and its values.
type batched struct {
	query string
	vars  []any
}

// addAudit adds an audit event's INSERT, whose values begin with its id.
func (b *batch) addAudit(query string, vars ...any) {
	b.append(query, vars...)
	b.audit, b.auditHeld = len(b.stmts)-1, true
}

// checkInAudit makes the batch's audit event's INSERT insert its id only where
// cond holds, and NULL otherwise, which fails the INSERT (see checkAssumed). It
// returns false, changing nothing, when the batch holds no audit event.
func (b *batch) checkInAudit(cond string, args []any) bool {
	if !b.auditHeld {
		return false
	}
	st := &b.stmts[b.audit]
	const first = "VALUES (?"
	i := strings.Index(st.query, first)
	if i < 0 || !strings.HasPrefix(st.query, "INSERT INTO `audit_events` (`id`,") || len(st.vars) == 0 {
		return false
	}
	st.query = st.query[:i+len(first)-1] + "(SELECT ? FROM DUAL WHERE" + cond + ")" + st.query[i+len(first):]
	vars := make([]any, 0, len(st.vars)+len(args))
	st.vars = append(append(append(vars, st.vars[0]), args...), st.vars[1:]...)
	b.auditHeld, b.checked = false, true
	return true
}

// text is the batch's statements as one multi-statement query, and its values.
func (b *batch) text() (string, []any) {
	n, nv := 0, 0
	for _, st := range b.stmts {
		n += len(st.query) + 2
		nv += len(st.vars)
	}
	var q strings.Builder
	q.Grow(n)
	vars := make([]any, 0, nv)
	for i, st := range b.stmts {
		if i > 0 {
			q.WriteString(";\n")
		}
		q.WriteString(st.query)
		vars = append(vars, st.vars...)
	}
	return q.String(), vars
}

// reset empties the batch once it is sent.
func (b *batch) reset() {
	clear(b.stmts)
	b.stmts, b.deferred, b.auditHeld = b.stmts[:0], false, false
}

// errDeferredConflict ends the attempt of a write whose deferred INSERT met a
// unique key: Write runs it again without deferring, so that the code that
// inserts sees the conflict where it can handle it.
var errDeferredConflict = errors.New("store: a deferred INSERT met a unique key")

// deferInsert runs the INSERT of row with the batch, in a MySQL write that may
// defer it, and now otherwise. Its errors then come with the batch's.
func (t *tx) deferInsert(row any) (deferred bool, err error) {
	if t.batch == nil || !t.deferInserts {
		return false, nil
	}
	t.batch.deferred = true
	return true, t.insert(row)
}

// insert runs the INSERT of row now, or, in a MySQL write, with its commit.
func (t *tx) insert(row any) error { return t.insertBy(row, (*batch).add) }

// insertBy is insert, whose INSERT, in a MySQL write, add puts in the batch.
func (t *tx) insertBy(row any, add func(b *batch, query string, vars ...any)) error {
	if t.batch == nil {
		return t.insertNow(row)
	}
	query, vars, err := t.insertStatement(row)
	if err != nil {
		return err
	}
	add(t.batch, query, vars...)
	return nil
}

// insertNow runs the INSERT of row now, in a MySQL write as on SQLite.
func (t *tx) insertNow(row any) error {
	query, vars, err := t.insertStatement(row)
	if err != nil {
		return err
	}
	return t.exec(query, vars...)
}

// exec runs a statement of the store's own on the transaction's connection, its
// error translated as GORM translates a statement's (a duplicate key is
// gorm.ErrDuplicatedKey).
func (t *tx) exec(query string, vars ...any) error {
	_, err := t.db.Statement.ConnPool.ExecContext(t.db.Statement.Context, query, vars...)
	if translator, ok := t.db.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		err = translator.Translate(err)
	}
	return err
}

// insertOf is the INSERT of one row of a type, built once per type and dialect:
// the statement GORM's Create builds for it, every column, without building it
// again for each row (TestInsertIsGORMs compares the two). Building them again
// was 7% of the CPU of a registration on SQLite served in process, and 25% of what
// it allocated.
type insertOf struct {
	query  string
	fields []*schema.Field
}

// insertKey names the INSERT of a row type on a dialect: one process may open
// both databases (the tests do).
type insertKey struct {
	dialect string
	typ     reflect.Type
}

var inserts sync.Map // insertKey → *insertOf

// insertStatement is the INSERT of row, a pointer to a row struct, and its values.
// As GORM's Create does, it sets a zero creation or update time to the clock's.
func (t *tx) insertStatement(row any) (string, []any, error) {
	typ := insertKey{t.db.Dialector.Name(), reflect.TypeOf(row)}
	ins, ok := inserts.Load(typ)
	if !ok {
		stmt := &gorm.Statement{DB: t.db}
		if err := stmt.Parse(row); err != nil {
			return "", nil, err
		}
		built := &insertOf{}
		var q strings.Builder
		q.WriteString("INSERT INTO ")
		stmt.QuoteTo(&q, stmt.Schema.Table)
		q.WriteString(" (")
		for _, f := range stmt.Schema.Fields {
			if f.DBName == "" || !f.Creatable {
				continue
			}
			if len(built.fields) > 0 {
				q.WriteByte(',')
			}
			stmt.QuoteTo(&q, f.DBName)
			built.fields = append(built.fields, f)
		}
		q.WriteString(") VALUES (" + strings.TrimSuffix(strings.Repeat("?,", len(built.fields)), ",") + ")")
		built.query = q.String()
		ins, _ = inserts.LoadOrStore(typ, built)
	}
	b := ins.(*insertOf)
	rv := reflect.ValueOf(row).Elem()
	ctx := t.db.Statement.Context
	vars := make([]any, len(b.fields))
	for i, f := range b.fields {
		v, zero := f.ValueOf(ctx, rv)
		if zero && (f.AutoCreateTime > 0 || f.AutoUpdateTime > 0) {
			if err := f.Set(ctx, rv, t.db.NowFunc()); err != nil {
				return "", nil, err
			}
			v, _ = f.ValueOf(ctx, rv)
		}
		vars[i] = v
	}
	return b.query, vars, nil
}

// add adds a statement to the batch. One added after the audit event's INSERT
// keeps the check out of that INSERT: the check must come after every statement
// whose foreign keys lock what it checks (see assumed.go).
func (b *batch) add(query string, vars ...any) {
	b.append(query, vars...)
	b.auditHeld = false
}

// addClaim adds the Idempotency-Key record's INSERT, which locks nothing the check
// reads, after the audit event's.
func (b *batch) addClaim(query string, vars ...any) { b.append(query, vars...) }

func (b *batch) append(query string, vars ...any) {
	b.stmts = append(b.stmts, batched{query: query, vars: vars})
}

// flush sends the batched statements in one round trip and empties the batch:
// with COMMIT at their end (commit), or ahead of a statement that follows a
// deferred INSERT (session.before). An error is translated as GORM translates a
// statement's (a duplicate key is gorm.ErrDuplicatedKey).
func (t *tx) flush() error {
	query, vars := t.batch.text()
	t.batch.reset()
	return t.exec(query, vars...)
}

// commit sends the batch and COMMIT. When the batch's Idempotency-Key record finds
// the key recorded already, the statements before it have run and the commit has
// not: claimTaken decides, and the commit follows on its own.
func (t *tx) commit() error {
	claim, deferred := t.batch.claim, t.batch.deferred
	err := t.flushCommit()
	if deferred && errors.Is(err, gorm.ErrDuplicatedKey) {
		return errDeferredConflict
	}
	if claim == nil || !errors.Is(err, gorm.ErrDuplicatedKey) {
		return err
	}
	if err := t.claimTaken(*claim); err != nil {
		return err
	}
	return t.flushCommit()
}

// flushCommit sends the batch, the check of the rows the write took from the
// cache and COMMIT.
func (t *tx) flushCommit() error {
	t.batch.checked = false
	t.checkAssumed()
	t.batch.add("COMMIT")
	err := t.flush()
	if t.assumedChanged(err) {
		return t.stale()
	}
	return err
}

// writeSession runs fn as one transaction on a connection of the pool of writes,
// whose sessions have autocommit off (see writesDSN): the first statement of fn
// begins the transaction, with no START TRANSACTION of its own, and COMMIT goes
// with the batch. The connection is taken at that first statement: a write that
// sends none before its commit, a registration whose site is cached, hands its
// batch to commitTogether, which commits it with those of other writes then
// waiting. Any other end of fn — an error, a panic, a request gone away — rolls
// the transaction back before the connection goes back to the pool, and a
// connection whose rollback fails is closed instead (the server then rolls back
// what it held): no connection returns to the pool inside a transaction.
func (s *Store) writeSession(ctx context.Context, deferInserts bool, fn func(*tx) error) error {
	pool, err := s.writes.DB()
	if err != nil {
		return err
	}
	sess := &session{pool: pool}
	committed := false
	defer func() { sess.end(ctx, committed) }()
	gdb := s.writes.WithContext(ctx)
	gdb.Statement.ConnPool = sess
	t := &tx{db: gdb.Session(&gorm.Session{NewDB: true}), store: s, writing: true, snapshot: true, batch: &batch{},
		deferInserts: deferInserts}
	sess.t, t.session = t, sess
	err = fn(t)
	if t.batchFailed != nil {
		return t.batchFailed
	}
	if err != nil {
		return err
	}
	if sess.conn == nil && len(t.batch.stmts) > 0 {
		err = s.commitTogether(ctx, t)
	} else {
		err = t.commit()
	}
	if err != nil {
		return err
	}
	committed = true
	t.published(ctx)
	return nil
}

// end gives the session's connection back to the pool, if it took one, once its
// transaction committed or after rolling it back.
func (s *session) end(ctx context.Context, committed bool) {
	if s.conn == nil {
		return
	}
	if !committed {
		rollback(ctx, s.conn)
	}
	_ = s.conn.Close()
	s.conn = nil
}

// commitAlone commits a write that sent nothing yet on a connection of its own,
// and gives it back at once: a group that commits its writes one after the other
// holds one connection at a time.
func (t *tx) commitAlone() error {
	err := t.commit()
	t.session.end(t.db.Statement.Context, err == nil)
	return err
}

// rollback ends the transaction of conn, or closes conn if it cannot: with a
// context of its own, since the write's may be what ended it.
func rollback(ctx context.Context, conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		// Returning driver.ErrBadConn from Raw closes the connection.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// session is the connection of a MySQL write as GORM sees it: a transaction, in
// which a nested GORM transaction is a savepoint and which begins and ends only as
// writeSession says (it has no BeginTx, and its Commit and Rollback refuse). A
// statement goes after the INSERTs the write deferred (see deferInsert).
type session struct {
	pool *sql.DB
	conn *sql.Conn // taken at the first statement
	t    *tx
}

var errSessionEnds = errors.New("store: a write's transaction ends when its function returns")

// before sends the batch ahead of a statement when it holds a deferred INSERT. Its
// error ends the write whatever the code that ran the statement makes of it
// (writeSession returns it).
func (s *session) before(ctx context.Context) error {
	if s.conn == nil && s.t.batchFailed == nil {
		conn, err := s.pool.Conn(ctx)
		if err != nil {
			s.t.batchFailed = err
			return err
		}
		s.conn = conn
	}
	if !s.t.batch.deferred {
		return s.t.batchFailed
	}
	err := s.t.flush()
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = errDeferredConflict
	}
	s.t.batchFailed = err
	return err
}

func (s *session) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := s.before(ctx); err != nil {
		return nil, err
	}
	return s.conn.ExecContext(ctx, query, args...)
}

func (s *session) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := s.before(ctx); err != nil {
		return nil, err
	}
	return s.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return the error of the batch sent before it: the row
// it returns then fails as a cancelled query does, and the write ends with the
// batch's error.
func (s *session) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := s.before(ctx); err != nil {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		return s.conn.QueryRowContext(cancelled, query, args...)
	}
	return s.conn.QueryRowContext(ctx, query, args...)
}

func (s *session) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := s.before(ctx); err != nil {
		return nil, err
	}
	return s.conn.PrepareContext(ctx, query)
}

func (*session) Commit() error   { return errSessionEnds }
func (*session) Rollback() error { return errSessionEnds }
