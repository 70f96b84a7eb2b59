package cdc_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/certification"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// holder is a registered candidate, born in Toulouse; fn overrides.
func holder(fn func(*certification.Candidate)) certification.Candidate {
	c := certification.Candidate{ID: "0190a1b2-0000-7000-8000-0000000000c1", CertificationCode: "RNCP26206",
		Route: certification.RouteContinuingEducation, EnrolledOn: day("2026-01-05"), FirstName: "Camille", BirthName: "Martin",
		Sex: "F", BirthDate: day("1995-04-12"),
		BirthPlace: certification.BirthPlace{INSEECode: "31555", Name: "Toulouse", CountryCode: "FR"}}
	if fn != nil {
		fn(&c)
	}
	return c
}

func award(h certification.Candidate) cdc.Award {
	return cdc.Award{DecisionID: "0190a1b2-0000-7000-8000-0000000000d1", CertificationCode: "RNCP26206", AwardedOn: day("2026-06-30"), Holder: h}
}

// Each access route of RULES.md and its modaliteAcces (cdc/README.md).
func TestAccessOfEveryRoute(t *testing.T) {
	for _, tc := range []struct {
		route         certification.RouteID
		modalite, vae string
	}{
		{certification.RouteInitialTraining, "FORMATION_INITIALE_HORS_APPRENTISSAGE", ""},
		{certification.RouteApprenticeship, "FORMATION_INITIALE_APPRENTISSAGE", ""},
		{certification.RouteContinuingEducation, "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION", ""},
		{certification.RouteProfessionalisationContract, "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION", ""},
		{certification.RouteIndividualApplication, "CANDIDAT_LIBRE", ""},
		{certification.RouteVAE, "VAE", "VAE_CLASSIQUE"},
	} {
		r, vs := cdc.RecordOf(award(holder(func(c *certification.Candidate) { c.Route = tc.route })))
		if len(vs) > 0 || r.Access != tc.modalite || r.VAEPath != tc.vae {
			t.Errorf("%s: %s/%s %v, want %s/%s", tc.route, r.Access, r.VAEPath, vs, tc.modalite, tc.vae)
		}
	}
	if _, ok := cdc.AccessOf("apprenticeship_abroad"); ok {
		t.Error("an unknown route has an access")
	}
}

func TestRecordOf(t *testing.T) {
	long := strings.Repeat("é", 61)
	sixty := strings.Repeat("É", 60)
	for _, tc := range []struct {
		name  string
		edit  func(*certification.Candidate)
		want  func(cdc.Record) string // empty when the record is as expected
		fails string                  // the violation expected, if any
	}{
		{name: "born in France, by commune code", want: func(r cdc.Record) string {
			return want(r.BirthINSEE == "31555" && r.BirthPostal == "" && r.BirthCountry == "" && r.BirthCommune == "Toulouse", r)
		}},
		{name: "born in France, postal code only", edit: func(c *certification.Candidate) {
			c.BirthPlace = certification.BirthPlace{PostalCode: "34000", Name: "Montpellier", CountryCode: "FR"}
		}, want: func(r cdc.Record) string {
			return want(r.BirthINSEE == "" && r.BirthPostal == "34000" && r.BirthCountry == "", r)
		}},
		{name: "born overseas, by commune code", edit: func(c *certification.Candidate) {
			c.BirthPlace = certification.BirthPlace{INSEECode: "97411", Name: "Saint-Denis", CountryCode: "RE"}
		}, want: func(r cdc.Record) string { return want(r.BirthINSEE == "97411" && r.BirthCountry == "", r) }},
		{name: "born abroad", edit: func(c *certification.Candidate) {
			c.BirthPlace = certification.BirthPlace{PostalCode: "10115", Name: "Berlin", CountryCode: "DE"}
		}, want: func(r cdc.Record) string {
			return want(r.BirthINSEE == "99109" && r.BirthPostal == "" && r.BirthCountry == "109" && r.BirthCountryName == "ALLEMAGNE" && r.BirthCommune == "Berlin", r)
		}},
		{name: "a usage name", edit: func(c *certification.Candidate) { c.UsageName = "Durand" },
			want: func(r cdc.Record) string { return want(r.UsageName == "Durand" && r.BirthName == "Martin", r) }},
		{name: "a usage name that is the birth name", edit: func(c *certification.Candidate) { c.UsageName = "MARTIN" },
			want: func(r cdc.Record) string { return want(r.UsageName == "", r) }},
		{name: "names of 60 characters, whole", edit: func(c *certification.Candidate) { c.BirthName, c.FirstName, c.UsageName = sixty, sixty, sixty+"" },
			want: func(r cdc.Record) string { return want(r.BirthName == sixty && r.FirstName == sixty, r) }},
		{name: "a birth place name over 60 characters is left out", edit: func(c *certification.Candidate) { c.BirthPlace.Name = long },
			want: func(r cdc.Record) string { return want(r.BirthCommune == "" && r.BirthINSEE == "31555", r) }},
		{name: "dates", want: func(r cdc.Record) string {
			return want(r.AwardedOn == "2026-06-30" && r.EnrolledOn == "2026-01-05" && r.BirthDate == "1995-04-12" && r.IDTechnique == "0190a1b2-0000-7000-8000-0000000000d1", r)
		}},
		{name: "a birth name over 60 characters", edit: func(c *certification.Candidate) { c.BirthName = long }, fails: "the birth name has 61 characters"},
		{name: "a first name over 60 characters", edit: func(c *certification.Candidate) { c.FirstName = long }, fails: "the first name has 61 characters"},
		{name: "a usage name over 60 characters", edit: func(c *certification.Candidate) { c.UsageName = long }, fails: "the usage name has 61 characters"},
		{name: "a country without INSEE code", edit: func(c *certification.Candidate) { c.BirthPlace.CountryCode = "AQ" }, fails: `"AQ" has no INSEE country code`},
		{name: "a French postal code too long", edit: func(c *certification.Candidate) {
			c.BirthPlace = certification.BirthPlace{PostalCode: "1234567890", Name: "X", CountryCode: "FR"}
		}, fails: "postal code of at most 9 characters"},
		{name: "a birth year before 1900", edit: func(c *certification.Candidate) { c.BirthDate = day("1899-12-31") }, fails: "birth year 1899"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, vs := cdc.RecordOf(award(holder(tc.edit)))
			if tc.fails != "" {
				if len(vs) != 1 || !strings.Contains(vs[0].Message, tc.fails) || vs[0].Rule != certification.RuleHoldersDeclaration {
					t.Fatalf("violations %v, want one HOLDERS-DECLARATION saying %q", vs, tc.fails)
				}
				return
			}
			if len(vs) > 0 {
				t.Fatalf("violations: %v", vs)
			}
			if msg := tc.want(r); msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

func want(ok bool, r cdc.Record) string {
	if ok {
		return ""
	}
	return fmt.Sprintf("record %+v", r)
}

func TestIssuerCheck(t *testing.T) {
	for _, tc := range []struct {
		issuer cdc.Issuer
		n      int
	}{
		{cdc.Issuer{ClientID: "03BHY312", ContractID: "MCFCER000775"}, 0},
		{cdc.Issuer{}, 2},
		{cdc.Issuer{ClientID: "03BHY31", ContractID: "MCFCER000775"}, 1},
		{cdc.Issuer{ClientID: "03BHY312", ContractID: strings.Repeat("9", 21)}, 1},
	} {
		if vs := tc.issuer.Check(); len(vs) != tc.n {
			t.Errorf("%+v: %v, want %d violation(s)", tc.issuer, vs, tc.n)
		}
	}
}
