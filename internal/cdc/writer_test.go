package cdc_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/cdc/cdctest"
	"github.com/apformation/certapi/internal/certification"
)

var issuer = cdc.Issuer{ClientID: "03BHY312", ContractID: "MCFCER000775"}

func header() cdc.Header {
	return cdc.Header{FluxID: "0190a1b2-0000-7000-8000-0000000000fa", At: time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC), Issuer: issuer}
}

// flux writes the records of the awards to a flux.
func flux(t *testing.T, awards ...cdc.Award) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := cdc.NewWriter(&buf, header())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range awards {
		r, vs := cdc.RecordOf(a)
		if len(vs) > 0 {
			t.Fatalf("record: %v", vs)
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// holders covers every access route, births in France by commune code and by postal
// code only, overseas and abroad, usage names, and names with what XML escapes.
func holders() []cdc.Award {
	var out []cdc.Award
	routes := []certification.RouteID{certification.RouteInitialTraining, certification.RouteApprenticeship,
		certification.RouteContinuingEducation, certification.RouteProfessionalisationContract,
		certification.RouteIndividualApplication, certification.RouteVAE}
	places := []certification.BirthPlace{
		{INSEECode: "2A004", Name: "Ajaccio", CountryCode: "FR"},
		{PostalCode: "34000", Name: "Montpellier", CountryCode: "FR"},
		{INSEECode: "97411", Name: "Saint-Denis", CountryCode: "RE"},
		{PostalCode: "10115", Name: "Berlin", CountryCode: "DE"},
		{INSEECode: "99350", Name: "Fès", CountryCode: "MA"},
		{PostalCode: "00100", Name: "Yamoussoukro & <Abidjan>", CountryCode: "CI"},
	}
	names := []struct{ first, birth, usage string }{
		{"Élodie", "Marchand", ""},
		{"Zoë", "L'Hôpital", "Dupont & Fils"},
		{"Jean-Baptiste", "<Martin>", ""},
		{"Ana", "O'Neil \"Junior\"", "Núñez"},
		{"Çağla", "Öztürk", "Ölçer"},
		{"Mary-Kate", strings.Repeat("B", 60), strings.Repeat("U", 60)},
	}
	for i, route := range routes {
		c := holder(func(c *certification.Candidate) {
			c.ID = "0190a1b2-0000-7000-8000-00000000c00" + string(rune('0'+i))
			c.Route, c.BirthPlace = route, places[i]
			c.FirstName, c.BirthName, c.UsageName = names[i].first, names[i].birth, names[i].usage
			if i%2 == 1 {
				c.Sex = "M"
			}
		})
		a := award(c)
		a.DecisionID = "0190a1b2-0000-7000-8000-00000000d00" + string(rune('0'+i))
		out = append(out, a)
	}
	return out
}

// The flux validates against the schema of the Caisse des Dépôts, for every access
// route and birth place, with names XML must escape.
func TestFluxValidates(t *testing.T) {
	cdctest.Validate(t, flux(t, holders()...))
}

// Two certifications make two certification elements.
func TestFluxGroupsCertifications(t *testing.T) {
	a := holders()
	b := a[1]
	b.CertificationCode = "RS5286"
	doc := flux(t, a[0], a[2], b)
	cdctest.Validate(t, doc)
	if n := strings.Count(string(doc), "<certification>"); n != 2 {
		t.Fatalf("%d certification elements, want 2", n)
	}
	if !strings.Contains(string(doc), "<type>RS</type>") || !strings.Contains(string(doc), "<code>RS5286</code>") ||
		!strings.Contains(string(doc), "<type>RNCP</type>") || !strings.Contains(string(doc), "<code>RNCP26206</code>") {
		t.Fatalf("types and codes:\n%s", doc)
	}
}

// What the flux says of each holder reads back exactly: names escaped, never cut.
func TestFluxReadsBack(t *testing.T) {
	awards := holders()
	doc := flux(t, awards...)
	var got struct {
		IDFlux     string `xml:"idFlux"`
		Horodatage string `xml:"horodatage"`
		Emetteur   struct {
			IDClient string `xml:"idClient"`
			Contrat  string `xml:"certificateurs>certificateur>idContrat"`
		} `xml:"emetteur"`
	}
	var passages struct {
		Passages []struct {
			IDTechnique string `xml:"idTechnique"`
			Obtention   string `xml:"obtentionCertification"`
			Debut       string `xml:"dateDebutValidite"`
			Modalite    string `xml:"modalitesInscription>modaliteAcces"`
			VAE         string `xml:"modalitesInscription>voieAccessVAE"`
			Titulaire   struct {
				NomNaissance string `xml:"nomNaissance"`
				NomUsage     string `xml:"nomUsage"`
				Prenom       string `xml:"prenom1"`
				Annee        int    `xml:"anneeNaissance"`
				Mois         int    `xml:"moisNaissance"`
				Jour         int    `xml:"jourNaissance"`
				Sexe         string `xml:"sexe"`
				Insee        string `xml:"codeCommuneNaissance>codeInseeNaissance>codeInsee"`
				Postal       string `xml:"codeCommuneNaissance>codePostalNaissance>codePostal"`
				Commune      string `xml:"libelleCommuneNaissance"`
				Pays         string `xml:"codePaysNaissance"`
				LibellePays  string `xml:"libellePaysNaissance"`
			} `xml:"identificationTitulaire>titulaire"`
		} `xml:"emetteur>certificateurs>certificateur>certifications>certification>passageCertifications>passageCertification"`
	}
	if err := xml.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(doc, &passages); err != nil {
		t.Fatal(err)
	}
	if got.IDFlux != header().FluxID || got.Horodatage != "2026-07-01T09:30:00+00:00" || got.Emetteur.IDClient != "03BHY312" || got.Emetteur.Contrat != "MCFCER000775" {
		t.Fatalf("header: %+v", got)
	}
	if len(passages.Passages) != len(awards) {
		t.Fatalf("%d passages, want %d", len(passages.Passages), len(awards))
	}
	for i, a := range awards {
		p, h := passages.Passages[i], a.Holder
		ti := p.Titulaire
		if p.IDTechnique != a.DecisionID || p.Obtention != "PAR_ADMISSION" || p.Debut != "2026-06-30" {
			t.Errorf("%d: %+v", i, p)
		}
		if ti.NomNaissance != h.BirthName || ti.Prenom != h.FirstName || ti.NomUsage != h.UsageName || ti.Sexe != h.Sex {
			t.Errorf("%d: names %q %q %q, want %q %q %q", i, ti.NomNaissance, ti.Prenom, ti.NomUsage, h.BirthName, h.FirstName, h.UsageName)
		}
		if ti.Annee != 1995 || ti.Mois != 4 || ti.Jour != 12 {
			t.Errorf("%d: born %d-%d-%d", i, ti.Annee, ti.Mois, ti.Jour)
		}
		acc, _ := cdc.AccessOf(h.Route)
		if p.Modalite != acc.Modalite || p.VAE != acc.VAEPath {
			t.Errorf("%d: access %s/%s", i, p.Modalite, p.VAE)
		}
		bp := h.BirthPlace
		if c, abroad := cdc.CountryOf(bp.CountryCode); abroad {
			if ti.Insee != c.INSEE || ti.Pays != c.Code() || ti.LibellePays != c.Name || ti.Postal != "" {
				t.Errorf("%d: born abroad: %+v", i, ti)
			}
		} else if ti.Insee != bp.INSEECode || ti.Postal != map[bool]string{true: bp.PostalCode}[bp.INSEECode == ""] || ti.Pays != "" {
			t.Errorf("%d: born in France: %+v", i, ti)
		}
		if ti.Commune != bp.Name {
			t.Errorf("%d: commune %q, want %q", i, ti.Commune, bp.Name)
		}
	}
	for _, raw := range []string{"Dupont &amp; Fils", "&lt;Martin&gt;", "L&#39;Hôpital", "O&#39;Neil &#34;Junior&#34;", "Yamoussoukro &amp; &lt;Abidjan&gt;"} {
		if !strings.Contains(string(doc), raw) {
			t.Errorf("the flux does not escape %q", raw)
		}
	}
}

// A flux without a record is no flux: the schema wants one.
func TestEmptyFluxIsRefused(t *testing.T) {
	var buf bytes.Buffer
	w, err := cdc.NewWriter(&buf, header())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, cdc.ErrEmpty) {
		t.Fatalf("close: %v, want ErrEmpty", err)
	}
}

// A header the Caisse would reject is refused before anything is written.
func TestWriterRefusesABadHeader(t *testing.T) {
	for _, h := range []cdc.Header{
		{FluxID: "", At: time.Now(), Issuer: issuer},
		{FluxID: strings.Repeat("x", 51), At: time.Now(), Issuer: issuer},
		{FluxID: "f", At: time.Now(), Issuer: cdc.Issuer{ClientID: "short", ContractID: "c"}},
	} {
		var buf bytes.Buffer
		if _, err := cdc.NewWriter(&buf, h); err == nil || buf.Len() > 0 {
			t.Errorf("%+v: err %v, %d bytes written", h, err, buf.Len())
		}
	}
}

// The schema itself refuses what the writer never writes: a name cut or not, the
// check is real (a name of 61 characters fails xmllint).
func TestSchemaRefusesLongNames(t *testing.T) {
	doc := flux(t, holders()[0])
	bad := strings.Replace(string(doc), "<nomNaissance>Marchand</nomNaissance>", "<nomNaissance>"+strings.Repeat("M", 61)+"</nomNaissance>", 1)
	if bad == string(doc) {
		t.Fatal("no birth name to replace")
	}
	if err := cdctest.Check(t, []byte(bad)); err == nil {
		t.Fatal("xmllint accepts a birth name of 61 characters")
	}
}
