// Package testdb gives each test a fresh, migrated database: a SQLite file in the
// test's temporary folder, or a new database on the MariaDB/MySQL server that
// CERTAPI_TEST_MYSQL_DSN names (default root@tcp(127.0.0.1:3306)/). The MySQL suite
// is not optional: without a server its tests fail, they do not skip.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	"github.com/apformation/certapi/internal/store"
	mysqldriver "github.com/go-sql-driver/mysql"
)

// Dialects are the databases every store and HTTP test runs on.
var Dialects = []store.Dialect{store.SQLite, store.MySQL}

// ServerDSN is the MySQL server the tests create their databases on.
func ServerDSN() string {
	if v := os.Getenv("CERTAPI_TEST_MYSQL_DSN"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// URL returns the database URL of a fresh, empty database of the dialect; it is
// dropped when the test ends.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return "file:" + t.TempDir() + "/test.db"
	}
	cfg, err := mysqldriver.ParseDSN(ServerDSN())
	if err != nil {
		t.Fatalf("CERTAPI_TEST_MYSQL_DSN: %v", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("mysql: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "certapi_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("the MySQL suite needs a MariaDB/MySQL server at %q (set CERTAPI_TEST_MYSQL_DSN): %v", ServerDSN(), err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE " + name) })
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Open returns a fresh database of the dialect, migrated to the latest version.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	s := OpenEmpty(t, d)
	if _, err := s.MigrateUp(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return s
}

// OpenEmpty returns a fresh database of the dialect with no migration applied.
func OpenEmpty(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{URL: URL(t, d)})
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
