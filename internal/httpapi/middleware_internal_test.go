package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/idempotency"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

type recordingStore struct{ completed []string }

func (s *recordingStore) Lookup(context.Context, string, string) (idempotency.Record, error) {
	return idempotency.Record{}, idempotency.ErrNotFound
}
func (s *recordingStore) Complete(_ context.Context, r idempotency.Record) error {
	s.completed = append(s.completed, r.Key)
	return nil
}
func (s *recordingStore) Purge(context.Context, time.Time) (int64, error) { return 0, nil }

// A handler that panics records nothing with its Idempotency-Key, so that a retry
// is served; one that succeeds records its answer.
func TestIdempotencyKeyNotRecordedOnPanic(t *testing.T) {
	store := &recordingStore{}
	e := echo.New()
	// The panic is on purpose: its stack trace is not the test's to print.
	var recovered error
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(_ echo.Context, err error, _ []byte) error {
		recovered = err
		return err
	}}))
	ops := map[string]operation{"POST /things": {idempotent: true}, "POST /others": {idempotent: true}}
	e.POST("/things", func(echo.Context) error { panic("boom") }, idempotent(store, ops, time.Now, time.Minute))
	e.POST("/others", func(c echo.Context) error { return c.JSON(http.StatusCreated, map[string]string{}) }, idempotent(store, ops, time.Now, time.Minute))
	for _, path := range []string{"/things", "/others"} {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{}`))
		r.Header.Set("Idempotency-Key", "k"+path)
		e.ServeHTTP(httptest.NewRecorder(), r)
	}
	if len(store.completed) != 1 || store.completed[0] != "k/others" || recovered == nil {
		t.Fatalf("recorded %v, recovered %v", store.completed, recovered)
	}
}

// Every problem code the code answers with is in the catalogue the problem pages
// are made of, the catalogue lists no code nothing answers with, and the contract's
// ProblemCode enum lists exactly the catalogue's codes.
func TestProblemCatalogueIsComplete(t *testing.T) {
	used := map[string]bool{}
	re := regexp.MustCompile(`(?:Code|code): +"([a-z_]+)"`)
	for _, dir := range []string{".", "../certification", "../service"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				used[m[1]] = true
			}
		}
	}
	listed := map[string]bool{}
	for _, p := range problemCodes {
		code := string(p.Code)
		if listed[code] {
			t.Errorf("the catalogue lists %s twice", code)
		}
		listed[code] = true
		if !used[code] && !strings.Contains(catalogueOnly, " "+code+" ") {
			t.Errorf("the catalogue lists %s, which nothing answers with", code)
		}
		if p.Title == "" || p.Meaning == "" {
			t.Errorf("%s has no title or no meaning", code)
		}
		if status, err := strconv.Atoi(p.Status); err != nil || status < 400 || status > 599 {
			t.Errorf("%s: status %q is not an error status", code, p.Status)
		}
	}
	for code := range used {
		if !listed[code] {
			t.Errorf("%s is answered but not in the catalogue of problem codes", code)
		}
	}

	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	enum := map[string]bool{}
	for _, v := range spec.Components.Schemas["ProblemCode"].Value.Enum {
		code, _ := v.(string)
		enum[code] = true
		if !listed[code] {
			t.Errorf("the contract's ProblemCode lists %q, which the catalogue does not", v)
		}
	}
	for code := range listed {
		if !enum[code] {
			t.Errorf("the catalogue lists %s, which the contract's ProblemCode does not", code)
		}
	}
}

// catalogueOnly are the codes set where a literal is not written as Code: "…" (the
// renderer's map of Echo's errors, and problemFor's own cases).
const catalogueOnly = " invalid_request unauthenticated forbidden not_found method_not_allowed too_many_requests payload_too_large unsupported_media_type rule_violation invalid_value internal_error stale_etag "
