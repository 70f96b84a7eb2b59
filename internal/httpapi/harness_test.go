package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/contracttest"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// Seeded training sites.
const (
	sitePierreBayle = "00000000-0000-7000-8000-00000000b001"
	siteVauquelin   = "00000000-0000-7000-8000-00000000b002"
	siteMontpellier = "00000000-0000-7000-8000-00000000b003"
)

// The seeded registration periods of RNCP26206: 2013-01-29 to 2019-06-07, and
// 2019-01-04 to 2020-01-04.
const (
	periodFirst  = "00000000-0000-7000-8000-00000000a001"
	periodSecond = "00000000-0000-7000-8000-00000000a002"
)

var roles = []auth.Role{auth.RoleAdmin, auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate}

func contract(testing.TB) (*openapi3.T, routers.Router) { return contracttest.Contract() }

// harness is the whole service over a fresh database: every request goes through
// the full Echo stack, and every response is validated against openapi.yaml.
type harness struct {
	t       testing.TB
	e       *echo.Echo
	store   *store.Store
	svc     *service.Service
	tokens  *auth.Tokens
	mu      sync.Mutex
	bearers map[auth.Role]string
	users   map[auth.Role]string
	// members is the full jury the jury helpers seat: the pedagogical director first.
	juryOnce sync.Once
	members  []string
	// partners counts the partner applications registered (partner_helpers_test.go).
	partners int
}

func forEachDialect(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newHarness(t, d))
		})
	}
}

func newHarness(t testing.TB, d store.Dialect) *harness {
	s := testdb.Open(t, d)
	return newHarnessOn(t, s, time.Now)
}

func newHarnessOn(t testing.TB, s *store.Store, now func() time.Time, options ...func(*httpapi.Options)) *harness {
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), 15*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	limiter := ratelimit.New(s, now)
	svc := service.New(s, tokens, limiter, now, log)
	o := httpapi.Options{Service: svc, Idempotency: s, DB: s, Log: log, BodyLimit: "64K", Now: now, Limiter: limiter}
	for _, opt := range options {
		opt(&o)
	}
	e, err := httpapi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, e: e, store: s, svc: svc, tokens: tokens, bearers: map[auth.Role]string{}, users: map[auth.Role]string{}}
}

// as returns the bearer of a user of the role, creating the account on first use;
// site_staff are bound to the Montpellier site.
func (h *harness) as(r auth.Role) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.bearers[r]; ok {
		return b
	}
	in := service.UserInput{Email: string(r) + "@test.example", Role: r, Password: "a-long-enough-password"}
	switch r {
	case auth.RoleSiteStaff:
		in.TrainingSiteID = siteMontpellier
	case auth.RoleJuryMember:
		in.JuryMemberID = h.jury()[1]
	case auth.RoleCandidate:
		in.CandidateID = h.candidate(map[string]any{"first_name": "Own", "birth_name": "Record", "training_site_id": siteVauquelin})
	}
	u, err := h.svc.CreateUser(adminContext(), in)
	if err != nil {
		h.t.Fatalf("create %s user: %v", r, err)
	}
	tok, err := h.tokens.Issue(u.ID, r)
	if err != nil {
		h.t.Fatal(err)
	}
	h.bearers[r], h.users[r] = "Bearer "+tok, u.ID
	return h.bearers[r]
}

func adminContext() context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "00000000-0000-7000-8000-0000000000ad", Role: auth.RoleAdmin})
}

// candidate registers a candidate through the service (on a day inside the seeded
// registration periods) and returns its id; fields override the defaults.
func (h *harness) candidate(fields map[string]any) string {
	h.t.Helper()
	body := candidateBody(fields)
	raw, _ := json.Marshal(body)
	var in api.CandidateCreate
	if err := json.Unmarshal(raw, &in); err != nil {
		h.t.Fatal(err)
	}
	c, err := h.svc.RegisterCandidate(adminContext(), httpapi.CandidateInputFromAPI(in))
	if err != nil {
		h.t.Fatalf("register candidate: %v", err)
	}
	return c.ID
}

// candidateBody is a valid registration, enrolled inside the seeded registration
// periods; fields override its members (nil removes one).
func candidateBody(fields map[string]any) map[string]any {
	b := map[string]any{
		"certification_code": "RNCP26206", "route": "continuing_education", "training_site_id": siteMontpellier,
		"enrolled_on": "2019-06-03", "first_name": "Camille", "birth_name": "Martin", "sex": "F", "birth_date": "1995-04-12",
		"birth_place": map[string]any{"insee_code": "34172", "name": "Montpellier", "country_code": "FR"},
		"email":       "camille.martin@example.org", "phone": "+33 6 12 34 56 78",
		"address": map[string]any{"line1": "3 rue de la Loge", "postal_code": "34000", "city": "Montpellier", "country_code": "FR"},
	}
	for k, v := range fields {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// ownCandidate is the candidate the candidate user is bound to.
func (h *harness) ownCandidate() string {
	h.as(auth.RoleCandidate)
	u, err := h.svc.GetUser(adminContext(), h.users[auth.RoleCandidate])
	if err != nil {
		h.t.Fatal(err)
	}
	return u.CandidateID
}

type response struct {
	code int
	hdr  http.Header
	raw  []byte
}

// json decodes the body into a generic value.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.raw)
	}
	return m
}

// req is one request: body is JSON-encoded unless it is a string or []byte.
type req struct {
	method, path string
	body         any
	bearer       string
	contentType  string
	headers      map[string]string
}

func (h *harness) do(r req) response {
	h.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", r.bearer)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, hr)
	res := response{code: rec.Code, hdr: rec.Header(), raw: rec.Body.Bytes()}
	validateResponse(h.t, r, res)
	return res
}

// validateResponse checks a response against openapi.yaml: its status must be
// declared for the operation, and its headers and body must match. Responses to
// routes the contract does not have must be problems.
func validateResponse(t testing.TB, r req, res response) {
	t.Helper()
	if err := checkResponse(r, res); err != nil {
		t.Fatalf("%s %s: the %d response does not match openapi.yaml: %v\nbody: %s", r.method, r.path, res.code, err, res.raw)
	}
}

func checkResponse(r req, res response) error {
	return contracttest.Check(r.method, r.path, res.code, res.hdr, res.raw)
}

// expect fails the test unless the response has the status, and returns its JSON.
func expect(t testing.TB, res response, status int) map[string]any {
	t.Helper()
	if res.code != status {
		t.Fatalf("status %d, want %d: %s", res.code, status, res.raw)
	}
	if len(res.raw) == 0 {
		return nil
	}
	return res.json(t)
}

// violations returns the problem's violations as "rule field" strings.
func violations(t testing.TB, m map[string]any) []string {
	t.Helper()
	var out []string
	vs, _ := m["violations"].([]any)
	for _, v := range vs {
		vm := v.(map[string]any)
		rule, _ := vm["rule"].(string)
		field, _ := vm["field"].(string)
		out = append(out, strings.TrimSpace(rule+" "+field))
	}
	return out
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func items(m map[string]any) []map[string]any {
	raw, _ := m["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}
