package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/service"
	mysqldriver "github.com/go-sql-driver/mysql"
)

// On MySQL, the writes that send no statement before their commit — a
// registration whose site is cached: its INSERTs, its audit event's and its
// Idempotency-Key record's — commit together when several wait at once. Each
// statement costs the server more than the row it inserts: in certload
// statements, eight registrations sent as one INSERT of eight rows per table cost
// it a third to two fifths of what eight batches of their own do. So while the slots of
// the pool of writes are taken (committers), the writes ready to commit queue;
// the next free slot takes every waiting one, up to maxGroup, and sends them as
// one round trip: for the writes of one shape (the same statements), one INSERT
// of all their rows per statement, then the check of every row they took from
// the cache (see assumed.go), then COMMIT. Nothing is acknowledged before that
// commit. When the server refuses a statement of the group — a duplicate key, a
// row of the cache changed, a deadlock — nothing of it committed: each write then
// commits alone, as it would have, and meets its own failure (Write runs it again
// where it would have). A group whose connection fails is unavailable to all its
// writes, as a write alone is.

// committers is how many groups of MySQL writes commit at once: with fewer, more
// writes wait and go together; with more, fewer do.
func committers() int { return min(max(2, runtime.GOMAXPROCS(0)), 8) }

// commitTogether commits t, a MySQL write that has sent nothing yet, in the next
// group of such writes.
func (s *Store) commitTogether(ctx context.Context, t *tx) error {
	j := &writeJob{ctx: ctx, t: t, done: make(chan struct{})}
	return j.inGroup(&s.together, s.committers, s.commitBatches)
}

// commitBatches commits the batches of group: alone, for one; together
// otherwise, or each alone when the server refuses the group.
func (s *Store) commitBatches(group []*writeJob) {
	defer func() {
		for _, j := range group {
			close(j.done)
		}
	}()
	if len(group) > 1 {
		err := s.execTogether(together(group))
		var refused *mysqldriver.MySQLError
		if err == nil || !errors.As(err, &refused) {
			if err == nil {
				s.groups.Add(1)
			} else {
				// The connection failed, or the group timed out: whether it
				// committed is not known, and a retry with the request's
				// Idempotency-Key will tell.
				err = fmt.Errorf("%w: a group of writes: %v", service.ErrUnavailable, err)
			}
			for _, j := range group {
				j.err = err
			}
			return
		}
	}
	for _, j := range group {
		j.err = j.t.commitAlone()
	}
}

// execTogether runs a group's statements on a connection of the pool of writes,
// and rolls back what they did if one fails. The group is no one caller's: one
// that goes away does not cancel it.
func (s *Store) execTogether(query string, vars []any) error {
	pool, err := s.writes.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err = conn.ExecContext(ctx, query, vars...); err != nil {
		rollback(ctx, conn)
	}
	return err
}

// together is the query that commits the batches of group at once, and its
// values: the writes' statements, the rows of one shape's statement in one
// INSERT, then the check of every row the writes took from the cache, and
// COMMIT.
func together(group []*writeJob) (string, []any) {
	type shape struct {
		key   string
		batch []*batch
	}
	var shapes []*shape
	var vars []any
	for _, j := range group {
		var key strings.Builder
		for _, st := range j.t.batch.stmts {
			key.WriteString(st.query)
			key.WriteByte(0)
		}
		i := 0
		for i < len(shapes) && shapes[i].key != key.String() {
			i++
		}
		if i == len(shapes) {
			shapes = append(shapes, &shape{key: key.String()})
		}
		shapes[i].batch = append(shapes[i].batch, j.t.batch)
	}
	// Every statement of a batch that nothing preceded is the INSERT of one row
	// (insertStatement): its VALUES, after the first, extend the first's.
	var q strings.Builder
	for _, sh := range shapes {
		for i, st := range sh.batch[0].stmts {
			_, row, _ := strings.Cut(st.query, " VALUES ")
			for k, b := range sh.batch {
				switch {
				case k > 0:
					q.WriteString(", " + row)
				case q.Len() > 0:
					q.WriteString(";\n" + st.query)
				default:
					q.WriteString(st.query)
				}
				vars = append(vars, b.stmts[i].vars...)
			}
		}
	}
	seen := map[assumedVersion]bool{}
	var assumed []assumedVersion
	for _, j := range group {
		for a, v := range j.t.assumed {
			if av := (assumedVersion{a, v}); !seen[av] {
				seen[av] = true
				assumed = append(assumed, av)
			}
		}
	}
	if len(assumed) > 0 {
		cond, args := assumedCondition(assumed)
		q.WriteString(";\n" + checkStatement(cond))
		vars = append(vars, args...)
	}
	q.WriteString(";\nCOMMIT")
	return q.String(), vars
}
