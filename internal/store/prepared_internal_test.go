package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// The embedded SQLite's pool keeps its statements prepared, those of transactions
// too, without a transaction ever waiting for a connection to prepare one; past
// its bound, statements run unprepared.
func TestPreparedPool(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "prepared.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(2)
	p := newPreparedPool(db)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.ExecContext(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ExecContext(ctx, "INSERT INTO t VALUES (?), (?)", 1, 2); err != nil {
		t.Fatal(err)
	}

	// Every connection held by a transaction: a statement the pool does not keep
	// yet runs all the same.
	const query = "SELECT count(*) FROM t WHERE v >= ?"
	var txs []*preparedTx
	for range 2 {
		c, err := p.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, c.(*preparedTx))
	}
	var n int
	if err := txs[0].QueryRowContext(ctx, query, 1).Scan(&n); err != nil || n != 2 {
		t.Fatalf("a transaction's new statement: %d, %v", n, err)
	}
	for _, tx := range txs {
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Then the pool keeps it, and a transaction runs the one it keeps.
	p.warm.Wait()
	kept := p.kept(query)
	if kept == nil {
		t.Fatal("the statement a transaction ran is not kept prepared")
	}
	c, err := p.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRowContext(ctx, query, 2).Scan(&n); err != nil || n != 1 {
		t.Fatalf("a kept statement in a transaction: %d, %v", n, err)
	}
	if err := c.(*preparedTx).Rollback(); err != nil {
		t.Fatal(err)
	}
	if p.kept(query) != kept {
		t.Error("the pool prepared a statement it keeps again")
	}

	// Past the bound, statements run unprepared.
	for i := range maxPrepared + 10 {
		if err := p.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("statement %d: %d, %v", i, n, err)
		}
	}
	if len(p.stmts) != maxPrepared {
		t.Errorf("%d statements kept, want the bound, %d", len(p.stmts), maxPrepared)
	}
}
