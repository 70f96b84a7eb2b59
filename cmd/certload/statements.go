package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apformation/certapi/internal/store"
	"github.com/google/uuid"
)

// statements measures what each part of a registration's SQL costs a MySQL server
// on this machine: the server's CPU per registration for the floor's INSERT alone,
// then with what a registration adds to it one part at a time, then for
// registrations committed together, each mix run by the same connections for the
// same time. The server must run on this machine (its
// CPU is read from /proc). It writes rows: run it on a database made for it.
func statements(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("statements", flag.ContinueOnError)
	database := fs.String("database", os.Getenv("CERTAPI_DATABASE_URL"), "a MySQL database URL, holding a seeded dataset")
	pid := fs.Int("server-pid", 0, "the server's process id (0: the local mariadbd or mysqld)")
	conns := fs.Int("connections", 16, "concurrent connections")
	duration := fs.Duration("duration", 8*time.Second, "how long each mix runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	driver, dsn, err := store.DriverDSN(store.Options{URL: *database})
	if err != nil {
		return err
	}
	if driver != "mysql" {
		return errors.New("statements measures a MySQL server: give --database a MySQL URL")
	}
	if *pid == 0 {
		if *pid, err = serverPID(); err != nil {
			return err
		}
	}
	floorDB, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer floorDB.Close()
	// The other mixes run in sessions like those of certapi's writes: autocommit
	// off, READ COMMITTED, several statements to a round trip.
	writes, err := store.WritesDSN(ctx, floorDB, dsn)
	if err != nil {
		return err
	}
	batchDB, err := sql.Open("mysql", writes)
	if err != nil {
		return err
	}
	defer batchDB.Close()
	var site string
	if err := floorDB.QueryRowContext(ctx, "SELECT id FROM training_sites WHERE is_preparation LIMIT 1").Scan(&site); err != nil {
		return fmt.Errorf("a training site to register at (seed the database first): %w", err)
	}

	fmt.Fprintf(out, "## the server's CPU per registration, %d connections, %s per mix\n\n", *conns, *duration)
	fmt.Fprintln(out, "| statements | registrations/s | server CPU per registration | beside the floor's |")
	fmt.Fprintln(out, "|---|---:|---:|---:|")
	var floorCost float64
	var siteVersion, certVersion int
	if err := floorDB.QueryRowContext(ctx, "SELECT s.version, c.version FROM training_sites s, certifications c WHERE s.id = ? AND c.code = 'RNCP26206'", site).
		Scan(&siteVersion, &certVersion); err != nil {
		return err
	}
	for i, m := range statementMixes(site, siteVersion, certVersion) {
		db := batchDB
		if m.autocommit {
			db = floorDB
		}
		n, cpu, err := runMix(ctx, db, m, *pid, *conns, *duration)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		n *= int64(max(m.per, 1))
		cost := cpu.Seconds() * 1000 / float64(n)
		if i == 0 {
			floorCost = cost
		}
		fmt.Fprintf(out, "| %s | %.0f | %.3f ms | %.2f |\n", m.name, float64(n)/duration.Seconds(), cost, cost/floorCost)
	}
	return nil
}

// mix is a transaction's statements: round trips, each one or more statements
// with their arguments, given a fresh id.
type mix struct {
	name       string
	autocommit bool
	trips      func(id string) []trip
	// per is how many registrations one transaction holds (0: one).
	per int
}

type trip struct {
	query string
	args  []any
	rows  bool // a SELECT whose rows are read
}

// statementMixes are the floor's INSERT, then a registration built up from it. The
// sizes of the audit event's changes and of the key record's answer are those of a
// registration's.
func statementMixes(site string, siteVersion, certVersion int) []mix {
	insert := func(id string) trip {
		return trip{query: "INSERT INTO candidates (id, certification_code, route, training_site_id, enrolled_on, first_name, birth_name, " +
			"sex, birth_date, birth_place_name, birth_country_code, email, line1, postal_code, city, country_code, status, identity_key, " +
			"person_key, search_name, version, created_at, updated_at) VALUES (?, 'RNCP26206', 'continuing_education', ?, CURRENT_DATE, " +
			"'Alex', ?, 'M', '1990-01-01', 'Toulouse', 'FR', 'alex@example.org', '2 place du Capitole', '31000', 'Toulouse', 'FR', 'enrolled', " +
			"?, ?, 'alex', 1, NOW(), NOW())", args: []any{id, site, id, "RNCP26206|" + id, "RNCP26206|" + id}}
	}
	siteRead := trip{query: "SELECT s.id, s.name, s.line1, s.line2, s.postal_code, s.city, s.country_code, s.is_preparation, " +
		"s.is_certification, s.active, s.version, s.created_at, s.updated_at, l.certification_code, c.version FROM training_sites s " +
		"LEFT JOIN training_site_certifications l ON l.training_site_id = s.id LEFT JOIN certifications c ON c.code = l.certification_code " +
		"WHERE s.id = ? ORDER BY l.certification_code", args: []any{site}, rows: true}
	audit := func(id string) (string, []any) {
		return "INSERT INTO audit_events (id, occurred_at, actor_id, actor_role, action, resource_type, resource_id, changes, request_id) " +
			"VALUES (?, NOW(), NULL, 'admin', 'register', 'candidate', ?, ?, ?)", []any{uuid.Must(uuid.NewV7()).String(), id, strings.Repeat("c", 700), id}
	}
	key := func(id string) (string, []any) {
		return "INSERT INTO idempotency_keys (principal_id, idem_key, method, path, request_hash, status_code, content_type, location, " +
			"etag, response_body, created_at, lease_until) VALUES ('statements', ?, 'POST', '/v1/candidates', 'hash', 201, " +
			"'application/json', '/v1/candidates', '\"1\"', ?, NOW(), NOW())", []any{id, strings.Repeat("b", 1100)}
	}
	// check is the statement of its own that fails when the site a write took from
	// the cache, or its certification's referential, moved on, as the revision
	// before sent it; checkedAudit is the audit event's INSERT that carries the
	// same check, as a registration sends it now (see the store's assumed.go).
	check := func(string) (string, []any) {
		return "SET @certapi_assumed = (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM training_sites " +
				"WHERE id = ? AND version = ?) OR NOT EXISTS (SELECT 1 FROM certifications WHERE code = 'RNCP26206' AND version = ?))",
			[]any{site, siteVersion, certVersion}
	}
	checkedAudit := func(id string) (string, []any) {
		q, a := audit(id)
		q = strings.Replace(q, "VALUES (?", "VALUES ((SELECT ? FROM DUAL WHERE (SELECT version FROM training_sites WHERE id = ?) <=> ? "+
			"AND (SELECT version FROM certifications WHERE code = 'RNCP26206') <=> ?)", 1)
		return q, append([]any{a[0], site, siteVersion, certVersion}, a[1:]...)
	}
	batch := func(parts ...func(id string) (string, []any)) func(id string) trip {
		return func(id string) trip {
			t := insert(id)
			for _, p := range parts {
				q, a := p(id)
				t.query += ";\n" + q
				t.args = append(t.args, a...)
			}
			t.query += ";\nCOMMIT"
			return t
		}
	}
	return []mix{
		{name: "the floor: the candidate's INSERT, autocommitted", autocommit: true, trips: func(id string) []trip { return []trip{insert(id)} }},
		{name: "the INSERT and COMMIT, one batch", trips: func(id string) []trip { return []trip{batch()(id)} }},
		{name: "the site's SELECT, then the INSERT and COMMIT", trips: func(id string) []trip { return []trip{siteRead, batch()(id)} }},
		{name: "the INSERT, the audit event's, COMMIT", trips: func(id string) []trip { return []trip{batch(audit)(id)} }},
		{name: "the INSERT, the audit event's, the key record's, COMMIT", trips: func(id string) []trip { return []trip{batch(audit, key)(id)} }},
		{name: "a registration as the site's SELECT, then the three INSERTs and COMMIT", trips: func(id string) []trip {
			return []trip{siteRead, batch(audit, key)(id)}
		}},
		{name: "a registration as the revision before sent it: the three INSERTs, the check of the cached site, COMMIT, one batch", trips: func(id string) []trip {
			return []trip{batch(audit, key, check)(id)}
		}},
		{name: "a registration as sent: the three INSERTs, the audit event's carrying the check, COMMIT, one batch", trips: func(id string) []trip {
			return []trip{batch(checkedAudit, key)(id)}
		}},
		{name: "8 registrations as sent, one after the other, one COMMIT, one batch", per: 8, trips: func(string) []trip {
			var t trip
			for i := range 8 {
				one := batch(checkedAudit, key)(uuid.Must(uuid.NewV7()).String())
				if i > 0 {
					t.query += ";\n"
				}
				t.query += strings.TrimSuffix(one.query, ";\nCOMMIT")
				t.args = append(t.args, one.args...)
			}
			t.query += ";\nCOMMIT"
			return []trip{t}
		}},
		{name: "8 registrations as written together: one INSERT of 8 rows per table, the check of the cached site, COMMIT, one batch", per: 8,
			trips: func(string) []trip {
				parts := []func(id string) (string, []any){func(id string) (string, []any) { t := insert(id); return t.query, t.args }, audit, key}
				rows := make([]trip, len(parts))
				for i := range 8 {
					id := uuid.Must(uuid.NewV7()).String()
					for j, part := range parts {
						q, a := part(id)
						if i > 0 {
							_, q, _ = strings.Cut(q, " VALUES ")
							q = ", " + q
						}
						rows[j].query += q
						rows[j].args = append(rows[j].args, a...)
					}
				}
				var t trip
				for _, r := range rows {
					t.query += r.query + ";\n"
					t.args = append(t.args, r.args...)
				}
				q, a := check("")
				t.query += q + ";\nCOMMIT"
				t.args = append(t.args, a...)
				return []trip{t}
			}},
	}
}

// runMix runs m on conns connections for d, and for at least one transaction each,
// and returns how many transactions committed and the CPU the server used
// meanwhile.
func runMix(ctx context.Context, db *sql.DB, m mix, pid, conns int, d time.Duration) (int64, time.Duration, error) {
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	fail := func(err error) { once.Do(func() { first = err }) }
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	before, err := processCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := db.Conn(context.WithoutCancel(ctx))
			if err != nil {
				fail(err)
				return
			}
			defer conn.Close()
			// Each connection commits at least one transaction, however slow the
			// machine: the run then always measures something.
			for first := true; first || ctx.Err() == nil; first = false {
				for _, t := range m.trips(uuid.Must(uuid.NewV7()).String()) {
					if err := t.run(context.WithoutCancel(ctx), conn); err != nil {
						fail(err)
						return
					}
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	after, err := processCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	return n.Load(), after - before, first
}

func (t trip) run(ctx context.Context, conn *sql.Conn) error {
	if !t.rows {
		_, err := conn.ExecContext(ctx, t.query, t.args...)
		return err
	}
	rows, err := conn.QueryContext(ctx, t.query, t.args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// processCPU is the user and system CPU a process has used (Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command's name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	// Clock ticks, 100 per second on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// serverPID finds the local MariaDB or MySQL server.
func serverPID() (int, error) {
	paths, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range paths {
		comm, err := os.ReadFile(p)
		if name := strings.TrimSpace(string(comm)); err == nil && (name == "mariadbd" || name == "mysqld") {
			return strconv.Atoi(filepath.Base(filepath.Dir(p)))
		}
	}
	return 0, errors.New("no local mariadbd or mysqld: give --server-pid")
}
