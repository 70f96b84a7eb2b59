package store

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"
)

// The hand-written scans of candidates, evaluations and the feed's entries name
// every column of their row struct, in the order of its fields, and point each at
// its own field.
func TestHandScansMatchTheirModels(t *testing.T) {
	t.Run("candidates", func(t *testing.T) {
		var r candidateRow
		scanMatchesModel(t, &r, candidateColumns, scanCandidate(&r))
	})
	t.Run("evaluations", func(t *testing.T) {
		var r evaluationRow
		scanMatchesModel(t, &r, evaluationColumns, scanEvaluation(&r))
	})
	t.Run("result events", func(t *testing.T) {
		var r resultEventRow
		scanMatchesModel(t, &r, resultEventColumns, scanResultEvent(&r))
	})
}

func scanMatchesModel(t *testing.T, row any, columns string, dests []any) {
	s, err := schema.Parse(row, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range s.Fields {
		want = append(want, f.DBName)
	}
	got := strings.Split(columns, ", ")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("columns:\n got %v\nwant %v", got, want)
	}
	v := reflect.ValueOf(row).Elem()
	if len(dests) != v.NumField() {
		t.Fatalf("the scan has %d destinations for %d fields", len(dests), v.NumField())
	}
	for i, d := range dests {
		if reflect.ValueOf(d).Pointer() != v.Field(i).Addr().Pointer() {
			t.Errorf("destination %d is not field %s", i, v.Type().Field(i).Name)
		}
	}
}

// On the embedded database, the writes wait for the disk and the idempotency
// records do not (see Store.records); on MySQL both are the one pool.
func TestRecordsCommitWithoutWaitingForTheDisk(t *testing.T) {
	s, err := Open(context.Background(), Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var writes, records int
	if err := s.db.Raw("PRAGMA synchronous").Scan(&writes).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.records.Raw("PRAGMA synchronous").Scan(&records).Error; err != nil {
		t.Fatal(err)
	}
	if writes != 2 || records != 1 { // FULL, NORMAL
		t.Errorf("synchronous: writes %d, records %d; want 2 (FULL) and 1 (NORMAL)", writes, records)
	}
}
