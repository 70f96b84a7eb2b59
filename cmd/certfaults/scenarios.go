package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/apformation/certapi/internal/config"
	"github.com/apformation/certapi/internal/store"
	mysqldriver "github.com/go-sql-driver/mysql"
)

// begin starts the service and a load on it; a failure here is no bar, the run
// cannot go on.
func begin(o options, keepAlive int) (*service, *load) {
	svc := newService(o)
	if _, err := svc.start(); err != nil {
		fatalf("%v", err)
	}
	tok, err := svc.token()
	if err != nil {
		svc.stop()
		fatalf("%v", err)
	}
	l := newLoad(svc.base, tok, o.cfg.WriteTimeout, o.pause)
	if o.writes == "registrations" {
		l.registrations = true
		if err := l.declareSite(); err != nil {
			svc.stop()
			fatalf("%v", err)
		}
	}
	l.start(o.workers, keepAlive)
	return svc, l
}

// answeredCleanly is the bar every answer of every scenario meets: a 201, or a 503
// problem with Retry-After, within the request deadline.
func answeredCleanly(b *bars, outs []outcome, deadline time.Duration) {
	var bad []outcome
	for _, o := range outs {
		clean := o.status == http.StatusCreated ||
			(o.status == http.StatusServiceUnavailable && o.problem && o.retryAfter != "")
		if o.answered() && (!clean || o.latency() > deadline) {
			bad = append(bad, o)
		}
	}
	detail := ""
	if len(bad) > 0 {
		detail = fmt.Sprintf(": %s, e.g. %s %q after %s", tallyOf(bad), bad[0].key, bad[0].code, ms(bad[0].latency()))
	}
	b.check(len(bad) == 0, "every answer is a 201 or a 503 problem with Retry-After, within the %s deadline (%d not%s)",
		deadline, len(bad), detail)
}

// readback checks that every acknowledged write is there.
func readback(b *bars, l *load, outs []outcome) {
	ids := ackedIDs(outs)
	missing := l.present(ids)
	fmt.Printf("   acknowledged %d, present %d, lost %d\n", len(ids), len(ids)-len(missing), len(missing))
	b.check(len(missing) == 0 && len(ids) > 0, "every acknowledged write reads back (GET by id → 200)%s", listed(missing))
}

func listed(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return ": " + firstFew(xs)
}

// dbProbe reaches the database the service is configured with, with a connection
// of its own each time, to know when it is down and when it answers again.
func dbProbe(cfg config.Config) func() bool {
	dsn, err := store.MySQLDSN(cfg.DatabaseURL)
	if err != nil {
		fatalf("%v", err)
	}
	mc, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		fatalf("%v", err)
	}
	mc.Timeout = time.Second
	conn, err := mysqldriver.NewConnector(mc)
	if err != nil {
		fatalf("%v", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(0)
	return func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return db.PingContext(ctx) == nil
	}
}

// waitFor polls cond every 20 ms until it holds or within has passed.
func waitFor(within time.Duration, cond func() bool) bool {
	for t0 := time.Now(); time.Since(t0) < within; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// readyzSample is one probe of /readyz.
type readyzSample struct {
	start, end time.Time
	status     int
	problem    bool
	retryAfter bool
}

// outage stops the database under the load, keeps it stopped for downFor, starts it
// again, and waits for the service to recover by itself.
func outage(o options, down, up string, downFor, quick, recoverWithin time.Duration) bars {
	var b bars
	fmt.Printf("== database outage on %s: %d writers, the database stopped for %s\n", dialect(o.cfg), o.workers, downFor)
	dbUp := dbProbe(o.cfg)
	if !dbUp() {
		fatalf("the database does not answer before the outage")
	}
	svc, l := begin(o, o.workers)
	defer svc.stop()
	pid := svc.cmd.Process.Pid
	time.Sleep(o.warm)

	// /readyz, probed all along.
	var (
		rmu     sync.Mutex
		samples []readyzSample
		rstop   = make(chan struct{})
		rdone   = make(chan struct{})
	)
	go func() {
		defer close(rdone)
		for {
			t0 := time.Now()
			st, _, h := probe(svc.base + "/readyz")
			s := readyzSample{start: t0, end: time.Now(), status: st}
			if h != nil {
				s.problem = h.Get("Content-Type") == "application/problem+json"
				s.retryAfter = h.Get("Retry-After") != ""
			}
			rmu.Lock()
			samples = append(samples, s)
			rmu.Unlock()
			select {
			case <-rstop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	downCmd := time.Now()
	if err := svc.shell(down); err != nil {
		fatalf("-down: %v", err)
	}
	if !waitFor(30*time.Second, func() bool { return !dbUp() }) {
		fatalf("the database still answers after -down")
	}
	isDown := time.Now()
	fmt.Printf("   the database stopped %s after the stop command\n", ms(isDown.Sub(downCmd)))
	time.Sleep(downFor)

	upCmd := time.Now()
	if err := svc.shell(up); err != nil {
		fatalf("-up: %v", err)
	}
	if !waitFor(2*time.Minute, dbUp) {
		fatalf("the database does not answer 2 minutes after -up")
	}
	isUp := time.Now()
	fmt.Printf("   the database answered again %s after the start command\n", ms(isUp.Sub(upCmd)))

	// Recovered: a write sent after the database came back is acknowledged, and
	// /readyz says 200.
	var firstAck, firstReady time.Time
	recovered := waitFor(recoverWithin, func() bool {
		for _, x := range l.snapshot() {
			if x.status == http.StatusCreated && !x.start.Before(isUp) && (firstAck.IsZero() || x.end.Before(firstAck)) {
				firstAck = x.end
			}
		}
		rmu.Lock()
		for _, s := range samples {
			if s.status == http.StatusOK && !s.start.Before(isUp) && firstReady.IsZero() {
				firstReady = s.end
			}
		}
		rmu.Unlock()
		return !firstAck.IsZero() && !firstReady.IsZero()
	})
	time.Sleep(2 * time.Second) // the load after recovery
	l.halt()
	close(rstop)
	<-rdone
	outs := l.snapshot()

	// The windows: down is from the database found stopped to its start command;
	// the edges are the requests that overlap the stop or the start.
	before := filter(outs, func(x outcome) bool { return !x.end.After(downCmd) })
	whileDown := filter(outs, func(x outcome) bool { return !x.start.Before(isDown) && !x.end.After(upCmd) })
	after := filter(outs, func(x outcome) bool { return !x.start.Before(isUp) })
	edges := filter(outs, func(x outcome) bool {
		return x.end.After(downCmd) && x.start.Before(isUp) && (x.start.Before(isDown) || x.end.After(upCmd))
	})
	fmt.Printf("   writes before the outage: %s\n", tallyOf(before))
	fmt.Printf("   writes while down:        %s; max latency %s\n", tallyOf(whileDown), ms(maxLatency(whileDown)))
	fmt.Printf("   writes across the stop or the start: %s; max latency %s\n", tallyOf(edges), ms(maxLatency(edges)))
	fmt.Printf("   writes after recovery:    %s\n", tallyOf(after))

	var rDown, rAfter []readyzSample
	for _, s := range samples {
		if !s.start.Before(isDown) && !s.end.After(upCmd) {
			rDown = append(rDown, s)
		}
		if !firstReady.IsZero() && !s.start.Before(firstReady) {
			rAfter = append(rAfter, s)
		}
	}
	rd, rdClean, ra := tally{}, 0, tally{}
	for _, s := range rDown {
		rd[fmt.Sprint(s.status)]++
		if s.status == http.StatusServiceUnavailable && s.problem && s.retryAfter {
			rdClean++
		}
	}
	for _, s := range rAfter {
		ra[fmt.Sprint(s.status)]++
	}
	fmt.Printf("   /readyz while down: %s; after recovery: %s\n", rd, ra)
	if recovered {
		fmt.Printf("   recovered without a restart: first write acknowledged %s after the database answered again (%s after its start command), /readyz 200 after %s\n",
			ms(firstAck.Sub(isUp)), ms(firstAck.Sub(upCmd)), ms(firstReady.Sub(isUp)))
	}

	cleanDown := 0
	for _, x := range whileDown {
		if x.status == http.StatusServiceUnavailable && x.problem && x.retryAfter != "" {
			cleanDown++
		}
	}
	b.check(len(whileDown) > 0 && cleanDown == len(whileDown),
		"while down, every write is answered 503 application/problem+json with Retry-After (%d of %d)", cleanDown, len(whileDown))
	b.check(maxLatency(whileDown) <= quick, "while down, answers are quick: slowest %s (bar %s)", ms(maxLatency(whileDown)), quick)
	answeredCleanly(&b, outs, o.cfg.WriteTimeout)
	failures := filter(outs, func(x outcome) bool { return !x.answered() })
	b.check(len(failures) == 0, "every request is answered: no reset, refused or timed-out connection (%s)", tallyOf(failures))
	b.check(len(rDown) > 0 && rdClean == len(rDown), "/readyz is a 503 problem with Retry-After while down (%d of %d)", rdClean, len(rDown))
	b.check(len(rAfter) > 0 && ra["200"] == len(rAfter), "/readyz is 200 once recovered (%d of %d)", ra["200"], len(rAfter))
	b.check(recovered && svc.running() && svc.cmd.Process.Pid == pid,
		"the service recovers by itself within %s of the database answering, same process (pid %d)", recoverWithin, pid)
	readback(&b, l, outs)
	return b
}

// kill SIGKILLs the service under the load, starts it again on the same data,
// reads back what was acknowledged and sends again the requests that were in
// flight.
func kill(o options) bars {
	var b bars
	fmt.Printf("== kill -9 on %s: %d writers\n", dialect(o.cfg), o.workers)
	svc, l := begin(o, o.workers)
	defer svc.stop()
	time.Sleep(o.warm)
	killed := time.Now()
	_ = svc.cmd.Process.Signal(syscall.SIGKILL)
	<-svc.exited
	time.Sleep(200 * time.Millisecond)
	l.halt()
	outs := l.snapshot()
	inFlight := filter(outs, func(x outcome) bool { return !x.answered() && x.start.Before(killed) })
	fmt.Printf("   before the kill: %s\n", tallyOf(filter(outs, func(x outcome) bool { return x.end.Before(killed) })))
	fmt.Printf("   in flight at the kill: %d (%s)\n", len(inFlight), tallyOf(inFlight))

	took, err := svc.start()
	if err != nil {
		fatalf("restart: %v", err)
	}
	restarted := time.Now()
	fmt.Printf("   restarted on the same data, ready in %s\n", ms(took))
	answeredCleanly(&b, filter(outs, func(x outcome) bool { return x.answered() }), o.cfg.WriteTimeout)
	early := filter(outs, func(x outcome) bool { return !x.answered() && x.end.Before(killed) })
	b.check(len(early) == 0, "every request before the kill is answered (%s)", tallyOf(early))
	readback(&b, l, outs)

	// The keys in flight, sent again with the same body until each has its final
	// answer: 201 (a write that had not committed is done now; one whose answer
	// was kept is replayed), or 409 idempotency_answer_lost naming the site (the
	// write had committed, its answer had not been kept). A key whose write
	// committed without its answer answers 409 idempotency_in_progress until its
	// lease (the request deadline plus 30 s, see httpapi.New) has run out.
	lease := o.cfg.WriteTimeout + 30*time.Second
	bound := lease + 10*time.Second
	type retried struct {
		key        string
		final      outcome
		inProgress int
		waited     time.Duration
	}
	results := make([]retried, len(inFlight))
	var wg sync.WaitGroup
	c := l.client(true)
	for i, x := range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := retried{key: x.key}
			for {
				r.final = l.post(c, x.key)
				r.waited = time.Since(restarted)
				switch {
				case r.final.status == http.StatusConflict && r.final.code == "idempotency_in_progress":
					r.inProgress++
				case r.final.status == http.StatusServiceUnavailable:
				default:
					results[i] = r
					return
				}
				if r.waited > bound {
					results[i] = r
					return
				}
				time.Sleep(time.Second)
			}
		}()
	}
	wg.Wait()
	finals, fresh, replayed, lost, held := tally{}, 0, 0, 0, 0
	var longest time.Duration
	var stuck []string
	for _, r := range results {
		finals[r.final.label()]++
		switch {
		case r.final.status == http.StatusCreated && r.final.replayed:
			replayed++
		case r.final.status == http.StatusCreated:
			fresh++
		case r.final.status == http.StatusConflict && r.final.code == "idempotency_answer_lost" && r.final.id != "":
			lost++
		default:
			stuck = append(stuck, fmt.Sprintf("%s: %s %s", r.key, r.final.label(), r.final.code))
		}
		if r.inProgress > 0 {
			held++
			longest = max(longest, r.waited)
		}
	}
	fmt.Printf("   in-flight keys sent again: %s: %d created now (not committed before the kill), %d replayed, %d answer lost (committed, answer not kept)\n",
		finals, fresh, replayed, lost)
	fmt.Printf("   %d of them answered 409 idempotency_in_progress until their record's lease (%s) ran out, the last %s after the restart\n",
		held, lease, ms(longest))
	b.check(len(inFlight) > 0 && len(stuck) == 0,
		"every in-flight key, sent again, has its final answer within its lease: 201, or 409 answer lost with the id (%d of %d)%s",
		len(inFlight)-len(stuck), len(inFlight), listed(stuck))

	all := append(outs, func() []outcome {
		var r []outcome
		for _, x := range results {
			r = append(r, x.final)
		}
		return r
	}()...)
	dups, unacked, err := l.written(all)
	if err != nil {
		fatalf("%v", err)
	}
	fmt.Printf("   sites written without an acknowledgement: %d\n", unacked)
	b.check(len(dups) == 0, "no key created twice (%d site names written more than once)%s", len(dups), listed(dups))
	byName, err := l.rowsByName()
	if err != nil {
		fatalf("%v", err)
	}
	var wrong []string
	for _, r := range results {
		if r.final.status == http.StatusConflict && r.final.code == "idempotency_answer_lost" &&
			(len(byName[r.final.name]) != 1 || byName[r.final.name][0] != r.final.id) {
			wrong = append(wrong, fmt.Sprintf("%s: existing_id %s, sites %v", r.key, r.final.id, byName[r.final.name]))
		}
	}
	b.check(len(wrong) == 0, "every answer-lost conflict names the site its key wrote (%d of %d)%s", lost-len(wrong), lost, listed(wrong))
	return b
}

// term SIGTERMs the service under the load: half the writers keep their connection
// alive, half open a new one per request.
func term(o options) bars {
	var b bars
	fmt.Printf("== SIGTERM on %s: %d writers (%d on kept-alive connections), shutdown timeout %s\n",
		dialect(o.cfg), o.workers, o.workers/2, o.cfg.ShutdownTimeout)
	svc, l := begin(o, o.workers/2)
	defer svc.stop()
	time.Sleep(o.warm)
	termed := time.Now()
	_ = svc.cmd.Process.Signal(syscall.SIGTERM)
	exited := false
	select {
	case <-svc.exited:
		exited = true
	case <-time.After(o.cfg.ShutdownTimeout + 5*time.Second):
	}
	exitTime := time.Since(termed)
	code := -1
	if exited {
		code = svc.cmd.ProcessState.ExitCode()
	}
	time.Sleep(300 * time.Millisecond) // the load meets the stopped service too
	l.halt()
	svc.stop()
	outs := l.snapshot()
	if _, err := svc.start(); err != nil {
		fatalf("restart: %v", err)
	}
	byName, err := l.rowsByName()
	if err != nil {
		fatalf("%v", err)
	}

	// A request that got no answer and wrote nothing was never read by the server:
	// a kept-alive connection it closed as idle just as the request went out, or a
	// connection still in the listener's queue when it closed (the kernel resets
	// both). The client may send it again. One that wrote its site but got no
	// answer was accepted and dropped.
	unread := func(x outcome) bool { return (x.failure == "reset" || x.failure == "eof") && len(byName[x.name]) == 0 }
	dropped := func(x outcome) bool { return !x.answered() && len(byName[x.name]) > 0 }
	// In flight: sent in full before the signal, not answered by then.
	inFlight := filter(outs, func(x outcome) bool { return !x.wrote.IsZero() && x.wrote.Before(termed) && !x.end.Before(termed) })
	later := filter(outs, func(x outcome) bool { return !x.start.Before(termed) })
	fmt.Printf("   before SIGTERM: %s\n", tallyOf(filter(outs, func(x outcome) bool { return x.end.Before(termed) })))
	fmt.Printf("   in flight at SIGTERM: %d: %s\n", len(inFlight), tallyOf(inFlight))
	fmt.Printf("   sent after SIGTERM: %d: %s\n", len(later), tallyOf(later))
	if exited {
		fmt.Printf("   the process exited %s after SIGTERM, status %d\n", ms(exitTime), code)
	} else {
		fmt.Printf("   the process had not exited %s after SIGTERM; killed\n", ms(exitTime))
	}

	// Why a request was not read: its kept-alive connection was closed as idle just
	// as it went out, or its new connection was still in the listener's queue.
	idle, queued := 0, 0
	for _, x := range filter(outs, unread) {
		if x.reused {
			idle++
		} else {
			queued++
		}
	}
	fmt.Printf("   never read by the server, nothing written (the client may send them again): %d on a kept-alive connection closed as idle, %d on a new connection reset in the listen queue\n",
		idle, queued)
	var bad []string
	created := 0
	for _, x := range inFlight {
		switch {
		case x.status == http.StatusCreated:
			created++
		case unread(x):
		default:
			bad = append(bad, x.key+": "+x.label())
		}
	}
	b.check(len(inFlight) > 0 && len(bad) == 0,
		"every request in flight at SIGTERM is answered 201, unless never read (%d of %d answered)%s", created, len(inFlight), listed(bad))
	bad = nil
	for _, x := range later {
		switch {
		case x.failure == "refused", x.status == http.StatusCreated, x.status == http.StatusServiceUnavailable && x.problem:
		case unread(x):
		default:
			bad = append(bad, x.key+": "+x.label())
		}
	}
	b.check(len(bad) == 0, "every request sent after SIGTERM is refused, or answered 201 or 503, unless never read (%s)%s", tallyOf(later), listed(bad))
	bad = nil
	for _, x := range filter(outs, dropped) {
		bad = append(bad, x.key+": "+x.label())
	}
	b.check(len(bad) == 0, "no request accepted by the server loses its answer: no site written without a 201 (%d)%s", len(bad), listed(bad))
	answeredCleanly(&b, outs, o.cfg.WriteTimeout)
	b.check(exited && exitTime <= o.cfg.ShutdownTimeout && code == 0,
		"the process exits with status 0 within the shutdown timeout: %s (bar %s)", ms(exitTime), o.cfg.ShutdownTimeout)
	readback(&b, l, outs)
	var dups []string
	for name, ids := range byName {
		if len(ids) > 1 {
			dups = append(dups, fmt.Sprintf("%q ×%d", name, len(ids)))
		}
	}
	b.check(len(dups) == 0, "no key created twice%s", listed(dups))
	return b
}
