package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
)

const periodsPath = "/v1/certifications/RNCP26206/registration-periods"

// correctPeriod sends a merge patch of a registration period.
func correctPeriod(h *harness, bearer, id, ifMatch, patch string) response {
	r := req{method: "PATCH", path: periodsPath + "/" + id, bearer: bearer, contentType: "application/merge-patch+json", body: patch}
	if ifMatch != "" {
		r.headers = map[string]string{"If-Match": ifMatch}
	}
	return h.do(r)
}

// The periods of a certification are read by every role x-roles lists, page by
// page in the order they were recorded, each with its ETag; a partner application
// reads none of them.
func TestRegistrationPeriodsRead(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		for _, role := range roles {
			list := expect(t, h.do(req{method: "GET", path: periodsPath, bearer: h.as(role)}), http.StatusOK)
			if it := items(list); len(it) != 2 || str(it[0], "id") != periodFirst || str(it[1], "id") != periodSecond || list["next_cursor"] != nil {
				t.Fatalf("as %s: %v", role, list)
			}
			res := h.do(req{method: "GET", path: periodsPath + "/" + periodSecond, bearer: h.as(role)})
			p := expect(t, res, http.StatusOK)
			if res.hdr.Get("ETag") != `"1"` || str(p, "certification_code") != "RNCP26206" || p["version"] != 1.0 ||
				str(p, "effective_from") != "2019-01-04" || str(p, "effective_until") != "2020-01-04" || str(p, "updated_at") != str(p, "created_at") {
				t.Fatalf("as %s: %s %v", role, res.hdr.Get("ETag"), p)
			}
		}
		partner := h.partner(siteMontpellier, "results:read")
		expect(t, h.do(req{method: "GET", path: periodsPath, bearer: partner}), http.StatusForbidden)
		expect(t, h.do(req{method: "GET", path: periodsPath + "/" + periodFirst, bearer: partner}), http.StatusForbidden)

		admin := h.as(auth.RoleAdmin)
		first := expect(t, h.do(req{method: "GET", path: periodsPath + "?limit=1", bearer: admin}), http.StatusOK)
		next, _ := first["next_cursor"].(string)
		if it := items(first); len(it) != 1 || str(it[0], "id") != periodFirst || next == "" {
			t.Fatalf("first page: %v", first)
		}
		second := expect(t, h.do(req{method: "GET", path: periodsPath + "?limit=1&cursor=" + next, bearer: admin}), http.StatusOK)
		if it := items(second); len(it) != 1 || str(it[0], "id") != periodSecond || second["next_cursor"] != nil {
			t.Fatalf("second page: %v", second)
		}
		bad := expect(t, h.do(req{method: "GET", path: periodsPath + "?cursor=not-a-cursor", bearer: admin}), http.StatusBadRequest)
		if fmt.Sprint(violations(t, bad)) != "[/cursor]" {
			t.Fatalf("a malformed cursor: %v", bad)
		}

		notMod := h.do(req{method: "GET", path: periodsPath + "/" + periodFirst, bearer: admin, headers: map[string]string{"If-None-Match": `"1"`}})
		if notMod.code != http.StatusNotModified || notMod.hdr.Get("ETag") != `"1"` || len(notMod.raw) != 0 {
			t.Fatalf("If-None-Match: %d %v %s", notMod.code, notMod.hdr, notMod.raw)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP99999/registration-periods", bearer: admin}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP99999/registration-periods/" + periodFirst, bearer: admin}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: periodsPath + "/01900000-0000-7000-8000-000000000000", bearer: admin}), http.StatusNotFound)
	})
}

// A recorded period is a resource of its own: its Location and ETag.
func TestRecordRegistrationPeriodAnswersTheResource(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		res := h.do(req{method: "POST", path: periodsPath, bearer: admin,
			body: map[string]any{"legal_act": "  Arrêté du 9 décembre 2026  ", "effective_from": "2026-12-09", "effective_until": "2031-12-09"}})
		p := expect(t, res, http.StatusCreated)
		id := str(p, "id")
		if res.hdr.Get("Location") != periodsPath+"/"+id || res.hdr.Get("ETag") != `"1"` || p["version"] != 1.0 ||
			str(p, "legal_act") != "Arrêté du 9 décembre 2026" || str(p, "certification_code") != "RNCP26206" {
			t.Fatalf("recorded: %v %v", res.hdr, p)
		}
		got := expect(t, h.do(req{method: "GET", path: res.hdr.Get("Location"), bearer: h.as(auth.RoleCandidate)}), http.StatusOK)
		if fmt.Sprint(got) != fmt.Sprint(p) {
			t.Fatalf("read back: %v, recorded %v", got, p)
		}
		list := expect(t, h.do(req{method: "GET", path: periodsPath, bearer: admin}), http.StatusOK)
		if it := items(list); len(it) != 3 || str(it[2], "id") != id {
			t.Fatalf("the list after a renewal: %v", list)
		}
	})
}

// An administrator corrects a recorded period with a merge patch under If-Match:
// the rules of a new period apply to the corrected one, the change is audited
// before and after, and the certification's referential shows it at once.
func TestCorrectRegistrationPeriod(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		for _, role := range []auth.Role{auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate} {
			expect(t, correctPeriod(h, h.as(role), periodSecond, `"1"`, `{"legal_act":"x"}`), http.StatusForbidden)
		}
		expect(t, correctPeriod(h, h.partner(siteMontpellier, "results:read"), periodSecond, `"1"`, `{"legal_act":"x"}`), http.StatusForbidden)
		expect(t, correctPeriod(h, "", periodSecond, `"1"`, `{"legal_act":"x"}`), http.StatusUnauthorized)

		p := expect(t, correctPeriod(h, admin, periodSecond, "", `{"legal_act":"x"}`), http.StatusPreconditionRequired)
		if str(p, "code") != "precondition_required" {
			t.Fatalf("without If-Match: %v", p)
		}
		p = expect(t, correctPeriod(h, admin, periodSecond, `"2"`, `{"legal_act":"x"}`), http.StatusPreconditionFailed)
		if str(p, "code") != "stale_etag" {
			t.Fatalf("a stale If-Match: %v", p)
		}
		for _, patch := range []string{`{}`, `{"legal_act":null}`, `{"legal_act":"  "}`, `{"effective_from":"2019-13-01"}`, `{"version":5}`} {
			p = expect(t, correctPeriod(h, admin, periodSecond, `"1"`, patch), http.StatusBadRequest)
			if str(p, "code") != "invalid_request" {
				t.Fatalf("%s: %v", patch, p)
			}
		}
		expect(t, correctPeriod(h, admin, "01900000-0000-7000-8000-000000000000", `"1"`, `{"legal_act":"x"}`), http.StatusNotFound)
		expect(t, h.do(req{method: "PATCH", path: "/v1/certifications/RNCP99999/registration-periods/" + periodSecond, bearer: admin,
			contentType: "application/merge-patch+json", body: `{"legal_act":"x"}`, headers: map[string]string{"If-Match": `"1"`}}), http.StatusNotFound)

		// The rules of a period: it ends after it begins, and no two periods of the
		// certification have the same dates (the first period runs 2013-01-29 to
		// 2019-06-07). Nothing changes when they are broken.
		p = expect(t, correctPeriod(h, admin, periodSecond, `"1"`, `{"effective_from":"2020-01-05"}`), http.StatusUnprocessableEntity)
		if str(p, "code") != "invalid_value" || fmt.Sprint(violations(t, p)) != "[/effective_until]" {
			t.Fatalf("ending before it begins: %v", p)
		}
		p = expect(t, correctPeriod(h, admin, periodSecond, `"1"`, `{"effective_from":"2013-01-29","effective_until":"2019-06-07"}`), http.StatusConflict)
		if str(p, "code") != "duplicate_period" || str(p, "existing_id") != periodFirst {
			t.Fatalf("onto the first period's dates: %v", p)
		}

		// A correction, then another one based on it.
		cert := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: admin})
		expect(t, cert, http.StatusOK)
		res := correctPeriod(h, admin, periodSecond, `"1"`, `{"legal_act":"Arrêté du 27 décembre 2018 publié au JO du 4 janvier 2019 : un an"}`)
		p = expect(t, res, http.StatusOK)
		if res.hdr.Get("ETag") != `"2"` || p["version"] != 2.0 || str(p, "effective_until") != "2020-01-04" {
			t.Fatalf("corrected: %v %v", res.hdr, p)
		}
		today := time.Now().UTC()
		until := today.AddDate(1, 0, 0).Format(time.DateOnly)
		res = correctPeriod(h, admin, periodSecond, "*", `{"effective_until":"`+until+`"}`)
		p = expect(t, res, http.StatusOK)
		if res.hdr.Get("ETag") != `"3"` || str(p, "effective_from") != "2019-01-04" || str(p, "effective_until") != until ||
			str(p, "legal_act") != "Arrêté du 27 décembre 2018 publié au JO du 4 janvier 2019 : un an" {
			t.Fatalf("corrected again: %v %v", res.hdr, p)
		}
		got := expect(t, h.do(req{method: "GET", path: periodsPath + "/" + periodSecond, bearer: h.as(auth.RoleCandidate)}), http.StatusOK)
		if fmt.Sprint(got) != fmt.Sprint(p) {
			t.Fatalf("read back: %v, corrected %v", got, p)
		}

		// Readers of the referential see the corrected period, under a new ETag,
		// and it is now the one in force.
		after := h.do(req{method: "GET", path: "/v1/certifications/RNCP26206", bearer: admin, headers: map[string]string{"If-None-Match": cert.hdr.Get("ETag")}})
		c := expect(t, after, http.StatusOK)
		current, _ := c["current_registration_period"].(map[string]any)
		if after.hdr.Get("ETag") == cert.hdr.Get("ETag") || current == nil || str(current, "id") != periodSecond || current["version"] != 3.0 {
			t.Fatalf("the referential after the corrections: %s %v", after.hdr.Get("ETag"), current)
		}

		// A candidate may now enrol today: REGISTRATION-PERIOD reads the corrected period.
		expect(t, h.do(req{method: "POST", path: "/v1/candidates", bearer: admin,
			body: candidateBody(map[string]any{"enrolled_on": today.Format(time.DateOnly)})}), http.StatusCreated)

		events := expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=registration_period&resource_id=" + periodSecond, bearer: admin}), http.StatusOK)
		it := items(events)
		if len(it) != 2 || str(it[0], "action") != "update" || str(it[1], "action") != "update" {
			t.Fatalf("audit: %v", events)
		}
		first := it[0]["changes"].(map[string]any)
		before, was := first["before"].(map[string]any), first["after"].(map[string]any)
		if len(before) != 1 || str(before, "legal_act") != "Arrêté du 27 décembre 2018 publié au Journal Officiel du 4 janvier 2019 : enregistrement pour un an" ||
			str(was, "legal_act") != "Arrêté du 27 décembre 2018 publié au JO du 4 janvier 2019 : un an" {
			t.Fatalf("the first correction's audit: %v", first)
		}
		second := it[1]["changes"].(map[string]any)
		if fmt.Sprint(second["before"]) != "map[effective_until:2020-01-04]" || fmt.Sprint(second["after"]) != "map[effective_until:"+until+"]" {
			t.Fatalf("the second correction's audit: %v", second)
		}
	})
}

// The rules catalogue pages like every list, in the catalogue's order, keyed by
// rule id.
func TestRulesPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		all := items(expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP26206/rules?limit=100", bearer: admin}), http.StatusOK))
		var paged []map[string]any
		path := "/v1/certifications/RNCP26206/rules?limit=7"
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatal("the pages never end")
			}
			page := expect(t, h.do(req{method: "GET", path: path, bearer: h.as(auth.RoleJuryMember)}), http.StatusOK)
			if len(items(page)) > 7 {
				t.Fatalf("a page of %d rules, limit 7", len(items(page)))
			}
			paged = append(paged, items(page)...)
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/v1/certifications/RNCP26206/rules?limit=7&cursor=" + next
		}
		if len(all) != 20 || fmt.Sprint(paged) != fmt.Sprint(all) || str(all[0], "id") != "ROUTE-OPEN" {
			t.Fatalf("paged %d rules, %d in one page", len(paged), len(all))
		}
		// A cursor of the right shape that names no rule was not issued here.
		bad := expect(t, h.do(req{method: "GET", path: "/v1/certifications/RNCP26206/rules?cursor=Tk8tU1VDSC1SVUxF", bearer: admin}), http.StatusBadRequest)
		if str(bad, "code") != "invalid_request" || fmt.Sprint(violations(t, bad)) != "[/cursor]" {
			t.Fatalf("a cursor naming no rule: %v", bad)
		}
	})
}

// pages follows a list's cursors from path (which has a query) and returns every
// item of every page, checking that no page is longer than limit.
func pages(t *testing.T, h *harness, bearer, path string, limit int) [][]map[string]any {
	t.Helper()
	var out [][]map[string]any
	cursor := ""
	for len(out) < 100 {
		page := expect(t, h.do(req{method: "GET", path: fmt.Sprintf("%s&limit=%d%s", path, limit, cursor), bearer: bearer}), http.StatusOK)
		if len(items(page)) > limit {
			t.Fatalf("%s: a page of %d items, limit %d", path, len(items(page)), limit)
		}
		out = append(out, items(page))
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = "&cursor=" + next
	}
	t.Fatalf("%s: the pages never end", path)
	return nil
}

// A candidate's certificates page by the decision that issued each, in the order
// the decisions were made.
func TestCandidateCertificatesPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		h.sit(cand, "E1", "2019-09-02T09:00:00Z", 12)
		first := h.deliberate(cand, "2019-10-01")
		h.sit(cand, "E2", "2019-10-02T09:00:00Z", 13)
		second := h.deliberate(cand, "2019-10-15")
		path := "/v1/candidates/" + cand + "/certificates?"
		got := pages(t, h, admin, path, 1)
		if len(got) != 2 || len(got[0]) != 1 || len(got[1]) != 1 ||
			str(got[0][0], "decision_id") != str(first, "id") || str(got[0][0], "number") != str(first, "certificate_number") ||
			str(got[1][0], "decision_id") != str(second, "id") || len(got[1][0]["components"].([]any)) != 2 {
			t.Fatalf("pages of one: %v", got)
		}
		whole := pages(t, h, admin, path, 100)
		if len(whole) != 1 || fmt.Sprint(whole[0]) != fmt.Sprint(append(got[0], got[1]...)) {
			t.Fatalf("one page of all: %v", whole)
		}
		bad := expect(t, h.do(req{method: "GET", path: path + "cursor=x", bearer: admin}), http.StatusBadRequest)
		if fmt.Sprint(violations(t, bad)) != "[/cursor]" {
			t.Fatalf("a malformed cursor: %v", bad)
		}
	})
}

// A session's deliberation sheet pages by candidate id, and computes the proposals
// of the page's candidates only.
func TestSessionCandidatesPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		session := h.session("2019-10-01")
		var cands []string
		for i, name := range []string{"Alix", "Basile", "Chloé"} {
			c := h.candidate(map[string]any{"first_name": name})
			h.sit(c, "E1", fmt.Sprintf("2019-09-0%dT09:00:00Z", i+2), 12)
			expect(t, decide(h, admin, session, c, nil), http.StatusCreated)
			cands = append(cands, c)
		}
		slices.Sort(cands)
		path := "/v1/jury-sessions/" + session + "/candidates?"
		got := pages(t, h, h.as(auth.RoleJuryMember), path, 2)
		if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 {
			t.Fatalf("pages of two: %v", got)
		}
		var ids []string
		for _, page := range got {
			for _, it := range page {
				if it["decision"] == nil || str(it["proposal"].(map[string]any), "outcome") != "partial" {
					t.Fatalf("a line of the sheet: %v", it)
				}
				ids = append(ids, str(it, "candidate_id"))
			}
		}
		if fmt.Sprint(ids) != fmt.Sprint(cands) {
			t.Fatalf("the sheet by candidate id: %v, want %v", ids, cands)
		}
		whole := pages(t, h, admin, path, 100)
		if len(whole) != 1 || fmt.Sprint(whole[0]) != fmt.Sprint(append(got[0], got[1]...)) {
			t.Fatalf("one page of all: %v", whole)
		}
	})
}
