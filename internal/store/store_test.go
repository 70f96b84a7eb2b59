package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

func forEachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

func adminCtx() context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "00000000-0000-7000-8000-0000000000ad", Role: auth.RoleAdmin})
}

func newService(t *testing.T, s *store.Store) *service.Service {
	tokens, err := auth.NewTokens(auth.NewKey(), time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	return service.New(s, tokens, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// The migrated schema and the GORM row structs agree column for column, with the
// same nullability, on both databases.
func TestSchemaMatchesModels(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		db := testdb.Open(t, d).DB()
		for _, m := range store.Models {
			sch, err := schema.Parse(m, &sync.Map{}, db.NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			if !db.Migrator().HasTable(sch.Table) {
				t.Errorf("table %s of %T is not in the schema", sch.Table, m)
				continue
			}
			cols, err := db.Migrator().ColumnTypes(sch.Table)
			if err != nil {
				t.Fatal(err)
			}
			inDB := map[string]bool{}
			for _, c := range cols {
				nullable, _ := c.Nullable()
				inDB[c.Name()] = nullable
			}
			for _, f := range sch.Fields {
				if f.DBName == "" {
					continue
				}
				nullable, ok := inDB[f.DBName]
				if !ok {
					t.Errorf("%s.%s: in the model, not in the schema", sch.Table, f.DBName)
					continue
				}
				if isPtr := f.FieldType.Kind().String() == "ptr"; isPtr != nullable {
					t.Errorf("%s.%s: model nullable=%t, schema nullable=%t", sch.Table, f.DBName, isPtr, nullable)
				}
				delete(inDB, f.DBName)
			}
			for col := range inDB {
				t.Errorf("%s.%s: in the schema, not in the model", sch.Table, col)
			}
		}
	})
}

// Migrating twice changes nothing; every migration rolls back, and up again gives
// the same referential.
func TestMigrationsAreIdempotentAndReversible(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := testdb.OpenEmpty(t, d)
		st, err := s.MigrationStatus(ctx)
		if err != nil || len(st) < 2 {
			t.Fatalf("status: %+v, %v", st, err)
		}
		applied, err := s.MigrateUp(ctx)
		if err != nil || len(applied) != len(st) {
			t.Fatalf("first up: applied %v of %d, %v", applied, len(st), err)
		}
		again, err := s.MigrateUp(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second up: applied %v, %v", again, err)
		}
		count := func() (n int64) {
			if err := s.DB().Table("certification_capacities").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 14 {
			t.Fatalf("capacities after two ups: %d, want 14", n)
		}
		if st, _ = s.MigrationStatus(ctx); !st[len(st)-1].Applied {
			t.Fatalf("status after up: %+v", st)
		}
		if v, err := s.MigrateDown(ctx); err != nil || v != st[len(st)-1].Version {
			t.Fatalf("down: %d, %v", v, err)
		}
		after, _ := s.MigrationStatus(ctx)
		if after[len(after)-1].Applied || !after[len(after)-2].Applied || !s.DB().Migrator().HasTable("certifications") {
			t.Fatalf("down rolled back more or less than the latest migration: %+v", after)
		}
		for range st[:len(st)-1] {
			if _, err := s.MigrateDown(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if s.DB().Migrator().HasTable("certifications") {
			t.Fatal("rolling everything back left the certifications table")
		}
		if _, err := s.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 14 {
			t.Fatalf("capacities after down and up: %d, want 14", n)
		}
	})
}

// The first migration seeds RNCP26206 as RULES.md §1-5 state it.
func TestReferentialIsSeeded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		svc := newService(t, testdb.Open(t, d))
		c, err := svc.GetCertification(adminCtx(), "RNCP26206")
		if err != nil {
			t.Fatal(err)
		}
		activities := 0
		for _, f := range c.Functions {
			activities += len(f.Activities)
		}
		checks := []struct {
			what      string
			got, want any
		}{
			{"title", c.Title, "Community manager"},
			{"certifier", c.Certifier, "AP Formation"},
			{"levels", c.Level1969 + "/" + string(rune('0'+c.LevelEQF)), "II/6"},
			{"NSF", c.NSF[0].Code, "320m"},
			{"ROME", c.ROME[0].Code, "E1101"},
			{"sectors", len(c.Sectors), 3},
			{"functions", len(c.Functions), 4},
			{"activities", activities, 13},
			{"capacities", len(c.Capacities), 14},
			{"last capacity", c.Capacities[13].ID, "CAP-14"},
			{"components", len(c.Components), 4},
			{"E4 parts", len(c.Components[3].Parts), 2},
			{"E4 defence minutes", *c.Components[3].Parts[1].DurationMinutes, 45},
			{"E4 combination", c.Components[3].Grading.Combination, "mean"},
			{"pass mark", c.Components[0].Grading.PassMark, 10.0},
			{"scale", c.Components[0].Grading.ScaleMax, 20.0},
			{"routes", len(c.Routes), 6},
			{"apprenticeship open", c.Routes[1].ID == certification.RouteApprenticeship && c.Routes[1].Open, false},
			{"jury", [3]int{c.Jury.Size, c.Jury.PedagogicalDirectors, c.Jury.Professionals}, [3]int{5, 1, 4}},
			{"validity", *c.ValidityYears, 5},
			{"territories", len(c.ExcludedTerritories), 2},
			{"periods", len(c.Periods), 2},
			{"first period", c.Periods[0].EffectiveFrom.Format(time.DateOnly) + ".." + c.Periods[0].EffectiveUntil.Format(time.DateOnly), "2013-01-29..2019-06-07"},
			{"second period", c.Periods[1].EffectiveFrom.Format(time.DateOnly) + ".." + c.Periods[1].EffectiveUntil.Format(time.DateOnly), "2019-01-04..2020-01-04"},
			{"declared sites", len(c.Sites), 4},
		}
		for _, ch := range checks {
			if ch.got != ch.want {
				t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
			}
		}
		var certSites []string
		for _, s := range c.Sites {
			if s.Role == certification.SiteCertification {
				certSites = append(certSites, s.Address.Line1)
			}
		}
		if len(certSites) != 1 || certSites[0] != "14 rue Pierre Bayle" {
			t.Errorf("certification sites: %v", certSites)
		}
	})
}

// Names in any script, and instants, come back exactly as written.
func TestTextAndTimeRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		svc := newService(t, testdb.Open(t, d))
		name := "Œuvre Gréa — Ñandú 日本 😀"
		created, err := svc.CreateTrainingSite(adminCtx(), service.TrainingSiteInput{Name: name,
			Address: certification.Address{Line1: "1 place du Capitole", PostalCode: "31000", City: "Toulouse", CountryCode: "FR"},
			Roles:   []certification.SiteRole{certification.SitePreparation}, CertificationCodes: []string{"RNCP26206"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.GetTrainingSite(adminCtx(), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != name {
			t.Errorf("name: got %q, want %q", got.Name, name)
		}
		if !got.CreatedAt.Equal(created.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at: got %v, want %v in UTC", got.CreatedAt, created.CreatedAt)
		}
	})
}

// Two writers holding the same version: exactly one wins, the other is told its
// version is stale. On MariaDB this goes through the row lock.
func TestConcurrentUpdatesOneWins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		svc := newService(t, testdb.Open(t, d))
		const id = "00000000-0000-7000-8000-00000000b003"
		site, err := svc.GetTrainingSite(adminCtx(), id)
		if err != nil {
			t.Fatal(err)
		}
		const writers = 8
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := service.TrainingSiteInput{Name: site.Name + " " + string(rune('A'+i)), Address: site.Address, Roles: site.Roles, CertificationCodes: site.CertificationCodes}
				_, errs[i] = svc.UpdateTrainingSite(adminCtx(), id, site.Version, in)
			}()
		}
		wg.Wait()
		wins, stale := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, certification.ErrStale):
				stale++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 || stale != writers-1 {
			t.Fatalf("wins=%d stale=%d, want 1 and %d", wins, stale, writers-1)
		}
		after, _ := svc.GetTrainingSite(adminCtx(), id)
		if after.Version != site.Version+1 {
			t.Fatalf("version %d, want %d", after.Version, site.Version+1)
		}
	})
}

// The embedded database keeps every acknowledged write across a restart.
func TestEmbeddedRestartKeepsWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	svc := newService(t, s)
	var ids []string
	for i := range 20 {
		site, err := svc.CreateTrainingSite(adminCtx(), service.TrainingSiteInput{Name: "Site " + string(rune('A'+i)),
			Address: certification.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", CountryCode: "FR"},
			Roles:   []certification.SiteRole{certification.SitePreparation}, CertificationCodes: []string{"RNCP26206"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, site.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open()
	defer s2.Close()
	svc2 := newService(t, s2)
	for _, id := range ids {
		if _, err := svc2.GetTrainingSite(adminCtx(), id); err != nil {
			t.Errorf("site %s lost across restart: %v", id, err)
		}
	}
	events, err := svc2.ListAuditEvents(adminCtx(), service.AuditFilter{Page: service.Page{Limit: 100}, ResourceType: "training_site"})
	if err != nil || len(events) != 20 {
		t.Fatalf("audit events after restart: %d, %v", len(events), err)
	}
	sort.Slice(events, func(i, j int) bool { return events[i].ID < events[j].ID })
	if events[0].ActorRole != "admin" || events[0].Action != "create" {
		t.Errorf("audit event: %+v", events[0])
	}
}

// Foreign keys hold on both databases (SQLite enforces them only when told to, per
// connection): a candidate at a site that does not exist is refused by the schema.
func TestForeignKeysAreEnforced(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		db := testdb.Open(t, d).DB()
		err := db.Exec(`INSERT INTO training_site_certifications (training_site_id, certification_code) VALUES (?, ?)`,
			"01900000-0000-7000-8000-000000000000", "RNCP26206").Error
		if err == nil {
			t.Fatal("a link to a training site that does not exist was accepted")
		}
	})
}

// Migration 00005 on a database that holds data: it refuses, before changing
// anything, two accounts bound to one jury member; once that is mended it runs, and
// gives every candidate the key of the person, accents folded.
func TestPersonKeysMigrationOnData(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := testdb.OpenEmpty(t, d)
		if err := s.MigrateUpTo(ctx, 4); err != nil {
			t.Fatal(err)
		}
		db := s.DB()
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO candidates (id, certification_code, route, enrolled_on, first_name, birth_name, sex, birth_date, birth_place_name,
			birth_country_code, email, line1, postal_code, city, country_code, status, search_name, version, created_at, updated_at)
			VALUES ('c1', 'RNCP26206', 'vae', '2019-06-03', 'Élodie', 'LEFÈVRE', 'F', '1990-02-03', 'Toulouse', 'FR', 'e@x.example',
			'1 rue', '31000', 'Toulouse', 'FR', 'enrolled', '', 1, '2019-06-03 00:00:00', '2019-06-03 00:00:00')`)
		for _, id := range []string{"u1", "u2"} {
			exec(`INSERT INTO users (id, email, password_hash, role, jury_member_id, active, version, created_at, updated_at)
				VALUES (?, ?, 'x', 'jury_member', 'm1', TRUE, 1, '2019-06-03 00:00:00', '2019-06-03 00:00:00')`, id, id+"@x.example")
		}
		if _, err := s.MigrateUp(ctx); err == nil || !strings.Contains(err.Error(), "2 accounts are bound to jury member m1") {
			t.Fatalf("two accounts for one member: %v", err)
		}
		exec("UPDATE users SET jury_member_id = NULL, role = 'director' WHERE id = 'u2'")
		if _, err := s.MigrateUp(ctx); err != nil {
			t.Fatalf("after mending: %v", err)
		}
		var key string
		if err := db.Raw("SELECT person_key FROM candidates WHERE id = 'c1'").Scan(&key).Error; err != nil || key != "RNCP26206|lefevre|elodie|1990-02-03" {
			t.Fatalf("person key %q, %v", key, err)
		}
	})
}

// A snapshot reads the database as it was at its first read, whatever commits
// meanwhile (a transcript is composed of several reads).
func TestSnapshotIsConsistent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		svc := newService(t, s)
		ctx := adminCtx()
		site, err := svc.GetTrainingSite(ctx, "00000000-0000-7000-8000-00000000b002")
		if err != nil {
			t.Fatal(err)
		}
		var first, second string
		err = s.Snapshot(ctx, func(tx service.Tx) error {
			a, err := tx.TrainingSite(site.ID)
			if err != nil {
				return err
			}
			first = a.Name
			if _, err := svc.UpdateTrainingSite(ctx, site.ID, site.Version, service.TrainingSiteInput{Name: "Renamed meanwhile",
				Address: site.Address, Roles: site.Roles, CertificationCodes: site.CertificationCodes}); err != nil {
				return err
			}
			b, err := tx.TrainingSite(site.ID)
			second = b.Name
			return err
		})
		if err != nil || first != second || first != site.Name {
			t.Fatalf("inside the snapshot %q then %q (%v)", first, second, err)
		}
		if now, _ := svc.GetTrainingSite(ctx, site.ID); now.Name != "Renamed meanwhile" {
			t.Fatalf("the write did not commit: %q", now.Name)
		}
	})
}

// An Idempotency-Key is recorded by its request's write, in the same transaction:
// a write that commits leaves a record naming what it did (the answer is added
// once sent), or with its whole answer when the handler renders it from the
// write's result; a write that fails leaves nothing; and the write of a second
// request with a key recorded meanwhile rolls back whole.
func TestIdempotencyKeyIsRecordedByItsWrite(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		claim := func(key string) *idempotency.Claim {
			return &idempotency.Claim{Record: idempotency.Record{PrincipalID: "p1", Key: key, Method: "POST", Path: "/v1/training-sites",
				RequestHash: "h1", CreatedAt: start, LeaseUntil: start.Add(time.Minute)}}
		}
		audit := func(id, resource string) func(tx service.Tx) error {
			return func(tx service.Tx) error {
				return tx.AppendAudit(service.AuditEvent{ID: id, OccurredAt: start,
					ActorRole: "admin", Action: "create", ResourceType: "training_site", ResourceID: resource})
			}
		}

		// Before any write, nothing holds a key.
		if _, err := s.Lookup(ctx, "p1", "committed"); !errors.Is(err, idempotency.ErrNotFound) {
			t.Fatalf("a key no write recorded: %v", err)
		}
		committed := claim("committed")
		if err := s.Write(idempotency.WithClaim(ctx, committed), audit("00000000-0000-7000-8000-00000000a001", "site-created-once")); err != nil {
			t.Fatal(err)
		}
		got, err := s.Lookup(ctx, "p1", "committed")
		if err != nil || !committed.Done || committed.Answered || got.StatusCode != 0 || got.Location != "site-created-once" ||
			got.RequestHash != "h1" || !got.LeaseUntil.Equal(start.Add(time.Minute)) {
			t.Fatalf("the committed write's record: %+v %v (claim %+v)", got, err, committed)
		}

		// A failing write records nothing.
		failing := claim("rolled-back")
		if err := s.Write(idempotency.WithClaim(ctx, failing), func(tx service.Tx) error { return certification.ErrStale }); !errors.Is(err, certification.ErrStale) {
			t.Fatal(err)
		}
		if _, err := s.Lookup(ctx, "p1", "rolled-back"); !errors.Is(err, idempotency.ErrNotFound) || failing.Done {
			t.Fatalf("a rolled-back write's key: %v, done %v", err, failing.Done)
		}

		// A second request with the committed key, run meanwhile: its write rolls back.
		second := claim("committed")
		err = s.Write(idempotency.WithClaim(ctx, second), audit("00000000-0000-7000-8000-00000000a002", "site-created-twice"))
		if !errors.Is(err, idempotency.ErrRaced) || second.Done || audited(t, s, "site-created-twice") != 0 {
			t.Fatalf("the raced write: %v, done %v, audited %d", err, second.Done, audited(t, s, "site-created-twice"))
		}

		// A handler that renders its answer from the write's result has it recorded
		// with the key, in the write's transaction: nothing is left to add.
		rendered := claim("rendered")
		rendered.Render(func(result any) (idempotency.Answer, error) {
			return idempotency.Answer{StatusCode: 201, ContentType: "application/json", Location: "/v1/things/" + result.(string),
				ETag: `"1"`, Body: []byte(`{"id":"` + result.(string) + `"}`)}, nil
		})
		rctx := idempotency.WithClaim(ctx, rendered)
		if err := s.Write(rctx, func(tx service.Tx) error {
			idempotency.Result(rctx, "thing-1")
			return audit("00000000-0000-7000-8000-00000000a003", "thing-1")(tx)
		}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Lookup(ctx, "p1", "rendered")
		if err != nil || !rendered.Answered || got.StatusCode != 201 || got.Location != "/v1/things/thing-1" || string(got.Body) != `{"id":"thing-1"}` ||
			got.ETag != `"1"` || rendered.Record.Answer.StatusCode != 201 {
			t.Fatalf("the rendered answer: %+v %v (claim %+v)", got, err, rendered)
		}

		// Complete adds the answer to the committed write's record, and records the
		// answer of a request that committed no write of its own.
		rec := committed.Record
		rec.Answer = idempotency.Answer{StatusCode: 201, ContentType: "application/json", Location: "/v1/training-sites/site-created-once", Body: []byte(`{}`)}
		if err := s.Complete(ctx, rec); err != nil {
			t.Fatal(err)
		}
		other := claim("no-write").Record
		other.Answer = idempotency.Answer{StatusCode: 200, ContentType: "application/json", Body: []byte(`[]`)}
		if err := s.Complete(ctx, other); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Lookup(ctx, "p1", "committed"); err != nil || got.StatusCode != 201 || got.Location != "/v1/training-sites/site-created-once" {
			t.Fatalf("completed: %+v %v", got, err)
		}
		if got, err := s.Lookup(ctx, "p1", "no-write"); err != nil || got.StatusCode != 200 || string(got.Body) != "[]" {
			t.Fatalf("recorded by Complete: %+v %v", got, err)
		}
		// ... but never over the record of another request with the key.
		another := claim("no-write").Record
		another.RequestHash, another.Answer = "h2", idempotency.Answer{StatusCode: 201, Body: []byte(`{"other":true}`)}
		if err := s.Complete(ctx, another); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Lookup(ctx, "p1", "no-write"); err != nil || got.RequestHash != "h1" || string(got.Body) != "[]" {
			t.Fatalf("overwritten by another request's answer: %+v %v", got, err)
		}

		// An expired record is replaced by the next write with its key.
		later := claim("committed")
		later.CreatedAt, later.LeaseUntil = start.Add(idempotency.TTL+time.Hour), start.Add(idempotency.TTL+time.Hour+time.Minute)
		if err := s.Write(idempotency.WithClaim(ctx, later), audit("00000000-0000-7000-8000-00000000a004", "site-a-day-later")); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Lookup(ctx, "p1", "committed"); err != nil || got.Location != "site-a-day-later" || !got.CreatedAt.Equal(later.CreatedAt) {
			t.Fatalf("the replaced record: %+v %v", got, err)
		}
	})
}

// A candidate is read with their certification's version, and the referential then
// comes from the cache without a read of its own, but only while that version is
// the cached one: a change of the referential (here a training site declared for
// the certification) is seen by the next read, in a snapshot as outside one.
func TestReferentialReadWithACandidateFollowsItsVersion(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		svc := newService(t, s)
		ctx := adminCtx()
		ds, err := s.LoadDataset(ctx, store.DatasetOptions{Candidates: 1, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		// The referential read after a candidate, or after a site declared for it.
		var viaSite bool
		sites := func(read func(context.Context, func(service.Tx) error) error) int {
			t.Helper()
			n := -1
			if err := read(ctx, func(tx service.Tx) error {
				code := "RNCP26206"
				if viaSite {
					site, err := tx.TrainingSite(ds.SiteIDs[0])
					if err != nil || len(site.CertificationCodes) != 1 || site.CertificationCodes[0] != code {
						return fmt.Errorf("site %+v: %v", site, err)
					}
				} else {
					c, err := tx.Candidate(ds.CandidateIDs[0])
					if err != nil {
						return err
					}
					code = c.CertificationCode
				}
				ref, err := tx.Certification(code)
				n = len(ref.Sites)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := sites(s.Read)
		if again := sites(s.Snapshot); again != before {
			t.Fatalf("declared sites: %d, then %d with nothing changed", before, again)
		}
		viaSite = true
		if again := sites(s.Read); again != before {
			t.Fatalf("declared sites: %d, then %d through a site with nothing changed", before, again)
		}
		if _, err := svc.CreateTrainingSite(ctx, service.TrainingSiteInput{Name: "Declared meanwhile",
			Address: certification.Address{Line1: "2 allée Jean Jaurès", PostalCode: "31000", City: "Toulouse", CountryCode: "FR"},
			Roles:   []certification.SiteRole{certification.SitePreparation}, CertificationCodes: []string{"RNCP26206"}}); err != nil {
			t.Fatal(err)
		}
		throughSite := sites(s.Read)
		viaSite = false
		inSnapshot, outside := sites(s.Snapshot), sites(s.Read)
		ref, err := svc.GetCertification(ctx, "RNCP26206")
		if err != nil {
			t.Fatal(err)
		}
		if len(ref.Sites) == before {
			t.Fatalf("the new site is not among the %d declared sites", before)
		}
		if throughSite != len(ref.Sites) || inSnapshot != len(ref.Sites) || outside != len(ref.Sites) {
			t.Errorf("after the change: %d declared sites read through a site, %d after a candidate in a snapshot, %d outside, want %d",
				throughSite, inSnapshot, outside, len(ref.Sites))
		}
		err = s.Read(ctx, func(tx service.Tx) error {
			_, err := tx.TrainingSite("00000000-0000-7000-8000-0000000fffff")
			return err
		})
		if !errors.Is(err, certification.ErrNotFound) {
			t.Errorf("an unknown site: %v, want not found", err)
		}
		err = s.Read(ctx, func(tx service.Tx) error {
			_, err := tx.Candidate("00000000-0000-7000-8000-0000000fffff")
			return err
		})
		if !errors.Is(err, certification.ErrNotFound) {
			t.Errorf("an unknown candidate: %v, want not found", err)
		}
	})
}

// The pool keeps every connection it opened for a burst: with fewer idle ones kept
// than open ones, each request above that closed its connection after the query and
// the next opened another.
func TestPoolKeepsItsConnectionsThroughABurst(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		db, err := testdb.Open(t, d).DB().DB()
		if err != nil {
			t.Fatal(err)
		}
		open := db.Stats().MaxOpenConnections
		if open < 8 {
			t.Fatalf("a pool of %d connections", open)
		}
		ctx := context.Background()
		var conns []interface{ Close() error }
		for range open {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if st := db.Stats(); st.MaxIdleClosed != 0 || st.Idle != open {
			t.Errorf("after a burst of %d: %d connections closed for lack of idle room, %d idle", open, st.MaxIdleClosed, st.Idle)
		}
	})
}

// A write that changes a referential and reads it back, then rolls back, leaves
// the cache as it was: the referential's next committed version is read afresh,
// not served as the rolled-back one.
func TestRolledBackReferentialIsNotCached(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		periods := func() int {
			var n int
			if err := s.Read(ctx, func(tx service.Tx) error {
				c, err := tx.Certification("RNCP26206")
				n = len(c.Periods)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := periods()
		failed := errors.New("a rule refused the change")
		if err := s.Write(ctx, func(tx service.Tx) error {
			if err := tx.InsertRegistrationPeriod(certification.RegistrationPeriod{ID: "00000000-0000-7000-8000-0000000000e1",
				CertificationCode: "RNCP26206", LegalAct: "never committed", EffectiveFrom: at, EffectiveUntil: at.AddDate(1, 0, 0),
				Version: 1, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			if err := tx.TouchCertification("RNCP26206", at); err != nil {
				return err
			}
			if c, err := tx.Certification("RNCP26206"); err != nil || len(c.Periods) != before+1 {
				t.Errorf("inside the write: %d periods (%v), want %d", len(c.Periods), err, before+1)
			}
			return failed
		}); !errors.Is(err, failed) {
			t.Fatal(err)
		}
		// The same version, committed by a change that adds nothing.
		if err := s.Write(ctx, func(tx service.Tx) error { return tx.TouchCertification("RNCP26206", at) }); err != nil {
			t.Fatal(err)
		}
		if n := periods(); n != before {
			t.Fatalf("%d periods after the rolled-back one, want %d", n, before)
		}
	})
}

// On SQLite, the writes that wait for the one writer commit together, each as if
// alone: a write that fails, or panics, leaves nothing and touches none of the
// others; a caller that gave up before its turn writes nothing; two requests
// with one Idempotency-Key in one group write once.
func TestWritesWaitingForTheWriterCommitTogether(t *testing.T) {
	t.Parallel()
	s := testdb.Open(t, store.SQLite)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	refused := errors.New("refused")
	type write struct {
		resource string
		ctx      context.Context
		fails    bool
		panics   bool
		claim    *idempotency.Claim
	}
	cancelled, cancel := context.WithCancel(ctx)
	claim := func() *idempotency.Claim {
		return &idempotency.Claim{Record: idempotency.Record{PrincipalID: "p1", Key: "one-key", Method: "POST", Path: "/v1/things",
			RequestHash: "h1", CreatedAt: at, LeaseUntil: at.Add(time.Minute)}}
	}
	writes := []write{
		{resource: "w0"}, {resource: "w1", fails: true}, {resource: "w2"}, {resource: "w3", panics: true},
		{resource: "w4", ctx: cancelled}, {resource: "w5", claim: claim()}, {resource: "w6", claim: claim()}, {resource: "w7"},
	}
	groupsBefore := s.GroupsCommitted()
	release := s.HoldWriter()
	errs := make([]error, len(writes))
	panics := make([]any, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wctx := ctx
		if w.ctx != nil {
			wctx = w.ctx
		}
		if w.claim != nil {
			wctx = idempotency.WithClaim(wctx, w.claim)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			errs[i] = s.Write(wctx, func(tx service.Tx) error {
				if err := tx.AppendAudit(service.AuditEvent{ID: fmt.Sprintf("00000000-0000-7000-8000-0000000000%02d", i), OccurredAt: at,
					ActorRole: "admin", Action: "create", ResourceType: "thing", ResourceID: w.resource}); err != nil {
					return err
				}
				switch {
				case w.fails:
					return refused
				case w.panics:
					panic("a write's bug")
				}
				return nil
			})
		}()
		// One at a time, so that the group takes them in this order.
		for s.QueuedWrites() != i+1 {
			runtime.Gosched()
		}
	}
	cancel()
	// The cancelled caller leaves the queue before the writer is free.
	for s.QueuedWrites() != len(writes)-1 {
		runtime.Gosched()
	}
	release()
	wg.Wait()

	if n := s.GroupsCommitted() - groupsBefore; n != 1 {
		t.Errorf("%d groups committed, want the 7 waiting writes in one", n)
	}
	for i, w := range writes {
		var want error
		switch {
		case w.fails:
			want = refused
		case w.ctx != nil:
			want = context.Canceled
		case i == 6:
			want = idempotency.ErrRaced
		}
		if w.panics {
			if panics[i] != "a write's bug" {
				t.Errorf("%s: panicked with %v in its caller, want the write's panic", w.resource, panics[i])
			}
		} else if !errors.Is(errs[i], want) || (want == nil && errs[i] != nil) || panics[i] != nil {
			t.Errorf("%s: %v (panic %v), want %v", w.resource, errs[i], panics[i], want)
		}
		kept := want == nil && !w.panics
		if n := audited(t, s, w.resource); (n == 1) != kept || n > 1 {
			t.Errorf("%s: written %d times, want kept %v", w.resource, n, kept)
		}
		if w.claim != nil && w.claim.Done != kept {
			t.Errorf("%s: claim done %v, want %v", w.resource, w.claim.Done, kept)
		}
	}
	if rec, err := s.Lookup(ctx, "p1", "one-key"); err != nil || rec.Location != "w5" {
		t.Errorf("the key's record: %+v %v, want w5's", rec, err)
	}
}

// A transcript's one statement reads what the candidate and their person's
// sittings read apart: with sittings, with a second registration of the person
// that has none, and for a candidate without any; an unknown id is not found.
func TestCandidateSittingsReadsWhatTwoReadsDo(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		ds, first := seededCandidate(t, s, 3)
		// The same person registered again (their first registration ended), and
		// someone with no registration but their own and no sitting.
		again, alone := first, first
		again.ID, again.Version, again.SupersededBy = "00000000-0000-7000-8000-0000000000c1", 1, ""
		alone.ID, alone.FirstName, alone.Version = "00000000-0000-7000-8000-0000000000c2", "Personne", 1
		if err := s.Write(ctx, func(tx service.Tx) error {
			if err := tx.InsertCandidate(again, service.CandidateKeys{Person: service.PersonKey(again)}); err != nil {
				return err
			}
			return tx.InsertCandidate(alone, service.CandidateKeysOf(alone))
		}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{ds.CandidateIDs[0], again.ID, ds.CandidateIDs[1], alone.ID} {
			var (
				c1, c2 certification.Candidate
				s1, s2 []certification.PersonSitting
			)
			if err := s.Read(ctx, func(tx service.Tx) (err error) {
				if c1, err = tx.Candidate(id); err != nil {
					return err
				}
				if s1, err = tx.PersonSittings(service.PersonKey(c1)); err != nil {
					return err
				}
				c2, s2, err = tx.CandidateSittings(id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c1, c2) || !reflect.DeepEqual(s1, s2) {
				t.Errorf("%s: one statement read\n%+v\n%+v\nwhere two read\n%+v\n%+v", id, c2, s2, c1, s1)
			}
			want := 4
			if id == alone.ID {
				want = 0
			}
			if len(s2) != want {
				t.Errorf("%s: %d sittings, want %d", id, len(s2), want)
			}
		}
		err := s.Read(ctx, func(tx service.Tx) error {
			_, _, err := tx.CandidateSittings("00000000-0000-7000-8000-0000000000ff")
			return err
		})
		if !errors.Is(err, certification.ErrNotFound) {
			t.Fatalf("an unknown candidate: %v", err)
		}
	})
}

// A page of the feed read with its end in one statement holds what the page and
// the end read apart hold.
func TestResultPageReadsTheFeedsEndWithIt(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		if _, err := s.LoadDataset(ctx, store.DatasetOptions{Candidates: 5, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []service.ResultFilter{{Limit: 2}, {After: 3, Limit: 10}, {After: 5, Limit: 10}} {
			if err := s.Read(ctx, func(tx service.Tx) error {
				page, last, err := tx.ResultPage(f)
				if err != nil {
					return err
				}
				apart, err := tx.ResultEntries(f)
				if err != nil {
					return err
				}
				end, err := tx.LastResultSequence()
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(page, apart) || len(page) > 0 && last != end || len(page) == 0 && last != 0 {
					t.Errorf("after %d: %d entries, end %d; apart %d entries, end %d", f.After, len(page), last, len(apart), end)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// audited counts the audit events that name resource.
func audited(t *testing.T, s *store.Store, resource string) int {
	t.Helper()
	var events []service.AuditEvent
	if err := s.Read(context.Background(), func(tx service.Tx) (err error) {
		events, err = tx.AuditEvents(service.AuditFilter{ResourceID: resource, Page: service.Page{Limit: 10}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return len(events)
}

// On MySQL a write runs at READ COMMITTED (its pool's sessions default to it), so
// that what it reads after taking its locks is what other writers committed.
func TestWritesRunAtReadCommittedOnMySQL(t *testing.T) {
	t.Parallel()
	s := testdb.Open(t, store.MySQL)
	level, err := s.WriteIsolation(context.Background())
	if err != nil || level != "READ-COMMITTED" {
		t.Fatalf("a write's isolation level: %q (%v), want READ-COMMITTED", level, err)
	}
}

// A write that fails, panics or loses its caller leaves nothing behind, even for
// the next write on the same connection: on MySQL a write's session has autocommit
// off and sends its last INSERTs with its COMMIT (see writeSession), so a
// connection back in the pool inside a transaction would commit what the failed
// write did along with the next write.
func TestFailedWriteLeavesNoTransactionBehind(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		s.LimitWriteConnections(1)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		write := func(ctx context.Context, n int, end func(context.Context) error) error {
			id := fmt.Sprintf("00000000-0000-7000-8000-0000000001%02d", n)
			return s.Write(ctx, func(tx service.Tx) error {
				if err := tx.InsertUser(service.User{ID: id, Email: fmt.Sprintf("user%d@example.org", n), PasswordHash: "x",
					Role: auth.RoleAdmin, Active: true, Version: 1, CreatedAt: at, UpdatedAt: at}); err != nil {
					return err
				}
				if err := tx.AppendAudit(service.AuditEvent{ID: id, OccurredAt: at, ActorRole: "admin", Action: "create",
					ResourceType: "user", ResourceID: id, RequestID: "test"}); err != nil {
					return err
				}
				return end(ctx)
			})
		}
		refused := errors.New("a rule refused the write")
		if err := write(context.Background(), 1, func(context.Context) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("a failing write: %v", err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic of a write did not reach its caller")
				}
			}()
			_ = write(context.Background(), 2, func(context.Context) error { panic("a write's bug") })
		}()
		ctx, cancel := context.WithCancel(context.Background())
		if err := write(ctx, 3, func(context.Context) error { cancel(); return nil }); err == nil {
			t.Error("a write whose caller went away before its commit committed")
		}
		if err := write(context.Background(), 4, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for n, want := range map[int]bool{1: false, 2: false, 3: false, 4: true} {
			id := fmt.Sprintf("00000000-0000-7000-8000-0000000001%02d", n)
			var found bool
			if err := s.Read(context.Background(), func(tx service.Tx) error {
				_, err := tx.User(id)
				found = err == nil
				if errors.Is(err, certification.ErrNotFound) {
					err = nil
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if events := audited(t, s, id); found != want || (events == 1) != want {
				t.Errorf("write %d: user stored %v, %d audit events; want stored %v", n, found, events, want)
			}
		}
	})
}

// A write whose caller goes away between two of its statements stops at the next
// one, with the caller's error, and leaves nothing behind. (On SQLite a write's
// statements run under a detached context, which checks the caller's before each
// statement instead of watching it during one.)
func TestWriteStopsAtItsNextStatementOnceItsCallerGoesAway(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		id := "00000000-0000-7000-8000-000000000201"
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var next error
		err := s.Write(ctx, func(tx service.Tx) error {
			if err := tx.InsertUser(service.User{ID: id, Email: "gone@example.org", PasswordHash: "x",
				Role: auth.RoleAdmin, Active: true, Version: 1, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			cancel()
			_, next = tx.User(id)
			return next
		})
		if !errors.Is(next, context.Canceled) || !errors.Is(err, context.Canceled) {
			t.Fatalf("the statement after the caller went away: %v; the write: %v; want both context.Canceled", next, err)
		}
		if err := s.Read(context.Background(), func(tx service.Tx) error {
			_, err := tx.User(id)
			return err
		}); !errors.Is(err, certification.ErrNotFound) {
			t.Errorf("the user of the abandoned write: %v, want not found", err)
		}
	})
}

// twoInstances opens two stores on one fresh database of the dialect, as two
// instances of the service, with a dataset of one candidate at one site.
func twoInstances(t *testing.T, d store.Dialect) (here, there *store.Store, ds store.Dataset) {
	t.Helper()
	url := testdb.URL(t, d)
	ctx := context.Background()
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	here, there = open(), open()
	if _, err := here.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	ds, err := here.LoadDataset(ctx, store.DatasetOptions{Candidates: 1, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return here, there, ds
}

// A MySQL write takes a training site from the cache and checks it at its commit:
// a site, or a certification it is declared for, changed by another instance
// meanwhile makes the write run again on what it then reads, and a write that
// locks or changes the site it took from the cache commits at once. On SQLite
// every write reads the site.
func TestCachedSiteIsCheckedByTheWriteThatUsesIt(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		here, there, ds := twoInstances(t, d)
		id, at := ds.SiteIDs[0], time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
		// read runs a write on s that reads the site and the referential of its
		// certification, then does more; it returns what the last attempt read and
		// how many attempts ran.
		read := func(s *store.Store, more func(service.Tx, certification.TrainingSite) error) (certification.TrainingSite, int, int) {
			t.Helper()
			var (
				site     certification.TrainingSite
				periods  int
				attempts int
			)
			if err := s.Write(ctx, func(tx service.Tx) error {
				attempts++
				var err error
				if site, err = tx.TrainingSite(id); err != nil {
					return err
				}
				ref, err := tx.Certification("RNCP26206")
				if err != nil {
					return err
				}
				periods = len(ref.Periods)
				if more != nil {
					return more(tx, site)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return site, periods, attempts
		}
		deactivate := func(tx service.Tx, site certification.TrainingSite) error {
			site.Active, site.Version, site.UpdatedAt = false, site.Version+1, at
			return tx.UpdateTrainingSite(site)
		}
		// retried is how many attempts a write makes when what it took from the
		// cache changed meanwhile: one more on MySQL, none on SQLite.
		retried := 2
		if d == store.SQLite {
			retried = 1
		}

		first, periods, n := read(here, nil)
		if !first.Active || n != 1 {
			t.Fatalf("the first read: %+v in %d attempts", first, n)
		}
		if again, _, n := read(here, nil); again.Version != first.Version || n != 1 {
			t.Fatalf("the site unchanged: version %d in %d attempts, want %d in 1", again.Version, n, first.Version)
		}

		// Another instance deactivates the site.
		read(there, func(tx service.Tx, site certification.TrainingSite) error {
			if _, err := tx.LockTrainingSite(id); err != nil {
				return err
			}
			return deactivate(tx, site)
		})
		site, _, n := read(here, nil)
		if site.Active || site.Version != first.Version+1 || n != retried {
			t.Fatalf("after another instance deactivated it: active %v, version %d, in %d attempts; want inactive, version %d, in %d",
				site.Active, site.Version, n, first.Version+1, retried)
		}
		if _, _, n := read(here, nil); n != 1 {
			t.Fatalf("the site as it now is: %d attempts, want 1", n)
		}

		// Another instance records a registration period: the referential of the
		// certification the site is declared for moves on.
		if err := there.Write(ctx, func(tx service.Tx) error {
			if _, err := tx.LockCertification("RNCP26206"); err != nil {
				return err
			}
			if err := tx.InsertRegistrationPeriod(certification.RegistrationPeriod{ID: "00000000-0000-7000-8000-0000000000e2",
				CertificationCode: "RNCP26206", LegalAct: "recorded by another instance", EffectiveFrom: at.AddDate(3, 0, 0),
				EffectiveUntil: at.AddDate(4, 0, 0), Version: 1, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			return tx.TouchCertification("RNCP26206", at)
		}); err != nil {
			t.Fatal(err)
		}
		if _, after, n := read(here, nil); after != periods+1 || n != retried {
			t.Fatalf("after another instance recorded a period: %d periods in %d attempts, want %d in %d", after, n, periods+1, retried)
		}

		// The same with a write that appends an audit event, whose INSERT then
		// carries the check: the attempt that found the site changed commits
		// nothing, its event included.
		read(there, func(tx service.Tx, site certification.TrainingSite) error {
			if _, err := tx.LockTrainingSite(id); err != nil {
				return err
			}
			site.Name, site.Version, site.UpdatedAt = "Renamed by another instance", site.Version+1, at
			return tx.UpdateTrainingSite(site)
		})
		withEvent := func(tx service.Tx, site certification.TrainingSite) error {
			return tx.AppendAudit(service.AuditEvent{ID: uuid.Must(uuid.NewV7()).String(), OccurredAt: at, ActorRole: "admin",
				Action: "checked", ResourceType: "training_site", ResourceID: id, RequestID: site.Name})
		}
		if site, _, n := read(here, withEvent); site.Name != "Renamed by another instance" || n != retried {
			t.Fatalf("an audited write after another instance renamed the site: %q in %d attempts, want the new name in %d", site.Name, n, retried)
		}
		if _, _, n := read(here, withEvent); n != 1 {
			t.Fatalf("an audited write on the site as it now is: %d attempts, want 1", n)
		}
		var events []service.AuditEvent
		if err := here.Read(ctx, func(tx service.Tx) (err error) {
			events, err = tx.AuditEvents(service.AuditFilter{ResourceID: id, Page: service.Page{Limit: 10}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var checked []string
		for _, e := range events {
			if e.Action == "checked" {
				checked = append(checked, e.RequestID)
			}
		}
		if len(checked) != 2 || checked[0] != "Renamed by another instance" || checked[1] != checked[0] {
			t.Fatalf("the audited writes' events: %q, want one per committed write, both after the rename", checked)
		}

		// A write that locks the site it took from the cache, then changes it,
		// commits at once; one that changes it without a lock runs again.
		if _, _, n := read(here, func(tx service.Tx, site certification.TrainingSite) error {
			locked, err := tx.LockTrainingSite(id)
			if err != nil {
				return err
			}
			locked.Active, locked.Version, locked.UpdatedAt = true, locked.Version+1, at
			return tx.UpdateTrainingSite(locked)
		}); n != 1 {
			t.Fatalf("a write that locked the site it changed: %d attempts, want 1", n)
		}
		read(here, nil) // cached again
		if site, _, n := read(here, deactivate); n != retried || site.Version != first.Version+3 {
			t.Fatalf("a write that changed the site without a lock: version %d in %d attempts, want %d in %d", site.Version, n, first.Version+3, retried)
		}
		if site, _, n := read(here, nil); site.Active || n != 1 {
			t.Fatalf("after this instance's change: active %v in %d attempts, want inactive in 1", site.Active, n)
		}
	})
}

// A MySQL write defers a candidate's INSERT to the batch it commits with: a
// statement that comes after it in the write sees the candidate all the same, and
// an INSERT that meets the person's unique key, at the commit or before such a
// statement, makes the write run again without deferring, so that it gets the
// conflict where the code that inserts handles it. SQLite inserts at once.
func TestDeferredInsertGoesBeforeWhatFollowsIt(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		_, existing := seededCandidate(t, s, 1)
		person := func(id, birthName string) certification.Candidate {
			c := existing
			c.ID, c.BirthName, c.Status, c.CertificateNumber, c.Version = id, birthName, certification.StatusOf(certification.CandidateFacts{}), "", 1
			return c
		}
		// write runs then on a new registration of c; it returns the write's error
		// and how many attempts it made.
		write := func(c certification.Candidate, then func(service.Tx) error) (int, error) {
			attempts := 0
			err := s.Write(ctx, func(tx service.Tx) error {
				attempts++
				if err := tx.InsertCandidate(c, service.CandidateKeysOf(c)); err != nil {
					return err
				}
				if then != nil {
					return then(tx)
				}
				return nil
			})
			return attempts, err
		}
		retried := 2
		if d == store.SQLite {
			retried = 1
		}

		fresh := person("00000000-0000-7000-8000-0000000000f1", "Nouvelle")
		readBack := func(tx service.Tx) error {
			if got, err := tx.Candidate(fresh.ID); err != nil || got.BirthName != fresh.BirthName {
				return fmt.Errorf("the candidate read by id after its INSERT: %+v, %v", got, err)
			}
			if got, err := tx.CandidateByIdentity(service.CandidateKeysOf(fresh).Identity); err != nil || got.ID != fresh.ID {
				return fmt.Errorf("the candidate read by identity after its INSERT: %+v, %v", got, err)
			}
			return nil
		}
		if n, err := write(fresh, readBack); err != nil || n != 1 {
			t.Fatalf("a new person read back in the write that inserts them: %v, in %d attempts", err, n)
		}

		var conflict *certification.ConflictError
		twice := person("00000000-0000-7000-8000-0000000000f2", existing.BirthName)
		if n, err := write(twice, nil); !errors.As(err, &conflict) || conflict.Code != "duplicate_candidate" || n != retried {
			t.Fatalf("the same person again: %v in %d attempts, want duplicate_candidate in %d", err, n, retried)
		}
		again := person("00000000-0000-7000-8000-0000000000f3", existing.BirthName)
		if n, err := write(again, func(tx service.Tx) error {
			_, err := tx.Candidate(existing.ID)
			return err
		}); !errors.As(err, &conflict) || conflict.Code != "duplicate_candidate" || n != retried {
			t.Fatalf("the same person again, then a read: %v in %d attempts, want duplicate_candidate in %d", err, n, retried)
		}
		for _, id := range []string{twice.ID, again.ID} {
			if err := s.Read(ctx, func(tx service.Tx) error { _, err := tx.Candidate(id); return err }); !errors.Is(err, certification.ErrNotFound) {
				t.Errorf("candidate %s of a refused write: %v, want not found", id, err)
			}
		}
	})
}

// seededCandidate loads a dataset of n candidates at one site into s and returns
// it with its first candidate as the store reads it.
func seededCandidate(t *testing.T, s *store.Store, n int) (store.Dataset, certification.Candidate) {
	t.Helper()
	ctx := context.Background()
	ds, err := s.LoadDataset(ctx, store.DatasetOptions{Candidates: n, Sites: 1, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var first certification.Candidate
	if err := s.Read(ctx, func(tx service.Tx) (err error) { first, err = tx.Candidate(ds.CandidateIDs[0]); return err }); err != nil {
		t.Fatal(err)
	}
	return ds, first
}

// A write's batch a little over 4 KiB (a registration's) reuses its connection's
// buffer: the pool of writes grows each connection's buffer once, at connect,
// where the driver's own would allocate about twice the batch's size on every
// write, as interpolating its arguments reserves twice each string's length.
func TestWriteBatchesReuseTheConnectionsBuffer(t *testing.T) {
	ctx := context.Background()
	dsn, err := store.MySQLDSN(testdb.URL(t, store.MySQL))
	if err != nil {
		t.Fatal(err)
	}
	grown, plain, err := store.WritesPools(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer grown.Close()
	defer plain.Close()
	arg := strings.Repeat("x", 4500)
	// perExec is what one statement of 4.5 KiB, sent on one connection of db,
	// allocates.
	perExec := func(db *sql.DB) float64 {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		exec := func() {
			if _, err := conn.ExecContext(ctx, "DO LENGTH(?)", arg); err != nil {
				t.Fatal(err)
			}
		}
		exec()
		exec()
		const n = 100
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			exec()
		}
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / n
	}
	size := float64(len(arg))
	plainBytes, grownBytes := perExec(plain), perExec(grown)
	t.Logf("bytes allocated per statement of %.0f: %.0f with the driver's own buffer, %.0f in the pool of writes", size, plainBytes, grownBytes)
	if got := plainBytes; got < 2.5*size {
		t.Errorf("the driver's own buffer: %.0f bytes allocated per statement of %.0f; the driver no longer regrows its buffer, and grownBuffers can go", got, size)
	}
	if got := grownBytes; got > 1.75*size {
		t.Errorf("the pool of writes: %.0f bytes allocated per statement of %.0f, want under %.0f", got, size, 1.75*size)
	}
}

// On MySQL, the writes ready to commit while every slot is taken commit together,
// in one transaction, each acknowledged only by its commit, and a caller that gave
// up before its turn writes nothing. When the server refuses the group — a
// duplicate key, a second request with one Idempotency-Key, a site taken from the
// cache that another instance changed — nothing of it commits, and each write
// commits alone, as it would have: the refused one fails, or runs again, and the
// others commit once.
func TestWritesReadyTogetherCommitTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	here, there, ds := twoInstances(t, store.MySQL)
	siteID, at := ds.SiteIDs[0], time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	readSite := func(tx service.Tx) (certification.TrainingSite, error) { return tx.TrainingSite(siteID) }
	// A first write reads the site: the next ones take it from the cache.
	if err := here.Write(ctx, func(tx service.Tx) error { _, err := readSite(tx); return err }); err != nil {
		t.Fatal(err)
	}
	type write struct {
		event, resource string
		site            bool // takes the site from the cache before its audit event
		claim           string
		cancelled       bool // gives up while it waits
	}
	n := 0
	eventID := func() string { n++; return fmt.Sprintf("00000000-0000-7000-8000-%012d", n) }
	// run queues the writes, in order, behind the held slots, runs during while
	// they wait, releases the slots, and returns what each caller got, each
	// one's attempts and its claim.
	run := func(t *testing.T, writes []write, during func()) ([]error, []int, []*idempotency.Claim) {
		t.Helper()
		release := here.HoldCommitters()
		errs, attempts, claims := make([]error, len(writes)), make([]int, len(writes)), make([]*idempotency.Claim, len(writes))
		cancelled, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i, w := range writes {
			wctx := ctx
			if w.cancelled {
				wctx = cancelled
			}
			if w.claim != "" {
				claims[i] = &idempotency.Claim{Record: idempotency.Record{PrincipalID: "p1", Key: w.claim, Method: "POST",
					Path: "/v1/things", RequestHash: "h1", CreatedAt: at, LeaseUntil: at.Add(time.Minute)}}
				wctx = idempotency.WithClaim(wctx, claims[i])
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = here.Write(wctx, func(tx service.Tx) error {
					attempts[i]++
					if w.site {
						if _, err := readSite(tx); err != nil {
							return err
						}
					}
					return tx.AppendAudit(service.AuditEvent{ID: w.event, OccurredAt: at, ActorRole: "admin", Action: "create",
						ResourceType: "thing", ResourceID: w.resource})
				})
			}()
			for here.QueuedWrites() != i+1 {
				runtime.Gosched()
			}
		}
		cancel()
		queued := len(writes)
		for _, w := range writes {
			if w.cancelled {
				queued--
			}
		}
		for here.QueuedWrites() != queued {
			runtime.Gosched()
		}
		if during != nil {
			during()
		}
		release()
		wg.Wait()
		return errs, attempts, claims
	}
	check := func(t *testing.T, writes []write, errs []error, attempts []int, want []error, wantAttempts []int) {
		t.Helper()
		for i, w := range writes {
			if !errors.Is(errs[i], want[i]) || (want[i] == nil && errs[i] != nil) || attempts[i] != wantAttempts[i] {
				t.Errorf("%s: %v in %d attempts, want %v in %d", w.resource, errs[i], attempts[i], want[i], wantAttempts[i])
			}
			if n, kept := audited(t, here, w.resource), want[i] == nil; (n == 1) != kept || n > 1 {
				t.Errorf("%s: written %d times, want kept %v", w.resource, n, kept)
			}
		}
	}

	t.Run("together", func(t *testing.T) {
		writes := []write{{event: eventID(), resource: "t0"}, {event: eventID(), resource: "t1", site: true},
			{event: eventID(), resource: "t2", claim: "key-t2"}, {event: eventID(), resource: "t3", cancelled: true},
			{event: eventID(), resource: "t4"}}
		before := here.GroupsCommitted()
		errs, attempts, claims := run(t, writes, nil)
		if g := here.GroupsCommitted() - before; g != 1 {
			t.Errorf("%d groups committed, want the 4 waiting writes in one", g)
		}
		check(t, writes, errs, attempts, []error{nil, nil, nil, context.Canceled, nil}, []int{1, 1, 1, 1, 1})
		if !claims[2].Done {
			t.Error("the claim of t2 is not done")
		}
		if rec, err := here.Lookup(ctx, "p1", "key-t2"); err != nil || rec.Location != "t2" {
			t.Errorf("the key's record: %+v %v, want t2's", rec, err)
		}
	})

	t.Run("a duplicate key and a raced Idempotency-Key", func(t *testing.T) {
		// Fewer connections than writes: a refused group's writes, committed one
		// after the other, hold one connection at a time.
		here.LimitWriteConnections(2)
		defer here.LimitWriteConnections(25)
		dup := eventID()
		writes := []write{{event: dup, resource: "d0"}, {event: dup, resource: "d1"},
			{event: eventID(), resource: "d2", claim: "key-d"}, {event: eventID(), resource: "d3", claim: "key-d"},
			{event: eventID(), resource: "d4"}}
		before := here.GroupsCommitted()
		errs, attempts, claims := run(t, writes, nil)
		if g := here.GroupsCommitted() - before; g != 0 {
			t.Errorf("%d groups committed, want none", g)
		}
		check(t, writes, errs, attempts, []error{nil, gorm.ErrDuplicatedKey, nil, idempotency.ErrRaced, nil}, []int{1, 1, 1, 1, 1})
		if !claims[2].Done || claims[3].Done {
			t.Errorf("claims done: %v %v, want d2's only", claims[2].Done, claims[3].Done)
		}
	})

	t.Run("a cached site changed", func(t *testing.T) {
		writes := []write{{event: eventID(), resource: "s0"}, {event: eventID(), resource: "s1", site: true},
			{event: eventID(), resource: "s2", site: true}}
		before := here.GroupsCommitted()
		errs, attempts, _ := run(t, writes, func() {
			// Another instance renames the site while the writes wait.
			if err := there.Write(ctx, func(tx service.Tx) error {
				site, err := tx.LockTrainingSite(siteID)
				if err != nil {
					return err
				}
				site.Name, site.Version, site.UpdatedAt = site.Name+" (renamed)", site.Version+1, at
				return tx.UpdateTrainingSite(site)
			}); err != nil {
				t.Fatal(err)
			}
		})
		if g := here.GroupsCommitted() - before; g != 0 {
			t.Errorf("%d groups committed, want none", g)
		}
		// Both take the site from the cache again: the second's attempt reads it
		// anew, as the first's stale attempt dropped it from the cache.
		check(t, writes, errs, attempts, []error{nil, nil, nil}, []int{1, 2, 2})
	})
}

// CandidateOnly reads what Candidate reads, without noting the version of the
// certification's referential: a Certification after it reads the version anew,
// where one after Candidate takes the cached referential at once.
func TestCandidateOnlyReadsTheCandidateAlone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ds, first := seededCandidate(t, s, 1)
		ctx := context.Background()
		// A first read caches the referential.
		if err := s.Read(ctx, func(tx service.Tx) error { _, err := tx.Certification(first.CertificationCode); return err }); err != nil {
			t.Fatal(err)
		}
		if err := s.Read(ctx, func(tx service.Tx) error {
			alone, err := tx.CandidateOnly(ds.CandidateIDs[0])
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(alone, first) {
				t.Errorf("CandidateOnly:\n%+v\nCandidate:\n%+v", alone, first)
			}
			if tx.CertificationCached(first.CertificationCode) {
				t.Error("after CandidateOnly, the referential's version is noted")
			}
			if _, err := tx.Candidate(ds.CandidateIDs[0]); err != nil {
				return err
			}
			if !tx.CertificationCached(first.CertificationCode) {
				t.Error("after Candidate, the cached referential is not known current")
			}
			if _, err := tx.CandidateOnly("00000000-0000-7000-8000-0000000000ff"); !errors.Is(err, certification.ErrNotFound) {
				t.Errorf("an unknown id: %v, want not found", err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// Reads beyond what the pool has connections for wait their turn before the pool:
// while every turn is taken, a read whose caller has gone away ends without
// running, and the next one runs once a turn is free. While every read admitted
// holds a connection, in a transaction each, a write still finds one.
func TestReadsBeyondThePoolWaitTheirTurn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		n := store.Readers(d)
		release := holdTurns(t, n, func(hold func() error) error {
			return s.Snapshot(ctx, func(tx service.Tx) error {
				if _, err := tx.User("00000000-0000-7000-8000-000000000301"); !errors.Is(err, certification.ErrNotFound) {
					return err
				}
				return hold()
			})
		})

		gone, cancel := context.WithCancel(ctx)
		cancel()
		ran := false
		if err := s.Read(gone, func(service.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
			t.Errorf("a read beyond the %d admitted, its caller gone: %v, ran %v; want context.Canceled, not run", n, err, ran)
		}

		// A write that finds no connection would hang: the bound turns that into
		// a failure.
		bounded, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		if err := s.Write(bounded, func(tx service.Tx) error {
			return tx.InsertUser(service.User{ID: "00000000-0000-7000-8000-000000000302", Email: "turn@example.org",
				PasswordHash: "x", Role: auth.RoleAdmin, Active: true, Version: 1, CreatedAt: at, UpdatedAt: at})
		}); err != nil {
			t.Errorf("a write while %d reads hold a connection each: %v", n, err)
		}

		release()
		if err := s.Read(ctx, func(tx service.Tx) error {
			_, err := tx.User("00000000-0000-7000-8000-000000000302")
			return err
		}); err != nil {
			t.Errorf("a read once the turns are free: %v", err)
		}
	})
}

// A read that reads again inside its turn takes no second one: on SQLite a
// candidate's sittings are read in a snapshot of their own, inside the read.
// With every other turn taken, such a read still ends.
func TestANestedReadTakesNoSecondTurn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d store.Dialect) {
		s := testdb.Open(t, d)
		ctx := context.Background()
		defer holdTurns(t, store.Readers(d)-1, func(hold func() error) error {
			return s.Read(ctx, func(service.Tx) error { return hold() })
		})()
		// A read waiting for a second turn would wait for ever: the bound turns
		// that into a failure.
		bounded, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		err := s.Read(bounded, func(tx service.Tx) error {
			_, _, err := tx.CandidateSittings("00000000-0000-7000-8000-0000000000ff")
			return err
		})
		if !errors.Is(err, certification.ErrNotFound) {
			t.Errorf("a candidate's sittings, every other turn taken: %v, want not found", err)
		}
	})
}

// holdTurns runs read n times at once, each holding its turn until the function
// it returns is called, which waits for them to end; it returns once all n hold
// one. read calls hold where it holds its turn.
func holdTurns(t *testing.T, n int, read func(hold func() error) error) (release func()) {
	t.Helper()
	entered, done := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := read(func() error {
				entered <- struct{}{}
				<-done
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	for range n {
		<-entered
	}
	return func() {
		close(done)
		wg.Wait()
	}
}
