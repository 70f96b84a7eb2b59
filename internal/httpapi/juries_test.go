package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/testdb"
)

// sit schedules a sitting of a component (not E4) at the certification site and
// records its grade; it returns the sitting's id.
func (h *harness) sit(candidate, component, at string, grade float64) string {
	h.t.Helper()
	admin := h.as(auth.RoleAdmin)
	id := str(expect(h.t, schedule(h, admin, candidate, component, sitePierreBayle, at), http.StatusCreated), "id")
	expect(h.t, recordResult(h, admin, id, map[string]any{"grade": grade}), http.StatusOK)
	return id
}

// defend books the candidate's defence in a session at a slot start and records
// both grades of E4.
func (h *harness) defend(candidate, session, at string, dossier, defenceGrade float64) string {
	h.t.Helper()
	admin := h.as(auth.RoleAdmin)
	id := str(expect(h.t, defence(h, admin, candidate, session, at), http.StatusCreated), "id")
	expect(h.t, recordResult(h, admin, id, map[string]any{"dossier_grade": dossier, "defence_grade": defenceGrade}), http.StatusOK)
	return id
}

// login signs a user in with the password grant and returns their bearer.
func (h *harness) login(email, password string) string {
	h.t.Helper()
	res := h.do(req{method: "POST", path: "/v1/auth/token", contentType: "application/x-www-form-urlencoded",
		body: "grant_type=password&username=" + email + "&password=" + password})
	return "Bearer " + str(expect(h.t, res, http.StatusOK), "access_token")
}

// pdfText is the text pdftotext (poppler-utils) reads in a PDF.
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is needed to read PDFs (Debian: apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// The whole path, over HTTP: members and a session are set up, a candidate registers
// and sits E1-E3, their defence is booked and graded by a member of the jury, the
// jury deliberates and closes, the minutes are read as a PDF, the certificate is
// verified, revoked, and verified again.
func TestJuryPathEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, director := h.as(auth.RoleAdmin), h.as(auth.RoleDirector)
		var members []string
		for i, m := range []struct{ name, role string }{{"Hélène Garnier", "pedagogical_director"}, {"Paul Nguyen", "professional"},
			{"Inès Lefèvre", "professional"}, {"Marc Dubois", "professional"}, {"Zoé Œuvray", "professional"}} {
			res := h.do(req{method: "POST", path: "/v1/jury-members", bearer: director, body: map[string]any{
				"full_name": m.name, "role": m.role, "organisation": "Agence " + fmt.Sprint(i), "email": fmt.Sprintf("m%d@jury.example", i)}})
			jm := expect(t, res, http.StatusCreated)
			if res.hdr.Get("Location") != "/v1/jury-members/"+str(jm, "id") || res.hdr.Get("ETag") != `"1"` || jm["active"] != true {
				t.Fatalf("member: %v %v", res.hdr, jm)
			}
			members = append(members, str(jm, "id"))
		}
		expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "paul@jury.example",
			"role": "jury_member", "password": "a-long-enough-password", "jury_member_id": members[1]}}), http.StatusCreated)
		paul := h.login("paul@jury.example", "a-long-enough-password")

		cand := str(expect(t, register(h, admin, map[string]any{"first_name": "Élodie", "birth_name": "Marchand"}), http.StatusCreated), "id")
		expect(t, h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": "elodie@example.org",
			"role": "candidate", "password": "another-long-password", "candidate_id": cand}}), http.StatusCreated)
		elodie := h.login("elodie@example.org", "another-long-password")
		for i, comp := range []string{"E1", "E2", "E3"} {
			h.sit(cand, comp, fmt.Sprintf("2019-09-0%dT09:00:00Z", i+2), 12+float64(i))
		}

		js := expect(t, h.do(req{method: "POST", path: "/v1/jury-sessions", bearer: director, body: map[string]any{
			"certification_code": "RNCP26206", "training_site_id": sitePierreBayle, "held_on": "2019-10-01", "member_ids": members}}), http.StatusCreated)
		session := str(js, "id")
		if str(js, "status") != "planned" || len(js["member_ids"].([]any)) != 5 {
			t.Fatalf("session: %v", js)
		}
		d := expect(t, defence(h, director, cand, session, "2019-10-01T09:00:00Z"), http.StatusCreated)
		if str(d, "ends_at") != "2019-10-01T09:45:00Z" || str(d, "training_site_id") != sitePierreBayle || str(d, "jury_session_id") != session {
			t.Fatalf("defence: %v", d)
		}

		// The jury member sees their session, its candidate and what the facts support.
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions", bearer: paul}), http.StatusOK))); n != 1 {
			t.Fatalf("the jury member's sessions: %d", n)
		}
		sheet := items(expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session + "/candidates", bearer: paul}), http.StatusOK))
		if len(sheet) != 1 || str(sheet[0], "full_name") != "Élodie Marchand" || sheet[0]["defence"] == nil ||
			str(sheet[0]["proposal"].(map[string]any), "outcome") != "partial" {
			t.Fatalf("deliberation sheet before the defence is graded: %v", sheet)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: paul}), http.StatusOK)
		// A member of the jury grades the defence; a preparation site's staff may not.
		expect(t, recordResult(h, h.as(auth.RoleSiteStaff), str(d, "id"), map[string]any{"dossier_grade": 12, "defence_grade": 15}), http.StatusForbidden)
		e4 := expect(t, recordResult(h, paul, str(d, "id"), map[string]any{"dossier_grade": 12, "defence_grade": 15}), http.StatusOK)
		if e4["result"].(map[string]any)["grade"] != 13.5 {
			t.Fatalf("E4: %v", e4)
		}

		dec := expect(t, decide(h, director, session, cand, map[string]any{"outcome": "award", "reason": "Les quatre composantes sont acquises."}), http.StatusCreated)
		if str(dec, "status") != "draft" || str(dec, "outcome") != "award" || len(dec["validated_components"].([]any)) != 4 || dec["certificate_number"] != nil {
			t.Fatalf("decision: %v", dec)
		}
		if js := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session, bearer: director}), http.StatusOK); str(js, "status") != "deliberating" {
			t.Fatalf("after the first decision: %v", js)
		}
		// PUBLICATION: before the close, the candidate sees no outcome and no grade.
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/decisions", bearer: elodie}), http.StatusOK))); n != 0 {
			t.Fatalf("the candidate sees %d decisions before the close", n)
		}
		if s := standing(transcript(t, h, elodie, cand, "2019-10-02"), "E4"); s["grade"] != nil || str(s, "status") != "graded" {
			t.Fatalf("the candidate's E4 before the close: %v", s)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session + "/minutes", bearer: director}), http.StatusConflict)

		closed := expect(t, closeSession(h, director, session, "2019-10-01"), http.StatusOK)
		if str(closed, "status") != "closed" || len(closed["signatures"].([]any)) != 5 || closed["closed_at"] == nil {
			t.Fatalf("closed: %v", closed)
		}
		if p := expect(t, closeSession(h, director, session, "2019-10-01"), http.StatusConflict); str(p, "code") != "session_closed" {
			t.Fatalf("second close: %v", p)
		}
		mine := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/decisions", bearer: elodie}), http.StatusOK))
		if len(mine) != 1 || str(mine[0], "status") != "published" || str(mine[0], "certificate_number") == "" {
			t.Fatalf("published: %v", mine)
		}
		number := str(mine[0], "certificate_number")
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: elodie}), http.StatusOK)
		if str(c, "status") != "certified" || str(c, "certificate_number") != number {
			t.Fatalf("the candidate after the award: %v", c)
		}
		if s := standing(transcript(t, h, elodie, cand, "2019-10-02"), "E4"); s["grade"] != 13.5 || str(s, "status") != "acquired" ||
			str(s, "valid_until") != "2024-10-01" {
			t.Fatalf("the candidate's E4 after the close: %v", s)
		}
		certs := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/certificates", bearer: elodie}), http.StatusOK))
		if len(certs) != 1 || str(certs[0], "kind") != "certificate" || !strings.HasSuffix(str(certs[0], "verification_url"), "/v1/certificates/"+number) {
			t.Fatalf("certificates: %v", certs)
		}

		// The minutes, as JSON and as a PDF whose text says it all.
		m := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session + "/minutes", bearer: paul}), http.StatusOK)
		if len(m["members_present"].([]any)) != 5 || len(m["decisions"].([]any)) != 1 || str(m, "held_on") != "2019-10-01" {
			t.Fatalf("minutes: %v", m)
		}
		res := h.do(req{method: "GET", path: "/v1/jury-sessions/" + session + "/minutes", bearer: director, headers: map[string]string{"Accept": "application/pdf"}})
		if res.code != http.StatusOK || res.hdr.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(res.raw), "%PDF-") {
			t.Fatalf("minutes PDF: %d %v", res.code, res.hdr)
		}
		text := pdfText(t, res.raw)
		for _, want := range []string{"Procès-verbal", "1er octobre 2019", "14 rue Pierre Bayle", "Hélène Garnier", "Zoé Œuvray",
			"Élodie Marchand", "Certification délivrée", "Les quatre composantes sont acquises.", "Directeur pédagogique", "Signatures"} {
			if !strings.Contains(text, want) {
				t.Errorf("the minutes PDF does not say %q:\n%s", want, text)
			}
		}

		// Anyone verifies the certificate; an admin revokes it; verification says so.
		v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + number}), http.StatusOK)
		if str(v, "status") != "valid" || str(v, "holder_name") != "Élodie Marchand" || str(v, "awarded_on") != "2019-10-01" ||
			str(v, "certification_title") != "Community manager" || v["candidate_id"] != nil {
			t.Fatalf("verification: %v", v)
		}
		res = h.do(req{method: "GET", path: "/v1/certificates/" + number, headers: map[string]string{"Accept": "application/pdf"}})
		if res.code != http.StatusOK || !strings.Contains(pdfText(t, res.raw), "Élodie Marchand") {
			t.Fatalf("certificate PDF: %d", res.code)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/certificates/" + number + "/revocation", bearer: director, body: map[string]any{"reason": "x"}}), http.StatusForbidden)
		r := expect(t, h.do(req{method: "POST", path: "/v1/certificates/" + number + "/revocation", bearer: admin, body: map[string]any{"reason": "Fraude à l'épreuve E3"}}), http.StatusOK)
		if str(r, "status") != "revoked" || str(r, "revocation_reason") != "Fraude à l'épreuve E3" {
			t.Fatalf("revoked: %v", r)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/certificates/" + number + "/revocation", bearer: admin, body: map[string]any{"reason": "again"}}), http.StatusConflict)
		if v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + number}), http.StatusOK); str(v, "status") != "revoked" || v["revoked_on"] == nil {
			t.Fatalf("verification after revocation: %v", v)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/certificates/AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}), http.StatusNotFound)

		var actions []string
		for _, ev := range items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?limit=100", bearer: admin}), http.StatusOK)) {
			if rt := str(ev, "resource_type"); rt == "decision" || rt == "jury_session" || rt == "certificate" {
				actions = append(actions, rt+":"+str(ev, "action"))
			}
		}
		if got := fmt.Sprint(actions); got != "[jury_session:plan decision:decide certificate:issue jury_session:close certificate:revoke]" {
			t.Fatalf("audit: %s", got)
		}
	})
}

// ruleCheck is one request expected to break one rule at one field.
type ruleCheck struct {
	name string
	res  response
	want string // "RULE /field" as violations() writes it
}

func checkRules(t *testing.T, cases []ruleCheck) {
	t.Helper()
	for _, c := range cases {
		p := expect(t, c.res, http.StatusUnprocessableEntity)
		if got := fmt.Sprint(violations(t, p)); got != "["+c.want+"]" || str(p, "code") != "rule_violation" {
			t.Errorf("%s: %s %s, want [%s]", c.name, str(p, "code"), got, c.want)
		}
	}
}

// Every rule the juries bring shows its 422, with its rule id and field.
func TestJuryRules422(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		jury := h.jury()
		plan := func(site, day string, members []string) response {
			if members == nil {
				members = []string{}
			}
			return h.do(req{method: "POST", path: "/v1/jury-sessions", bearer: admin, body: map[string]any{
				"certification_code": "RNCP26206", "training_site_id": site, "held_on": day, "member_ids": members}})
		}
		seat := func(session, member string) response {
			return h.do(req{method: "PUT", path: "/v1/jury-sessions/" + session + "/members/" + member, bearer: admin})
		}
		// A certification site that moved (behind the API's back) to Nouméa.
		nc := expect(t, h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: with(newSite("Salle d'examen", "31000"), "roles", []string{"certification"})}), http.StatusCreated)
		if err := h.store.DB().Exec("UPDATE training_sites SET postal_code = '98800', city = 'Nouméa' WHERE id = ?", str(nc, "id")).Error; err != nil {
			t.Fatal(err)
		}
		second := h.member("Deuxième Directeur", "pedagogical_director")
		sixth := h.member("Sixième Pro", "professional")

		cand := h.candidate(nil)
		h.sit(cand, "E1", "2019-09-02T09:00:00Z", 14)
		h.sit(cand, "E2", "2019-09-02T11:00:00Z", 12)
		h.sit(cand, "E3", "2019-09-02T13:00:00Z", 7)
		s := h.session("2019-10-01")
		h.defend(cand, s, "2019-10-01T09:00:00Z", 12, 14)
		four := h.session("2019-10-02", jury[:4]...)

		pending := h.candidate(map[string]any{"first_name": "Vae", "route": "vae", "training_site_id": nil})
		vaeOld := h.candidate(map[string]any{"first_name": "Ancienne", "route": "vae", "training_site_id": nil, "enrolled_on": "2016-05-02"})

		checkRules(t, []ruleCheck{
			{"SITE-CERTIFICATION: a session at a preparation site", plan(siteMontpellier, "2019-10-01", nil), "SITE-CERTIFICATION /training_site_id"},
			{"TERRITORY: a session in New Caledonia", plan(str(nc, "id"), "2019-10-01", nil), "TERRITORY /training_site_id"},
			{"JURY-COMPOSITION: two pedagogical directors", plan(sitePierreBayle, "2019-10-01", append([]string{second}, jury[:2]...)), "JURY-COMPOSITION /member_ids"},
			{"JURY-COMPOSITION: a sixth member", seat(s, sixth), "JURY-COMPOSITION"},
			{"JURY-COMPOSITION: four members cannot deliberate", decide(h, admin, four, cand, nil), "JURY-COMPOSITION"},
			{"DEFENCE-SLOT: E4 without a session", schedule(h, admin, cand, "E4", sitePierreBayle, "2019-10-01T10:00:00Z"), "DEFENCE-SLOT /jury_session_id"},
			{"DEFENCE-SLOT: E1 in a jury session", h.do(req{method: "POST", path: "/v1/evaluations", bearer: admin, body: map[string]any{
				"candidate_id": h.candidate(map[string]any{"first_name": "Autre"}), "component": "E1", "jury_session_id": s, "scheduled_at": "2019-10-01T10:00:00Z"}}), "DEFENCE-SLOT /jury_session_id"},
			{"DEFENCE-SLOT: overlapping another defence of the session", defence(h, admin, h.candidate(map[string]any{"first_name": "Chevauche"}), s, "2019-10-01T09:30:00Z"), "DEFENCE-SLOT /scheduled_at"},
			{"DEFENCE-SLOT: not on the session's day", defence(h, admin, h.candidate(map[string]any{"first_name": "Lendemain"}), s, "2019-10-02T09:00:00Z"), "DEFENCE-SLOT /scheduled_at"},
			{"VAE-ADMISSIBILITY: a pending VAE application is not booked", defence(h, admin, pending, s, "2019-10-01T14:00:00Z"), "VAE-ADMISSIBILITY /candidate_id"},
			{"VAE-ADMISSIBILITY: nor decided upon", decide(h, admin, s, pending, nil), "VAE-ADMISSIBILITY /candidate_id"},
			{"VAE-EXPERIENCE: a year is needed in 2019", h.do(req{method: "POST", path: "/v1/candidates/" + pending + "/vae-admissibility", bearer: admin,
				headers: map[string]string{"If-Match": `"1"`}, body: map[string]any{"decision": "admissible", "decided_on": "2019-07-01", "experience_months": 6}}), "VAE-EXPERIENCE /experience_months"},
			{"VAE-EXPERIENCE: three years were needed in 2016", h.do(req{method: "POST", path: "/v1/candidates/" + vaeOld + "/vae-admissibility", bearer: admin,
				headers: map[string]string{"If-Match": `"1"`}, body: map[string]any{"decision": "admissible", "decided_on": "2016-07-01", "experience_months": 24}}), "VAE-EXPERIENCE /experience_months"},
			{"AWARD: E3 is failed", decide(h, admin, s, cand, map[string]any{"outcome": "award"}), "AWARD /outcome"},
			{"AWARD: a failed component is not validated", decide(h, admin, s, cand, map[string]any{"validated_components": []string{"E3"}}), "AWARD /validated_components/0"},
		})
		// E4 overlapping another sitting of the candidate.
		busy := h.candidate(map[string]any{"first_name": "Occupée"})
		expect(t, schedule(h, admin, busy, "E2", sitePierreBayle, "2019-10-01T10:10:00Z"), http.StatusCreated)
		checkRules(t, []ruleCheck{{"DEFENCE-SLOT: the candidate sits E2 meanwhile", defence(h, admin, busy, s, "2019-10-01T10:00:00Z"), "DEFENCE-SLOT /scheduled_at"}})

		// JURY-INDEPENDENCE: a member linked to the candidate, or to their site.
		linked := h.candidate(map[string]any{"first_name": "Liée"})
		h.sit(linked, "E1", "2019-09-02T09:00:00Z", 14)
		trainer := h.member("Formatrice", "professional", certification.MemberLink{Kind: certification.LinkTrainer, CandidateID: linked})
		siteLink := h.member("Employeur du site", "professional", certification.MemberLink{Kind: certification.LinkEmployer, TrainingSiteID: siteMontpellier})
		for name, m := range map[string]string{"a link to the candidate": trainer, "a link to their training site": siteLink} {
			js := h.session("2019-10-03", append(append([]string{}, jury[:4]...), m)...)
			checkRules(t, []ruleCheck{{"JURY-INDEPENDENCE: " + name, decide(h, admin, js, linked, nil), "JURY-INDEPENDENCE /candidate_id"}})
			sheet := items(expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + js + "/candidates", bearer: admin}), http.StatusOK))
			if len(sheet) != 0 {
				t.Errorf("a session that heard no defence of theirs lists %v", sheet)
			}
		}

		// MINUTES at the close: every member signs, once, on or after the day.
		expect(t, decide(h, admin, s, cand, nil), http.StatusCreated)
		sigs := func(members []string, at string) []map[string]any {
			var out []map[string]any
			for _, m := range members {
				out = append(out, map[string]any{"member_id": m, "signed_at": at})
			}
			return out
		}
		closeWith := func(signatures []map[string]any) response {
			return h.do(req{method: "POST", path: "/v1/jury-sessions/" + s + "/close", bearer: admin, body: map[string]any{"signatures": signatures}})
		}
		missing := expect(t, closeWith(sigs(jury[:4], "2019-10-01T17:00:00Z")), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, missing)) != "[MINUTES /signatures]" || !strings.Contains(fmt.Sprint(missing["violations"]), "Zoé Pro") {
			t.Errorf("a member did not sign: %v", missing)
		}
		checkRules(t, []ruleCheck{
			{"MINUTES: a stranger signs", closeWith(append(sigs(jury, "2019-10-01T17:00:00Z"), sigs([]string{sixth}, "2019-10-01T17:00:00Z")...)), "MINUTES /signatures/5/member_id"},
			{"MINUTES: signed before the session", closeWith(append(sigs(jury[:1], "2019-09-30T17:00:00Z"), sigs(jury[1:], "2019-10-01T17:00:00Z")...)), "MINUTES /signatures/0/signed_at"},
			{"MINUTES: a member signs twice", closeWith(append(sigs(jury, "2019-10-01T17:00:00Z"), sigs(jury[:1], "2019-10-01T17:00:00Z")...)), "MINUTES /signatures/5/member_id"},
		})
		if js := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + s, bearer: admin}), http.StatusOK); str(js, "status") != "deliberating" {
			t.Fatalf("refused closes changed the session: %v", js)
		}
	})
}

// renew records a registration period that covers 2020-2030, so that juries may
// award in those years.
func (h *harness) renew() {
	h.t.Helper()
	expect(h.t, h.do(req{method: "POST", path: "/v1/certifications/RNCP26206/registration-periods", bearer: h.as(auth.RoleAdmin),
		body: map[string]any{"legal_act": "Arrêté de renouvellement", "effective_from": "2020-01-05", "effective_until": "2030-12-31"}}), http.StatusCreated)
}

func componentsOf(d map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, c := range d["validated_components"].([]any) {
		m := c.(map[string]any)
		out[str(m, "component")] = m
	}
	return out
}

// VALIDITY and AWARD across sessions: a partial validation; a later session within
// five years awards with it; on its fifth anniversary it still counts; the day
// after it does not, and the award is refused.
func TestValidityAcrossSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		h.renew()
		first := h.session("2019-10-01")
		var cands []string
		for _, name := range []string{"Later", "Anniversary", "DayAfter"} {
			c := h.candidate(map[string]any{"first_name": name})
			for i, comp := range []string{"E1", "E2", "E3"} {
				h.sit(c, comp, fmt.Sprintf("2019-09-0%dT09:00:00Z", i+2), 12)
			}
			d := expect(t, decide(h, admin, first, c, nil), http.StatusCreated)
			if str(d, "outcome") != "partial" || len(componentsOf(d)) != 3 {
				t.Fatalf("partial validation: %v", d)
			}
			cands = append(cands, c)
		}
		expect(t, closeSession(h, admin, first, "2019-10-01"), http.StatusOK)
		att := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cands[0] + "/certificates", bearer: admin}), http.StatusOK))
		if len(att) != 1 || str(att[0], "kind") != "attestation" || len(att[0]["components"].([]any)) != 3 {
			t.Fatalf("attestation: %v", att)
		}
		if v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + str(att[0], "number")}), http.StatusOK); len(v["components"].([]any)) != 3 ||
			str(v["components"].([]any)[0].(map[string]any), "valid_until") != "2024-10-01" {
			t.Fatalf("attestation verified: %v", v)
		}

		for i, c := range []struct {
			day, outcome string
			carried      int
		}{{"2021-03-01", "award", 3}, {"2024-10-01", "award", 3}, {"2024-10-02", "partial", 0}} {
			s := h.session(c.day)
			h.defend(cands[i], s, c.day+"T09:00:00Z", 12, 12)
			if c.outcome == "partial" {
				checkRules(t, []ruleCheck{
					{"AWARD: an award with expired components", decide(h, admin, s, cands[i], map[string]any{"outcome": "award"}), "AWARD /outcome"},
					{"VALIDITY: an expired component validated", decide(h, admin, s, cands[i], map[string]any{"validated_components": []string{"E4", "E1"}}), "VALIDITY /validated_components/1"},
				})
			}
			d := expect(t, decide(h, admin, s, cands[i], nil), http.StatusCreated)
			carried := 0
			for _, comp := range componentsOf(d) {
				if comp["validated_now"] == false {
					carried++
					if str(comp, "acquired_on") != "2019-10-01" || str(comp, "valid_until") != "2024-10-01" {
						t.Errorf("%s: an earlier acquisition keeps its dates: %v", c.day, comp)
					}
				}
			}
			if str(d, "outcome") != c.outcome || carried != c.carried {
				t.Errorf("session of %s: %s with %d earlier acquisitions, want %s with %d", c.day, str(d, "outcome"), carried, c.outcome, c.carried)
			}
		}
	})
}

// A component validated through VAE never expires; the certification's five years
// do not apply to it.
func TestVAEPartialValidationNeverExpires(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		vae := h.candidate(map[string]any{"first_name": "Validée", "route": "vae", "training_site_id": nil})
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + vae + "/vae-admissibility", bearer: admin, headers: map[string]string{"If-Match": `"1"`},
			body: map[string]any{"decision": "admissible", "decided_on": "2019-07-01", "experience_months": 40}}), http.StatusOK)
		h.sit(vae, "E1", "2019-09-02T09:00:00Z", 15)
		d := h.deliberate(vae, "2019-10-01")
		if e1 := componentsOf(d)["E1"]; str(d, "outcome") != "partial" || e1 == nil || e1["valid_until"] != nil {
			t.Fatalf("VAE partial validation: %v", d)
		}
		tr := transcript(t, h, admin, vae, "2045-01-01")
		if e1 := standing(tr, "E1"); str(e1, "status") != "acquired" || e1["valid_until"] != nil {
			t.Fatalf("E1 acquired by VAE, 25 years later: %v", e1)
		}
	})
}

// WITHDRAWAL: from the day a candidate withdrew nothing is scheduled, graded,
// moved, booked or decided for them, and their transcript is never awardable.
func TestWithdrawnCandidateIsRefusedEverywhere(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		w := h.candidate(map[string]any{"first_name": "Partie"})
		held := str(expect(t, schedule(h, admin, w, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
		h.sit(w, "E2", "2019-09-03T09:00:00Z", 13)
		s := h.session("2019-10-01")
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + w, bearer: admin}), http.StatusOK)
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + w + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, c["version"])}, body: map[string]any{"reason": "Déménagement", "withdrawn_on": "2019-09-20"}}), http.StatusOK)
		checkRules(t, []ruleCheck{
			{"scheduled", schedule(h, admin, w, "E3", sitePierreBayle, "2019-09-25T09:00:00Z"), "WITHDRAWAL /candidate_id"},
			{"scheduled before the withdrawal day, but on or after it", schedule(h, admin, w, "E3", sitePierreBayle, "2019-09-10T09:00:00Z"), "WITHDRAWAL /candidate_id"},
			{"graded", recordResult(h, admin, held, map[string]any{"grade": 12}), "WITHDRAWAL"},
			{"moved", h.do(req{method: "PATCH", path: "/v1/evaluations/" + held, bearer: admin, contentType: "application/merge-patch+json",
				headers: map[string]string{"If-Match": `"1"`}, body: `{"scheduled_at":"2019-09-05T09:00:00Z"}`}), "WITHDRAWAL /candidate_id"},
			{"booked for a defence", defence(h, admin, w, s, "2019-10-01T09:00:00Z"), "WITHDRAWAL /candidate_id"},
			{"decided upon", decide(h, admin, s, w, nil), "WITHDRAWAL /candidate_id"},
		})
		tr := transcript(t, h, admin, w, "2019-10-01")
		if tr["awardable"] != false || !strings.Contains(fmt.Sprint(violations(t, map[string]any{"violations": tr["reasons"]})), "WITHDRAWAL /withdrawn_on") {
			t.Fatalf("transcript after the withdrawal: %v", tr)
		}
		// A sitting is still cancelled: nothing is decided by it.
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + held + "/cancellation", bearer: admin,
			headers: map[string]string{"If-Match": `"1"`}, body: map[string]any{"reason": "withdrawn"}}), http.StatusOK)
	})
}

// CARRY-OVER: the same person registering again keeps every component still valid,
// with its original date, and the replaced registration takes no further act.
func TestReRegistrationCarriesAcquisitionsOver(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		person := map[string]any{"first_name": "Reprise", "birth_name": "Dupont"}
		old := h.candidate(person)
		h.sit(old, "E1", "2019-09-02T09:00:00Z", 14)
		h.sit(old, "E2", "2019-09-03T09:00:00Z", 11)
		h.sit(old, "E3", "2019-09-04T09:00:00Z", 6)
		if d := h.deliberate(old, "2019-10-01"); str(d, "outcome") != "partial" {
			t.Fatalf("first registration: %v", d)
		}
		again := expect(t, register(h, admin, with(person, "enrolled_on", "2019-10-15")), http.StatusCreated)
		id := str(again, "id")
		if o := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + old, bearer: admin}), http.StatusOK); str(o, "superseded_by") != id || str(o, "status") != "partially_validated" {
			t.Fatalf("the replaced registration: %v", o)
		}
		if p := expect(t, register(h, admin, person), http.StatusConflict); str(p, "existing_id") != id {
			t.Fatalf("a third registration while the second is current: %v", p)
		}
		tr := transcript(t, h, admin, id, "2019-10-20")
		for comp, status := range map[string]string{"E1": "acquired", "E2": "acquired", "E3": "not_taken", "E4": "not_taken"} {
			s := standing(tr, comp)
			if str(s, "status") != status || (status == "acquired" && (s["carried_over"] != true || str(s, "acquired_on") != "2019-10-01")) {
				t.Errorf("%s on the new registration: %v", comp, s)
			}
		}
		if p := expect(t, schedule(h, admin, id, "E1", sitePierreBayle, "2019-10-21T09:00:00Z"), http.StatusConflict); str(p, "code") != "component_acquired" {
			t.Fatalf("retaking a carried acquisition: %v", p)
		}
		checkRules(t, []ruleCheck{{"CARRY-OVER: an act on the replaced registration", schedule(h, admin, old, "E3", sitePierreBayle, "2019-10-21T09:00:00Z"), "CARRY-OVER /candidate_id"}})
		h.sit(id, "E3", "2019-10-22T09:00:00Z", 12)
		s := h.session("2019-11-04")
		h.defend(id, s, "2019-11-04T09:00:00Z", 12, 13)
		d := h.decideIn(s, id, "2019-11-04")
		comps := componentsOf(d)
		if str(d, "outcome") != "award" || comps["E1"]["validated_now"] != false || str(comps["E1"], "acquired_on") != "2019-10-01" || comps["E3"]["validated_now"] != true {
			t.Fatalf("the award on the new registration: %v", d)
		}

		// After a withdrawal too.
		gone := h.candidate(map[string]any{"first_name": "Retour", "birth_name": "Durand"})
		h.sit(gone, "E2", "2019-09-02T09:00:00Z", 15)
		h.deliberate(gone, "2019-10-01")
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + gone, bearer: admin}), http.StatusOK)
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + gone + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, c["version"])}, body: map[string]any{"reason": "pause", "withdrawn_on": "2019-10-10"}}), http.StatusOK)
		back := str(expect(t, register(h, admin, map[string]any{"first_name": "Retour", "birth_name": "Durand", "enrolled_on": "2019-12-01"}), http.StatusCreated), "id")
		if s := standing(transcript(t, h, admin, back, "2019-12-02"), "E2"); str(s, "status") != "acquired" || s["carried_over"] != true {
			t.Fatalf("after a withdrawal: %v", s)
		}
	})
}

// PUBLICATION: a closed deliberation is never edited; a correction is a new decision
// that names the old one, published at once, with its effects.
func TestDecisionCorrections(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		for i, comp := range []string{"E1", "E2", "E3"} {
			h.sit(cand, comp, fmt.Sprintf("2019-09-0%dT09:00:00Z", i+2), 13)
		}
		s := h.session("2019-10-01")
		draft := expect(t, decide(h, admin, s, cand, map[string]any{"validated_components": []string{"E1"}}), http.StatusCreated)
		if p := expect(t, decide(h, admin, s, cand, nil), http.StatusConflict); str(p, "code") != "decision_exists" || str(p, "existing_id") != str(draft, "id") {
			t.Fatalf("a second decision: %v", p)
		}
		if p := expect(t, decide(h, admin, s, cand, map[string]any{"corrects": str(draft, "id")}), http.StatusConflict); str(p, "code") != "session_not_closed" {
			t.Fatalf("correcting a draft: %v", p)
		}
		// A draft is taken back and made again.
		expect(t, h.do(req{method: "DELETE", path: "/v1/jury-sessions/" + s + "/decisions/" + str(draft, "id"), bearer: admin}), http.StatusNoContent)
		first := expect(t, decide(h, admin, s, cand, nil), http.StatusCreated)
		expect(t, closeSession(h, admin, s, "2019-10-01"), http.StatusOK)
		path := "/v1/jury-sessions/" + s + "/decisions/" + str(first, "id")
		if p := expect(t, h.do(req{method: "DELETE", path: path, bearer: admin}), http.StatusConflict); str(p, "code") != "decision_published" {
			t.Fatalf("deleting a published decision: %v", p)
		}
		late := h.candidate(map[string]any{"first_name": "Late"})
		if p := expect(t, decide(h, admin, s, late, nil), http.StatusConflict); str(p, "code") != "session_closed" {
			t.Fatalf("a new decision in a closed session: %v", p)
		}
		checkRules(t, []ruleCheck{{"PUBLICATION: a correction names another candidate's decision",
			decide(h, admin, s, late, map[string]any{"corrects": str(first, "id")}), "PUBLICATION /corrects"}})
		oldNumber := str(expect(t, h.do(req{method: "GET", path: path, bearer: admin}), http.StatusOK), "certificate_number")

		corr := expect(t, decide(h, admin, s, cand, map[string]any{"corrects": str(first, "id"), "validated_components": []string{"E1", "E2"},
			"reason": "E3 : copie non conforme"}), http.StatusCreated)
		if str(corr, "corrects") != str(first, "id") || corr["revision"] != 2.0 || str(corr, "status") != "published" || len(componentsOf(corr)) != 2 {
			t.Fatalf("correction: %v", corr)
		}
		if old := expect(t, h.do(req{method: "GET", path: path, bearer: admin}), http.StatusOK); str(old, "status") != "superseded" || str(old, "superseded_by") != str(corr, "id") {
			t.Fatalf("the corrected decision: %v", old)
		}
		if p := expect(t, decide(h, admin, s, cand, map[string]any{"corrects": str(first, "id")}), http.StatusConflict); str(p, "code") != "decision_superseded" {
			t.Fatalf("correcting it twice: %v", p)
		}
		if v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + oldNumber}), http.StatusOK); str(v, "status") != "revoked" {
			t.Fatalf("the corrected decision's attestation: %v", v)
		}
		if v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + str(corr, "certificate_number")}), http.StatusOK); len(v["components"].([]any)) != 2 {
			t.Fatalf("the correction's attestation: %v", v)
		}
		tr := transcript(t, h, admin, cand, "2019-10-02")
		if str(standing(tr, "E2"), "status") != "acquired" || str(standing(tr, "E3"), "status") != "graded" {
			t.Fatalf("after the correction: %v", tr["components"])
		}
		m := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + s + "/minutes", bearer: admin}), http.StatusOK)
		if ds := m["decisions"].([]any); len(ds) != 2 || str(ds[1].(map[string]any), "corrects") != str(first, "id") {
			t.Fatalf("the minutes keep both: %v", ds)
		}
		var actions []string
		for _, ev := range items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=decision", bearer: admin}), http.StatusOK)) {
			actions = append(actions, str(ev, "action"))
		}
		if fmt.Sprint(actions) != "[decide delete decide decide]" {
			t.Fatalf("audit of decisions: %v", actions)
		}
	})
}

// concurrently runs n requests at once and returns their statuses.
func concurrently(n int, fn func(i int) response) []int {
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = fn(i).code
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func count(codes []int, status int) int {
	n := 0
	for _, c := range codes {
		if c == status {
			n++
		}
	}
	return n
}

// Concurrent writers on one session: the session's row lock (MariaDB) or the one
// writer (SQLite) make the rules hold between them. Never six members, never two
// closes, never two decisions on one candidate.
func TestJuryConcurrency(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		var people []string
		for i := range 12 {
			role := certification.Professional
			if i < 3 {
				role = certification.PedagogicalDirector
			}
			people = append(people, h.member(fmt.Sprint("Concurrent ", i), role))
		}
		empty := h.session("2019-10-01", []string{}...)
		codes := concurrently(len(people), func(i int) response {
			return h.do(req{method: "PUT", path: "/v1/jury-sessions/" + empty + "/members/" + people[i], bearer: admin})
		})
		js := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + empty, bearer: admin}), http.StatusOK)
		directors := 0
		for _, id := range js["member_ids"].([]any) {
			for i := range 3 {
				if id == people[i] {
					directors++
				}
			}
		}
		if count(codes, http.StatusOK) != 5 || count(codes, http.StatusUnprocessableEntity) != 7 || len(js["member_ids"].([]any)) != 5 || directors != 1 {
			t.Fatalf("12 concurrent seats: %v, seated %v (%d directors)", codes, js["member_ids"], directors)
		}

		// Two additions to a jury of four: one takes the last seat.
		four := h.session("2019-10-01", h.jury()[:4]...)
		codes = concurrently(2, func(i int) response {
			return h.do(req{method: "PUT", path: "/v1/jury-sessions/" + four + "/members/" + people[3+i], bearer: admin})
		})
		if count(codes, http.StatusOK) != 1 || count(codes, http.StatusUnprocessableEntity) != 1 {
			t.Fatalf("two additions to four: %v", codes)
		}

		// Two decisions for one candidate.
		s := h.session("2019-10-02")
		cand := h.candidate(nil)
		h.sit(cand, "E1", "2019-09-02T09:00:00Z", 12)
		codes = concurrently(2, func(int) response { return decide(h, admin, s, cand, nil) })
		if count(codes, http.StatusCreated) != 1 || count(codes, http.StatusConflict) != 1 {
			t.Fatalf("two decisions for one candidate: %v", codes)
		}
		// Two closes.
		codes = concurrently(2, func(int) response { return closeSession(h, admin, s, "2019-10-02") })
		if count(codes, http.StatusOK) != 1 || count(codes, http.StatusConflict) != 1 {
			t.Fatalf("two closes: %v", codes)
		}
		certs := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/certificates", bearer: admin}), http.StatusOK))
		if len(certs) != 1 {
			t.Fatalf("one close issues one attestation: %v", certs)
		}
	})
}

// Who sees what of the juries: a jury member their sessions and those sessions'
// candidates; a candidate and their site's staff published decisions only.
func TestJuryVisibility(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, jury, staff := h.as(auth.RoleAdmin), h.as(auth.RoleJuryMember), h.as(auth.RoleSiteStaff)
		h.as(auth.RoleCandidate)
		own := h.ownCandidate()
		theirs := h.session("2019-10-01")
		others := h.session("2019-10-01", append([]string{h.jury()[0]}, h.member("P1", "professional"), h.member("P2", "professional"),
			h.member("P3", "professional"), h.member("P4", "professional"))...)
		heard := h.candidate(map[string]any{"first_name": "Entendue"}) // Montpellier: the staff's site
		elsewhere := h.candidate(map[string]any{"first_name": "Ailleurs"})
		h.sit(heard, "E1", "2019-09-02T09:00:00Z", 13)
		h.defend(heard, theirs, "2019-10-01T09:00:00Z", 12, 12)
		h.defend(elsewhere, others, "2019-10-01T09:00:00Z", 12, 12)

		list := items(expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions", bearer: jury}), http.StatusOK))
		if len(list) != 1 || str(list[0], "id") != theirs {
			t.Fatalf("a jury member's sessions: %v", list)
		}
		for _, p := range []string{"", "/candidates", "/decisions", "/minutes"} {
			expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + others + p, bearer: jury}), http.StatusNotFound)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard, bearer: jury}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard + "/transcript", bearer: jury}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + elsewhere, bearer: jury}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + own, bearer: jury}), http.StatusNotFound)
		if evs := items(expect(t, h.do(req{method: "GET", path: "/v1/evaluations", bearer: jury}), http.StatusOK)); len(evs) != 2 {
			t.Fatalf("the sittings a jury member sees: %d, want the heard candidate's two", len(evs))
		}
		// Not even the director's staff see another session's decisions as a jury member.
		expect(t, decide(h, admin, theirs, heard, nil), http.StatusCreated)
		expect(t, decide(h, jury, theirs, heard, nil), http.StatusForbidden)
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + theirs + "/decisions", bearer: jury}), http.StatusOK))); n != 1 {
			t.Fatalf("the jury member's session decisions: %d", n)
		}
		// Before the close, the staff of the candidate's site see no decision.
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard + "/decisions", bearer: staff}), http.StatusOK))); n != 0 {
			t.Fatalf("site staff see %d draft decisions", n)
		}
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard + "/decisions", bearer: admin}), http.StatusOK))); n != 1 {
			t.Fatalf("the certifier sees %d draft decisions", n)
		}
		expect(t, closeSession(h, admin, theirs, "2019-10-01"), http.StatusOK)
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard + "/decisions", bearer: staff}), http.StatusOK))); n != 1 {
			t.Fatalf("site staff see %d published decisions", n)
		}
		expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + theirs + "/minutes", bearer: jury}), http.StatusOK)
		cand := h.as(auth.RoleCandidate)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard + "/decisions", bearer: cand}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + heard + "/certificates", bearer: cand}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + own + "/certificates", bearer: cand}), http.StatusOK)
	})
}

// Jury members: their record, their declared links, their seat, and the one account
// bound to each.
func TestJuryMembers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, director := h.as(auth.RoleAdmin), h.as(auth.RoleDirector)
		create := func(body map[string]any) response {
			return h.do(req{method: "POST", path: "/v1/jury-members", bearer: director, body: body})
		}
		base := map[string]any{"full_name": "Claire Dubois", "role": "professional", "organisation": "Agence Pixel", "email": "Claire@Pixel.example"}
		const nobody = "01900000-0000-7000-8000-000000000000"
		for _, c := range []struct {
			links []any
			want  string
		}{
			{[]any{map[string]any{"kind": "trainer", "candidate_id": nobody}}, "[/links/0/candidate_id]"},
			{[]any{map[string]any{"kind": "other", "training_site_id": nobody}}, "[/links/0/training_site_id]"},
			{[]any{map[string]any{"kind": "employer", "candidate_id": h.candidate(nil), "training_site_id": siteMontpellier}}, "[/links/0]"},
			{[]any{map[string]any{"kind": "employer"}}, "[/links/0]"},
		} {
			p := expect(t, create(with(base, "links", c.links)), http.StatusUnprocessableEntity)
			if got := fmt.Sprint(violations(t, p)); got != c.want || str(p, "code") != "invalid_value" {
				t.Errorf("links %v: %s %s, want %s", c.links, str(p, "code"), got, c.want)
			}
		}
		expect(t, create(with(base, "full_name", "  ")), http.StatusBadRequest)
		m := expect(t, create(with(base, "links", []any{map[string]any{"kind": "trainer", "training_site_id": siteMontpellier}})), http.StatusCreated)
		id := str(m, "id")
		if str(m, "email") != "claire@pixel.example" || len(m["links"].([]any)) != 1 {
			t.Fatalf("created: %v", m)
		}
		patch := func(etag, body string) response {
			return h.do(req{method: "PATCH", path: "/v1/jury-members/" + id, bearer: director, contentType: "application/merge-patch+json",
				headers: map[string]string{"If-Match": etag}, body: body})
		}
		m = expect(t, patch(`"1"`, `{"organisation":"Pixel & Co","links":[]}`), http.StatusOK)
		if str(m, "organisation") != "Pixel & Co" || len(m["links"].([]any)) != 0 || m["version"] != 2.0 {
			t.Fatalf("patched: %v", m)
		}
		expect(t, patch(`"1"`, `{"organisation":"x"}`), http.StatusPreconditionFailed)

		// Seated in a session not yet closed, the member keeps their seat and stays.
		s := h.session("2019-10-01", id)
		if p := expect(t, patch(`"2"`, `{"role":"pedagogical_director"}`), http.StatusConflict); str(p, "code") != "member_in_session" {
			t.Fatalf("a change of seat: %v", p)
		}
		del := func(etag string) response {
			return h.do(req{method: "DELETE", path: "/v1/jury-members/" + id, bearer: director, headers: map[string]string{"If-Match": etag}})
		}
		expect(t, del(`"2"`), http.StatusConflict)
		expect(t, h.do(req{method: "DELETE", path: "/v1/jury-sessions/" + s + "/members/" + id, bearer: director}), http.StatusOK)
		if m = expect(t, del(`"2"`), http.StatusOK); m["active"] != false {
			t.Fatalf("deactivated: %v", m)
		}
		p := expect(t, h.do(req{method: "PUT", path: "/v1/jury-sessions/" + s + "/members/" + id, bearer: director}), http.StatusUnprocessableEntity)
		if !strings.Contains(fmt.Sprint(p["violations"]), "no longer sits") {
			t.Fatalf("seating an inactive member: %v", p)
		}
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/jury-members", bearer: admin}), http.StatusOK))); n != 0 {
			t.Fatalf("the default list shows %d inactive members", n)
		}
		if n := len(items(expect(t, h.do(req{method: "GET", path: "/v1/jury-members?include_inactive=true", bearer: admin}), http.StatusOK))); n != 1 {
			t.Fatalf("include_inactive: %d", n)
		}

		// One account per member, and only for a member who exists.
		account := func(email, member string) response {
			return h.do(req{method: "POST", path: "/v1/users", bearer: admin, body: map[string]any{"email": email, "role": "jury_member",
				"password": "a-long-enough-password", "jury_member_id": member}})
		}
		if p := expect(t, account("ghost@jury.example", nobody), http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "[/jury_member_id]" {
			t.Fatalf("an account for no member: %v", p)
		}
		first := expect(t, account("claire@jury.example", id), http.StatusCreated)
		if p := expect(t, account("claire2@jury.example", id), http.StatusConflict); str(p, "code") != "jury_member_bound" || str(p, "existing_id") != str(first, "id") {
			t.Fatalf("a second account for the member: %v", p)
		}

		// A jury member reads their own record only.
		jury := h.as(auth.RoleJuryMember)
		expect(t, h.do(req{method: "GET", path: "/v1/jury-members/" + h.jury()[1], bearer: jury}), http.StatusOK)
		expect(t, h.do(req{method: "GET", path: "/v1/jury-members/" + h.jury()[2], bearer: jury}), http.StatusNotFound)
		if l := items(expect(t, h.do(req{method: "GET", path: "/v1/jury-members", bearer: jury}), http.StatusOK)); len(l) != 1 || str(l[0], "id") != h.jury()[1] {
			t.Fatalf("a jury member's list: %v", l)
		}
	})
}

// Verification needs no credentials, so it is limited per client address: 60 a
// minute, then 429 with Retry-After until the window ends.
func TestCertificateVerificationIsRateLimited(t *testing.T) {
	clock := newClock()
	h := newHarnessOn(t, testdb.Open(t, "sqlite"), clock.now)
	codes := map[int]int{}
	for range 65 {
		res := h.do(req{method: "GET", path: "/v1/certificates/AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"})
		codes[res.code]++
		if res.code == http.StatusTooManyRequests && res.hdr.Get("Retry-After") != "30" {
			t.Fatalf("a 429 without Retry-After: %v", res.hdr)
		}
	}
	if codes[http.StatusNotFound] != 60 || codes[http.StatusTooManyRequests] != 5 {
		t.Fatalf("statuses: %v, want 60 × 404 then 5 × 429", codes)
	}
	clock.advance(30 * time.Second)
	expect(t, h.do(req{method: "GET", path: "/v1/certificates/AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}), http.StatusNotFound)
}

// One deliberation at a time: a candidate on whom a session has decided is decided
// on nowhere else until it closes; a certified candidate, nowhere at all.
func TestOneDeliberationAtATime(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		for i, comp := range []string{"E1", "E2", "E3"} {
			h.sit(cand, comp, fmt.Sprintf("2019-09-0%dT09:00:00Z", i+2), 12)
		}
		a, b := h.session("2019-10-01"), h.session("2019-10-02")
		h.defend(cand, a, "2019-10-01T09:00:00Z", 12, 12)
		first := expect(t, decide(h, admin, a, cand, nil), http.StatusCreated)
		if p := expect(t, decide(h, admin, b, cand, nil), http.StatusConflict); str(p, "code") != "decision_pending" || str(p, "existing_id") != str(first, "id") {
			t.Fatalf("a second session decides meanwhile: %v", p)
		}
		expect(t, closeSession(h, admin, a, "2019-10-01"), http.StatusOK)
		if p := expect(t, decide(h, admin, b, cand, nil), http.StatusConflict); str(p, "code") != "already_certified" {
			t.Fatalf("after the award: %v", p)
		}
		if certs := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/certificates", bearer: admin}), http.StatusOK)); len(certs) != 1 {
			t.Fatalf("certificates: %v", certs)
		}
		// Deleting the last draft of a session plans it again: its members may change.
		other := h.candidate(map[string]any{"first_name": "Autre"})
		h.sit(other, "E1", "2019-09-02T09:00:00Z", 12)
		d := expect(t, decide(h, admin, b, other, nil), http.StatusCreated)
		expect(t, h.do(req{method: "PUT", path: "/v1/jury-sessions/" + b + "/members/" + h.jury()[1], bearer: admin}), http.StatusConflict)
		expect(t, h.do(req{method: "DELETE", path: "/v1/jury-sessions/" + b + "/decisions/" + str(d, "id"), bearer: admin}), http.StatusNoContent)
		if js := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + b, bearer: admin}), http.StatusOK); str(js, "status") != "planned" || js["deliberation_started_at"] != nil {
			t.Fatalf("after its last draft is deleted: %v", js)
		}
		expect(t, h.do(req{method: "DELETE", path: "/v1/jury-sessions/" + b + "/members/" + h.jury()[1], bearer: admin}), http.StatusOK)
	})
}

// The close checks every draft again on the facts as they are then: a candidate
// who withdrew meanwhile, or a member's link declared since, stops it, and nothing
// is published.
func TestCloseChecksDraftsAgain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(map[string]any{"first_name": "Partie", "birth_name": "Tard"})
		h.sit(cand, "E1", "2019-09-02T09:00:00Z", 12)
		s := h.session("2019-10-01")
		d := expect(t, decide(h, admin, s, cand, nil), http.StatusCreated)
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: admin}), http.StatusOK)
		expect(t, h.do(req{method: "POST", path: "/v1/candidates/" + cand + "/withdrawal", bearer: admin,
			headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, c["version"])}, body: map[string]any{"reason": "x", "withdrawn_on": "2019-09-20"}}), http.StatusOK)
		p := expect(t, closeSession(h, admin, s, "2019-10-01"), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[WITHDRAWAL]" || !strings.Contains(fmt.Sprint(p["violations"]), "Partie Tard:") {
			t.Fatalf("a close over a withdrawal: %v", p)
		}
		if js := expect(t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + s, bearer: admin}), http.StatusOK); str(js, "status") != "deliberating" {
			t.Fatalf("the refused close changed the session: %v", js)
		}
		if certs := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand + "/certificates", bearer: admin}), http.StatusOK)); len(certs) != 0 {
			t.Fatalf("the refused close issued %v", certs)
		}
		expect(t, h.do(req{method: "DELETE", path: "/v1/jury-sessions/" + s + "/decisions/" + str(d, "id"), bearer: admin}), http.StatusNoContent)
	})
}

// A correction corrects the candidate's latest decision only: an award a later
// session gave relies on an earlier partial validation.
func TestCorrectionsOfTheLatestDecisionOnly(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		for i, comp := range []string{"E1", "E2", "E3"} {
			h.sit(cand, comp, fmt.Sprintf("2019-09-0%dT09:00:00Z", i+2), 12)
		}
		first := h.deliberate(cand, "2019-10-01")
		later := h.session("2019-11-04")
		h.defend(cand, later, "2019-11-04T09:00:00Z", 12, 12)
		award := h.decideIn(later, cand, "2019-11-04")
		if str(award, "outcome") != "award" {
			t.Fatalf("award: %v", award)
		}
		p := expect(t, decide(h, admin, str(first, "jury_session_id"), cand, map[string]any{"corrects": str(first, "id"),
			"validated_components": []string{}, "reason": "x"}), http.StatusConflict)
		if str(p, "code") != "decision_not_latest" || str(p, "existing_id") != str(award, "id") {
			t.Fatalf("correcting what a later award relies on: %v", p)
		}
		// Correcting the award down revokes its certificate and the candidate no
		// longer carries its number.
		corr := expect(t, decide(h, admin, later, cand, map[string]any{"corrects": str(award, "id"), "validated_components": []string{}, "reason": "E4 : fraude"}), http.StatusCreated)
		if str(corr, "outcome") != "partial" {
			t.Fatalf("the correction: %v", corr)
		}
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: admin}), http.StatusOK)
		if c["certificate_number"] != nil || str(c, "status") != "partially_validated" {
			t.Fatalf("the candidate after the correction: %v", c)
		}
		if v := expect(t, h.do(req{method: "GET", path: "/v1/certificates/" + str(award, "certificate_number")}), http.StatusOK); str(v, "status") != "revoked" {
			t.Fatalf("the corrected award's certificate: %v", v)
		}
	})
}

// VALIDITY follows the route a result was validated on: once a jury validated one,
// the registration's route no longer changes.
func TestRouteIsFixedOnceValidated(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		cand := h.candidate(nil)
		h.sit(cand, "E1", "2019-09-02T09:00:00Z", 12)
		h.deliberate(cand, "2019-10-01")
		c := expect(t, h.do(req{method: "GET", path: "/v1/candidates/" + cand, bearer: admin}), http.StatusOK)
		p := expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + cand, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, c["version"])}, body: `{"route":"vae","training_site_id":null}`}), http.StatusConflict)
		if str(p, "code") != "route_fixed" {
			t.Fatalf("changing the route: %v", p)
		}
		expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + cand, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, c["version"])}, body: `{"phone":"0102030405"}`}), http.StatusOK)
	})
}

// A defence is the jury's: its result is not the preparation site's to see before
// the session closes, nor to cancel, nor to correct after the minutes are signed.
func TestDefencesAreTheJurys(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin, staff := h.as(auth.RoleAdmin), h.as(auth.RoleSiteStaff)
		cand := h.candidate(nil) // Montpellier: the staff's site
		s := h.session("2019-10-01")
		e4 := h.defend(cand, s, "2019-10-01T09:00:00Z", 6, 7)
		if e := expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + e4, bearer: staff}), http.StatusOK); e["result"] != nil || str(e, "status") != "graded" {
			t.Fatalf("the staff's view of an open session's defence: %v", e)
		}
		if st := standing(transcript(t, h, staff, cand, "2019-10-02"), "E4"); st["grade"] != nil || str(st, "status") != "graded" {
			t.Fatalf("the staff's transcript before the close: %v", st)
		}
		expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + e4 + "/cancellation", bearer: staff,
			headers: map[string]string{"If-Match": "*"}, body: map[string]any{"reason": "x"}}), http.StatusForbidden)
		h.decideIn(s, cand, "2019-10-01")
		if e := expect(t, h.do(req{method: "GET", path: "/v1/evaluations/" + e4, bearer: staff}), http.StatusOK); e["result"] == nil {
			t.Fatalf("the staff's view after the close: %v", e)
		}
		if st := standing(transcript(t, h, staff, cand, "2019-10-02"), "E4"); st["grade"] != 6.5 || str(st, "status") != "failed" {
			t.Fatalf("the staff's transcript after the close: %v", st)
		}
		p := expect(t, h.do(req{method: "POST", path: "/v1/evaluations/" + e4 + "/result-correction", bearer: admin,
			headers: map[string]string{"If-Match": "*"}, body: map[string]any{"dossier_grade": 14, "defence_grade": 15, "reason": "x"}}), http.StatusConflict)
		if str(p, "code") != "session_closed" {
			t.Fatalf("correcting a defence after the minutes: %v", p)
		}
	})
}
