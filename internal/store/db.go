// Package store owns persistence: the GORM row structs, the repositories the service
// layer works through, transactions with deadlock retry, and the versioned SQL
// migrations (embedded) for MySQL/MariaDB and the embedded SQLite.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported databases.
const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// Options says how to reach the database.
type Options struct {
	// URL is empty for the embedded SQLite under DataDir, or a MySQL DSN
	// (user:pass@tcp(host:3306)/db) or mysql:// URL.
	URL     string
	DataDir string
	Logger  *slog.Logger
}

// Store is the database of the service.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	// referentials caches each certification's referential by version: the
	// referential is read on most requests and changes rarely, and every change
	// moves the version on.
	referentials sync.Map // code → cachedReferential
	// sites caches the training sites MySQL writes read, which they take from here
	// and check at their commit (see assumed.go).
	sites sync.Map // id → cachedSite
	// snapshotIsolation is what a read-only snapshot asks of MySQL: nothing when
	// the server's default is already REPEATABLE READ (a round trip saved on every
	// snapshot), REPEATABLE READ otherwise.
	snapshotIsolation sql.IsolationLevel
	// writer serialises write transactions on SQLite, which takes one writer at a
	// time anyway: waiting here beats SQLite's busy-wait back-off, whose sleeps
	// make the slowest writes very slow under load. Whoever holds it commits the
	// writes waiting in queue together (see writeGrouped).
	writer chan struct{}
	queue  writeQueue
	// reads admits the store's reads in the order they come, as many at once as
	// the pool has connections for them (see Read).
	reads chan struct{}
	// committers are the slots of the MySQL writes that commit together, and
	// together queues those waiting for one (see together.go).
	committers chan struct{}
	together   writeQueue
	// groups counts the groups of more than one write committed together.
	groups atomic.Int64
	// records keeps the answers that Complete adds to Idempotency-Key records after
	// their write (a key itself is recorded by its write's transaction). On MySQL it
	// is db. On the embedded SQLite it is a second pool on the same file whose
	// commits do not wait for the disk (synchronous NORMAL, in WAL mode): a process
	// that dies loses none of them, and only a machine that loses power may lose an
	// answer added after its write, whose retry is then told so
	// (idempotency_answer_lost) rather than writing twice.
	records *gorm.DB
	// writes opens write transactions. On MySQL it is a pool of its own whose
	// sessions default to READ COMMITTED (see Write), set once per connection rather
	// than by a statement per transaction, and have autocommit off, so that a
	// write's first statement begins its transaction and its last batch commits it
	// (see writeSession); reads keep the server's default, under which a snapshot
	// needs no statement of its own either. On SQLite it is db.
	writes *gorm.DB
}

// Open connects to the database the options name; it does not migrate.
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Second) },
		Logger:                 logger.Discard,
	}
	var (
		dialector gorm.Dialector
		dialect   Dialect
	)
	if o.URL == "" || strings.HasPrefix(o.URL, "sqlite:") || strings.HasPrefix(o.URL, "file:") {
		dsn, err := sqliteDSN(o)
		if err != nil {
			return nil, err
		}
		if dialector, err = sqliteDialector(dsn); err != nil {
			return nil, err
		}
		dialect = SQLite
	} else {
		dsn, err := MySQLDSN(o.URL)
		if err != nil {
			return nil, err
		}
		dialector, dialect = mysql.New(mysql.Config{DSN: dsn}), MySQL
	}
	db, err := openPool(dialector, cfg, string(dialect)+" database", func(db *sql.DB) { SizePool(db, dialect) })
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("reach %s database: %w", dialect, err)
	}
	st := &Store{db: db, dialect: dialect, records: db, writes: db, writer: make(chan struct{}, 1),
		reads: make(chan struct{}, readers(dialect))}
	var second error
	switch dialect {
	case MySQL:
		st.committers = make(chan struct{}, committers())
		name, level := isolationVariable(ctx, sqlDB)
		st.snapshotIsolation = snapshotIsolation(level)
		dsn, _ := MySQLDSN(o.URL)
		var writes *sql.DB
		if writes, second = writesPool(dsn, name); second == nil {
			st.writes, second = openPool(mysql.New(mysql.Config{Conn: writes}), cfg, "the pool of writes",
				func(db *sql.DB) { SizePool(db, dialect) })
		}
	case SQLite:
		dsn, _ := sqliteDSN(o)
		var records gorm.Dialector
		if records, second = sqliteDialector(strings.Replace(dsn, "synchronous%28FULL%29", "synchronous%28NORMAL%29", 1)); second == nil {
			st.records, second = openPool(records, cfg, "the idempotency records", func(db *sql.DB) {
				db.SetMaxOpenConns(4)
				db.SetMaxIdleConns(4)
				db.SetConnMaxLifetime(4 * time.Minute)
			})
		}
	}
	if second != nil {
		_ = sqlDB.Close()
		return nil, second
	}
	return st, nil
}

// sqliteDialector opens the embedded SQLite's pool at dsn, which keeps its
// statements prepared (see preparedPool).
func sqliteDialector(dsn string) (gorm.Dialector, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open the embedded database: %w", err)
	}
	return sqlite.New(sqlite.Config{Conn: newPreparedPool(db)}), nil
}

// openPool opens a pool of connections to the database, sized by size.
func openPool(d gorm.Dialector, cfg *gorm.Config, what string, size func(*sql.DB)) (*gorm.DB, error) {
	db, err := gorm.Open(d, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	size(sqlDB)
	return db, nil
}

// SizePool sizes a pool of connections to the database of the dialect. Every
// connection the pool may open stays open while it is used: with fewer idle ones
// kept than open ones (database/sql keeps two by default), a load above that
// closes a connection after each query and opens another for the next, which on
// SQLite costs more than the query. Connections left idle a minute are closed.
func SizePool(db *sql.DB, d Dialect) {
	open := poolConns(d)
	db.SetMaxOpenConns(open)
	db.SetMaxIdleConns(open)
	db.SetConnMaxLifetime(4 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
}

// poolConns is how many connections a pool of the dialect opens at most.
func poolConns(d Dialect) int {
	if d == SQLite {
		// One writer at a time is what SQLite does anyway; a small pool of readers
		// keeps WAL reads concurrent.
		return 8
	}
	return 25
}

// readers is how many of the store's reads run at once: on SQLite, every
// connection of the pool but the one its single writer takes; on MySQL, whose
// writes have a pool of their own, every one.
func readers(d Dialect) int {
	if d == SQLite {
		return poolConns(d) - 1
	}
	return poolConns(d)
}

// Dialect says which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close releases the connections.
//
// It first waits for the statements SQLite's pools are preparing in the
// background (see preparedPool.kept): one may be opening a connection, which
// creates the database's side files, and would do so after the pool had closed.
func (s *Store) Close() error {
	for _, g := range []*gorm.DB{s.db, s.records, s.writes} {
		if p, ok := g.ConnPool.(*preparedPool); ok {
			p.warm.Wait()
		}
	}
	for _, other := range []*gorm.DB{s.records, s.writes} {
		if other != s.db {
			if otherDB, err := other.DB(); err == nil {
				_ = otherDB.Close()
			}
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// DB exposes the GORM handle to the packages that test the store.
func (s *Store) DB() *gorm.DB { return s.db }

func sqliteDSN(o Options) (string, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(o.URL, "sqlite:"), "file:")
	if path == "" {
		if o.DataDir == "" {
			return "", errors.New("the embedded database needs a data directory")
		}
		if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
			return "", fmt.Errorf("create data directory: %w", err)
		}
		path = filepath.Join(o.DataDir, "certapi.db")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a commit is on disk before it is acknowledged, even if the machine,
	// not just the process, goes down (NORMAL in WAL mode may lose the last ones).
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	// Times: stored as SQLite's date functions read them, and read back from text
	// or integer columns.
	q.Set("_time_format", "sqlite")
	q.Set("_texttotime", "1")
	q.Set("_inttotime", "1")
	return "file:" + path + "?" + q.Encode(), nil
}

// DriverDSN names the database/sql driver and the DSN the options open, with the
// settings the service relies on (the embedded SQLite's pragmas, MySQL's UTC
// session): for tools that measure the raw floor beside the service on the same
// database.
func DriverDSN(o Options) (driver, dsn string, err error) {
	if o.URL == "" || strings.HasPrefix(o.URL, "sqlite:") || strings.HasPrefix(o.URL, "file:") {
		dsn, err = sqliteDSN(o)
		return "sqlite", dsn, err
	}
	dsn, err = MySQLDSN(o.URL)
	return "mysql", dsn, err
}

// MySQLDSN turns a mysql:// URL or a driver DSN into a DSN with the settings the
// service relies on: UTC times, utf8mb4, parsed dates, a UTC session.
func MySQLDSN(raw string) (string, error) {
	var cfg *mysqldriver.Config
	if strings.HasPrefix(raw, "mysql://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("database URL: %w", err)
		}
		cfg = mysqldriver.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = u.Host + ":3306"
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		if sock := u.Query().Get("socket"); sock != "" {
			cfg.Net, cfg.Addr = "unix", sock
		}
	} else {
		var err error
		if cfg, err = mysqldriver.ParseDSN(raw); err != nil {
			return "", fmt.Errorf("database DSN: %w", err)
		}
	}
	if cfg.DBName == "" {
		return "", errors.New("database URL: no database name")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["charset"] = "utf8mb4"
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.InterpolateParams = true
	// A database out of reach answers quickly (a 503 to retry), not after the
	// operating system's connect timeout.
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Second
	}
	return cfg.FormatDSN(), nil
}

// writesDSN returns the DSN of the pool of writes: its sessions at READ COMMITTED,
// set through the variable name the server knows (see isolationVariable), with
// autocommit off, so that a write's first statement begins its transaction, and
// multi-statement queries allowed, which a write's batch is (see writeSession).
// Every value in a statement is a parameter the driver escapes, never SQL text
// built from input.
func writesDSN(dsn, name string) (string, error) {
	cfg, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("database DSN: %w", err)
	}
	cfg.Params[name] = "'READ-COMMITTED'"
	cfg.Params["autocommit"] = "0"
	cfg.MultiStatements = true
	return cfg.FormatDSN(), nil
}

// writesPool opens the pool of writes (see writesDSN), whose connections each
// send, once, a statement of 16 KiB that does nothing (see grownBuffers).
func writesPool(dsn, isolationName string) (*sql.DB, error) {
	writes, err := writesDSN(dsn, isolationName)
	if err != nil {
		return nil, err
	}
	cfg, err := mysqldriver.ParseDSN(writes)
	if err != nil {
		return nil, fmt.Errorf("database DSN: %w", err)
	}
	c, err := mysqldriver.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(grownBuffers{c}), nil
}

// grownBuffers connects as its Connector does, then grows the connection's buffer
// once. go-sql-driver/mysql's buffer starts at 4 KiB and grows to the largest
// packet the connection sent, but interpolating a statement's arguments reserves
// twice the length of each string it appends: a batch a little over 4 KiB (a
// registration's, with the answer it records and its audit event) allocated a
// buffer of about twice its size on every write, and dropped it. A 16 KiB packet
// sent at connect leaves a buffer that such batches fit in, for the connection's
// life. (TestWriteBatchesReuseTheConnectionsBuffer shows the difference.)
type grownBuffers struct{ driver.Connector }

// growBuffer is the packet grownBuffers sends: a ROLLBACK, which does nothing on a
// new session, padded with spaces.
var growBuffer = "ROLLBACK" + strings.Repeat(" ", 16<<10-len("ROLLBACK"))

func (c grownBuffers) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if ex, ok := conn.(driver.ExecerContext); ok {
		if _, err := ex.ExecContext(ctx, growBuffer, nil); err != nil {
			_ = conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

// WritesDSN is the DSN of the sessions in which the store runs its MySQL writes
// (see writesDSN), found with db, for a tool that measures what such writes cost.
func WritesDSN(ctx context.Context, db *sql.DB, dsn string) (string, error) {
	name, _ := isolationVariable(ctx, db)
	return writesDSN(dsn, name)
}

// isolationVariable names the session's isolation level variable (MySQL 8 and
// MariaDB 11.1 name it transaction_isolation, MariaDB before tx_isolation) and
// returns its value.
func isolationVariable(ctx context.Context, db *sql.DB) (name, level string) {
	for _, v := range []string{"transaction_isolation", "tx_isolation"} {
		if err := db.QueryRowContext(ctx, "SELECT @@SESSION."+v).Scan(&level); err == nil {
			return v, level
		}
	}
	return "transaction_isolation", ""
}

// snapshotIsolation is what a snapshot asks for when the server's default
// isolation level is level: nothing when it is already REPEATABLE READ.
func snapshotIsolation(level string) sql.IsolationLevel {
	if level == "REPEATABLE-READ" {
		return sql.LevelDefault
	}
	return sql.LevelRepeatableRead
}
