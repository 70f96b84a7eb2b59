package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
)

func schedule(h *harness, bearer, candidate, component, site, at string) response {
	return h.do(req{method: "POST", path: "/v1/evaluations", bearer: bearer, body: map[string]any{
		"candidate_id": candidate, "component": component, "training_site_id": site, "scheduled_at": at}})
}

// recordResult records a result whatever the sitting's version (If-Match: *).
func recordResult(h *harness, bearer, id string, body any) response {
	return h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result", bearer: bearer, body: body, headers: map[string]string{"If-Match": "*"}})
}

func transcript(t *testing.T, h *harness, bearer, candidate, asOf string) map[string]any {
	t.Helper()
	return expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + candidate + "/transcript?as_of=" + asOf, bearer: bearer}), http.StatusOK)
}

func standing(tr map[string]any, component string) map[string]any {
	for _, c := range tr["components"].([]any) {
		if m := c.(map[string]any); m["component"] == component {
			return m
		}
	}
	return nil
}

func TestEvaluationLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		res := schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-02T09:00:00Z")
		e := expect(t, res, http.StatusCreated)
		id := str(e, "id")
		if str(e, "status") != "scheduled" || e["result"] != nil || res.hdr.Get("Location") != "/v1/evaluations/"+id {
			t.Fatalf("scheduled: %v", e)
		}
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: admin}), http.StatusOK)
		if str(c, "status") != "in_assessment" {
			t.Fatalf("candidate status after a sitting is scheduled: %v", c["status"])
		}

		e = expect(t, recordResult(h, admin, id, map[string]any{"grade": 12.5}), http.StatusOK)
		r := e["result"].(map[string]any)
		if str(e, "status") != "graded" || r["grade"] != 12.5 || r["passed"] != true || r["corrected"] != false {
			t.Fatalf("graded: %v", e)
		}
		p := expect(t, recordResult(h, admin, id, map[string]any{"grade": 15}), http.StatusConflict)
		if str(p, "code") != "result_already_recorded" {
			t.Fatalf("second result: %v", p)
		}
		// A correction is its own act, with a reason, by admin or director.
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result-correction", bearer: h.as(auth.RoleSiteStaff),
			headers: map[string]string{"If-Match": `"2"`}, body: map[string]any{"grade": 9, "reason": "x"}}), http.StatusForbidden)
		e = expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result-correction", bearer: h.as(auth.RoleDirector),
			headers: map[string]string{"If-Match": `"2"`}, body: map[string]any{"grade": 9, "reason": "transcription error"}}), http.StatusOK)
		r = e["result"].(map[string]any)
		if r["grade"] != 9.0 || r["passed"] != false || r["corrected"] != true {
			t.Fatalf("corrected: %v", e)
		}
		events := expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=evaluation&resource_id=" + id, bearer: admin}), http.StatusOK)
		var actions []string
		for _, ev := range items(events) {
			actions = append(actions, str(ev, "action"))
		}
		last := items(events)[len(items(events))-1]["changes"].(map[string]any)
		if fmt.Sprint(actions) != "[schedule record_result correct_result]" || last["reason"] != "transcription error" ||
			last["before"].(map[string]any)["grade"] != 12.5 || last["after"].(map[string]any)["grade"] != 9.0 {
			t.Fatalf("audit: %v %v", actions, last)
		}
		// A validated result is not corrected.
		e2 := expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-09-03T09:00:00Z"), http.StatusCreated)
		expect(t, recordResult(h, admin, str(e2, "id"), map[string]any{"grade": 14}), http.StatusOK)
		h.deliberate(cand, "2019-10-01", "E2")
		p = expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + str(e2, "id") + "/result-correction", bearer: admin,
			headers: map[string]string{"If-Match": `"3"`}, body: map[string]any{"grade": 9, "reason": "late"}}), http.StatusConflict)
		if str(p, "code") != "result_validated" {
			t.Fatalf("correcting a validated result: %v", p)
		}
	})
}

// SITE-CERTIFICATION, COMPONENTS and GRADING each show their 422.
func TestEvaluationRules422(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		p := expect(t, schedule(h, admin, cand, "E1", siteMontpellier, "2019-09-02T09:00:00Z"), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[SITE-CERTIFICATION /training_site_id]" || !strings.Contains(fmt.Sprint(p["violations"]), "not an active certification site") {
			t.Fatalf("SITE-CERTIFICATION: %v", p)
		}
		p = expect(t, schedule(h, admin, cand, "E5", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[COMPONENTS /component]" {
			t.Fatalf("COMPONENTS: %v", p)
		}
		p = expect(t, schedule(h, admin, cand, "E9", siteVauquelin, "2019-01-01T09:00:00Z"), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[COMPONENTS /component SITE-CERTIFICATION /training_site_id /scheduled_at]" {
			t.Fatalf("three at once: %v", violations(t, p))
		}

		session := h.session("2019-09-02")
		e4 := str(expect(t, defence(h, admin, cand, session, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		e1 := str(expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-02T14:00:00Z"), http.StatusCreated), "id")
		cases := []struct {
			id, name string
			body     map[string]any
			want     string
		}{
			{e4, "E4 with one grade for the whole", map[string]any{"grade": 12}, "[GRADING /grade GRADING /dossier_grade GRADING /defence_grade]"},
			{e4, "E4 part above the scale", map[string]any{"dossier_grade": 21, "defence_grade": 12}, "[GRADING /dossier_grade]"},
			{e1, "E1 above the scale", map[string]any{"grade": 20.5}, "[GRADING /grade]"},
			{e1, "E1 given parts", map[string]any{"dossier_grade": 12, "defence_grade": 14}, "[GRADING /grade GRADING /grade]"},
			{e1, "finer than the hundredth", map[string]any{"grade": 9.995}, "[GRADING /grade]"},
		}
		for _, c := range cases {
			p := expect(t, recordResult(h, admin, c.id, c.body), http.StatusUnprocessableEntity)
			if got := fmt.Sprint(violations(t, p)); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		e := expect(t, recordResult(h, admin, e4, map[string]any{"dossier_grade": 9.99, "defence_grade": 10}), http.StatusOK)
		if r := e["result"].(map[string]any); r["grade"] != 9.99 || r["passed"] != false {
			t.Fatalf("a mean just below the pass mark: %v", r)
		}
		e4 = str(expect(t, defence(h, admin, h.candidate(map[string]any{"first_name": "Second"}), session, "2019-09-02T10:00:00Z"), http.StatusCreated), "id")
		e = expect(t, recordResult(h, admin, e4, map[string]any{"dossier_grade": 9, "defence_grade": 12}), http.StatusOK)
		r := e["result"].(map[string]any)
		if r["grade"] != 10.5 || r["dossier_grade"] != 9.0 || r["defence_grade"] != 12.0 || r["passed"] != true {
			t.Fatalf("E4 combined: %v", r)
		}
		e = expect(t, recordResult(h, admin, e1, map[string]any{"grade": 10}), http.StatusOK)
		if e["result"].(map[string]any)["passed"] != true {
			t.Fatalf("exactly the pass mark: %v", e["result"])
		}
		expect(t, recordResult(h, admin, e1, map[string]any{"grade": -1}), http.StatusBadRequest)
	})
}

func TestRetakesAndConflicts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		e1 := str(expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		p := expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-09T09:00:00Z"), http.StatusConflict)
		if str(p, "code") != "component_already_scheduled" {
			t.Fatalf("twice: %v", p)
		}
		p = expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + e1 + "/result-correction", bearer: admin,
			headers: map[string]string{"If-Match": `"1"`}, body: map[string]any{"grade": 13, "reason": "x"}}), http.StatusConflict)
		if str(p, "code") != "no_result" {
			t.Fatalf("correcting nothing: %v", p)
		}
		expect(t, recordResult(h, admin, e1, map[string]any{"grade": 13}), http.StatusOK)
		p = expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-09T09:00:00Z"), http.StatusConflict)
		if str(p, "code") != "component_awaiting_validation" {
			t.Fatalf("awaiting validation: %v", p)
		}
		h.deliberate(cand, "2019-10-01")
		p = expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2020-01-06T09:00:00Z"), http.StatusConflict)
		if str(p, "code") != "component_acquired" || !strings.Contains(str(p, "detail"), "2024-10-01") {
			t.Fatalf("acquired: %v", p)
		}
		// Once expired, it is taken again: on the fifth anniversary it is still held.
		expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2024-10-01T09:00:00Z"), http.StatusConflict)
		expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2024-10-02T09:00:00Z"), http.StatusCreated)
		// A failed component is taken again.
		e2 := str(expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		expect(t, recordResult(h, admin, e2, map[string]any{"grade": 7}), http.StatusOK)
		expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-11-02T09:00:00Z"), http.StatusCreated)
		// An absence too.
		e3 := str(expect(t, schedule(h, admin, cand, "E3", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		e := expect(t, recordResult(h, admin, e3, map[string]any{"absent": true}), http.StatusOK)
		if str(e, "status") != "absent" || e["result"].(map[string]any)["absent"] != true {
			t.Fatalf("absent: %v", e)
		}
		expect(t, schedule(h, admin, cand, "E3", sitePierreBayle, "2019-11-02T09:00:00Z"), http.StatusCreated)
		// Not held yet; cancelled; withdrawn.
		future := str(expect(t, defence(h, admin, cand, h.session("2099-01-01"), "2099-01-01T09:00:00Z"), http.StatusCreated), "id")
		if p := expect(t, recordResult(h, admin, future, map[string]any{"grade": 12}), http.StatusConflict); str(p, "code") != "evaluation_not_held" {
			t.Fatalf("not held: %v", p)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + future + "/cancellation", bearer: admin,
			headers: map[string]string{"If-Match": `"1"`}, body: map[string]any{"reason": "postponed"}}), http.StatusOK)
		if p := expect(t, recordResult(h, admin, future, map[string]any{"grade": 12}), http.StatusConflict); str(p, "code") != "evaluation_cancelled" {
			t.Fatalf("cancelled: %v", p)
		}
		gone := h.candidate(map[string]any{"first_name": "Gone"})
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + gone, bearer: admin}), http.StatusOK)
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + gone + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, c["version"])}, body: map[string]any{"reason": "x", "withdrawn_on": "2019-07-01"}}), http.StatusOK)
		if p := expect(t, schedule(h, admin, gone, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "[WITHDRAWAL /candidate_id]" {
			t.Fatalf("withdrawn: %v", p)
		}
		expect(t, schedule(h, admin, "01900000-0000-7000-8000-000000000000", "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusUnprocessableEntity)
	})
}

func TestRescheduleAndCancel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		id := str(expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		move := func(etag, body string) response {
			return h.do(req{method: "PATCH", path: "/v1/evaluations/" + id, bearer: admin, contentType: "application/merge-patch+json",
				headers: map[string]string{"If-Match": etag}, body: body})
		}
		e := expect(t, move(`"1"`, `{"scheduled_at":"2019-09-16T13:30:00Z"}`), http.StatusOK)
		if str(e, "scheduled_at") != "2019-09-16T13:30:00Z" || str(e, "training_site_id") != sitePierreBayle {
			t.Fatalf("moved: %v", e)
		}
		p := expect(t, move(`"2"`, `{"training_site_id":"`+siteMontpellier+`"}`), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[SITE-CERTIFICATION /training_site_id]" {
			t.Fatalf("to a preparation site: %v", p)
		}
		expect(t, move(`"1"`, `{"scheduled_at":"2019-09-20T09:00:00Z"}`), http.StatusPreconditionFailed)
		// A change needs If-Match: without it, 428; the result endpoint too.
		p428 := expect(t, h.do(req{method: "PATCH", path: "/v1/evaluations/" + id, bearer: admin, contentType: "application/merge-patch+json",
			body: `{"scheduled_at":"2019-09-20T09:00:00Z"}`}), http.StatusPreconditionRequired)
		if str(p428, "code") != "precondition_required" {
			t.Fatalf("no If-Match: %v", p428)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result", bearer: admin, body: map[string]any{"grade": 12}}), http.StatusPreconditionRequired)
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result", bearer: admin, body: map[string]any{"grade": 12},
			headers: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		// Conditional writes compare exactly: no version is -1 or 0; * matches any.
		for _, etag := range []string{`"-1"`, `"0"`, `"2 "`, `x`, `"1", "2"`} {
			expect(t, move(etag, `{"scheduled_at":"2019-09-20T09:00:00Z"}`), http.StatusPreconditionFailed)
		}
		if e := expect(t, move(`*`, `{"scheduled_at":"2019-09-16T13:30:00Z"}`), http.StatusOK); e["version"] != 3.0 {
			t.Fatalf("If-Match: *: %v", e)
		}
		expect(t, move(`W/"3"`, `{"scheduled_at":"2019-09-16T13:30:00Z"}`), http.StatusOK)
		e = expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/cancellation", bearer: admin,
			headers: map[string]string{"If-Match": `"4"`}, body: map[string]any{"reason": "ill"}}), http.StatusOK)
		if str(e, "status") != "cancelled" || str(e, "cancellation_reason") != "ill" || e["cancelled_at"] == nil {
			t.Fatalf("cancelled: %v", e)
		}
		// With no sitting left, the candidate is back to enrolled.
		if c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: admin}), http.StatusOK); str(c, "status") != "enrolled" {
			t.Fatalf("status after the only sitting is cancelled: %v", c["status"])
		}
		p = expect(t, move(`"5"`, `{"scheduled_at":"2019-09-20T09:00:00Z"}`), http.StatusConflict)
		if str(p, "code") != "evaluation_not_scheduled" {
			t.Fatalf("moving a cancelled sitting: %v", p)
		}
		graded := str(expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		expect(t, recordResult(h, admin, graded, map[string]any{"grade": 12}), http.StatusOK)
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + graded + "/cancellation", bearer: admin,
			headers: map[string]string{"If-Match": `"2"`}, body: map[string]any{"reason": "x"}}), http.StatusConflict)

		list := func(q string) int {
			return len(items(expect(t, h.do(req{method: "GET", path: "/v1/evaluations" + q, bearer: admin}), http.StatusOK)))
		}
		for q, want := range map[string]int{"": 2, "?candidate_id=" + cand: 2, "?component=E2": 1, "?status=cancelled": 1, "?status=graded": 1,
			"?training_site_id=" + sitePierreBayle: 2, "?scheduled_from=2019-09-03": 1, "?scheduled_to=2019-09-02": 1, "?scheduled_from=2019-09-17": 0} {
			if got := list(q); got != want {
				t.Errorf("%q: %d, want %d", q, got, want)
			}
		}
	})
}

// Every status of the transcript, its dates, and AWARD, through the API.
func TestTranscript(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		h.as(auth.RoleCandidate)
		cand := h.ownCandidate()
		ids := map[string]string{}
		for comp, grade := range map[string]float64{"E1": 14, "E2": 12, "E3": 6} {
			ids[comp] = str(expect(t, schedule(h, admin, cand, comp, sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
			expect(t, recordResult(h, admin, ids[comp], map[string]any{"grade": grade}), http.StatusOK)
		}
		h.deliberate(cand, "2019-10-01", "E1")

		tr := transcript(t, h, admin, cand, "2019-12-01")
		want := map[string]string{"E1": "acquired", "E2": "graded", "E3": "failed", "E4": "not_taken"}
		for comp, status := range want {
			if s := standing(tr, comp); str(s, "status") != status {
				t.Errorf("%s: %v, want %s", comp, s, status)
			}
		}
		e1 := standing(tr, "E1")
		if str(e1, "acquired_on") != "2019-10-01" || str(e1, "valid_until") != "2024-10-01" || e1["grade"] != 14.0 {
			t.Errorf("E1 dates: %v", e1)
		}
		if tr["awardable"] != false || len(tr["reasons"].([]any)) != 3 || str(tr, "as_of") != "2019-12-01" {
			t.Errorf("award: %v", tr)
		}
		if s := standing(transcript(t, h, admin, cand, "2024-10-01"), "E1"); str(s, "status") != "acquired" {
			t.Errorf("E1 on its fifth anniversary, its last valid day: %v", s)
		}
		if s := standing(transcript(t, h, admin, cand, "2024-10-02"), "E1"); str(s, "status") != "expired" {
			t.Errorf("E1 the day after: %v", s)
		}
		if s := standing(transcript(t, h, admin, cand, "2019-09-01"), "E1"); str(s, "status") != "not_taken" {
			t.Errorf("E1 before its sitting: %v", s)
		}

		// The candidate sees the results the jury deliberated on (E2 passed but was not
		// validated, E3 failed), and no grade of a result it has not deliberated on yet.
		e3 := str(expect(t, schedule(h, admin, cand, "E3", sitePierreBayle, "2019-10-07T09:00:00Z"), http.StatusCreated), "id")
		expect(t, recordResult(h, admin, e3, map[string]any{"grade": 11}), http.StatusOK)
		mine := transcript(t, h, h.as(auth.RoleCandidate), cand, "2019-10-08")
		for comp, want := range map[string]string{"E1": "acquired 14", "E2": "graded 12", "E3": "graded <nil>"} {
			if s := standing(mine, comp); fmt.Sprint(str(s, "status"), " ", s["grade"]) != want {
				t.Errorf("candidate's view of %s: %v, want %s", comp, s, want)
			}
		}
		if s := standing(transcript(t, h, h.as(auth.RoleCandidate), cand, "2019-10-06"), "E3"); str(s, "status") != "failed" || s["grade"] != 6.0 {
			t.Errorf("candidate's view of the E3 the jury deliberated on: %v", s)
		}

		// All four acquired inside a registration period: awardable.
		session := h.session("2019-11-04")
		e4 := str(expect(t, defence(h, admin, cand, session, "2019-11-04T09:00:00Z"), http.StatusCreated), "id")
		expect(t, recordResult(h, admin, e4, map[string]any{"dossier_grade": 11, "defence_grade": 13}), http.StatusOK)
		if d := h.decideIn(session, cand, "2019-11-04"); str(d, "outcome") != "award" {
			t.Fatalf("all four held: %v", d)
		}
		tr = transcript(t, h, admin, cand, "2019-12-01")
		if tr["awardable"] != true || len(tr["reasons"].([]any)) != 0 {
			t.Fatalf("all acquired: %v", tr)
		}
		// After the registration period ended, within the grace period for a
		// candidate enrolled while it ran: still awardable; after it, not, and why.
		if tr = transcript(t, h, admin, cand, "2021-01-04"); tr["awardable"] != true {
			t.Fatalf("within the grace period: %v", tr)
		}
		tr = transcript(t, h, admin, cand, "2021-01-05")
		if tr["awardable"] != false || fmt.Sprint(violations(t, map[string]any{"violations": tr["reasons"]})) != "[REGISTRATION-PERIOD /as_of]" {
			t.Fatalf("outside the period and its grace: %v", tr)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/transcript?as_of=yesterday", bearer: admin}), http.StatusBadRequest)
	})
}

func TestEvaluationRoles(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, staff := h.as(auth.RoleAdmin), h.as(auth.RoleSiteStaff)
		own := h.candidate(map[string]any{"first_name": "Own"})
		other := h.candidate(map[string]any{"first_name": "Other", "training_site_id": siteVauquelin})
		ownEval := str(expect(t, schedule(h, staff, own, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		otherEval := str(expect(t, schedule(h, admin, other, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		// site_staff: their site's candidates only; another's is a 404, and cannot be scheduled.
		expect(t, schedule(h, staff, other, "E2", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusUnprocessableEntity)
		expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + ownEval, bearer: staff}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + otherEval, bearer: staff}), http.StatusNotFound)
		expect(t, recordResult(h, staff, otherEval, map[string]any{"grade": 12}), http.StatusNotFound)
		expect(t, recordResult(h, staff, ownEval, map[string]any{"grade": 12}), http.StatusOK)
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/evaluations", bearer: staff}), http.StatusOK))); n != 1 {
			t.Fatalf("site_staff list: %d", n)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + own + "/transcript", bearer: staff}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + other + "/transcript", bearer: staff}), http.StatusNotFound)
		// The director sees everything; candidates see no sittings; a jury member only
		// those of the candidates of their sessions, none here.
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/evaluations", bearer: h.as(auth.RoleDirector)}), http.StatusOK))); n != 2 {
			t.Fatalf("director list: %d", n)
		}
		b := h.as(auth.RoleCandidate)
		expect(t, h.do(req{method: "GET", path: "/v1/evaluations", bearer: b}), http.StatusForbidden)
		expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + ownEval, bearer: b}), http.StatusForbidden)
		expect(t, schedule(h, b, own, "E2", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusForbidden)
		expect(t, recordResult(h, b, ownEval, map[string]any{"grade": 12}), http.StatusForbidden)
		jury := h.as(auth.RoleJuryMember)
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/evaluations", bearer: jury}), http.StatusOK))); n != 0 {
			t.Fatalf("jury member list: %d", n)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + ownEval, bearer: jury}), http.StatusNotFound)
		expect(t, schedule(h, jury, own, "E2", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusForbidden)
		expect(t, recordResult(h, jury, otherEval, map[string]any{"grade": 12}), http.StatusNotFound)
		// A candidate reads their own transcript only; a jury member none of these.
		cand := h.as(auth.RoleCandidate)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + h.ownCandidate() + "/transcript", bearer: cand}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + own + "/transcript", bearer: cand}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + own + "/transcript", bearer: jury}), http.StatusNotFound)
	})
}

// Grades are exact hundredths from the request to the database: a grade finer than
// that is refused, and a re-read on either database says what the answer said.
func TestGradesAreExactHundredths(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		id := str(expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		for _, g := range []string{"9.999999999", "9.995", "1e-3"} {
			p := expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result", bearer: admin, headers: map[string]string{"If-Match": "*"},
				body: `{"grade":` + g + `}`}), http.StatusUnprocessableEntity)
			if fmt.Sprint(violations(t, p)) != "[GRADING /grade]" {
				t.Fatalf("%s: %v", g, p)
			}
		}
		e := expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result", bearer: admin, headers: map[string]string{"If-Match": "*"},
			body: `{"grade":9.99}`}), http.StatusOK)
		again := expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + id, bearer: admin}), http.StatusOK)
		for _, x := range []map[string]any{e, again} {
			if r := x["result"].(map[string]any); r["grade"] != 9.99 || r["passed"] != false {
				t.Fatalf("9.99 is below the pass mark, on every read: %v", r)
			}
		}
		var stored int64
		if err := h.store.DB().Raw("SELECT grade_hundredths FROM evaluations WHERE id = ?", id).Scan(&stored).Error; err != nil || stored != 999 {
			t.Fatalf("stored %d (%v), want 999 hundredths", stored, err)
		}
	})
}

// A result is one of three forms: a grade, E4's dossier and defence grades, or an
// absence; a correction is one of them with its reason. A body that mixes forms, or
// is none of them, does not match the contract: a 400 pointing at the body as a
// whole (the empty pointer), before any rule is looked at.
func TestResultForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		e1 := str(expect(t, schedule(h, admin, cand, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		e2 := str(expect(t, schedule(h, admin, cand, "E2", sitePierreBayle, "2019-09-02T14:00:00Z"), http.StatusCreated), "id")
		e4 := str(expect(t, defence(h, admin, cand, h.session("2019-09-03"), "2019-09-03T09:00:00Z"), http.StatusCreated), "id")
		correct := func(id string, body map[string]any) response {
			return h.do(req{method: "POST", path: "/v1/evaluations/" + id + "/result-correction", bearer: admin,
				headers: map[string]string{"If-Match": "*"}, body: body})
		}
		atTheBody := func(name string, res response) {
			t.Helper()
			p := expect(t, res, http.StatusBadRequest)
			vs, _ := p["violations"].([]any)
			if str(p, "code") != "invalid_request" || len(vs) != 1 {
				t.Fatalf("%s: %v, want one violation", name, p)
			}
			if field, ok := vs[0].(map[string]any)["field"].(string); !ok || field != "" {
				t.Fatalf("%s: %v, want a violation at the body (the empty pointer)", name, vs[0])
			}
		}
		for _, c := range []struct {
			name string
			body map[string]any
		}{
			{"a grade and an absence", map[string]any{"grade": 12, "absent": true}},
			{"a grade and a part", map[string]any{"grade": 12, "dossier_grade": 12}},
			{"both parts and an absence", map[string]any{"dossier_grade": 12, "defence_grade": 13, "absent": true}},
			{"one part alone", map[string]any{"dossier_grade": 12}},
			{"absent: false", map[string]any{"absent": false}},
			{"nothing", map[string]any{}},
		} {
			atTheBody("result: "+c.name, recordResult(h, admin, e1, c.body))
			with := map[string]any{"reason": "Transcription error"}
			for k, v := range c.body {
				with[k] = v
			}
			atTheBody("correction: "+c.name, correct(e1, with))
		}
		atTheBody("correction without its reason", correct(e1, map[string]any{"grade": 12}))

		// The three forms, recorded.
		e := expect(t, recordResult(h, admin, e1, map[string]any{"grade": 12.5}), http.StatusOK)
		if r := e["result"].(map[string]any); str(e, "status") != "graded" || r["grade"] != 12.5 || r["absent"] != false {
			t.Fatalf("a grade: %v", e)
		}
		e = expect(t, recordResult(h, admin, e4, map[string]any{"dossier_grade": 12, "defence_grade": 15}), http.StatusOK)
		if r := e["result"].(map[string]any); r["grade"] != 13.5 || r["dossier_grade"] != 12.0 || r["defence_grade"] != 15.0 {
			t.Fatalf("E4's parts: %v", e)
		}
		e = expect(t, recordResult(h, admin, e2, map[string]any{"absent": true}), http.StatusOK)
		if r := e["result"].(map[string]any); str(e, "status") != "absent" || r["absent"] != true || r["grade"] != nil {
			t.Fatalf("an absence: %v", e)
		}

		// And corrected, each into another form where the component allows it.
		e = expect(t, correct(e1, map[string]any{"absent": true, "reason": "The grade was entered by mistake"}), http.StatusOK)
		if r := e["result"].(map[string]any); str(e, "status") != "absent" || r["corrected"] != true || r["grade"] != nil {
			t.Fatalf("a grade corrected into an absence: %v", e)
		}
		e = expect(t, correct(e2, map[string]any{"grade": 11, "reason": "The candidate came late"}), http.StatusOK)
		if r := e["result"].(map[string]any); str(e, "status") != "graded" || r["grade"] != 11.0 || r["absent"] != false {
			t.Fatalf("an absence corrected into a grade: %v", e)
		}
		e = expect(t, correct(e4, map[string]any{"dossier_grade": 12, "defence_grade": 14, "reason": "The defence grade was transposed"}), http.StatusOK)
		if r := e["result"].(map[string]any); r["grade"] != 13.0 || r["defence_grade"] != 14.0 || r["corrected"] != true {
			t.Fatalf("E4's parts corrected: %v", e)
		}
	})
}
