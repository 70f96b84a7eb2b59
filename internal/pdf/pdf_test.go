package pdf_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/pdf"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

var (
	heldOn   = day(2019, time.October, 1)
	closedAt = time.Date(2019, time.October, 1, 17, 5, 0, 0, time.UTC)
	expiry   = day(2024, time.October, 1)
)

func community() certification.Certification {
	return certification.Certification{Code: "RNCP26206", Title: "Community manager", Certifier: "AP Formation",
		Level1969: "II", LevelEQF: 6, Components: []certification.Component{
			{ID: "E1", Title: certification.Label{FR: "Projet de communication et de notoriété d'un site web"}},
			{ID: "E2", Title: certification.Label{FR: "Cas pratique autour d'une mission de communication"}},
			{ID: "E3", Title: certification.Label{FR: "Projet de communication d'un site internet existant"}},
			{ID: "E4", Title: certification.Label{FR: "Épreuve de synthèse : rapport de préconisations et soutenance"}},
		}}
}

func site() certification.TrainingSite {
	return certification.TrainingSite{Name: "Centre d'examen Saint-Cyprien", Address: certification.Address{
		Line1: "12 allée de l'Œuvre", Line2: ptr("Bâtiment B"), PostalCode: "31300", City: "Toulouse", CountryCode: "FR"}}
}

func members() []certification.SeatedMember {
	seat := func(name string, role certification.JuryRole, org string, minute int) certification.SeatedMember {
		return certification.SeatedMember{JuryMember: certification.JuryMember{FullName: name, Role: role, Organisation: org},
			SignedAt: time.Date(2019, time.October, 1, 16, minute, 0, 0, time.UTC)}
	}
	return []certification.SeatedMember{
		seat("Élodie Lefèvre-Øster", certification.PedagogicalDirector, "AP Formation", 50),
		seat("Jean-François Œuvre", certification.Professional, "Agence Ça Bouge", 51),
		seat("Zoë Müller", certification.Professional, "Médias du Sud-Ouest", 52),
		seat("Ηλίας Παπαδόπουλος", certification.Professional, "Ελληνικά Μέσα", 53),
		seat("Анна Иванова", certification.Professional, "Студия Север", 54),
	}
}

func held(id string, acquired time.Time, until *time.Time, now bool) certification.DecidedComponent {
	return certification.DecidedComponent{Component: id, AcquiredOn: acquired, ValidUntil: until, ValidatedNow: now}
}

func entry(id, name string, outcome certification.Outcome, reason string, cs ...certification.DecidedComponent) certification.MinutesEntry {
	return certification.MinutesEntry{CandidateName: name, Decision: certification.Decision{
		ID: id, Outcome: outcome, Components: cs, Reason: reason, Revision: 1}}
}

func minutes() certification.Minutes {
	correction := entry("dec-4", "Anaïs Œuvre-Dupré", certification.OutcomePartial,
		"Erreur matérielle : la note de E1 était de 12/20.", held("E1", heldOn, &expiry, true))
	correction.Revision, correction.CorrectsID = 2, "dec-3"
	return certification.Minutes{
		Session:       certification.JurySession{ID: "js-2019-10", HeldOn: heldOn, ClosedAt: &closedAt},
		Certification: community(), Site: site(), Members: members(),
		Entries: []certification.MinutesEntry{
			entry("dec-1", "Camille Durand, née Martin", certification.OutcomeAward, "Toutes les composantes sont acquises.",
				held("E1", heldOn, &expiry, true), held("E2", heldOn, &expiry, true),
				held("E3", heldOn, &expiry, true), held("E4", heldOn, &expiry, true)),
			entry("dec-2", "Noé Lefèbvre", certification.OutcomePartial, "E3 et E4 ne sont pas acquises.",
				held("E1", day(2018, time.June, 12), nil, false), held("E2", heldOn, &expiry, true)),
			entry("dec-3", "Anaïs Œuvre-Dupré", certification.OutcomeRefusal, "Aucune composante n'atteint la note de passage."),
			correction,
		},
	}
}

func certificate(kind certification.CertificateKind) certification.Certificate {
	c := certification.Certificate{Number: "RNCP26206-2019-0042", Kind: kind, CertificationCode: "RNCP26206",
		HolderName: "Camille Durand, née Martin", AwardedOn: heldOn, IssuedAt: closedAt, Status: certification.CertificateValid}
	if kind == certification.KindAttestation {
		c.HolderName = "Noé Lefèbvre"
		c.Components = []certification.DecidedComponent{held("E1", day(2018, time.June, 12), nil, false), held("E2", heldOn, &expiry, true)}
	}
	return c
}

const verifyURL = "https://certification.apformation.fr/verification/RNCP26206-2019-0042"

// poppler runs a poppler tool on the document, named by {} in args. The text the
// tools extract is the evidence that the PDF holds what a reader sees, so their
// absence fails the test.
func poppler(t *testing.T, doc []byte, tool string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is required to read the rendered PDF (install poppler-utils): %v", tool, err)
	}
	path := filepath.Join(t.TempDir(), "document.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{}", path)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func text(t *testing.T, doc []byte) string { return poppler(t, doc, "pdftotext", "-layout", "{}", "-") }

func pageCount(t *testing.T, doc []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(poppler(t, doc, "pdfinfo", "{}"))
	if m == nil {
		t.Fatal("pdfinfo gives no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// render renders twice, and checks the two renders are the same PDF.
func render(t *testing.T, fn func() ([]byte, error)) []byte {
	t.Helper()
	first, err := fn()
	if err != nil {
		t.Fatal(err)
	}
	second, err := fn()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte("%PDF-")) {
		t.Fatalf("not a PDF: starts with %q", first[:min(len(first), 8)])
	}
	if !bytes.Equal(first, second) {
		t.Error("two renders of the same input differ")
	}
	return first
}

func assertContains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("the PDF's text lacks %q; it reads:\n%s", w, got)
		}
	}
}

func TestMinutes(t *testing.T) {
	m := minutes()
	got := text(t, render(t, func() ([]byte, error) { return pdf.Minutes(m) }))
	assertContains(t, got,
		"Procès-verbal de délibération du jury", "RNCP26206 — Community manager", "Certificateur : AP Formation",
		"Date de la session : 1er octobre 2019",
		"Lieu : Centre d'examen Saint-Cyprien, 12 allée de l'Œuvre, Bâtiment B, 31300 Toulouse",
		"Membres du jury présents", "Élodie Lefèvre-Øster — Directeur pédagogique — AP Formation",
		"Jean-François Œuvre — Professionnel — Agence Ça Bouge", "Zoë Müller", "Ηλίας Παπαδόπουλος", "Анна Иванова",
		"Camille Durand, née Martin", "Noé Lefèbvre", "Anaïs Œuvre-Dupré",
		"Certification délivrée", "Validation partielle", "Refus",
		"E4 — Épreuve de synthèse", "acquise le 1er octobre 2019, valable jusqu'au 1er octobre 2024",
		"E1 — Projet de communication et de notoriété d'un site web", "acquise définitivement le 12 juin 2018",
		"Aucune composante acquise.", "Motif : Aucune composante n'atteint la note de passage.",
		"Rectification de la décision dec-3", "Signatures",
		"Анна Иванова — signé le 1er octobre 2019 à 16:54 (UTC)", "Clos le 1er octobre 2019 à 17:05 (UTC)",
		"page 1/")
}

func TestMinutesBreakPages(t *testing.T) {
	m := minutes()
	m.Entries = nil
	for i := 1; i <= 40; i++ {
		m.Entries = append(m.Entries, entry(fmt.Sprintf("dec-%d", i), fmt.Sprintf("Candidate n° %d Ørsted-Lefèvre", i),
			certification.OutcomePartial, strings.Repeat("La soutenance n'a pas convaincu le jury. ", 8),
			held("E1", heldOn, &expiry, true), held("E2", day(2018, time.June, 12), nil, false)))
	}
	doc := render(t, func() ([]byte, error) { return pdf.Minutes(m) })
	n := pageCount(t, doc)
	if n < 2 {
		t.Fatalf("40 decisions fit on %d page", n)
	}
	assertContains(t, text(t, doc), "40. Candidate n° 40 Ørsted-Lefèvre", "Clos le 1er octobre 2019", fmt.Sprintf("page %d/%d", n, n))
	assertInsidePages(t, doc)
}

// assertInsidePages checks that every word lies within the page, clear of its edges.
func assertInsidePages(t *testing.T, doc []byte) {
	t.Helper()
	bbox := poppler(t, doc, "pdftotext", "-bbox", "{}", "-")
	page := regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`).FindStringSubmatch(bbox)
	if page == nil {
		t.Fatal("pdftotext -bbox gives no page size")
	}
	width, _ := strconv.ParseFloat(page[1], 64)
	height, _ := strconv.ParseFloat(page[2], 64)
	const edge = 20 // pt, about 7 mm
	words := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)`).FindAllStringSubmatch(bbox, -1)
	if len(words) == 0 {
		t.Fatal("pdftotext -bbox finds no words")
	}
	for _, w := range words {
		var box [4]float64
		for i := range box {
			box[i], _ = strconv.ParseFloat(w[i+1], 64)
		}
		if box[0] < edge || box[1] < edge || box[2] > width-edge || box[3] > height-edge {
			t.Errorf("%q at %v overflows the %gx%g page", w[5], box, width, height)
		}
	}
}

func TestCertificate(t *testing.T) {
	c := certificate(certification.KindCertificate)
	got := text(t, render(t, func() ([]byte, error) { return pdf.Certificate(c, community(), verifyURL) }))
	assertContains(t, got, "Certificat", "AP Formation certifie que", "Camille Durand, née Martin",
		"a obtenu le 1er octobre 2019", "Community manager", "RNCP26206",
		"niveau 6 (cadre européen)", "niveau II (nomenclature de 1969)",
		"Numéro : RNCP26206-2019-0042", "Vérification : "+verifyURL)
	if strings.Contains(got, "RÉVOQUÉ") || strings.Contains(got, "Attestation") {
		t.Errorf("a valid certificate reads:\n%s", got)
	}
}

func TestAttestation(t *testing.T) {
	c := certificate(certification.KindAttestation)
	got := text(t, render(t, func() ([]byte, error) { return pdf.Certificate(c, community(), verifyURL) }))
	assertContains(t, got, "Attestation de validation partielle", "AP Formation atteste que", "Noé Lefèbvre",
		"Community manager", "niveau 6 (cadre européen)", "Composantes acquises",
		"E1 — Projet de communication et de notoriété d'un site web", "acquise définitivement le 12 juin 2018",
		"E2 — Cas pratique autour d'une mission de communication", "acquise le 1er octobre 2019, valable jusqu'au 1er octobre 2024",
		"Numéro : RNCP26206-2019-0042", "Vérification : "+verifyURL)
}

func TestRevokedCertificate(t *testing.T) {
	c := certificate(certification.KindCertificate)
	c.Status, c.RevokedAt = certification.CertificateRevoked, ptr(time.Date(2021, time.March, 3, 9, 30, 0, 0, time.UTC))
	doc := render(t, func() ([]byte, error) { return pdf.Certificate(c, community(), verifyURL) })
	assertContains(t, text(t, doc), "RÉVOQUÉ le 3 mars 2021", "Camille Durand, née Martin", "Numéro : RNCP26206-2019-0042")
	valid, err := pdf.Certificate(certificate(certification.KindCertificate), community(), verifyURL)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(doc, valid) {
		t.Error("the revoked certificate renders as the valid one")
	}
}

func TestRefusesWhatItCannotStateTruthfully(t *testing.T) {
	open := minutes()
	open.Session.ClosedAt = nil
	unsigned := minutes()
	unsigned.Members[2].SignedAt = time.Time{}
	if _, err := pdf.Minutes(open); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Errorf("minutes of an open session: %v", err)
	}
	if _, err := pdf.Minutes(unsigned); err == nil || !strings.Contains(err.Error(), "Zoë Müller has not signed") {
		t.Errorf("minutes a member has not signed: %v", err)
	}
	other := certificate(certification.KindCertificate)
	other.CertificationCode = "RNCP34000"
	if _, err := pdf.Certificate(other, community(), verifyURL); err == nil || !strings.Contains(err.Error(), "RNCP34000") {
		t.Errorf("a certificate of another certification: %v", err)
	}
	revoked := certificate(certification.KindCertificate)
	revoked.Status = certification.CertificateRevoked
	if _, err := pdf.Certificate(revoked, community(), verifyURL); err == nil || !strings.Contains(err.Error(), "revocation date") {
		t.Errorf("a revoked certificate without a date: %v", err)
	}
}
