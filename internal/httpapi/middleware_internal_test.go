package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/idempotency"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

type recordingStore struct{ released []string }

func (s *recordingStore) Claim(context.Context, idempotency.Record) (idempotency.Record, error) {
	return idempotency.Record{}, nil
}
func (s *recordingStore) Complete(context.Context, idempotency.Record) error { return nil }
func (s *recordingStore) Release(_ context.Context, _, key string) error {
	s.released = append(s.released, key)
	return nil
}
func (s *recordingStore) Purge(context.Context, time.Time) (int64, error) { return 0, nil }

// A handler that panics releases its Idempotency-Key, so that a retry is served.
func TestIdempotencyKeyReleasedOnPanic(t *testing.T) {
	store := &recordingStore{}
	e := echo.New()
	e.Use(middleware.Recover())
	e.POST("/things", func(echo.Context) error { panic("boom") },
		idempotent(store, map[string]operation{"POST /things": {idempotent: true}}, time.Now))
	r := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(`{}`))
	r.Header.Set("Idempotency-Key", "k")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError || len(store.released) != 1 || store.released[0] != "k" {
		t.Fatalf("status %d, released %v", w.Code, store.released)
	}
}
