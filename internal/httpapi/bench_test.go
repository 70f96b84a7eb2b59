package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/store"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/testdb"
)

// The benchmarks drive the full Echo stack (auth, validator, handler, database)
// in-process, on each database: `make bench`.
func BenchmarkAPI(b *testing.B) {
	for _, d := range testdb.Dialects {
		h := newHarness(b, d)
		admin := h.as(auth.RoleAdmin)
		serve := func(b *testing.B, method, path, body, ct string, want int) {
			b.Helper()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				var r *http.Request
				if body != "" {
					r = httptest.NewRequest(method, path, strings.NewReader(fmt.Sprintf(body, i)))
					r.Header.Set("Content-Type", ct)
				} else {
					r = httptest.NewRequest(method, path, nil)
				}
				r.Header.Set("Authorization", admin)
				w := httptest.NewRecorder()
				h.e.ServeHTTP(w, r)
				if w.Code != want {
					b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
				}
			}
		}
		cand := h.candidate(nil)
		b.Run(string(d)+"/GetCandidate", func(b *testing.B) {
			serve(b, "GET", "/v1/candidates/"+cand, "", "", http.StatusOK)
		})
		b.Run(string(d)+"/Transcript", func(b *testing.B) {
			serve(b, "GET", "/v1/candidates/"+cand+"/transcript?as_of=2019-12-01", "", "", http.StatusOK)
		})
		b.Run(string(d)+"/GetCertification", func(b *testing.B) {
			serve(b, "GET", "/v1/certifications/RNCP26206", "", "", http.StatusOK)
		})
		b.Run(string(d)+"/GetTrainingSite", func(b *testing.B) {
			serve(b, "GET", "/v1/training-sites/"+siteMontpellier, "", "", http.StatusOK)
		})
		b.Run(string(d)+"/ListTrainingSites", func(b *testing.B) {
			serve(b, "GET", "/v1/training-sites?limit=20", "", "", http.StatusOK)
		})
		// Each registration is a new person with a new key, in every run of the
		// benchmark (-count): the same key again would measure its replay.
		registered := 0
		b.Run(string(d)+"/RegisterCandidate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				i := registered
				registered++
				raw, _ := json.Marshal(candidateBody(map[string]any{"birth_name": fmt.Sprintf("Bench-%d", i), "email": fmt.Sprintf("bench.%d@example.org", i)}))
				r := httptest.NewRequest("POST", "/v1/candidates", bytes.NewReader(raw))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
				r.Header.Set("Authorization", admin)
				w := httptest.NewRecorder()
				h.e.ServeHTTP(w, r)
				if w.Code != http.StatusCreated {
					b.Fatalf("registration: %d %s", w.Code, w.Body)
				}
			}
		})
		b.Run(string(d)+"/CreateTrainingSite", func(b *testing.B) {
			serve(b, "POST", "/v1/training-sites",
				`{"name":"Bench %d","address":{"line1":"1 rue","postal_code":"31000","city":"Toulouse","country_code":"FR"},"roles":["preparation"],"certification_codes":["RNCP26206"]}`,
				"application/json", http.StatusCreated)
		})
	}
}

// BenchmarkDataset reads a bulk-loaded dataset as the load tool does, in process:
// the profile of what `scripts/perf.sh` measures over the network.
func BenchmarkDataset(b *testing.B) {
	for _, d := range testdb.Dialects {
		s := testdb.Open(b, d)
		ds, err := s.LoadDataset(context.Background(), store.DatasetOptions{Candidates: 2000})
		if err != nil {
			b.Fatal(err)
		}
		h := newHarnessOn(b, s, time.Now)
		admin := h.as(auth.RoleAdmin)
		for _, c := range []struct{ name, path string }{
			{"GetCandidate", "/v1/candidates/" + ds.CandidateIDs[500]},
			{"ListCandidates", "/v1/candidates?limit=20&training_site_id=" + ds.SiteIDs[3]},
			{"Transcript", "/v1/candidates/" + ds.CandidateIDs[500] + "/transcript"},
			{"ResultsFeed", "/v1/results?limit=20"},
		} {
			b.Run(string(d)+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r := httptest.NewRequest("GET", c.path, nil)
					r.Header.Set("Authorization", admin)
					w := httptest.NewRecorder()
					h.e.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", c.path, w.Code, w.Body)
					}
				}
			})
		}
	}
}
