package httpapi_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/cdc/cdctest"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/testdb"
)

// The day the declaration tests run on: after the 2019 sessions they award in.
var declarationsNow = time.Date(2020, 3, 2, 9, 0, 0, 0, time.UTC)

var testIssuer = cdc.Issuer{ClientID: "03BHY312", ContractID: "MCFCER000775"}

// forEachDialectDeclaring runs fn on both databases, with the certifier's ids at the
// Caisse configured and the clock at declarationsNow.
func forEachDialectDeclaring(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newHarnessOn(t, testdb.Open(t, d), func() time.Time { return declarationsNow },
				func(o *httpapi.Options) { o.Issuer = testIssuer }))
		})
	}
}

// award is a published award: its decision and the holder's candidate.
type award struct {
	candidate, decision, certificate string
}

// awardAll registers each holder (fields over candidateBody's), has them sit E1 to
// E3 and defend E4 before a session held on day, which awards them all and closes.
func (h *harness) awardAll(day string, holders ...map[string]any) []award {
	h.t.Helper()
	admin := h.as(auth.RoleAdmin)
	cands := make([]string, len(holders))
	for i, fields := range holders {
		cands[i] = h.candidate(fields)
		if fields["route"] == "vae" {
			expect(h.t, h.do(req{method: "POST", path: "/v1/candidates/" + cands[i] + "/vae-admissibility", bearer: admin,
				headers: map[string]string{"If-Match": "*"}, body: map[string]any{"decision": "admissible", "decided_on": "2019-07-01", "experience_months": 24}}), http.StatusOK)
		}
		for j, comp := range []string{"E1", "E2", "E3"} {
			h.sit(cands[i], comp, fmt.Sprintf("2019-09-%02dT%02d:00:00Z", 2+j, 8+i%10), 12)
		}
	}
	session := h.session(day)
	slot, _ := time.Parse(time.RFC3339, day+"T08:00:00Z")
	for _, c := range cands {
		h.defend(c, session, slot.Format(time.RFC3339), 12, 13)
		slot = slot.Add(45 * time.Minute)
	}
	for _, c := range cands {
		expect(h.t, decide(h, admin, session, c, nil), http.StatusCreated)
	}
	expect(h.t, closeSession(h, admin, session, day), http.StatusOK)
	byCandidate := map[string]map[string]any{}
	for _, d := range items(expect(h.t, h.do(req{method: "GET", path: "/v1/jury-sessions/" + session + "/decisions?limit=100", bearer: admin}), http.StatusOK)) {
		byCandidate[str(d, "candidate_id")] = d
	}
	out := make([]award, len(cands))
	for i, c := range cands {
		d := byCandidate[c]
		if str(d, "outcome") != "award" {
			h.t.Fatalf("candidate %d is not awarded: %v", i, d)
		}
		out[i] = award{candidate: c, decision: str(d, "id"), certificate: str(d, "certificate_number")}
	}
	return out
}

// passage is what a test reads of a passageCertification.
type passage struct {
	IDTechnique string `xml:"idTechnique"`
	Debut       string `xml:"dateDebutValidite"`
	Modalite    string `xml:"modalitesInscription>modaliteAcces"`
	VAE         string `xml:"modalitesInscription>voieAccessVAE"`
	Naissance   string `xml:"identificationTitulaire>titulaire>nomNaissance"`
	Usage       string `xml:"identificationTitulaire>titulaire>nomUsage"`
	Prenom      string `xml:"identificationTitulaire>titulaire>prenom1"`
	Insee       string `xml:"identificationTitulaire>titulaire>codeCommuneNaissance>codeInseeNaissance>codeInsee"`
	Postal      string `xml:"identificationTitulaire>titulaire>codeCommuneNaissance>codePostalNaissance>codePostal"`
	Pays        string `xml:"identificationTitulaire>titulaire>codePaysNaissance"`
	LibellePays string `xml:"identificationTitulaire>titulaire>libellePaysNaissance"`
}

type fluxDoc struct {
	IDFlux   string    `xml:"idFlux"`
	Client   string    `xml:"emetteur>idClient"`
	Passages []passage `xml:"emetteur>certificateurs>certificateur>certifications>certification>passageCertifications>passageCertification"`
}

// readFlux checks a flux against the Caisse's schema with xmllint, and reads it.
func readFlux(t *testing.T, res response) fluxDoc {
	t.Helper()
	if res.code != http.StatusOK || res.hdr.Get("Content-Type") != "application/xml" {
		t.Fatalf("%d %s: %s", res.code, res.hdr.Get("Content-Type"), res.raw)
	}
	cdctest.Validate(t, res.raw)
	var f fluxDoc
	if err := xml.Unmarshal(res.raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fluxDoc) byID() map[string]passage {
	m := map[string]passage{}
	for _, p := range f.Passages {
		m[p.IDTechnique] = p
	}
	return m
}

var (
	sixtyBirth = "Nguyễn-" + strings.Repeat("Đ", 53)
	sixtyUsage = strings.Repeat("Ü", 59) + "z"
)

// declaredHolders cover the access routes open for RNCP26206, births in France by
// commune code and by postal code only, overseas and abroad, usage names, names of
// 60 characters and names with what XML escapes.
func declaredHolders() []map[string]any {
	return []map[string]any{
		{"route": "initial_training", "first_name": "Élodie", "birth_name": "L'Hôpital", "usage_name": "Dupont & Fils",
			"birth_place": map[string]any{"insee_code": "31555", "name": "Toulouse", "country_code": "FR"}},
		{"route": "continuing_education", "first_name": "Zoë", "birth_name": "<Martin>",
			"birth_place": map[string]any{"postal_code": "34000", "name": "Montpellier", "country_code": "FR"}},
		{"route": "professionalisation_contract", "first_name": "Jean-Baptiste", "birth_name": sixtyBirth, "usage_name": sixtyUsage, "sex": "M",
			"birth_place": map[string]any{"postal_code": "10115", "name": "Berlin", "country_code": "DE"}},
		{"route": "individual_application", "training_site_id": nil, "first_name": "Ana", "birth_name": `O'Neil "Junior"`,
			"birth_place": map[string]any{"insee_code": "99350", "name": "Fès", "country_code": "MA"}},
		{"route": "vae", "training_site_id": nil, "first_name": "Çağla", "birth_name": "Öztürk",
			"birth_place": map[string]any{"insee_code": "97411", "name": "Saint-Denis", "country_code": "RE"}},
	}
}

func exportPath(from, to string) string {
	return "/v1/exports/holders-declaration?from=" + from + "&to=" + to
}

// The export is the flux of the awards of the period, valid against the Caisse's
// schema: every access route, births in France and abroad, names escaped and whole.
// A partial validation and a revoked certificate are not declared.
func TestHoldersDeclarationExport(t *testing.T) {
	forEachDialectDeclaring(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		awards := h.awardAll("2019-10-01", declaredHolders()...)
		later := h.awardAll("2019-11-05", map[string]any{"first_name": "Tardive", "birth_name": "Novembre"})
		revoked := h.awardAll("2019-10-02", map[string]any{"first_name": "Révoquée", "birth_name": "Fraude"})
		expect(t, h.do(req{method: "POST", path: "/v1/certificates/" + revoked[0].certificate + "/revocation", bearer: admin,
			body: map[string]any{"reason": "Fraude à l'épreuve E3"}}), http.StatusOK)
		partial := h.candidate(map[string]any{"first_name": "Partielle", "birth_name": "Validation"})
		h.sit(partial, "E1", "2019-09-02T14:00:00Z", 12)
		h.deliberate(partial, "2019-10-03")

		f := readFlux(t, h.do(req{method: "GET", path: exportPath("2019-10-01", "2019-10-31"), bearer: admin}))
		if f.Client != testIssuer.ClientID || f.IDFlux == "" || len(f.Passages) != len(awards) {
			t.Fatalf("flux %s for %s with %d passages, want %d", f.IDFlux, f.Client, len(f.Passages), len(awards))
		}
		got := f.byID()
		want := []passage{
			{Modalite: "FORMATION_INITIALE_HORS_APPRENTISSAGE", Prenom: "Élodie", Naissance: "L'Hôpital", Usage: "Dupont & Fils", Insee: "31555"},
			{Modalite: "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION", Prenom: "Zoë", Naissance: "<Martin>", Postal: "34000"},
			{Modalite: "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION", Prenom: "Jean-Baptiste", Naissance: sixtyBirth, Usage: sixtyUsage,
				Insee: "99109", Pays: "109", LibellePays: "ALLEMAGNE"},
			{Modalite: "CANDIDAT_LIBRE", Prenom: "Ana", Naissance: `O'Neil "Junior"`, Insee: "99350", Pays: "350", LibellePays: "MAROC"},
			{Modalite: "VAE", VAE: "VAE_CLASSIQUE", Prenom: "Çağla", Naissance: "Öztürk", Insee: "97411"},
		}
		for i, a := range awards {
			w := want[i]
			w.IDTechnique, w.Debut = a.decision, "2019-10-01"
			if got[a.decision] != w {
				t.Errorf("holder %d:\n got %+v\nwant %+v", i, got[a.decision], w)
			}
		}
		for _, raw := range []string{"Dupont &amp; Fils", "&lt;Martin&gt;", "L&#39;Hôpital", "O&#39;Neil &#34;Junior&#34;"} {
			if !strings.Contains(string(h.do(req{method: "GET", path: exportPath("2019-10-01", "2019-10-31"), bearer: admin}).raw), raw) {
				t.Errorf("the flux does not hold %s", raw)
			}
		}

		// The period bounds the award day, both ends included; each award keeps its
		// idTechnique from one flux to the next.
		f = readFlux(t, h.do(req{method: "GET", path: exportPath("2019-10-01", "2019-11-05"), bearer: admin}))
		if len(f.Passages) != len(awards)+1 || f.byID()[later[0].decision].Debut != "2019-11-05" || f.byID()[awards[0].decision].IDTechnique != awards[0].decision {
			t.Fatalf("October and November: %+v", f.Passages)
		}
		f = readFlux(t, h.do(req{method: "GET", path: exportPath("2019-11-05", "2019-11-05"), bearer: admin}))
		if len(f.Passages) != 1 || f.Passages[0].IDTechnique != later[0].decision {
			t.Fatalf("November: %+v", f.Passages)
		}

		// A period without awards has no flux; one that ends before it starts is no
		// period; a date that is none does not match the contract.
		p := expect(t, h.do(req{method: "GET", path: exportPath("2019-12-01", "2019-12-31"), bearer: admin}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[HOLDERS-DECLARATION /from]" {
			t.Errorf("an empty period: %v", p)
		}
		p = expect(t, h.do(req{method: "GET", path: exportPath("2019-10-31", "2019-10-01"), bearer: admin}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[/from]" || str(p, "code") != "invalid_value" {
			t.Errorf("a period backwards: %v", p)
		}
		expect(t, h.do(req{method: "GET", path: exportPath("2019-10-01", "2019-13-01"), bearer: admin}), http.StatusBadRequest)
		expect(t, h.do(req{method: "GET", path: "/v1/exports/holders-declaration?from=2019-10-01", bearer: admin}), http.StatusBadRequest)
	})
}

// The whole workflow: a file takes every award not declared; its XML is the flux as
// made, again, whatever changes since; the receipt sets each award's state; a
// rejected record goes out in the next file with the same idTechnique.
func TestDeclarationFilesAndReceipts(t *testing.T) {
	forEachDialectDeclaring(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		awards := h.awardAll("2019-10-01", declaredHolders()...)
		later := h.awardAll("2019-11-05", map[string]any{"first_name": "Tardive", "birth_name": "Novembre"})
		files := "/v1/exports/holders-declaration/files"

		res := h.do(req{method: "POST", path: files, bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}})
		first := expect(t, res, http.StatusCreated)
		id := str(first, "id")
		if res.hdr.Get("Location") != files+"/"+id || first["records"] != float64(len(awards)) || first["accepted"] != float64(0) ||
			first["receipt_imported_at"] != nil || str(first, "awarded_to") != "2019-10-31" || str(first, "created_at") != "2020-03-02T09:00:00Z" {
			t.Fatalf("the first file: %v %v", first, res.hdr)
		}
		if got := expect(t, h.do(req{method: "GET", path: files + "/" + id, bearer: admin}), http.StatusOK); fmt.Sprint(got) != fmt.Sprint(first) {
			t.Fatalf("the file read back: %v", got)
		}
		xmlOf := func(id string) response {
			return h.do(req{method: "GET", path: files + "/" + id, bearer: admin, headers: map[string]string{"Accept": "application/xml"}})
		}
		original := xmlOf(id)
		f := readFlux(t, original)
		if f.IDFlux != id || len(f.Passages) != len(awards) {
			t.Fatalf("the file's flux %s has %d passages", f.IDFlux, len(f.Passages))
		}
		for _, a := range awards {
			if _, ok := f.byID()[a.decision]; !ok {
				t.Errorf("award %s is not in the file", a.decision)
			}
		}

		// Every award up to that day is in a file awaiting its receipt: nothing is
		// left to declare, and the November award is not declared.
		p := expect(t, h.do(req{method: "POST", path: files, bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[HOLDERS-DECLARATION /awarded_to]" {
			t.Fatalf("nothing left to declare: %v", p)
		}
		states := awardStates(t, h, "")
		for _, a := range awards {
			if s := states[a.decision]; s.state != "in_file" || s.file != id {
				t.Errorf("award %s: %+v", a.decision, s)
			}
		}
		if s := states[later[0].decision]; s.state != "not_declared" || s.file != "" {
			t.Errorf("the November award: %+v", s)
		}

		// A name corrected since changes the next flux, never the file as it was sent.
		expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + awards[1].candidate, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": "*"}, body: `{"birth_name":"Martin"}`}), http.StatusOK)
		if again := xmlOf(id); string(again.raw) != string(original.raw) {
			t.Fatalf("the file's XML changed:\n%s\n%s", original.raw, again.raw)
		}

		// The receipt: one record rejected, one already held by the Caisse (so
		// declared), the rest accepted.
		receipt := receiptOf(id, []string{awards[0].decision, awards[2].decision, awards[4].decision},
			map[string]string{awards[1].decision: "Aucun titulaire ne correspond aux critères obligatoires",
				awards[3].decision: "Le passage " + awards[3].decision + " existe déjà en base"})
		imported := expect(t, h.do(req{method: "POST", path: files + "/" + id + "/receipt", bearer: admin, contentType: "application/xml", body: receipt}), http.StatusOK)
		if imported["accepted"] != float64(4) || imported["rejected"] != float64(1) || str(imported, "receipt_imported_at") != "2020-03-02T09:00:00Z" {
			t.Fatalf("after the receipt: %v", imported)
		}
		p = expect(t, h.do(req{method: "POST", path: files + "/" + id + "/receipt", bearer: admin, contentType: "application/xml", body: receipt}), http.StatusConflict)
		if str(p, "code") != "receipt_imported" {
			t.Fatalf("a second receipt: %v", p)
		}
		states = awardStates(t, h, "")
		for i, a := range awards {
			want := awardState{state: "accepted", file: id}
			if i == 1 {
				want = awardState{state: "rejected", file: id, message: "Aucun titulaire ne correspond aux critères obligatoires"}
			}
			if states[a.decision] != want {
				t.Errorf("award %d after the receipt: %+v, want %+v", i, states[a.decision], want)
			}
		}

		// The next file: the rejected record goes out again, with the same
		// idTechnique and the corrected name, beside the November award.
		second := expect(t, h.do(req{method: "POST", path: files, bearer: admin, body: map[string]any{"awarded_to": "2019-11-30"}}), http.StatusCreated)
		if second["records"] != float64(2) {
			t.Fatalf("the second file: %v", second)
		}
		f = readFlux(t, xmlOf(str(second, "id")))
		got := f.byID()
		if len(got) != 2 || got[awards[1].decision].Naissance != "Martin" || got[later[0].decision].IDTechnique != later[0].decision {
			t.Fatalf("the second file's flux: %+v", f.Passages)
		}
		states = awardStates(t, h, "")
		if s := states[awards[1].decision]; s.state != "in_file" || s.file != str(second, "id") || s.message != "" {
			t.Fatalf("the rejected award, sent again: %+v", s)
		}
		// Its receipt accepts both.
		expect(t, h.do(req{method: "POST", path: files + "/" + str(second, "id") + "/receipt", bearer: admin, contentType: "application/xml",
			body: receiptOf(str(second, "id"), []string{awards[1].decision, later[0].decision}, nil)}), http.StatusOK)
		if accepted := awardStates(t, h, "accepted"); len(accepted) != len(awards)+1 {
			t.Fatalf("accepted: %v", accepted)
		}

		// The files, newest first, a page at a time.
		page := expect(t, h.do(req{method: "GET", path: files + "?limit=1", bearer: admin}), http.StatusOK)
		if list := items(page); len(list) != 1 || str(list[0], "id") != str(second, "id") || page["next_cursor"] == nil {
			t.Fatalf("the first page of files: %v", page)
		}
		page = expect(t, h.do(req{method: "GET", path: files + "?limit=1&cursor=" + str(page, "next_cursor"), bearer: admin}), http.StatusOK)
		if list := items(page); len(list) != 1 || str(list[0], "id") != id || page["next_cursor"] != nil {
			t.Fatalf("the second page of files: %v", page)
		}
	})
}

// A receipt that is not one, or not this file's, or about records the file does not
// have, is refused and changes nothing; a file that does not exist is not found.
func TestReceiptsRefused(t *testing.T) {
	forEachDialectDeclaring(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		awards := h.awardAll("2019-10-01", map[string]any{"first_name": "Reçue", "birth_name": "Accusé"})
		files := "/v1/exports/holders-declaration/files"
		id := str(expect(t, h.do(req{method: "POST", path: files, bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}}), http.StatusCreated), "id")
		post := func(path, contentType, body string) response {
			return h.do(req{method: "POST", path: path, bearer: admin, contentType: contentType, body: body})
		}
		for name, tc := range map[string]struct {
			body  string
			field string
		}{
			"not XML":           {"idTechnique;statut\n", "/rapport"},
			"another document":  {`<flux xmlns="urn:cdc:cpf:pc5:schema:1.0.0"/>`, "/rapport"},
			"another file's":    {receiptOf("01900000-0000-7000-8000-0000000000fb", []string{awards[0].decision}, nil), "/rapport/idFlux"},
			"a record not ours": {receiptOf(id, []string{awards[0].decision, "01900000-0000-7000-8000-0000000000dd"}, nil), "/rapport"},
		} {
			p := expect(t, post(files+"/"+id+"/receipt", "application/xml", tc.body), http.StatusUnprocessableEntity)
			if fmt.Sprint(violations(t, p)) != "["+tc.field+"]" {
				t.Errorf("%s: %v", name, p)
			}
		}
		expect(t, post(files+"/"+id+"/receipt", "application/json", `{}`), http.StatusUnsupportedMediaType)
		expect(t, post(files+"/01900000-0000-7000-8000-0000000000fb/receipt", "application/xml", receiptOf(id, nil, nil)), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: files + "/01900000-0000-7000-8000-0000000000fb", bearer: admin}), http.StatusNotFound)
		expect(t, h.do(req{method: "GET", path: files + "/01900000-0000-7000-8000-0000000000fb", bearer: admin, headers: map[string]string{"Accept": "application/xml"}}), http.StatusNotFound)
		if f := expect(t, h.do(req{method: "GET", path: files + "/" + id, bearer: admin}), http.StatusOK); f["receipt_imported_at"] != nil {
			t.Fatalf("a refused receipt was imported: %v", f)
		}
		// A receipt that leaves a record out: it is rejected, to go out again.
		f := expect(t, post(files+"/"+id+"/receipt", "application/xml", receiptOf(id, nil, nil)), http.StatusOK)
		if f["rejected"] != float64(1) {
			t.Fatalf("%v", f)
		}
		if s := awardStates(t, h, "rejected")[awards[0].decision]; !strings.Contains(s.message, "does not mention") {
			t.Fatalf("%+v", s)
		}
	})
}

// receiptOf is a receipt of the Caisse for a file: the accepted records and the
// rejected ones with their messages.
func receiptOf(fileID string, accepted []string, rejected map[string]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n")
	b.WriteString(`<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema"><nomFichier>` + fileID + `.xml</nomFichier><idFlux>` + fileID + `</idFlux><idTraitement>51354</idTraitement><PassagesKO>`)
	keys := make([]string, 0, len(rejected))
	for k := range rejected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("<passage><idTechnique>" + k + "</idTechnique><messageErreur>" + rejected[k] + "</messageErreur></passage>")
	}
	b.WriteString("</PassagesKO><PassagesOK>")
	for _, id := range accepted {
		b.WriteString("<idTechnique>" + id + "</idTechnique>")
	}
	b.WriteString("</PassagesOK></rapport>")
	return b.String()
}

type awardState struct{ state, file, message string }

// awardStates reads the whole list of awards (in a given state), by decision.
func awardStates(t *testing.T, h *harness, state string) map[string]awardState {
	t.Helper()
	out := map[string]awardState{}
	path := "/v1/exports/holders-declaration/awards?limit=100"
	if state != "" {
		path += "&state=" + state
	}
	for _, a := range items(expect(t, h.do(req{method: "GET", path: path, bearer: h.as(auth.RoleAdmin)}), http.StatusOK)) {
		out[str(a, "decision_id")] = awardState{state: str(a, "state"), file: str(a, "file_id"), message: str(a, "message")}
	}
	return out
}

// The awards list says each award's deadline, earliest first; due_before keeps those
// the Caisse has not accepted whose deadline falls before the day.
func TestAwardsDueList(t *testing.T) {
	forEachDialectDeclaring(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		oct := h.awardAll("2019-10-01", map[string]any{"first_name": "Octave", "birth_name": "Premier"}, map[string]any{"first_name": "Octavie", "birth_name": "Second"})
		nov := h.awardAll("2019-11-30", map[string]any{"first_name": "Novembre", "birth_name": "Dernier"})
		list := func(query string) map[string]any {
			return expect(t, h.do(req{method: "GET", path: "/v1/exports/holders-declaration/awards" + query, bearer: admin}), http.StatusOK)
		}
		all := items(list(""))
		if len(all) != 3 {
			t.Fatalf("%v", all)
		}
		want := []award{oct[0], oct[1], nov[0]}
		slices.SortFunc(want[:2], func(x, y award) int { return strings.Compare(x.decision, y.decision) })
		for i, a := range all {
			if str(a, "decision_id") != want[i].decision || str(a, "id_technique") != want[i].decision || str(a, "certificate_number") != want[i].certificate ||
				str(a, "candidate_id") != want[i].candidate || str(a, "state") != "not_declared" || a["file_id"] != nil || a["message"] != nil {
				t.Errorf("award %d: %v", i, a)
			}
		}
		if a := all[0]; str(a, "awarded_on") != "2019-10-01" || str(a, "due_on") != "2020-01-01" || str(a, "holder_name") == "" {
			t.Errorf("the October award: %v", a)
		}
		// 30 November + three months is the last day of February.
		if a := all[2]; str(a, "due_on") != "2020-02-29" {
			t.Errorf("the November award: %v", a)
		}
		ids := func(m map[string]any) (out []string) {
			for _, a := range items(m) {
				out = append(out, str(a, "decision_id"))
			}
			return out
		}
		for query, want := range map[string]int{
			"?due_before=2020-01-01": 0, "?due_before=2020-01-02": 2, "?due_before=2020-02-29": 2, "?due_before=2020-03-01": 3,
			"?state=not_declared": 3, "?state=in_file": 0, "?state=accepted": 0, "?state=rejected": 0,
		} {
			if got := ids(list(query)); len(got) != want {
				t.Errorf("%s: %d awards, want %d", query, len(got), want)
			}
		}
		// A page at a time, in the same order.
		var paged []string
		cursor := ""
		for range 5 {
			m := list("?limit=1" + cursor)
			paged = append(paged, ids(m)...)
			if m["next_cursor"] == nil {
				break
			}
			cursor = "&cursor=" + str(m, "next_cursor")
		}
		if fmt.Sprint(paged) != fmt.Sprint(ids(list(""))) {
			t.Errorf("paged %v, whole %v", paged, ids(list("")))
		}
		expect(t, h.do(req{method: "GET", path: "/v1/exports/holders-declaration/awards?cursor=bm90LWEtY3Vyc29y", bearer: admin}), http.StatusBadRequest)
		expect(t, h.do(req{method: "GET", path: "/v1/exports/holders-declaration/awards?state=lost", bearer: admin}), http.StatusBadRequest)

		// Accepted awards are no longer due; rejected ones are, and in_file too.
		files := "/v1/exports/holders-declaration/files"
		id := str(expect(t, h.do(req{method: "POST", path: files, bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}}), http.StatusCreated), "id")
		if got := ids(list("?due_before=2020-01-02&state=in_file")); len(got) != 2 {
			t.Fatalf("in file and due: %v", got)
		}
		expect(t, h.do(req{method: "POST", path: files + "/" + id + "/receipt", bearer: admin, contentType: "application/xml",
			body: receiptOf(id, []string{oct[0].decision}, map[string]string{oct[1].decision: "Plusieurs titulaires ont été identifiés"})}), http.StatusOK)
		if got := ids(list("?due_before=2020-03-01")); fmt.Sprint(got) != fmt.Sprint([]string{oct[1].decision, nov[0].decision}) {
			t.Fatalf("due after the receipt: %v", got)
		}
	})
}

// Two files made at once never take the same award twice.
func TestConcurrentDeclarationFiles(t *testing.T) {
	forEachDialectDeclaring(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		h.awardAll("2019-10-01", map[string]any{"first_name": "Une", "birth_name": "Fois"}, map[string]any{"first_name": "Deux", "birth_name": "Fois"})
		codes := concurrently(4, func(int) response {
			return h.do(req{method: "POST", path: "/v1/exports/holders-declaration/files", bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}})
		})
		created := 0
		for _, c := range codes {
			switch c {
			case http.StatusCreated:
				created++
			case http.StatusConflict, http.StatusUnprocessableEntity:
			default:
				t.Errorf("status %d", c)
			}
		}
		list := items(expect(t, h.do(req{method: "GET", path: "/v1/exports/holders-declaration/files", bearer: admin}), http.StatusOK))
		if created != 1 || len(list) != 1 || list[0]["records"] != float64(2) {
			t.Fatalf("statuses %v, files %v", codes, list)
		}
	})
}

// The declaration is the certifier's staff's: every other role is refused, and
// without credentials nobody gets in.
func TestDeclarationsAreAdminOnly(t *testing.T) {
	forEachDialectDeclaring(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		h.awardAll("2019-10-01", map[string]any{"first_name": "Seule", "birth_name": "Admise"})
		files := "/v1/exports/holders-declaration/files"
		id := str(expect(t, h.do(req{method: "POST", path: files, bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}}), http.StatusCreated), "id")
		requests := []req{
			{method: "GET", path: exportPath("2019-10-01", "2019-10-31")},
			{method: "GET", path: files},
			{method: "POST", path: files, body: map[string]any{"awarded_to": "2019-10-31"}},
			{method: "GET", path: files + "/" + id},
			{method: "GET", path: files + "/" + id, headers: map[string]string{"Accept": "application/xml"}},
			{method: "POST", path: files + "/" + id + "/receipt", contentType: "application/xml", body: receiptOf(id, nil, nil)},
			{method: "GET", path: "/v1/exports/holders-declaration/awards"},
		}
		for _, r := range requests {
			for _, role := range []auth.Role{auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate} {
				r.bearer = h.as(role)
				if p := expect(t, h.do(r), http.StatusForbidden); str(p, "code") != "forbidden" {
					t.Errorf("%s %s as %s: %v", r.method, r.path, role, p)
				}
			}
			r.bearer = ""
			expect(t, h.do(r), http.StatusUnauthorized)
		}
		for _, r := range requests[:2] {
			r.bearer = admin
			if res := h.do(r); res.code != http.StatusOK {
				t.Errorf("%s %s as admin: %d", r.method, r.path, res.code)
			}
		}
		if f := expect(t, h.do(req{method: "GET", path: files + "/" + id, bearer: admin}), http.StatusOK); f["receipt_imported_at"] != nil {
			t.Fatalf("a refused receipt was imported: %v", f)
		}
	})
}

// Without the certifier's ids at the Caisse, no flux is made: the Caisse would
// reject it whole.
func TestDeclarationNeedsTheIssuer(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		h.awardAll("2019-10-01", map[string]any{"first_name": "Sans", "birth_name": "Contrat"})
		for _, r := range []req{
			{method: "GET", path: exportPath("2019-10-01", "2019-10-31"), bearer: admin},
			{method: "POST", path: "/v1/exports/holders-declaration/files", bearer: admin, body: map[string]any{"awarded_to": "2019-10-31"}},
		} {
			p := expect(t, h.do(r), http.StatusUnprocessableEntity)
			if fmt.Sprint(violations(t, p)) != "[HOLDERS-DECLARATION HOLDERS-DECLARATION]" || !strings.Contains(fmt.Sprint(p), "CERTAPI_CDC_CLIENT_ID") {
				t.Errorf("%s %s: %v", r.method, r.path, p)
			}
		}
	})
}

// HOLDERS-DECLARATION at registration: a birth country without an INSEE code, or a
// birth place in France the flux cannot carry, is refused when the candidate is
// registered or corrected, not discovered at the export.
func TestRegistrationRefusesUndeclarableBirthPlaces(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		register := func(bp map[string]any) response {
			return h.do(req{method: "POST", path: "/v1/candidates", bearer: admin, body: candidateBody(map[string]any{"birth_place": bp})})
		}
		for name, tc := range map[string]struct {
			bp    map[string]any
			field string
		}{
			"Antarctica":                   {map[string]any{"postal_code": "0000", "name": "Base Dumont d'Urville", "country_code": "AQ"}, "/birth_place/country_code"},
			"a code ISO does not assign":   {map[string]any{"insee_code": "31555", "name": "Toulouse", "country_code": "ZZ"}, "/birth_place/country_code"},
			"a country code for a commune": {map[string]any{"insee_code": "99109", "name": "Berlin", "country_code": "FR"}, "/birth_place/insee_code"},
			"a French postal code of 10":   {map[string]any{"postal_code": "3400034000", "name": "Montpellier", "country_code": "FR"}, "/birth_place/postal_code"},
		} {
			p := expect(t, register(tc.bp), http.StatusUnprocessableEntity)
			if fmt.Sprint(violations(t, p)) != "[HOLDERS-DECLARATION "+tc.field+"]" {
				t.Errorf("%s: %v", name, p)
			}
		}
		for i, bp := range []map[string]any{
			{"postal_code": "10115", "name": "Berlin", "country_code": "DE"},
			{"insee_code": "97411", "name": "Saint-Denis", "country_code": "RE"},
			{"postal_code": "98000", "name": "Monaco", "country_code": "MC"},
		} {
			expect(t, h.do(req{method: "POST", path: "/v1/candidates", bearer: admin,
				body: candidateBody(map[string]any{"first_name": fmt.Sprint("Née", i), "birth_place": bp})}), http.StatusCreated)
		}
		id := h.candidate(map[string]any{"first_name": "Corrigée"})
		p := expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": "*"}, body: `{"birth_place":{"country_code":"AQ"}}`}), http.StatusUnprocessableEntity)
		if fmt.Sprint(violations(t, p)) != "[HOLDERS-DECLARATION /birth_place/country_code]" {
			t.Errorf("a correction to Antarctica: %v", p)
		}
	})
}

// Names over the 60 characters the Caisse takes are refused by the contract at
// registration, never cut; 60 characters, in any script, are whole.
func TestNamesOver60AreRefusedAtRegistration(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		over := strings.Repeat("é", 61)
		for _, field := range []string{"first_name", "birth_name", "usage_name"} {
			p := expect(t, h.do(req{method: "POST", path: "/v1/candidates", bearer: admin, body: candidateBody(map[string]any{field: over})}), http.StatusBadRequest)
			if str(p, "code") != "invalid_request" || !slices.Contains(violations(t, p), "/"+field) {
				t.Errorf("%s of 61 characters: %v", field, p)
			}
		}
		id := h.candidate(map[string]any{"first_name": "Longue"})
		p := expect(t, h.do(req{method: "PATCH", path: "/v1/candidates/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": "*"}, body: `{"birth_name":"` + over + `"}`}), http.StatusBadRequest)
		if !slices.Contains(violations(t, p), "/birth_name") {
			t.Errorf("a correction to 61 characters: %v", p)
		}
		sixty := strings.Repeat("é", 60)
		c := expect(t, h.do(req{method: "POST", path: "/v1/candidates", bearer: admin,
			body: candidateBody(map[string]any{"first_name": sixty, "birth_name": sixty, "usage_name": sixty})}), http.StatusCreated)
		if str(c, "first_name") != sixty || str(c, "birth_name") != sixty || str(c, "usage_name") != sixty {
			t.Errorf("names of 60 characters: %v", c)
		}
	})
}

// matrixFiles are the declaration files the security matrix names, one per harness.
var matrixFiles sync.Map

// matrixDeclarationFile is a declaration file of an award of its own, made once per
// harness of the security matrix.
func matrixDeclarationFile(f *matrixFixture) string {
	if id, ok := matrixFiles.Load(f.h); ok {
		return id.(string)
	}
	f.h.awardAll("2019-12-02", map[string]any{"first_name": "Matrice", "birth_name": "Déclarée"})
	file, err := f.h.svc.CreateDeclarationFile(adminContext(), testIssuer, time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.h.t.Fatalf("the matrix's declaration file: %v", err)
	}
	matrixFiles.Store(f.h, file.ID)
	return file.ID
}
