package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/service"
	"gorm.io/gorm"
)

// On the embedded SQLite, writes commit in groups. SQLite takes one writer at a
// time, and at synchronous=FULL each commit waits for the disk: one write after
// the other, the disk's flush, not the work, bounds how many writes a second go
// through. So the writes that queue while one group commits go in the next group:
// one transaction, each write in a savepoint of its own, one commit, one flush. A
// write that fails rolls back to its savepoint, and the others are not touched; a
// commit that fails fails every write of the group. Nothing is acknowledged before
// the commit that makes it durable, as before. Alone, a write runs in its own
// transaction, without a savepoint.
//
// InnoDB does as much for MySQL's flushes; on MySQL, writes ready at once also go
// together in one round trip (see together.go).

// maxGroup bounds the writes of one group: what one failed commit fails, and how
// long the group's first write waits for its last.
const maxGroup = 32

type writeJob struct {
	ctx context.Context
	fn  func(service.Tx) error
	// state goes from pending to running, when a group takes the job, or to
	// abandoned, when its caller gave up waiting first.
	state atomic.Int32
	done  chan struct{}
	err   error
	// panicked is what fn panicked with, to panic with again in the caller's goroutine.
	panicked any
	t        *tx
}

const (
	jobPending int32 = iota
	jobRunning
	jobAbandoned
)

// writeQueue holds the writes waiting for the one writer.
type writeQueue struct {
	mu   sync.Mutex
	jobs []*writeJob
}

func (q *writeQueue) push(j *writeJob) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
}

// take removes up to maxGroup waiting jobs, those still wanted, in order.
func (q *writeQueue) take() []*writeJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	var group []*writeJob
	kept := q.jobs[:0]
	for _, j := range q.jobs {
		switch {
		case len(group) < maxGroup && j.state.CompareAndSwap(jobPending, jobRunning):
			group = append(group, j)
		case j.state.Load() == jobPending:
			kept = append(kept, j)
		}
	}
	clear(q.jobs[len(kept):])
	q.jobs = kept
	return group
}

// writeGrouped runs fn in the next group of writes: the caller that holds the
// writer takes every waiting write, its own among them, and commits them together;
// a caller whose write another one's group carried returns once that group is done.
func (s *Store) writeGrouped(ctx context.Context, fn func(service.Tx) error) error {
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	return j.inGroup(&s.queue, s.writer, s.commitGroup)
}

// inGroup queues j and waits for a group to run it: the caller that takes one of
// the slots takes every waiting job, its own among them, up to maxGroup, and runs
// them with commit; a caller whose job another one's group carried returns once
// that group is done.
func (j *writeJob) inGroup(q *writeQueue, slots chan struct{}, commit func([]*writeJob)) error {
	q.push(j)
	for {
		if j.state.Load() == jobRunning { // a group has it
			<-j.done
			return j.result()
		}
		select {
		case <-j.done:
			return j.result()
		case <-j.ctx.Done():
			if j.state.CompareAndSwap(jobPending, jobAbandoned) {
				return j.ctx.Err()
			}
			<-j.done // a group has it: its outcome is the caller's
			return j.result()
		case slots <- struct{}{}:
		}
		select {
		case <-j.done: // carried by the group that held the slot just before
			<-slots
			return j.result()
		default:
		}
		group := q.take()
		if len(group) > 0 {
			commit(group)
		}
		<-slots
		// A caller whose job was abandoned and taken by nobody loops until
		// ctx.Done; one whose job was in the group is done; one whose job
		// another group took waits for it, rather than take a slot again.
	}
}

func (j *writeJob) result() error {
	if j.panicked != nil {
		panic(j.panicked)
	}
	return j.err
}

// commitGroup runs the jobs in one transaction and commits it.
func (s *Store) commitGroup(group []*writeJob) {
	defer func() {
		for _, j := range group {
			close(j.done)
		}
	}()
	if len(group) == 1 {
		j := group[0]
		j.err = s.writeOnce(j.ctx, func(t *tx) error { return j.run(t) })
		return
	}
	// The transaction is the group's, not one caller's: a caller that goes away
	// cancels its own statements only.
	gtx := s.writes.WithContext(context.Background()).Begin()
	if gtx.Error != nil {
		for _, j := range group {
			j.err = unavailable(gtx.Error)
		}
		return
	}
	var ok []*writeJob
	broken := error(nil)
	for _, j := range group {
		if broken != nil {
			j.err = broken
			continue
		}
		if err := gtx.Exec("SAVEPOINT write_group").Error; err != nil {
			broken = unavailable(err)
			j.err = broken
			continue
		}
		t := &tx{db: gtx.WithContext(detach(j.ctx)), store: s, writing: true, snapshot: true}
		if err := j.run(t); err != nil {
			j.err = err
			// A failed statement may have ended the whole transaction (SQLite
			// rolls back on some errors): then the savepoint is gone too, and
			// nothing of the group is left to commit.
			if rerr := gtx.Exec("ROLLBACK TO write_group").Error; rerr != nil {
				broken = fmt.Errorf("%w: the group's transaction ended with a write's failure: %v", service.ErrUnavailable, rerr)
				continue
			}
		} else {
			j.t = t
			ok = append(ok, j)
		}
		if err := gtx.Exec("RELEASE write_group").Error; err != nil {
			broken = unavailable(err)
		}
	}
	if broken == nil {
		broken = unavailable(gtx.Commit().Error)
	} else {
		gtx.Rollback()
	}
	if broken == nil {
		s.groups.Add(1)
	}
	for _, j := range ok {
		if broken != nil {
			j.err = broken
			continue
		}
		j.t.published(j.ctx)
	}
}

// run runs the job's write in t, and records the Idempotency-Key of its request;
// a panic is kept for the job's caller.
func (j *writeJob) run(t *tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			j.panicked = r
			err = errors.New("the write panicked")
		}
	}()
	if err := j.fn(t); err != nil {
		return err
	}
	return t.recordClaim(j.ctx)
}

// published makes what a committed write read and did count: the referentials it
// read go to the cache, and its request's Idempotency-Key is recorded.
func (t *tx) published(ctx context.Context) {
	for code, c := range t.committed {
		t.store.referentials.Store(code, c)
	}
	t.forgetChanged()
	for id, c := range t.committedSites {
		if t.unchanged(id, c.refs) {
			t.store.sites.Store(id, c)
		}
	}
	if c, ok := idempotency.ClaimFrom(ctx); ok {
		c.Committed()
	}
}

// writeOnce runs fn, a write alone in its group, in a transaction of its own.
func (s *Store) writeOnce(ctx context.Context, fn func(*tx) error) error {
	var t *tx
	err := s.writes.WithContext(detach(ctx)).Transaction(func(gtx *gorm.DB) error {
		t = &tx{db: gtx, store: s, writing: true, snapshot: true}
		return fn(t)
	})
	if err == nil {
		t.published(ctx)
	}
	return err
}
