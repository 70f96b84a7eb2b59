package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
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
