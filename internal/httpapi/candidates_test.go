package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
)

func register(h *harness, bearer string, fields map[string]any) response {
	return h.do(req{method: "POST", path: "/v1/candidates", bearer: bearer, body: candidateBody(fields)})
}

func TestRegisterCandidate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		res := register(h, admin, nil)
		c := expect(t, res, http.StatusCreated)
		if str(c, "status") != "enrolled" || c["vae_admissibility"] != nil || str(c, "enrolled_on") != "2019-06-03" ||
			res.hdr.Get("Location") != "/v1/candidates/"+str(c, "id") || res.hdr.Get("ETag") != `"1"` {
			t.Fatalf("registered: %v", c)
		}
		got := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + str(c, "id"), bearer: admin}), http.StatusOK)
		if str(got, "birth_name") != "Martin" || got["birth_place"].(map[string]any)["insee_code"] != "34172" {
			t.Fatalf("read back: %v", got)
		}
		// VAE candidates start pending, and may have no site.
		v := expect(t, register(h, admin, map[string]any{"route": "vae", "training_site_id": nil, "first_name": "Lou"}), http.StatusCreated)
		if str(v, "vae_admissibility") != "pending" || v["training_site_id"] != nil {
			t.Fatalf("VAE: %v", v)
		}
		expect(t, register(h, admin, map[string]any{"route": "individual_application", "training_site_id": nil, "first_name": "Sam"}), http.StatusCreated)
	})
}

// One HTTP test per registration rule, each showing its 422.
func TestRegistrationRules422(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		certOnly := expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: with(newSite("Exam hall", "31000"), "roles", []string{"certification"})}), http.StatusCreated)
		cases := []struct {
			name     string
			fields   map[string]any
			want     string
			contains string
		}{
			{"ROUTE-OPEN: apprenticeship is closed", map[string]any{"route": "apprenticeship"}, "ROUTE-OPEN /route", "closed"},
			{"ROUTE-OPENING: VAE before it opened in 2014", map[string]any{"route": "vae", "training_site_id": nil, "enrolled_on": "2013-06-03"}, "ROUTE-OPENING /route", "opened on 2014-01-01"},
			{"SITE-PREPARATION: training route without a site", map[string]any{"training_site_id": nil}, "SITE-PREPARATION /training_site_id", "preparation site"},
			{"SITE-PREPARATION: a site that is not a preparation site", map[string]any{"training_site_id": str(certOnly, "id")}, "SITE-PREPARATION /training_site_id", "not an active preparation site"},
			{"SITE-PREPARATION: an unknown site", map[string]any{"training_site_id": "01900000-0000-7000-8000-000000000000"}, "SITE-PREPARATION /training_site_id", "no such"},
			{"REGISTRATION-PERIOD: today, years after the last period", map[string]any{"enrolled_on": nil}, "REGISTRATION-PERIOD /enrolled_on", "ended on 2020-01-04"},
			{"REGISTRATION-PERIOD: before the first period", map[string]any{"enrolled_on": "2012-09-01"}, "REGISTRATION-PERIOD /enrolled_on", "not begun"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := expect(t, register(h, admin, c.fields), http.StatusUnprocessableEntity)
				vs := violations(t, p)
				if str(p, "code") != "rule_violation" || len(vs) != 1 || vs[0] != c.want || !strings.Contains(fmt.Sprint(p["violations"]), c.contains) {
					t.Fatalf("got %v, want [%s] mentioning %q", p, c.want, c.contains)
				}
			})
		}
		// Three broken rules, one answer.
		p := expect(t, register(h, admin, map[string]any{"route": "apprenticeship", "enrolled_on": "2026-11-26", "training_site_id": str(certOnly, "id")}),
			http.StatusUnprocessableEntity)
		if got := fmt.Sprint(violations(t, p)); got != "[ROUTE-OPEN /route SITE-PREPARATION /training_site_id REGISTRATION-PERIOD /enrolled_on]" {
			t.Fatalf("three rules: %s", got)
		}
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates", bearer: admin}), http.StatusOK))); n != 0 {
			t.Fatalf("refused registrations left %d candidates", n)
		}
		// TERRITORY bars places of delivery, not where a candidate lives: someone
		// living in Nouméa or Papeete who trains and sits in France registers.
		for i, a := range []map[string]any{
			{"line1": "1 rue", "postal_code": "98800", "city": "Nouméa", "country_code": "FR"},
			{"line1": "1 rue", "postal_code": "98714", "city": "Papeete", "country_code": "PF"},
		} {
			expect(t, register(h, admin, map[string]any{"first_name": fmt.Sprint("Outre-mer ", i), "address": a}), http.StatusCreated)
		}
	})
}

// Recording a renewal makes enrolment possible again on its dates, and only on them.
func TestRenewalReopensEnrolment(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		today := time.Now().UTC().Format(time.DateOnly)
		expect(t, register(h, admin, map[string]any{"enrolled_on": today}), http.StatusUnprocessableEntity)
		expect(t, h.do(req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", bearer: admin, body: map[string]any{
			"legal_act": "Arrêté de renouvellement", "effective_from": time.Now().UTC().AddDate(0, -1, 0).Format(time.DateOnly),
			"effective_until": time.Now().UTC().AddDate(3, 0, 0).Format(time.DateOnly)}}), http.StatusCreated)
		c := expect(t, register(h, admin, map[string]any{"enrolled_on": nil}), http.StatusCreated)
		if str(c, "enrolled_on") != today {
			t.Fatalf("enrolled_on defaults to today: %v", c["enrolled_on"])
		}
		p := expect(t, register(h, admin, map[string]any{"first_name": "Later", "enrolled_on": time.Now().UTC().AddDate(4, 0, 0).Format(time.DateOnly)}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[REGISTRATION-PERIOD /enrolled_on]" {
			t.Fatalf("after the renewal's end: %v", p)
		}
	})
}

func TestDuplicateCandidate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		first := expect(t, register(h, admin, nil), http.StatusCreated)
		// The same person, written differently, at another site.
		p := expect(t, register(h, admin, map[string]any{"birth_name": "MARTIN ", "first_name": "camille", "training_site_id": siteVauquelin}), http.StatusConflict)
		if str(p, "code") != "duplicate_candidate" || str(p, "existing_id") != str(first, "id") {
			t.Fatalf("duplicate: %v", p)
		}
		accents := expect(t, register(h, admin, map[string]any{"birth_name": "Dupré", "first_name": "Élodie"}), http.StatusCreated)
		p = expect(t, register(h, admin, map[string]any{"birth_name": "DUPRE", "first_name": "Elodie"}), http.StatusConflict)
		if str(p, "existing_id") != str(accents, "id") {
			t.Fatalf("accents: %v", p)
		}
		// Another birth date is another person.
		expect(t, register(h, admin, map[string]any{"birth_date": "1996-04-12"}), http.StatusCreated)
		// After a withdrawal, the person may register again.
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + str(first, "id") + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": `"1"`}, body: map[string]any{"reason": "moved", "withdrawn_on": "2019-09-01"}}), http.StatusOK)
		expect(t, register(h, admin, nil), http.StatusCreated)
		// site_staff learn that the person exists, not where.
		staff := h.as(auth.RoleSiteStaff)
		expect(t, register(h, admin, map[string]any{"birth_name": "Bernard", "training_site_id": siteVauquelin}), http.StatusCreated)
		p = expect(t, register(h, staff, map[string]any{"birth_name": "Bernard"}), http.StatusConflict)
		if _, leaked := p["existing_id"]; leaked {
			t.Fatalf("site_staff told the id of another site's candidate: %v", p)
		}
	})
}

// Concurrent registrations of the same person: exactly one wins, the others are
// told who won (on MariaDB, through the unique index).
func TestConcurrentDuplicateRegistrations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		const n = 6
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = register(h, admin, nil).code
			}()
		}
		wg.Wait()
		slices.Sort(codes)
		if codes[0] != http.StatusCreated || codes[1] != http.StatusConflict || codes[n-1] != http.StatusConflict {
			t.Fatalf("statuses: %v, want one 201 and the rest 409", codes)
		}
	})
}

func TestCandidateUpdateAndWithdrawal(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		c := expect(t, register(h, admin, nil), http.StatusCreated)
		id := str(c, "id")
		patch := func(etag, body string) response {
			return h.do(req{method: "PATCH", path: "/v1/candidates/" + id, bearer: admin, contentType: "application/merge-patch+json",
				headers: map[string]string{"If-Match": etag}, body: body})
		}
		c = expect(t, patch(`"1"`, `{"usage_name":"Durand","birth_place":{"insee_code":null,"postal_code":"34000"}}`), http.StatusOK)
		bp := c["birth_place"].(map[string]any)
		if str(c, "usage_name") != "Durand" || bp["postal_code"] != "34000" || bp["insee_code"] != nil || c["version"] != float64(2) {
			t.Fatalf("patched: %v", c)
		}
		// A patch that breaks a rule changes nothing.
		p := expect(t, patch(`"2"`, `{"route":"apprenticeship"}`), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[ROUTE-OPEN /route]" {
			t.Fatalf("patch: %v", p)
		}
		p = expect(t, patch(`"2"`, `{"birth_place":{"postal_code":null}}`), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[/birth_place]" {
			t.Fatalf("patch without a birth commune: %v", p)
		}
		expect(t, patch(`"1"`, `{"usage_name":"Lost"}`), http.StatusPreconditionFailed)
		expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"2"`}, body: `{"status":"certified"}`}), http.StatusBadRequest)
		// Moving to VAE makes the application pending.
		c = expect(t, patch(`"2"`, `{"route":"vae","training_site_id":null}`), http.StatusOK)
		if str(c, "vae_admissibility") != "pending" {
			t.Fatalf("to VAE: %v", c)
		}

		w := h.do(req{method: "POST", path: "/v1/candidates/" + id + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": `"3"`}, body: map[string]any{"reason": "found a job", "withdrawn_on": "2019-10-01"}})
		c = expect(t, w, http.StatusOK)
		if str(c, "status") != "withdrawn" || str(c, "withdrawn_on") != "2019-10-01" || str(c, "withdrawal_reason") != "found a job" {
			t.Fatalf("withdrawn: %v", c)
		}
		p = expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + id + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": `"4"`}, body: map[string]any{"reason": "again"}}), http.StatusConflict)
		if str(p, "code") != "already_withdrawn" {
			t.Fatalf("second withdrawal: %v", p)
		}
		list := expect(t, h.do(req{method: "GET", path: "/v1/candidates?status=withdrawn", bearer: admin}), http.StatusOK)
		if len(items(list)) != 1 {
			t.Fatalf("withdrawn list: %v", list)
		}
		events := expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=candidate&resource_id=" + id, bearer: admin}), http.StatusOK)
		var actions []string
		for _, e := range items(events) {
			actions = append(actions, str(e, "action"))
		}
		if fmt.Sprint(actions) != "[register update update withdraw]" {
			t.Fatalf("audit: %v", actions)
		}
	})
}

func TestVAEAdmissibility(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, director := h.as(auth.RoleAdmin), h.as(auth.RoleDirector)
		v := expect(t, register(h, admin, map[string]any{"route": "vae", "training_site_id": nil}), http.StatusCreated)
		decide := func(bearer, id, etag, decision, on string) response {
			return h.do(req{method: "POST", path: "/v1/candidates/" + id + "/vae-admissibility", bearer: bearer,
				headers: map[string]string{"If-Match": etag}, body: map[string]any{"decision": decision, "decided_on": on, "experience_months": 14}})
		}
		c := expect(t, decide(director, str(v, "id"), `"1"`, "admissible", "2019-07-01"), http.StatusOK)
		if str(c, "vae_admissibility") != "admissible" || str(c, "vae_admissibility_decided_on") != "2019-07-01" ||
			c["vae_experience_months"] != 14.0 || c["vae_required_months"] != 12.0 {
			t.Fatalf("decided: %v", c)
		}
		c = expect(t, decide(admin, str(v, "id"), `"2"`, "inadmissible", "2019-07-02"), http.StatusOK)
		if str(c, "vae_admissibility") != "inadmissible" {
			t.Fatalf("redecided: %v", c)
		}
		expect(t, decide(admin, str(v, "id"), `"3"`, "admissible", "2019-01-01"), http.StatusUnprocessableEntity)
		other := expect(t, register(h, admin, map[string]any{"first_name": "Noa"}), http.StatusCreated)
		p := expect(t, decide(admin, str(other, "id"), `"1"`, "admissible", "2019-07-01"), http.StatusConflict)
		if str(p, "code") != "not_vae" {
			t.Fatalf("not VAE: %v", p)
		}
		expect(t, decide(h.as(auth.RoleSiteStaff), str(v, "id"), `"3"`, "admissible", "2019-07-01"), http.StatusForbidden)
	})
}

func TestCandidateFiltersAndSearch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		for _, f := range []map[string]any{
			{"birth_name": "Lefèvre", "first_name": "Zoé", "enrolled_on": "2019-02-01"},
			{"birth_name": "Durand", "usage_name": "Lefevre-Durand", "first_name": "Hugo", "training_site_id": siteVauquelin, "enrolled_on": "2019-06-03"},
			{"birth_name": "Petit", "first_name": "Inès", "route": "vae", "training_site_id": nil, "enrolled_on": "2019-12-01"},
			{"birth_name": "100%_Sure", "first_name": "Max", "enrolled_on": "2019-03-01"},
		} {
			expect(t, register(h, admin, f), http.StatusCreated)
		}
		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{"Lefèvre", "Durand", "Petit", "100%_Sure"}},
			{"?training_site_id=" + siteVauquelin, []string{"Durand"}},
			{"?route=vae", []string{"Petit"}},
			{"?status=enrolled", []string{"Lefèvre", "Durand", "Petit", "100%_Sure"}},
			{"?status=withdrawn", nil},
			{"?enrolled_from=2019-03-01&enrolled_to=2019-06-03", []string{"Durand", "100%_Sure"}},
			{"?q=lefevre", []string{"Lefèvre", "Durand"}},
			{"?q=ZOE", []string{"Lefèvre"}},
			{"?q=%25_", []string{"100%_Sure"}},
			{"?q=ines%20petit", nil},
			{"?certification_code=RNCP26206&q=hugo", []string{"Durand"}},
		}
		for _, c := range cases {
			list := expect(t, h.do(req{method: "GET", path: "/v1/candidates" + c.query, bearer: admin}), http.StatusOK)
			var got []string
			for _, it := range items(list) {
				got = append(got, str(it, "birth_name"))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%q: %v, want %v", c.query, got, c.want)
			}
		}
		expect(t, h.do(req{method: "GET", path: "/v1/candidates?q=x", bearer: admin}), http.StatusBadRequest)
	})
}

// Every candidate operation × every role × own/other site.
func TestCandidateRoleMatrix(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		own := h.candidate(map[string]any{"first_name": "Own", "birth_name": "Site"})                                        // Montpellier: the site_staff's site
		other := h.candidate(map[string]any{"first_name": "Other", "birth_name": "Site", "training_site_id": siteVauquelin}) // another site
		noSite := h.candidate(map[string]any{"first_name": "No", "birth_name": "Site", "route": "vae", "training_site_id": nil})
		h.as(auth.RoleCandidate)
		self := h.ownCandidate()
		ops := []struct {
			name string
			r    func(id string) req
		}{
			{"get", func(id string) req { return req{method: "GET", path: "/v1/candidates/" + id} }},
			{"patch", func(id string) req {
				return req{method: "PATCH", path: "/v1/candidates/" + id, contentType: "application/merge-patch+json", body: `{"phone":"0102030405"}`, headers: map[string]string{"If-Match": `"1"`}}
			}},
			{"withdraw", func(id string) req {
				return req{method: "POST", path: "/v1/candidates/" + id + "/withdrawal", body: map[string]any{"reason": "x", "withdrawn_on": "2019-07-01"}, headers: map[string]string{"If-Match": `"99"`}}
			}},
			{"vae", func(id string) req {
				return req{method: "POST", path: "/v1/candidates/" + id + "/vae-admissibility", body: map[string]any{"decision": "admissible", "decided_on": "2019-07-01"}, headers: map[string]string{"If-Match": `"99"`}}
			}},
		}
		// want[op][role] for the candidates own, other, noSite, self.
		type outcome [4]int
		const ok, nf, fb, st = http.StatusOK, http.StatusNotFound, http.StatusForbidden, http.StatusPreconditionFailed
		want := map[string]map[auth.Role]outcome{
			"get":      {auth.RoleAdmin: {ok, ok, ok, ok}, auth.RoleDirector: {ok, ok, ok, ok}, auth.RoleSiteStaff: {ok, nf, nf, nf}, auth.RoleJuryMember: {nf, nf, nf, nf}, auth.RoleCandidate: {nf, nf, nf, ok}},
			"patch":    {auth.RoleAdmin: {ok, ok, ok, ok}, auth.RoleDirector: {st, st, st, st}, auth.RoleSiteStaff: {st, nf, nf, nf}, auth.RoleJuryMember: {fb, fb, fb, fb}, auth.RoleCandidate: {fb, fb, fb, fb}},
			"withdraw": {auth.RoleAdmin: {st, st, st, st}, auth.RoleDirector: {st, st, st, st}, auth.RoleSiteStaff: {st, nf, nf, nf}, auth.RoleJuryMember: {fb, fb, fb, fb}, auth.RoleCandidate: {fb, fb, fb, fb}},
			"vae":      {auth.RoleAdmin: {st, st, st, st}, auth.RoleDirector: {st, st, st, st}, auth.RoleSiteStaff: {fb, fb, fb, fb}, auth.RoleJuryMember: {fb, fb, fb, fb}, auth.RoleCandidate: {fb, fb, fb, fb}},
		}
		for _, op := range ops {
			for _, role := range roles {
				for i, id := range []string{own, other, noSite, self} {
					r := op.r(id)
					r.bearer = h.as(role)
					if got := h.do(r).code; got != want[op.name][role][i] {
						t.Errorf("%s as %s on candidate %d: %d, want %d", op.name, role, i, got, want[op.name][role][i])
					}
				}
			}
		}
		// Lists: site_staff see their site's candidates only; candidates and jury members none.
		counts := map[auth.Role]int{auth.RoleAdmin: 4, auth.RoleDirector: 4, auth.RoleSiteStaff: 1}
		for _, role := range roles {
			res := h.do(req{method: "GET", path: "/v1/candidates", bearer: h.as(role)})
			n, allowed := counts[role]
			if !allowed {
				expect(t, res, http.StatusForbidden)
				continue
			}
			if got := len(items(expect(t, res, http.StatusOK))); got != n {
				t.Errorf("list as %s: %d, want %d", role, got, n)
			}
		}
		staff := h.as(auth.RoleSiteStaff)
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates?training_site_id=" + siteVauquelin, bearer: staff}), http.StatusOK))); n != 0 {
			t.Errorf("site_staff listing another site: %d", n)
		}
		// Registering: site_staff at their own site only.
		expect(t, register(h, staff, map[string]any{"first_name": "Mine"}), http.StatusCreated)
		// Another site is one they cannot see: the same answer as a site that does not exist.
		for _, site := range []string{siteVauquelin, "01900000-0000-7000-8000-000000000000"} {
			p := expect(t, register(h, staff, map[string]any{"first_name": "Theirs", "training_site_id": site}), http.StatusUnprocessableEntity)
			if fmt.Sprint(p["violations"]) != "[map[field:/training_site_id message:no such training site rule:SITE-PREPARATION]]" {
				t.Errorf("another site: %v", p["violations"])
			}
		}
		expect(t, register(h, staff, map[string]any{"first_name": "Nowhere", "route": "vae", "training_site_id": nil}), http.StatusForbidden)
		expect(t, register(h, h.as(auth.RoleDirector), map[string]any{"first_name": "Dir"}), http.StatusCreated)
		expect(t, register(h, h.as(auth.RoleJuryMember), map[string]any{"first_name": "Jury"}), http.StatusForbidden)
		expect(t, register(h, h.as(auth.RoleCandidate), map[string]any{"first_name": "Self"}), http.StatusForbidden)
		// And site_staff cannot move their candidate to another site.
		expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + own, bearer: staff, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": `"2"`}, body: `{"training_site_id":"` + siteVauquelin + `"}`}), http.StatusUnprocessableEntity)
		// A deactivated site they cannot see tells them nothing of itself either.
		hidden := expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: h.as(auth.RoleAdmin), body: newSite("Hidden school", "31000")}), http.StatusCreated)
		expect(t, h.do(req{method: "DELETE", path: "/v1/training-sites/" + str(hidden, "id"), bearer: h.as(auth.RoleAdmin), headers: map[string]string{"If-Match": `"1"`}}), http.StatusOK)
		p := expect(t, register(h, staff, map[string]any{"first_name": "Probe", "training_site_id": str(hidden, "id")}), http.StatusUnprocessableEntity)
		if strings.Contains(string(fmt.Sprint(p)), "Hidden") {
			t.Errorf("the problem names a site the caller cannot see: %v", p)
		}
	})
}

// The rules middleware applies before the handler the rules that need only the
// request; a registration they refuse also gets the violations of the rules that
// need the referential and the site, all in one 422, and writes nothing. One they
// pass is refused by the write's own check, with every violation too.
func TestRegistrationViolationsComeAllAtOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		count := func() int {
			return len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates", bearer: admin}), http.StatusOK)))
		}
		before := count()
		both := expect(t, register(h, admin, map[string]any{"route": "apprenticeship", "birth_date": "2019-06-03"}), http.StatusUnprocessableEntity)
		if v := violations(t, both); !slices.Contains(v, "ROUTE-OPEN /route") || !slices.Contains(v, "/birth_date") {
			t.Fatalf("violations %v, want ROUTE-OPEN /route and /birth_date", v)
		}
		stateful := expect(t, register(h, admin, map[string]any{"route": "apprenticeship", "enrolled_on": "2026-11-26"}), http.StatusUnprocessableEntity)
		if v := violations(t, stateful); !slices.Contains(v, "ROUTE-OPEN /route") || !slices.Contains(v, "REGISTRATION-PERIOD /enrolled_on") {
			t.Fatalf("violations %v, want ROUTE-OPEN /route and REGISTRATION-PERIOD /enrolled_on", v)
		}
		if n := count(); n != before {
			t.Fatalf("%d candidates after refused registrations, want %d", n, before)
		}
	})
}
