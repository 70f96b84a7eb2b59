package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
)

// statements runs every mix on a seeded MySQL database and reports, for each, the
// transactions it committed and the server's CPU for them. The server runs on this
// machine, as the tests' MariaDB does.
func TestStatementsMeasuresEachMix(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t, store.MySQL)
	s, err := store.Open(ctx, store.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadDataset(ctx, store.DatasetOptions{Candidates: 2, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := statements(ctx, []string{"--database", url, "--connections", "2", "--duration", "300ms"}, &out); err != nil {
		t.Fatal(err)
	}
	var rows int
	for line := range strings.Lines(out.String()) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 4 || strings.HasPrefix(cells[1], "-") || strings.TrimSpace(cells[1]) == "registrations/s" {
			continue
		}
		rows++
		if n, err := strconv.ParseFloat(strings.TrimSpace(cells[1]), 64); err != nil || n <= 0 {
			t.Errorf("%s: %q transactions per second", cells[0], cells[1])
		}
	}
	if want := len(statementMixes("", 1, 1)); rows != want {
		t.Fatalf("%d mixes measured, want %d:\n%s", rows, want, out.String())
	}
	var count int64
	if err := s.DB().Table("candidates").Count(&count).Error; err != nil || count <= 2 {
		t.Fatalf("%d candidates after the run (%v): the mixes wrote nothing", count, err)
	}
}
