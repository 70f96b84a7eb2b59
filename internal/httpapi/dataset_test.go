package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
)

// The dataset the load tool measures with is what the service itself would have
// written: read back through the API, its candidates are certified, their
// transcripts awardable, their certificates verifiable and their sessions' minutes
// complete, and every answer is valid against the contract.
func TestDatasetIsWhatTheServiceWrites(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s := testdb.Open(t, d)
			now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			var progress []int
			ds, err := s.LoadDataset(context.Background(), store.DatasetOptions{Candidates: 260, Sites: 3, PerSession: 100, Now: now,
				Progress: func(n int) { progress = append(progress, n) }})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Candidates != 260 || len(ds.CandidateIDs) != 260 || len(ds.SiteIDs) != 3 || len(progress) != 2 || progress[1] != 260 {
				t.Fatalf("dataset %+v, progress %v", ds, progress)
			}
			if _, err := s.LoadDataset(context.Background(), store.DatasetOptions{Candidates: 1}); err == nil {
				t.Error("a second dataset was loaded over the first")
			}
			h := newHarnessOn(t, s, func() time.Time { return now })
			admin := h.as(auth.RoleAdmin)
			for _, id := range []string{ds.CandidateIDs[0], ds.CandidateIDs[150], ds.CandidateIDs[259]} {
				c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + id, bearer: admin}), http.StatusOK)
				if str(c, "status") != "certified" || str(c, "certificate_number") == "" {
					t.Fatalf("candidate %v", c)
				}
				if tr := transcript(t, h, admin, id, "2020-06-01"); tr["awardable"] != true {
					t.Errorf("transcript of %s: %v", id, tr)
				}
				v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + str(c, "certificate_number")}), http.StatusOK)
				if str(v, "status") != "valid" {
					t.Errorf("certificate %v", v)
				}
				decs := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + id + "/decisions", bearer: admin}), http.StatusOK))
				if len(decs) != 1 || str(decs[0], "outcome") != "award" || str(decs[0], "status") != "published" {
					t.Fatalf("decisions %v", decs)
				}
				m := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + str(decs[0], "jury_session_id") + "/minutes", bearer: admin}), http.StatusOK)
				if len(m["decisions"].([]any)) != 100 && len(m["decisions"].([]any)) != 60 {
					t.Errorf("minutes list %d decisions", len(m["decisions"].([]any)))
				}
			}
			page := expect(t, h.do(req{method: "GET", path: "/v1/candidates?limit=50&training_site_id=" + ds.SiteIDs[1], bearer: admin}), http.StatusOK)
			if len(items(page)) != 50 || page["next_cursor"] == nil {
				t.Errorf("a page of a site's candidates: %d items", len(items(page)))
			}

			// The results feed has an entry for each award, in the order of the
			// sessions, and goes on from the last one.
			feed := feedPage(t, h, admin, "limit=100&cursor="+cursorAt(250))
			if fmt.Sprint(sequences(feed)) != "[251 252 253 254 255 256 257 258 259 260]" || feed["has_more"] != false ||
				str(feed, "next_cursor") != cursorAt(260) {
				t.Fatalf("the feed's end: %v", feed)
			}
			first := items(feedPage(t, h, admin, "limit=1"))[0]
			if str(first["candidate"].(map[string]any), "id") != ds.CandidateIDs[0] || str(first, "outcome") != "award" ||
				str(first, "certificate_status") != "valid" || len(first["validated_components"].([]any)) != 4 {
				t.Errorf("the feed's first entry: %v", first)
			}
			bySite := feedPage(t, h, admin, "limit=100&training_site_id="+ds.SiteIDs[1])
			if n := len(items(bySite)); n != 87 || bySite["has_more"] != false {
				t.Errorf("a site's entries: %d", n)
			}
			certs := expect(t, h.do(req{method: "GET", path: "/v1/certificates?limit=100", bearer: admin}), http.StatusOK)
			if len(items(certs)) != 100 || certs["next_cursor"] != cursorAt(100) {
				t.Errorf("a page of certificates: %d, next %v", len(items(certs)), certs["next_cursor"])
			}
			stats := items(expect(t, h.do(req{method: "GET", path: "/v1/statistics?limit=100", bearer: admin}), http.StatusOK))
			var registered, awarded int64
			for _, r := range stats {
				registered += int64(r["candidates"].(float64))
				awarded += int64(r["awards"].(float64))
			}
			if registered != 260 || awarded != 260 {
				t.Errorf("statistics: %d registered, %d awarded: %v", registered, awarded, stats)
			}
			h.refused("Après", ds.SiteIDs[0], "2019-12-02")
			if got := sequences(feedPage(t, h, admin, "cursor="+cursorAt(260))); fmt.Sprint(got) != "[261]" {
				t.Errorf("the feed after the dataset: %v", got)
			}
		})
	}
}
