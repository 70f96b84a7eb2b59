package certification_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

var territories = []certification.Territory{
	{Code: "NC", Name: certification.Label{EN: "New Caledonia"}, PostalCodePrefix: "988"},
	{Code: "PF", Name: certification.Label{EN: "French Polynesia"}, PostalCodePrefix: "987"},
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestCheckTerritory(t *testing.T) {
	cases := []struct {
		name       string
		postal     string
		country    string
		wantField  string
		wantInText string
	}{
		{"Toulouse", "31100", "FR", "", ""},
		{"Nouméa", "98800", "FR", "/address/postal_code", "New Caledonia"},
		{"Papeete", "98714", "FR", "/address/postal_code", "French Polynesia"},
		{"Wallis (986xx) is not excluded", "98600", "FR", "", ""},
		{"Martinique (972xx) is not excluded", "97200", "FR", "", ""},
		{"New Caledonia by country code", "00000", "NC", "/address/country_code", "New Caledonia"},
		{"French Polynesia by country code, lower case", "00000", "pf", "/address/country_code", "French Polynesia"},
		{"leading spaces", " 98800", "FR", "/address/postal_code", "New Caledonia"},
		{"a code that merely contains 988", "19880", "FR", "", ""},
		{"a German postal code that starts with 987", "98724", "DE", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := certification.CheckTerritory("/address", certification.Address{PostalCode: c.postal, CountryCode: c.country}, territories)
			if c.wantField == "" {
				if len(vs) != 0 {
					t.Fatalf("want no violation, got %+v", vs)
				}
				return
			}
			if len(vs) != 1 || vs[0].Rule != certification.RuleTerritory || vs[0].Field != c.wantField || !strings.Contains(vs[0].Message, c.wantInText) {
				t.Fatalf("got %+v, want one TERRITORY violation at %s naming %s", vs, c.wantField, c.wantInText)
			}
		})
	}
}

func TestCheckRegistrationPeriod(t *testing.T) {
	periods := []certification.RegistrationPeriod{
		{LegalAct: "arrêté du 26 mai 2016", EffectiveFrom: day("2013-01-29"), EffectiveUntil: day("2019-06-07")},
		{LegalAct: "arrêté du 27 décembre 2018", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")},
	}
	cases := []struct {
		name     string
		on       string
		periods  []certification.RegistrationPeriod
		ok       bool
		contains string
	}{
		{"first day of the first period", "2013-01-29", periods, true, ""},
		{"the day before it", "2013-01-28", periods, false, "has not begun"},
		{"inside both (overlap)", "2019-03-01", periods, true, ""},
		{"last day of the last period", "2020-01-04", periods, true, ""},
		{"the day after: names the last period and its end", "2020-01-05", periods, false, "arrêté du 27 décembre 2018) ended on 2020-01-04"},
		{"today, years later", "2026-11-26", periods, false, "ended on 2020-01-04"},
		{"no period at all", "2026-11-26", nil, false, "not registered in the RNCP on 2026-11-26"},
		{"a renewal makes the date valid again", "2026-11-26", append(periods, certification.RegistrationPeriod{
			LegalAct: "renewal", EffectiveFrom: day("2026-01-01"), EffectiveUntil: day("2030-12-31")}), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := certification.CheckRegistrationPeriod("/enrolled_on", day(c.on), c.periods)
			if c.ok {
				if len(vs) != 0 {
					t.Fatalf("want none, got %+v", vs)
				}
				return
			}
			if len(vs) != 1 || vs[0].Rule != certification.RuleRegistrationPeriod || vs[0].Field != "/enrolled_on" || !strings.Contains(vs[0].Message, c.contains) {
				t.Fatalf("got %+v, want one REGISTRATION-PERIOD violation containing %q", vs, c.contains)
			}
		})
	}
}

func TestPeriodOnPrefersTheLatest(t *testing.T) {
	p, ok := certification.PeriodOn(day("2019-03-01"), []certification.RegistrationPeriod{
		{ID: "a", EffectiveFrom: day("2013-01-29"), EffectiveUntil: day("2019-06-07")},
		{ID: "b", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")},
	})
	if !ok || p.ID != "b" {
		t.Fatalf("got %q %t, want the later period b", p.ID, ok)
	}
}

func TestCheckPeriodBounds(t *testing.T) {
	cases := []struct {
		from, until string
		ok          bool
	}{
		{"2026-01-01", "2031-01-01", true},
		{"2026-01-01", "2026-01-02", true},
		{"2026-01-01", "2026-01-01", false},
		{"2026-01-02", "2026-01-01", false},
	}
	for _, c := range cases {
		vs := certification.CheckPeriodBounds(day(c.from), day(c.until))
		if (len(vs) == 0) != c.ok {
			t.Errorf("%s..%s: got %+v, want ok=%t", c.from, c.until, vs, c.ok)
		}
	}
}

func TestCheckSiteRoles(t *testing.T) {
	cases := []struct {
		name  string
		roles []certification.SiteRole
		ok    bool
	}{
		{"preparation", []certification.SiteRole{"preparation"}, true},
		{"both", []certification.SiteRole{"preparation", "certification"}, true},
		{"none", nil, false},
		{"twice", []certification.SiteRole{"certification", "certification"}, false},
		{"unknown", []certification.SiteRole{"exam"}, false},
	}
	for _, c := range cases {
		if vs := certification.CheckSiteRoles(c.roles); (len(vs) == 0) != c.ok {
			t.Errorf("%s: got %+v, want ok=%t", c.name, vs, c.ok)
		}
	}
}

// Every rule of RULES.md is in the catalogue, once, with both statements.
func TestRulesCatalogue(t *testing.T) {
	want := []string{"ROUTE-OPEN", "TERRITORY", "SITE-PREPARATION", "SITE-CERTIFICATION", "REGISTRATION-PERIOD",
		"COMPONENTS", "GRADING", "VALIDITY", "AWARD", "JURY-COMPOSITION", "JURY-INDEPENDENCE", "DEFENCE-SLOT",
		"VAE-ADMISSIBILITY", "MINUTES", "PUBLICATION", "HOLDERS-DECLARATION", "WITHDRAWAL", "CARRY-OVER", "ROUTE-OPENING",
		"VAE-EXPERIENCE"}
	if len(certification.Rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(certification.Rules), len(want))
	}
	for i, r := range certification.Rules {
		if r.ID != want[i] || r.Statement.FR == "" || r.Statement.EN == "" || r.Source == "" {
			t.Errorf("rule %d: %+v, want %s with both statements and a source", i, r, want[i])
		}
	}
}
