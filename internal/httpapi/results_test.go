package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(rfc3339 string) *testClock {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		panic(err)
	}
	return &testClock{t: t}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// forEachDialectAt runs fn on each database with a harness on a clock of its own,
// set at start (after the seeded registration periods and their sessions).
func forEachDialectFrom(t *testing.T, start string, fn func(t *testing.T, h *harness, clock *testClock), options ...func(*httpapi.Options)) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(start)
			fn(t, newHarnessOn(t, testdb.Open(t, d), clock.Now, options...), clock)
		})
	}
}

// feedStart is when the feed tests begin: every session they hold is over.
const feedStart = "2020-01-06T10:00:00Z"

// awarded registers a candidate at site who passes E1-E4, and has a session of its
// own on day award the certification; it returns the published decision.
func (h *harness) awarded(first, site, day string) map[string]any {
	h.t.Helper()
	cand := h.candidate(map[string]any{"first_name": first, "birth_name": "Lauréat", "training_site_id": site})
	for i, c := range []string{"E1", "E2", "E3"} {
		h.sit(cand, c, fmt.Sprintf("2019-09-1%dT09:00:00Z", i+1), 14)
	}
	s := h.session(day)
	h.defend(cand, s, day+"T09:00:00Z", 14, 15)
	return h.decideIn(s, cand, day)
}

// partiallyValidated registers a candidate at site who passes E1 only, deliberated
// on day: a partial validation and its attestation.
func (h *harness) partiallyValidated(first, site, day string) map[string]any {
	h.t.Helper()
	cand := h.candidate(map[string]any{"first_name": first, "birth_name": "Partiel", "training_site_id": site})
	h.sit(cand, "E1", "2019-09-02T09:00:00Z", 12)
	return h.deliberate(cand, day)
}

// refused registers a candidate who sat nothing, deliberated on day: a refusal.
// With site "", an individual application without a site.
func (h *harness) refused(first, site, day string) map[string]any {
	h.t.Helper()
	fields := map[string]any{"first_name": first, "birth_name": "Refusé", "training_site_id": site}
	if site == "" {
		fields["training_site_id"], fields["route"] = nil, "individual_application"
	}
	return h.deliberate(h.candidate(fields), day)
}

// correct corrects a published decision, validating the components given.
func (h *harness) correct(decision map[string]any, components []string) map[string]any {
	h.t.Helper()
	res := decide(h, h.as(auth.RoleAdmin), str(decision, "jury_session_id"), str(decision, "candidate_id"),
		map[string]any{"corrects": str(decision, "id"), "validated_components": components, "reason": "Correction du procès-verbal"})
	return expect(h.t, res, http.StatusCreated)
}

// revoke revokes a certificate.
func (h *harness) revoke(number string) {
	h.t.Helper()
	expect(h.t, h.do(req{method: "POST", path: "/v1/certificates/" + number + "/revocation", bearer: h.as(auth.RoleAdmin),
		body: map[string]any{"reason": "Fraude constatée"}}), http.StatusOK)
}

// feedPage reads one page of the feed.
func feedPage(t *testing.T, h *harness, bearer, query string) map[string]any {
	t.Helper()
	return expect(t, h.do(req{method: "GET", path: "/v1/results?" + query, bearer: bearer}), http.StatusOK)
}

// sequences are the sequence numbers of a page's entries.
func sequences(page map[string]any) []int {
	var out []int
	for _, e := range items(page) {
		out = append(out, int(e["sequence"].(float64)))
	}
	return out
}

func cursorAt(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprint(n))) }

// feedWorld is what the feed tests publish: an award at Montpellier, a partial
// validation at Vauquelin corrected into a refusal, a refusal without a site, and
// the award's certificate revoked.
type feedWorld struct {
	award, partial, refusal, correction map[string]any
	correctedAt, revokedAt              time.Time
}

func publishFeedWorld(h *harness, clock *testClock) feedWorld {
	var w feedWorld
	w.award = h.awarded("Alice", siteMontpellier, "2019-10-01")
	w.partial = h.partiallyValidated("Bruno", siteVauquelin, "2019-10-02")
	w.refusal = h.refused("Chloé", "", "2019-10-03")
	clock.Advance(time.Minute)
	w.correctedAt = clock.Now()
	w.correction = h.correct(w.partial, []string{})
	clock.Advance(time.Minute)
	w.revokedAt = clock.Now()
	h.revoke(str(w.award, "certificate_number"))
	return w
}

// The feed: every publication, correction and revocation an entry, in the order
// they were made, with what a partner needs and nothing more; resumable from its
// cursor, which is always given; filtered by certification, site and instant.
func TestResultsFeed(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		empty := feedPage(t, h, admin, "")
		if len(items(empty)) != 0 || empty["has_more"] != false || str(empty, "next_cursor") != cursorAt(0) {
			t.Fatalf("an empty feed: %v", empty)
		}
		w := publishFeedWorld(h, clock)
		page := feedPage(t, h, admin, "")
		es := items(page)
		if fmt.Sprint(sequences(page)) != "[1 2 3 4 5 6]" || page["has_more"] != false || str(page, "next_cursor") != cursorAt(6) {
			t.Fatalf("the feed: %v", page)
		}
		var types []string
		for _, e := range es {
			types = append(types, str(e, "type"))
		}
		if fmt.Sprint(types) != "[result_published result_published result_published certificate_revoked result_published certificate_revoked]" {
			t.Fatalf("types %v", types)
		}
		award, partial, refusal, revokedAttestation, correction, revokedCertificate := es[0], es[1], es[2], es[3], es[4], es[5]
		wantKeys := "candidate certificate_number certificate_status certification_code corrects decision_id held_on jury_session_id outcome recorded_at sequence type validated_components"
		for _, e := range es {
			if got := sortedKeys(e); got != wantKeys {
				t.Fatalf("an entry has %s", got)
			}
			if got := sortedKeys(e["candidate"].(map[string]any)); got != "birth_name first_name id route training_site_id usage_name" {
				t.Fatalf("an entry tells partners %s of the candidate", got)
			}
		}
		if str(award, "decision_id") != str(w.award, "id") || str(award, "outcome") != "award" || str(award, "certificate_status") != "valid" ||
			str(award, "certificate_number") != str(w.award, "certificate_number") || str(award, "held_on") != "2019-10-01" ||
			str(award, "jury_session_id") != str(w.award, "jury_session_id") || str(award, "certification_code") != "RNCP26206" ||
			len(award["validated_components"].([]any)) != 4 || award["corrects"] != nil || str(award, "recorded_at") != feedStart {
			t.Errorf("the award: %v", award)
		}
		if c := award["candidate"].(map[string]any); str(c, "id") != str(w.award, "candidate_id") || str(c, "first_name") != "Alice" ||
			str(c, "birth_name") != "Lauréat" || c["usage_name"] != nil || str(c, "training_site_id") != siteMontpellier || str(c, "route") != "continuing_education" {
			t.Errorf("the award's candidate: %v", c)
		}
		if str(partial, "outcome") != "partial" || str(partial, "certificate_status") != "valid" || len(partial["validated_components"].([]any)) != 1 {
			t.Errorf("the partial validation: %v", partial)
		}
		if str(refusal, "outcome") != "refusal" || refusal["certificate_number"] != nil || refusal["certificate_status"] != nil ||
			refusal["candidate"].(map[string]any)["training_site_id"] != nil || str(refusal["candidate"].(map[string]any), "route") != "individual_application" {
			t.Errorf("the refusal: %v", refusal)
		}
		if str(revokedAttestation, "decision_id") != str(w.partial, "id") || str(revokedAttestation, "certificate_status") != "revoked" ||
			str(revokedAttestation, "certificate_number") != str(w.partial, "certificate_number") ||
			str(revokedAttestation, "recorded_at") != w.correctedAt.Format(time.RFC3339) {
			t.Errorf("the correction revokes the attestation: %v", revokedAttestation)
		}
		if str(correction, "decision_id") != str(w.correction, "id") || str(correction, "corrects") != str(w.partial, "id") ||
			str(correction, "outcome") != "refusal" || correction["certificate_number"] != nil {
			t.Errorf("the correction: %v", correction)
		}
		if str(revokedCertificate, "decision_id") != str(w.award, "id") || str(revokedCertificate, "certificate_status") != "revoked" ||
			str(revokedCertificate, "recorded_at") != w.revokedAt.Format(time.RFC3339) {
			t.Errorf("the revocation: %v", revokedCertificate)
		}

		// Pages, and a reader that resumes later.
		first := feedPage(t, h, admin, "limit=4")
		if fmt.Sprint(sequences(first)) != "[1 2 3 4]" || first["has_more"] != true || str(first, "next_cursor") != cursorAt(4) {
			t.Fatalf("first page: %v", first)
		}
		second := feedPage(t, h, admin, "limit=4&cursor="+str(first, "next_cursor"))
		if fmt.Sprint(sequences(second)) != "[5 6]" || second["has_more"] != false || str(second, "next_cursor") != cursorAt(6) {
			t.Fatalf("second page: %v", second)
		}
		caughtUp := feedPage(t, h, admin, "limit=4&cursor="+str(second, "next_cursor"))
		if len(items(caughtUp)) != 0 || caughtUp["has_more"] != false || str(caughtUp, "next_cursor") != cursorAt(6) {
			t.Fatalf("caught up: %v", caughtUp)
		}
		clock.Advance(time.Minute)
		h.refused("Damien", siteMontpellier, "2019-10-04")
		if later := feedPage(t, h, admin, "cursor="+str(caughtUp, "next_cursor")); fmt.Sprint(sequences(later)) != "[7]" {
			t.Fatalf("resumed later: %v", later)
		}

		// Filters.
		for _, c := range []struct{ query, want, next string }{
			{"training_site_id=" + siteVauquelin, "[2 4 5]", cursorAt(7)},
			{"training_site_id=" + siteMontpellier, "[1 6 7]", cursorAt(7)},
			{"training_site_id=" + siteMontpellier + "&limit=2", "[1 6]", cursorAt(6)},
			{"training_site_id=" + sitePierreBayle, "[]", cursorAt(7)},
			{"certification_code=RNCP26206&limit=100", "[1 2 3 4 5 6 7]", cursorAt(7)},
			{"certification_code=RNCP99999", "[]", cursorAt(7)},
			{"updated_since=" + url.QueryEscape(w.correctedAt.Format(time.RFC3339)), "[4 5 6 7]", cursorAt(7)},
			{"updated_since=" + url.QueryEscape(w.revokedAt.Add(time.Second).Format(time.RFC3339)), "[7]", cursorAt(7)},
			{"updated_since=2030-01-01T00:00:00Z", "[]", cursorAt(7)},
			{"updated_since=2019-01-01T00:00:00%2B02:00&cursor=" + cursorAt(5), "[6 7]", cursorAt(7)},
			{"updated_since=" + url.QueryEscape(w.correctedAt.Format(time.RFC3339)) + "&training_site_id=" + siteVauquelin, "[4 5]", cursorAt(7)},
		} {
			p := feedPage(t, h, admin, c.query)
			if got := fmt.Sprint(sequences(p)); got != c.want {
				t.Errorf("%s: %s, want %s", c.query, got, c.want)
			}
			// A filtered page's cursor is bound to its filters (a seal after a dot).
			next, seal, _ := strings.Cut(str(p, "next_cursor"), ".")
			if filtered := strings.Contains(c.query, "_id=") || strings.Contains(c.query, "code="); next != c.next || filtered != (seal != "") {
				t.Errorf("%s: next cursor %s, want %s", c.query, str(p, "next_cursor"), c.next)
			}
		}

		// A cursor is exactly one the feed issued.
		for _, bad := range []string{"!!", "MQ==", "MQ%3D%3D", rawB64("01"), rawB64("-1"), rawB64("1.5"), rawB64(" 1"), rawB64("abc"),
			rawB64("99999999999999999999"), rawB64("00000000-0000-7000-8000-00000000b001"), rawB64("RNCP26206"), "MQ" + "\n",
			cursorAt(8), cursorAt(1 << 40)} {
			res := h.do(req{method: "GET", path: "/v1/results?cursor=" + url.QueryEscape(bad), bearer: admin})
			if p := expect(t, res, http.StatusBadRequest); str(p, "code") != "invalid_request" {
				t.Errorf("cursor %q: %v", bad, p)
			}
		}
	})
}

func rawB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func sortedKeys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// Who reads the feed, the certificates and the statistics: the certifier's staff
// and partners with the scope; a partner bound to a site, its site's only, whatever
// filter it sends.
func TestResultsAccess(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		publishFeedWorld(h, clock)
		valid := h.awarded("Émile", siteVauquelin, "2019-10-05")
		for _, path := range []string{"/v1/results", "/v1/certificates", "/v1/statistics"} {
			for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleDirector} {
				expect(t, h.do(req{method: "GET", path: path, bearer: h.as(role)}), http.StatusOK)
			}
			for _, role := range []auth.Role{auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate} {
				if p := expect(t, h.do(req{method: "GET", path: path, bearer: h.as(role)}), http.StatusForbidden); str(p, "code") != "forbidden" {
					t.Errorf("%s as %s: %v", path, role, p)
				}
			}
			expect(t, h.do(req{method: "GET", path: path}), http.StatusUnauthorized)
		}

		bound := h.partner(siteVauquelin, "results:read", "certificates:read")
		unbound := h.partner("", "results:read", "certificates:read")
		statsOnly := h.partner(siteVauquelin, "statistics:read")
		hooksOnly := h.partner("", "webhooks:manage")

		// The feed.
		if got := sequences(feedPage(t, h, bound, "")); fmt.Sprint(got) != "[2 4 5 7]" {
			t.Errorf("the feed of a partner bound to Vauquelin: %v", got)
		}
		for _, q := range []string{"training_site_id=" + siteMontpellier, "training_site_id=" + siteMontpellier + "&limit=1"} {
			if p := feedPage(t, h, bound, q); len(items(p)) != 0 || !strings.HasPrefix(str(p, "next_cursor"), cursorAt(7)+".") {
				t.Errorf("a partner bound to Vauquelin asks for Montpellier's entries: %v", p)
			}
		}
		if got := sequences(feedPage(t, h, bound, "training_site_id="+siteVauquelin+"&limit=2")); fmt.Sprint(got) != "[2 4]" {
			t.Errorf("its own site, asked for: %v", got)
		}
		if got := sequences(feedPage(t, h, unbound, "limit=100")); fmt.Sprint(got) != "[1 2 3 4 5 6 7]" {
			t.Errorf("the feed of an unbound partner: %v", got)
		}

		// The certificates: Alice's certificate and Bruno's attestation (both
		// revoked), Émile's certificate.
		numbers := func(bearer, query string) string {
			var out []string
			for _, c := range items(expect(t, h.do(req{method: "GET", path: "/v1/certificates?" + query, bearer: bearer}), http.StatusOK)) {
				out = append(out, str(c, "holder_name")+":"+str(c, "status"))
			}
			return fmt.Sprint(out)
		}
		if got := numbers(bound, ""); got != "[Bruno Partiel:revoked Émile Lauréat:valid]" {
			t.Errorf("the certificates of a partner bound to Vauquelin: %s", got)
		}
		if got := numbers(bound, "training_site_id="+siteMontpellier); got != "[]" {
			t.Errorf("a partner bound to Vauquelin asks for Montpellier's certificates: %s", got)
		}
		if got := numbers(unbound, ""); got != "[Alice Lauréat:revoked Bruno Partiel:revoked Émile Lauréat:valid]" {
			t.Errorf("the certificates of an unbound partner: %s", got)
		}
		if str(valid, "certificate_number") == "" {
			t.Fatal("no certificate")
		}

		// The statistics: a bound partner sees its site's rows only.
		stats := func(bearer, query string) []map[string]any {
			return items(expect(t, h.do(req{method: "GET", path: "/v1/statistics?" + query, bearer: bearer}), http.StatusOK))
		}
		for _, b := range []string{bound, statsOnly} {
			rows := stats(b, "")
			if len(rows) == 0 {
				t.Errorf("a partner bound to Vauquelin sees no statistics")
			}
			for _, r := range rows {
				if str(r, "training_site_id") != siteVauquelin {
					t.Errorf("a partner bound to Vauquelin sees %v", r)
				}
			}
			if rows := stats(b, "training_site_id="+siteMontpellier); len(rows) != 0 {
				t.Errorf("a partner bound to Vauquelin asks for Montpellier's statistics: %v", rows)
			}
		}
		sites := map[string]bool{}
		for _, r := range stats(unbound, "") {
			sites[str(r, "training_site_id")] = true
		}
		if !sites[siteMontpellier] || !sites[siteVauquelin] || !sites[""] {
			t.Errorf("an unbound partner's statistics: %v", sites)
		}

		// Scopes: the feed needs results:read, the certificates certificates:read, the
		// statistics results:read or statistics:read.
		for _, c := range []struct {
			bearer, path string
			want         int
		}{
			{statsOnly, "/v1/results", http.StatusForbidden},
			{statsOnly, "/v1/certificates", http.StatusForbidden},
			{hooksOnly, "/v1/results", http.StatusForbidden},
			{hooksOnly, "/v1/certificates", http.StatusForbidden},
			{hooksOnly, "/v1/statistics", http.StatusForbidden},
			{h.partner("", "certificates:read"), "/v1/results", http.StatusForbidden},
			{h.partner("", "certificates:read"), "/v1/statistics", http.StatusForbidden},
			{h.partner("", "results:read"), "/v1/certificates", http.StatusForbidden},
			{h.partner("", "results:read"), "/v1/statistics", http.StatusOK},
		} {
			expect(t, h.do(req{method: "GET", path: c.path, bearer: c.bearer}), c.want)
		}
	})
}

// The certificates issued, oldest first (in the order of the publications that
// issued them), by status and site, in pages.
func TestCertificatesList(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		w := publishFeedWorld(h, clock)
		later := h.awarded("Émile", siteVauquelin, "2019-10-05")
		list := func(query string) map[string]any {
			return expect(t, h.do(req{method: "GET", path: "/v1/certificates?" + query, bearer: admin}), http.StatusOK)
		}
		all := list("")
		want := []string{str(w.award, "certificate_number"), str(w.partial, "certificate_number"), str(later, "certificate_number")}
		var got []string
		for _, c := range items(all) {
			got = append(got, str(c, "number"))
		}
		if !slices.Equal(got, want) || all["next_cursor"] != nil {
			t.Fatalf("certificates %v, want %v (%v)", got, want, all)
		}
		c := items(all)[0]
		if str(c, "kind") != "certificate" || str(c, "status") != "revoked" || str(c, "candidate_id") != str(w.award, "candidate_id") ||
			str(c, "decision_id") != str(w.award, "id") || c["revocation_reason"] != "Fraude constatée" || !strings.HasSuffix(str(c, "verification_url"), str(c, "number")) {
			t.Errorf("the revoked certificate: %v", c)
		}
		if a := items(all)[1]; str(a, "kind") != "attestation" || len(a["components"].([]any)) != 1 {
			t.Errorf("the attestation: %v", a)
		}

		var paged []string
		cursor := ""
		for range 5 {
			p := list("limit=1" + cursor)
			for _, c := range items(p) {
				paged = append(paged, str(c, "number"))
			}
			if p["next_cursor"] == nil {
				break
			}
			cursor = "&cursor=" + str(p, "next_cursor")
		}
		if !slices.Equal(paged, want) {
			t.Errorf("page by page: %v", paged)
		}
		for query, want := range map[string][]string{
			"status=valid":                      {want[2]},
			"status=revoked":                    {want[0], want[1]},
			"training_site_id=" + siteVauquelin: {want[1], want[2]},
			"training_site_id=" + siteVauquelin + "&status=revoked": {want[1]},
			"training_site_id=" + sitePierreBayle:                   nil,
		} {
			var got []string
			for _, c := range items(list(query)) {
				got = append(got, str(c, "number"))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", query, got, want)
			}
		}
		for _, bad := range []string{"abc", rawB64("x"), rawB64("00000000-0000-7000-8000-00000000b001")} {
			expect(t, h.do(req{method: "GET", path: "/v1/certificates?cursor=" + bad, bearer: admin}), http.StatusBadRequest)
		}
	})
}

// Statistics: registrations by year of enrolment, the outcomes of the published
// decisions that still hold by year of session, withdrawals by year of
// withdrawal; per year, certification, route and site, in key order and pages.
func TestStatistics(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		// Registered in 2018 at Montpellier, awarded in 2019.
		early := h.candidate(map[string]any{"first_name": "Ada", "birth_name": "Précoce", "enrolled_on": "2018-05-02"})
		for i, c := range []string{"E1", "E2", "E3"} {
			h.sit(early, c, fmt.Sprintf("2019-09-1%dT09:00:00Z", i+1), 14)
		}
		s := h.session("2019-10-01")
		h.defend(early, s, "2019-10-01T09:00:00Z", 14, 15)
		h.decideIn(s, early, "2019-10-01")
		// Montpellier, 2019: a partial validation corrected into a refusal, and a
		// candidate who withdraws in 2020.
		partial := h.partiallyValidated("Basile", siteMontpellier, "2019-10-02")
		h.correct(partial, []string{})
		gone := h.candidate(map[string]any{"first_name": "Cyril", "birth_name": "Parti"})
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + gone + "/withdrawal", bearer: admin, headers: map[string]string{"If-Match": "*"},
			body: map[string]any{"reason": "Déménagement", "withdrawn_on": "2020-01-02"}}), http.StatusOK)
		// Vauquelin, 2019: a refusal. No site, 2019: an individual application.
		h.refused("Dora", siteVauquelin, "2019-10-03")
		h.candidate(map[string]any{"first_name": "Eva", "birth_name": "Libre", "training_site_id": nil, "route": "individual_application"})

		type row struct {
			year                                               int
			route, site                                        string
			candidates, awards, partial, refusals, withdrawals int
			rate                                               any
		}
		rows := func(query string) (out []row, next any) {
			p := expect(t, h.do(req{method: "GET", path: "/v1/statistics?" + query, bearer: admin}), http.StatusOK)
			for _, r := range items(p) {
				if str(r, "certification_code") != "RNCP26206" {
					t.Errorf("row %v", r)
				}
				out = append(out, row{int(r["year"].(float64)), str(r, "route"), str(r, "training_site_id"), int(r["candidates"].(float64)),
					int(r["awards"].(float64)), int(r["partial_validations"].(float64)), int(r["refusals"].(float64)),
					int(r["withdrawals"].(float64)), r["success_rate"]})
			}
			return out, p["next_cursor"]
		}
		want := []row{
			{2018, "continuing_education", siteMontpellier, 1, 0, 0, 0, 0, nil},
			{2019, "continuing_education", siteVauquelin, 1, 0, 0, 1, 0, 0.0},
			{2019, "continuing_education", siteMontpellier, 2, 1, 0, 1, 0, 0.5},
			{2019, "individual_application", "", 1, 0, 0, 0, 0, nil},
			{2020, "continuing_education", siteMontpellier, 0, 0, 0, 0, 1, nil},
		}
		all, next := rows("")
		if fmt.Sprint(all) != fmt.Sprint(want) || next != nil {
			t.Fatalf("statistics:\n%v\nwant\n%v", all, want)
		}
		var paged []row
		cursor := ""
		for range 5 {
			got, next := rows("limit=2" + cursor)
			paged = append(paged, got...)
			if next == nil {
				break
			}
			cursor = "&cursor=" + url.QueryEscape(next.(string))
		}
		if fmt.Sprint(paged) != fmt.Sprint(want) {
			t.Errorf("page by page: %v", paged)
		}
		for query, want := range map[string][]row{
			"year=2019":                           want[1:4],
			"year=2021":                           nil,
			"route=individual_application":        want[3:4],
			"training_site_id=" + siteMontpellier: {want[0], want[2], want[4]},
			"certification_code=RNCP26206&year=2018&route=continuing_education&training_site_id=" + siteMontpellier: want[0:1],
			"certification_code=RNCP99999": nil,
		} {
			if got, _ := rows(query); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", query, got, want)
			}
		}
		for _, bad := range []string{"abc", rawB64("2019|RNCP26206|continuing_education"), rawB64("2019|RNCP26206|continuing_education|x"),
			rawB64("1899|RNCP26206|continuing_education|"), cursorAt(3)} {
			expect(t, h.do(req{method: "GET", path: "/v1/statistics?cursor=" + bad, bearer: admin}), http.StatusBadRequest)
		}
	})
}

// No entry is ever skipped: while transactions that publish and revoke commit
// concurrently, a reader that pages the feed from its cursor sees every entry, once,
// in order, without a gap.
func TestResultsFeedNeverSkipsAnEntry(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, testdb.Open(t, d), time.Now)
			feedNeverSkips(t, h, d)
		})
	}
}

func feedNeverSkips(t *testing.T, h *harness, d store.Dialect) {
	admin := h.as(auth.RoleAdmin)
	const sessions, revocations = 24, 8
	// Attestations to revoke, published beforehand.
	var attestations []string
	for i := range revocations {
		attestations = append(attestations, str(h.partiallyValidated(fmt.Sprintf("Révoqué%d", i), siteVauquelin, "2019-10-01"), "certificate_number"))
	}
	// Sessions with a draft decision each, to close at once.
	var open []string
	for i := range sessions {
		s := h.session("2019-10-02")
		cand := h.candidate(map[string]any{"first_name": fmt.Sprintf("Concurrent%d", i), "birth_name": "Lecteur"})
		expect(t, decide(h, admin, s, cand, nil), http.StatusCreated)
		open = append(open, s)
	}
	before := len(items(feedPage(t, h, admin, "limit=100")))

	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		seen    []int
		pages   int
		readErr string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		cursor := ""
		finished := false
		for {
			select {
			case <-done:
				finished = true
			default:
			}
			res := h.do(req{method: "GET", path: "/v1/results?limit=3" + cursor, bearer: admin})
			if res.code != http.StatusOK {
				readErr = fmt.Sprintf("%d %s", res.code, res.raw)
				return
			}
			p := res.json(t)
			seen = append(seen, sequences(p)...)
			pages++
			cursor = "&cursor=" + str(p, "next_cursor")
			// Once every writer is done, one read that finds nothing more ends it.
			if finished && p["has_more"] == false {
				return
			}
		}
	}()
	codes := concurrently(sessions+revocations, func(i int) response {
		if i < sessions {
			return closeSession(h, admin, open[i], "2019-10-02")
		}
		return h.do(req{method: "POST", path: "/v1/certificates/" + attestations[i-sessions] + "/revocation", bearer: admin,
			body: map[string]any{"reason": "Révocation concurrente"}})
	})
	close(done)
	wg.Wait()
	if readErr != "" {
		t.Fatalf("the reader: %s", readErr)
	}
	if count(codes, http.StatusOK) != len(codes) {
		t.Fatalf("writers: %v", codes)
	}
	total := before + sessions + revocations
	for i, q := range seen {
		if q != i+1 {
			t.Fatalf("%s: the reader saw %v (%d pages): entry %d where %d was due", d, seen, pages, q, i+1)
		}
	}
	if len(seen) != total {
		t.Fatalf("%s: the reader saw %d entries of %d", d, len(seen), total)
	}
	t.Logf("%s: %d entries read in order in %d pages while %d transactions committed", d, total, pages, sessions+revocations)
}

// A database that had published decisions before the feed existed gets their
// entries from the migration that adds the feed, as the service would have
// written them: rolled back past it and migrated again, the feed is the same.
func TestFeedMigrationRecordsWhatWasPublished(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		publishFeedWorld(h, clock)
		s := h.session("2019-10-07")
		for _, first := range []string{"Zoé", "Yann", "Xavier"} {
			expect(t, decide(h, admin, s, h.candidate(map[string]any{"first_name": first, "birth_name": "Historique"}), nil), http.StatusCreated)
		}
		expect(t, closeSession(h, admin, s, "2019-10-07"), http.StatusOK)
		before := feedPage(t, h, admin, "limit=100")
		if len(items(before)) != 9 {
			t.Fatalf("the feed: %v", before)
		}
		ctx := t.Context()
		for {
			st, err := h.store.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			applied := int64(0)
			for _, m := range st {
				if m.Applied {
					applied = m.Version
				}
			}
			if applied < 10 {
				break
			}
			if _, err := h.store.MigrateDown(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.store.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		after := feedPage(t, h, admin, "limit=100")
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("the feed migrated again:\n%v\nwas\n%v", after, before)
		}
		// And the feed goes on from there.
		h.refused("Walter", siteMontpellier, "2019-10-08")
		if got := sequences(feedPage(t, h, admin, "cursor="+cursorAt(9))); fmt.Sprint(got) != "[10]" {
			t.Fatalf("after the migration: %v", got)
		}
	})
}
