package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/pressly/goose/v3"
)

// goMigrations are the migrations written in Go: what SQL cannot say alike on both
// databases (dropping an index), or cannot compute (a key that folds accents).
func goMigrations(d Dialect) []*goose.Migration {
	m := goose.NewGoMigration(5,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return personKeysUp(ctx, tx, d) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return personKeysDown(ctx, tx, d) }})
	m.Source = "00005_person_keys.go"
	return []*goose.Migration{m}
}

// indexes00005 are the indexes migration 00005 adds to tables that existed before
// migration 00004 gave them the column.
var indexes00005 = []struct{ name, table, def string }{
	{"candidates_person", "candidates", "CREATE INDEX candidates_person ON candidates (person_key, certification_code)"},
	{"users_jury_member", "users", "CREATE UNIQUE INDEX users_jury_member ON users (jury_member_id)"},
	{"evaluations_jury_session", "evaluations", "CREATE INDEX evaluations_jury_session ON evaluations (jury_session_id, scheduled_at)"},
}

// personKeysUp gives every candidate the key of the person (CARRY-OVER: acquisitions
// belong to the person), computed as registrations compute it, and indexes it; one
// account per jury member is a unique index. Each step checks whether it is done: on
// MySQL a DDL statement commits at once, so a migration that failed halfway is run
// again from where it stopped.
func personKeysUp(ctx context.Context, tx *sql.Tx, d Dialect) error {
	if err := oneAccountPerMember(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "SELECT person_key FROM candidates WHERE 1 = 0"); err != nil {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE candidates ADD COLUMN person_key VARCHAR(255) NOT NULL DEFAULT ''"); err != nil {
			return fmt.Errorf("add person_key: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, certification_code, birth_name, first_name, birth_date FROM candidates")
	if err != nil {
		return err
	}
	keys := map[string]string{}
	for rows.Next() {
		var c certification.Candidate
		var born time.Time
		if err := rows.Scan(&c.ID, &c.CertificationCode, &c.BirthName, &c.FirstName, &born); err != nil {
			_ = rows.Close()
			return err
		}
		c.BirthDate = born
		keys[c.ID] = service.PersonKey(c)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for id, key := range keys {
		if _, err := tx.ExecContext(ctx, "UPDATE candidates SET person_key = ? WHERE id = ?", key, id); err != nil {
			return err
		}
	}
	for _, ix := range indexes00005 {
		exists, err := indexExists(ctx, tx, d, ix.table, ix.name)
		if err != nil {
			return err
		}
		if exists {
			continue
		}
		if _, err := tx.ExecContext(ctx, ix.def); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	return nil
}

// oneAccountPerMember refuses to migrate, before changing anything, a database where
// two accounts are bound to the same jury member: the unique index would fail, and
// which account to keep is a person's decision.
func oneAccountPerMember(ctx context.Context, tx *sql.Tx) error {
	var member string
	var n int
	err := tx.QueryRowContext(ctx, "SELECT jury_member_id, COUNT(*) FROM users WHERE jury_member_id IS NOT NULL GROUP BY jury_member_id HAVING COUNT(*) > 1").Scan(&member, &n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%d accounts are bound to jury member %s, and from this version one account is bound to one member: unbind or deactivate all but one (PATCH /v1/users/{id}), then migrate again", n, member)
}

func indexExists(ctx context.Context, tx *sql.Tx, d Dialect, table, name string) (bool, error) {
	var n int
	var err error
	if d == MySQL {
		err = tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?", table, name).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?", name).Scan(&n)
	}
	return n > 0, err
}

func personKeysDown(ctx context.Context, tx *sql.Tx, d Dialect) error {
	for _, ix := range indexes00005 {
		stmt := "DROP INDEX " + ix.name
		if d == MySQL {
			stmt += " ON " + ix.table
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	_, err := tx.ExecContext(ctx, "ALTER TABLE candidates DROP COLUMN person_key")
	return err
}
