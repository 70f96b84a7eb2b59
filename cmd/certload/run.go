package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A scenario is one kind of request, built for each call.
type scenario struct {
	key   string // what --scenarios names it
	name  string
	write bool
	// request builds the i-th request of a worker against base.
	request func(base string, worker, i int) (*http.Request, error)
}

// A result is what one side answered over one window.
type result struct {
	requests, failures int
	elapsed            time.Duration
	p50, p99           time.Duration
	firstFailure       string
}

func (r result) throughput() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// A round is both sides measured once, back to back, and the CPU each side's
// window used.
type round struct {
	a, b       result // certapi, the floor
	aCPU, bCPU cpu
}

func (r round) ratio() float64    { return r.a.throughput() / r.b.throughput() }
func (r round) p99Ratio() float64 { return float64(r.a.p99) / float64(r.b.p99) }

// medianRound is the index of the round whose throughput ratio is the median (the
// lower of the two middle ones for an even count): its row shows figures that
// were measured together, rather than medians taken apart.
func medianRound(rs []round) int {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return cmp.Compare(rs[i].ratio(), rs[j].ratio()) })
	return idx[(len(idx)-1)/2]
}

// spread is a figure of each round, from the lowest to the highest.
func spread(rs []round, f func(round) float64) string {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}

func measure(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	target := fs.String("target", "http://127.0.0.1:8080", "certapi's base URL")
	floorURL := fs.String("floor", "http://127.0.0.1:8081", "the floor's base URL")
	email := fs.String("email", "", "an admin account of certapi")
	password := fs.String("password", "", "its password")
	conns := fs.String("connections", "1,16,64", "comma-separated connection counts")
	duration := fs.Duration("duration", 10*time.Second, "how long each side runs each scenario at each count")
	only := fs.String("scenarios", "", "comma-separated scenarios among get, list, transcript, feed, register (empty: all)")
	feedPage := fs.Int("feed-page", 1000, "which page of the results feed the feed scenario reads (pages of --feed-limit entries)")
	feedLimit := fs.Int("feed-limit", 10, "entries per page of the feed scenario")
	targetPID := fs.Int("target-pid", 0, "certapi's process id, to report its CPU per request (0: not reported)")
	floorPID := fs.Int("floor-pid", 0, "the floor's process id, likewise")
	serverPID := fs.Int("server-pid", 0, "a local database server's process id, to report its CPU per request beside each side")
	rounds := fs.Int("rounds", 1, "how many times each side runs each scenario at each count, in alternating order; the row shows the round of median ratio")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 {
		return fmt.Errorf("rounds: %d", *rounds)
	}
	costs := cpuCosts{target: *targetPID, floor: *floorPID, server: *serverPID}
	var counts []int
	for _, s := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("connections: %q", s)
		}
		counts = append(counts, n)
	}
	bearer, err := login(ctx, *target, *email, *password)
	if err != nil {
		return err
	}
	ids, site, err := candidates(ctx, *target, bearer)
	if err != nil {
		return err
	}
	feedCursor := ""
	if *only == "" || slices.Contains(strings.Split(*only, ","), "feed") {
		if feedCursor, err = feedPosition(ctx, *target, bearer, (*feedPage-1)**feedLimit); err != nil {
			return err
		}
	}
	scenarios := []scenario{
		{key: "get", name: "GET /v1/candidates/{id}", request: func(base string, w, i int) (*http.Request, error) {
			return get(base+"/v1/candidates/"+ids[(w*7919+i)%len(ids)], bearer)
		}},
		{key: "list", name: "GET /v1/candidates?training_site_id&limit=20", request: func(base string, w, i int) (*http.Request, error) {
			return get(base+"/v1/candidates?limit=20&training_site_id="+site, bearer)
		}},
		{key: "transcript", name: "GET /v1/candidates/{id}/transcript", request: func(base string, w, i int) (*http.Request, error) {
			return get(base+"/v1/candidates/"+ids[(w*7919+i)%len(ids)]+"/transcript", bearer)
		}},
		{key: "feed", name: "GET /v1/results (a deep page)", request: func(base string, w, i int) (*http.Request, error) {
			return get(base+"/v1/results?limit="+strconv.Itoa(*feedLimit)+"&cursor="+feedCursor, bearer)
		}},
		{key: "register", name: "POST /v1/candidates", write: true, request: func(base string, w, i int) (*http.Request, error) {
			return registration(base, bearer, site)
		}},
	}
	if *rounds == 1 {
		fmt.Printf("| scenario | conns | certapi req/s | floor req/s | ratio | certapi p50 / p99 | floor p50 / p99 | p99 ratio |\n")
		fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	} else {
		fmt.Printf("| scenario | conns | certapi req/s | floor req/s | ratio | certapi p50 / p99 | floor p50 / p99 | p99 ratio | ratios of the %d rounds | p99 ratios |\n", *rounds)
		fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	}
	failed := false
	for _, sc := range scenarios {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), sc.key) {
			continue
		}
		if sc.write {
			if err := openRegistration(ctx, *target, bearer); err != nil {
				return err
			}
		}
		for _, n := range counts {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Warm both, then measure certapi and the floor back to back, each
			// round in the other order than the one before, so that neither side
			// always runs second.
			_ = drive(ctx, *target, sc, n, time.Second)
			_ = drive(ctx, *floorURL, sc, n, time.Second)
			rs := make([]round, *rounds)
			for i := range rs {
				certapiSide := func() {
					rs[i].a, rs[i].aCPU = costs.during(func() result { return drive(ctx, *target, sc, n, *duration) })
				}
				floorSide := func() {
					rs[i].b, rs[i].bCPU = costs.during(func() result { return drive(ctx, *floorURL, sc, n, *duration) })
				}
				if i%2 == 0 {
					certapiSide()
					floorSide()
				} else {
					floorSide()
					certapiSide()
				}
			}
			costs.add(sc.name, n, rs)
			m := rs[medianRound(rs)]
			a, b := m.a, m.b
			fmt.Printf("| %s | %d | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f |", sc.name, n, a.throughput(), b.throughput(),
				m.ratio(), ms(a.p50), ms(a.p99), ms(b.p50), ms(b.p99), m.p99Ratio())
			if len(rs) > 1 {
				fmt.Printf(" %s | %s |", spread(rs, round.ratio), spread(rs, round.p99Ratio))
			}
			fmt.Println()
			for _, r := range rs {
				for side, r := range map[string]result{"certapi": r.a, "floor": r.b} {
					if r.failures > 0 {
						failed = true
						fmt.Fprintf(os.Stderr, "certload: %s, %d connections: %s answered %d failures (first: %s)\n", sc.name, n, side, r.failures, r.firstFailure)
					}
				}
			}
		}
	}
	costs.print(os.Stdout)
	if failed {
		return errors.New("some requests failed")
	}
	return nil
}

// cpuCosts reports the CPU each side's process, and the database server beside
// it, used per request: unlike throughput, it does not depend on how the shared
// machine schedules the processes, so it shows what a change saves with less
// noise.
type cpuCosts struct {
	target, floor, server int
	rows                  []string
}

// cpu is what the processes used during one side's window: that side's own
// process, the other's (idle then), and the server.
type cpu struct{ target, floor, server time.Duration }

func (c *cpuCosts) during(run func() result) (result, cpu) {
	before := c.sample()
	r := run()
	after := c.sample()
	return r, cpu{target: after.target - before.target, floor: after.floor - before.floor, server: after.server - before.server}
}

func (c *cpuCosts) sample() cpu {
	read := func(pid int) time.Duration {
		if pid == 0 {
			return 0
		}
		d, err := processCPU(pid)
		if err != nil {
			return 0
		}
		return d
	}
	return cpu{target: read(c.target), floor: read(c.floor), server: read(c.server)}
}

// add reports a row: the CPU of all rounds over the requests of all rounds.
func (c *cpuCosts) add(name string, n int, rs []round) {
	var a, b result
	var aCPU, bCPU cpu
	for _, r := range rs {
		a.requests += r.a.requests
		b.requests += r.b.requests
		aCPU.target += r.aCPU.target
		aCPU.server += r.aCPU.server
		bCPU.floor += r.bCPU.floor
		bCPU.server += r.bCPU.server
	}
	if c.target == 0 || c.floor == 0 || a.requests == 0 || b.requests == 0 {
		return
	}
	per := func(d time.Duration, r result) float64 { return float64(d.Microseconds()) / 1000 / float64(r.requests) }
	row := fmt.Sprintf("| %s | %d | %.3f ms | %.3f ms | %.2f |", name, n, per(aCPU.target, a), per(bCPU.floor, b),
		per(aCPU.target, a)/per(bCPU.floor, b))
	if c.server != 0 {
		row += fmt.Sprintf(" %.3f ms | %.3f ms | %.2f |", per(aCPU.server, a), per(bCPU.server, b), per(aCPU.server, a)/per(bCPU.server, b))
	}
	c.rows = append(c.rows, row)
}

func (c *cpuCosts) print(w io.Writer) {
	if len(c.rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nCPU per request (from /proc; 10 ms ticks):")
	fmt.Fprintln(w)
	if c.server != 0 {
		fmt.Fprintln(w, "| scenario | conns | certapi | floor | ratio | server beside certapi | beside the floor | ratio |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	} else {
		fmt.Fprintln(w, "| scenario | conns | certapi | floor | ratio |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	}
	for _, r := range c.rows {
		fmt.Fprintln(w, r)
	}
}

// drive runs n workers, each on its own kept-alive connection, for d.
func drive(ctx context.Context, base string, sc scenario, n int, d time.Duration) result {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: n, MaxConnsPerHost: n, DisableCompression: true}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		first     atomic.Value
		wg        sync.WaitGroup
	)
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, 4096)
			for i := 0; ctx.Err() == nil; i++ {
				req, err := sc.request(base, w, i)
				if err != nil {
					failures.Add(1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				t0 := time.Now()
				res, err := client.Do(req.WithContext(ctx))
				if err != nil {
					if ctx.Err() == nil {
						failures.Add(1)
						first.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if ctx.Err() != nil {
					break // cut by the window's end: neither counted nor timed
				}
				own = append(own, time.Since(t0))
				if res.StatusCode >= 300 {
					failures.Add(1)
					first.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode))
				}
			}
			mu.Lock()
			latencies = append(latencies, own...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{requests: len(latencies), failures: int(failures.Load()), elapsed: time.Since(start)}
	if f, ok := first.Load().(string); ok {
		r.firstFailure = f
	}
	slices.Sort(latencies)
	if len(latencies) > 0 {
		r.p50 = latencies[len(latencies)*50/100]
		r.p99 = latencies[min(len(latencies)*99/100, len(latencies)-1)]
	}
	return r
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func get(u, bearer string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err == nil {
		req.Header.Set("Authorization", bearer)
	}
	return req, err
}

// registration is a new person at the site, on an open route, with the
// Idempotency-Key a careful client sends.
func registration(base, bearer, site string) (*http.Request, error) {
	n := rand.Uint64()
	body, _ := json.Marshal(map[string]any{
		"certification_code": "RNCP26206", "route": "continuing_education", "training_site_id": site,
		"first_name": "Alex", "birth_name": "Charge-" + strconv.FormatUint(n, 36), "sex": "M",
		"birth_date":  fmt.Sprintf("19%02d-%02d-%02d", 60+n%40, 1+n%12, 1+n%28),
		"birth_place": map[string]any{"insee_code": "31555", "name": "Toulouse", "country_code": "FR"},
		"email":       "alex." + strconv.FormatUint(n, 36) + "@example.org",
		"address":     map[string]any{"line1": "2 place du Capitole", "postal_code": "31000", "city": "Toulouse", "country_code": "FR"},
	})
	req, err := http.NewRequest(http.MethodPost, base+"/v1/candidates", bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "load-"+strconv.FormatUint(n, 36))
	}
	return req, err
}

// openRegistration records a registration period around today, as a renewal in
// the RNCP would, so that registrations are accepted (REGISTRATION-PERIOD); a
// period already recorded is fine.
func openRegistration(ctx context.Context, base, bearer string) error {
	today := time.Now().UTC()
	body, _ := json.Marshal(map[string]string{"legal_act": "Renouvellement de l'enregistrement (mesures de charge)",
		"effective_from": today.AddDate(0, 0, -1).Format(time.DateOnly), "effective_until": today.AddDate(1, 0, 0).Format(time.DateOnly)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/certifications/RNCP26206/registration-periods", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusConflict && res.StatusCode != http.StatusUnprocessableEntity {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("open a registration period: %d %s", res.StatusCode, b)
	}
	return nil
}

func login(ctx context.Context, base, email, password string) (string, error) {
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/auth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: %d %v", res.StatusCode, err)
	}
	return "Bearer " + tok.AccessToken, nil
}

// candidates returns ids of candidates to read, and the site of the first.
func candidates(ctx context.Context, base, bearer string) ([]string, string, error) {
	req, err := get(base+"/v1/candidates?limit=100", bearer)
	if err != nil {
		return nil, "", err
	}
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	var list struct {
		Items []struct {
			ID             string `json:"id"`
			TrainingSiteID string `json:"training_site_id"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || len(list.Items) == 0 {
		return nil, "", fmt.Errorf("no candidates to read (load a dataset with certload seed): %d %v", res.StatusCode, err)
	}
	var ids []string
	for _, c := range list.Items {
		ids = append(ids, c.ID)
	}
	return ids, list.Items[0].TrainingSiteID, nil
}

// feedPosition walks the results feed to the given number of entries and returns
// the cursor there.
func feedPosition(ctx context.Context, base, bearer string, entries int) (string, error) {
	cursor, read := "", 0
	for read < entries {
		n := min(100, entries-read)
		req, err := get(base+"/v1/results?limit="+strconv.Itoa(n)+"&cursor="+cursor, bearer)
		if err != nil {
			return "", err
		}
		res, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return "", err
		}
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			return "", fmt.Errorf("walk the feed: %d %v", res.StatusCode, err)
		}
		if len(page.Items) == 0 {
			return "", fmt.Errorf("the feed has %d entries, fewer than the %d the scenario starts after", read, entries)
		}
		read, cursor = read+len(page.Items), page.NextCursor
	}
	return cursor, nil
}
