package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// outcome is what one write request got.
type outcome struct {
	worker     int
	key, name  string
	start, end time.Time
	// wrote is when the request was first written out in full: a request written
	// before a signal had reached the server's socket.
	wrote time.Time
	// reused: the request went out on a kept-alive connection.
	reused     bool
	status     int
	problem    bool // Content-Type application/problem+json
	retryAfter string
	code       string // the problem's code
	id         string // the created site's id, on a 201 (or named by a 409 idempotency_answer_lost)
	replayed   bool   // Idempotent-Replayed: true
	failure    string // why no answer came: refused, reset, eof, timeout, or the error
}

func (o outcome) latency() time.Duration { return o.end.Sub(o.start) }

// answered says whether an HTTP answer came back.
func (o outcome) answered() bool { return o.failure == "" }

// label is the status, or the failure when there was no answer.
func (o outcome) label() string {
	if o.failure != "" {
		return o.failure
	}
	return fmt.Sprint(o.status)
}

// load is a set of writers declaring training sites, or registering candidates at
// a site the load declared first, each request with an Idempotency-Key of its own
// and a site's or a candidate's name made of it, so that a row found in the
// database names the request that wrote it.
type load struct {
	base, token string
	// registrations is set when the load registers candidates at site.
	registrations bool
	site          string
	// run prefixes every key and name of this load.
	run      string
	deadline time.Duration
	pause    time.Duration

	mu   sync.Mutex
	outs []outcome

	stop chan struct{}
	wg   sync.WaitGroup
}

func newLoad(base, token string, deadline, pause time.Duration) *load {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &load{base: base, token: token, run: hex.EncodeToString(b), deadline: deadline, pause: pause, stop: make(chan struct{})}
}

// client is one writer's HTTP client: its own connections, kept alive between
// requests or a new one each time; it gives up 2 s past the request deadline, so a
// request that hangs beyond the deadline shows as a timeout.
func (l *load) client(keepAlive bool) *http.Client {
	return &http.Client{Timeout: l.deadline + 2*time.Second,
		Transport: &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1,
			DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}}
}

// start runs n writers until halt; the first keepAlive of them reuse their
// connection, the others open a new one per request.
func (l *load) start(n, keepAlive int) {
	for w := range n {
		c := l.client(w < keepAlive)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				key := fmt.Sprintf("%s-%d-%d", l.run, w, i)
				o := l.post(c, key)
				o.worker = w
				l.mu.Lock()
				l.outs = append(l.outs, o)
				l.mu.Unlock()
				if o.status != http.StatusCreated {
					select {
					case <-l.stop:
						return
					case <-time.After(l.pause):
					}
				}
			}
		}()
	}
}

// halt stops the writers and waits for their last requests.
func (l *load) halt() {
	close(l.stop)
	l.wg.Wait()
}

// snapshot is every outcome so far.
func (l *load) snapshot() []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.outs)
}

// acked counts the 201s so far.
func (l *load) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, o := range l.outs {
		if o.status == http.StatusCreated {
			n++
		}
	}
	return n
}

func rowName(key string) string { return "faults " + key }

// resource is where the load writes, and reads back.
func (l *load) resource() string {
	if l.registrations {
		return "/v1/candidates"
	}
	return "/v1/training-sites"
}

// body is the request that writes key's row.
func (l *load) body(key string) string {
	if !l.registrations {
		return siteBody(key)
	}
	return `{"certification_code":"RNCP26206","route":"continuing_education","training_site_id":"` + l.site + `",` +
		`"enrolled_on":"2019-06-03","first_name":"Camille","birth_name":"` + rowName(key) + `","sex":"F","birth_date":"1995-04-12",` +
		`"birth_place":{"insee_code":"34172","name":"Montpellier","country_code":"FR"},"email":"camille.martin@example.org",` +
		`"address":{"line1":"3 rue de la Loge","postal_code":"34000","city":"Montpellier","country_code":"FR"}}`
}

// declareSite declares the site a load of registrations registers at.
func (l *load) declareSite() error {
	o := l.postTo(l.client(false), "/v1/training-sites", siteBody(l.run+"-site"), l.run+"-site")
	if o.status != http.StatusCreated {
		return fmt.Errorf("declare the registrations' site: %s %s", o.label(), o.code)
	}
	l.site = o.id
	return nil
}

func siteBody(key string) string {
	return `{"name":"` + rowName(key) + `","address":{"line1":"1 rue des Pannes","postal_code":"31000","city":"Toulouse","country_code":"FR"},` +
		`"roles":["preparation"],"certification_codes":["RNCP26206"]}`
}

// post writes the row of key, with key as its Idempotency-Key.
func (l *load) post(c *http.Client, key string) outcome {
	return l.postTo(c, l.resource(), l.body(key), key)
}

func (l *load) postTo(c *http.Client, path, body, key string) outcome {
	o := outcome{key: key, name: rowName(key)}
	var wrote atomic.Int64
	var reused atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused.Store(i.Reused) },
		WroteRequest: func(httptrace.WroteRequestInfo) {
			wrote.CompareAndSwap(0, time.Now().UnixNano())
		}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
		http.MethodPost, l.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	// The service logs a well-formed X-Request-Id beside its own: the key then
	// names the request in its log too.
	req.Header.Set("X-Request-Id", key)
	// Without GetBody the transport does not send the request again by itself on a
	// new connection when a kept-alive one fails (it would, for a POST carrying an
	// Idempotency-Key): every outcome is what happened on the wire.
	req.GetBody = nil
	o.start = time.Now()
	res, err := c.Do(req)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err == nil {
			o.status = res.StatusCode
			o.problem = strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json")
			o.retryAfter = res.Header.Get("Retry-After")
			o.replayed = res.Header.Get("Idempotent-Replayed") == "true"
			var doc struct {
				ID, Code   string
				ExistingID string `json:"existing_id"`
			}
			_ = json.Unmarshal(body, &doc)
			o.code = doc.Code
			if o.code == "idempotency_answer_lost" {
				o.id = doc.ExistingID
			}
			if res.StatusCode == http.StatusCreated {
				o.id = doc.ID
				if o.id == "" {
					o.failure = "201 without an id"
				}
			}
		}
	}
	o.end = time.Now()
	if n := wrote.Load(); n != 0 {
		o.wrote = time.Unix(0, n)
	}
	o.reused = reused.Load()
	if err != nil {
		o.failure = failureOf(err)
	}
	return o
}

// failureOf names why a request got no answer.
func failureOf(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}

// tally counts outcomes by label, printed as "201×12 503×3".
type tally map[string]int

func tallyOf(outs []outcome) tally {
	t := tally{}
	for _, o := range outs {
		t[o.label()]++
	}
	return t
}

func (t tally) String() string {
	if len(t) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, t[k])
	}
	return strings.Join(parts, " ")
}

func maxLatency(outs []outcome) time.Duration {
	var m time.Duration
	for _, o := range outs {
		m = max(m, o.latency())
	}
	return m
}

func filter(outs []outcome, keep func(outcome) bool) []outcome {
	var r []outcome
	for _, o := range outs {
		if keep(o) {
			r = append(r, o)
		}
	}
	return r
}

// ackedIDs are the ids of every 201.
func ackedIDs(outs []outcome) []string {
	var ids []string
	for _, o := range outs {
		if o.status == http.StatusCreated {
			ids = append(ids, o.id)
		}
	}
	return ids
}

// apiClient reads back what the load wrote.
var apiClient = &http.Client{Timeout: 30 * time.Second}

func (l *load) get(path string) (int, []byte, error) {
	req, _ := http.NewRequest(http.MethodGet, l.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	res, err := apiClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

// present reads every id back (GET by id) and returns those that are not there. A
// 503 is asked again, a few times: it says nothing about the site.
func (l *load) present(ids []string) (missing []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				st := 0
				for try := 0; try < 5; try++ {
					st, _, _ = l.get(l.resource() + "/" + id)
					if st != http.StatusServiceUnavailable && st != 0 {
						break
					}
					time.Sleep(time.Second)
				}
				if st != http.StatusOK {
					mu.Lock()
					missing = append(missing, fmt.Sprintf("%s (%d)", id, st))
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	return missing
}

// rowsByName lists every site, or candidate, this load wrote, by name: the ids
// each name has.
func (l *load) rowsByName() (map[string][]string, error) {
	byName := map[string][]string{}
	cursor := ""
	for {
		path := l.resource() + "?limit=100"
		if l.registrations {
			path += "&training_site_id=" + l.site
		}
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		st, body, err := l.get(path)
		if err != nil || st != http.StatusOK {
			return nil, fmt.Errorf("list %s: %d %v", l.resource(), st, err)
		}
		var page struct {
			Items []struct {
				ID, Name  string
				BirthName string `json:"birth_name"`
			}
			Next *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		for _, s := range page.Items {
			if l.registrations {
				s.Name = s.BirthName
			}
			if strings.HasPrefix(s.Name, rowName(l.run)+"-") && s.Name != rowName(l.run+"-site") {
				byName[s.Name] = append(byName[s.Name], s.ID)
			}
		}
		if page.Next == nil || *page.Next == "" {
			return byName, nil
		}
		cursor = *page.Next
	}
}

// written compares what the database holds with what was acknowledged: the names
// written more than once, and how many rows were written without the client
// hearing of it (their answer was lost to the fault, which is allowed).
func (l *load) written(outs []outcome) (duplicates []string, unacknowledged int, err error) {
	byName, err := l.rowsByName()
	if err != nil {
		return nil, 0, err
	}
	acked := map[string]bool{}
	for _, o := range outs {
		if o.status == http.StatusCreated {
			acked[o.name] = true
		}
	}
	for name, ids := range byName {
		if len(ids) > 1 {
			duplicates = append(duplicates, fmt.Sprintf("%q ×%d", name, len(ids)))
		}
		if !acked[name] {
			unacknowledged++
		}
	}
	sort.Strings(duplicates)
	return duplicates, unacknowledged, nil
}

func firstFew(xs []string) string {
	if len(xs) > 5 {
		return strings.Join(xs[:5], ", ") + fmt.Sprintf(" … (%d in all)", len(xs))
	}
	return strings.Join(xs, ", ")
}
