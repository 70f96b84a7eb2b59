package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/apformation/certapi/internal/store"
)

// seed migrates the database and bulk-loads a synthetic dataset into it.
func seed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	database := fs.String("database", os.Getenv("CERTAPI_DATABASE_URL"), "database URL (empty: the embedded SQLite in --data-dir)")
	dataDir := fs.String("data-dir", envOr("CERTAPI_DATA_DIR", "./data"), "directory of the embedded database")
	candidates := fs.Int("candidates", 10000, "how many certified candidates to load")
	sites := fs.Int("sites", 10, "how many training sites share them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := store.Open(ctx, store.Options{URL: *database, DataDir: *dataDir})
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.MigrateUp(ctx); err != nil {
		return err
	}
	start := time.Now()
	report := time.Now()
	ds, err := s.LoadDataset(ctx, store.DatasetOptions{Candidates: *candidates, Sites: *sites, Progress: func(n int) {
		if time.Since(report) > 10*time.Second {
			report = time.Now()
			fmt.Fprintf(os.Stderr, "seed: %d of %d candidates (%s)\n", n, *candidates, time.Since(start).Round(time.Second))
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seed: %d candidates, %d rows each, in %s\n", ds.Candidates, 11, time.Since(start).Round(time.Second))
	return nil
}
