package cdc_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/apformation/certapi/internal/cdc"
	"golang.org/x/text/language"
)

// iso3166 are the 249 codes ISO 3166-1 alpha-2 assigns: every country and territory
// a birth_place.country_code can name.
var iso3166 = strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`)

// The mapping's shape: one row per ISO code, each a code of a country or territory
// that golang.org/x/text knows, an INSEE code 99xxx, a name in capitals the flux
// can carry; and every ISO code is France, mapped, or Antarctica.
func TestCountriesShape(t *testing.T) {
	if len(iso3166) != 249 {
		t.Fatalf("the ISO list has %d codes, want 249", len(iso3166))
	}
	insee := regexp.MustCompile(`^99[1-5][0-9]{2}$`)
	countries := cdc.Countries()
	for iso, c := range countries {
		if c.ISO != iso {
			t.Errorf("%s: filed as %s", iso, c.ISO)
		}
		r, err := language.ParseRegion(iso)
		if err != nil || r.String() != iso || !r.IsCountry() {
			t.Errorf("%s is not a region code of a country or territory", iso)
		}
		if !insee.MatchString(c.INSEE) {
			t.Errorf("%s: INSEE code %q is not 99xxx", iso, c.INSEE)
		}
		if c.Code() != c.INSEE[2:] || len(c.Code()) != 3 {
			t.Errorf("%s: country code %q", iso, c.Code())
		}
		if c.Name == "" || utf8.RuneCountInString(c.Name) > 60 || strings.ToUpper(c.Name) != c.Name {
			t.Errorf("%s: name %q is not in capitals within 60 characters", iso, c.Name)
		}
		for _, r := range c.Name {
			if r > unicode.MaxASCII {
				t.Errorf("%s: name %q has %q: INSEE writes its names without accents", iso, c.Name, r)
			}
		}
	}
	bc := cdc.BirthCountries{}
	inFrance := 0
	for _, iso := range iso3166 {
		_, mapped := countries[iso]
		switch {
		case bc.InFrance(iso):
			inFrance++
			if mapped || bc.Abroad(iso) {
				t.Errorf("%s is France and abroad", iso)
			}
		case iso == "AQ":
			if mapped {
				t.Errorf("AQ has no INSEE code")
			}
		case !mapped || !bc.Abroad(iso):
			t.Errorf("%s has no INSEE country code", iso)
		}
	}
	if inFrance != 13 {
		t.Errorf("%d ISO codes count as France, want 13 (FR and the overseas)", inFrance)
	}
	if want := 249 - 13 - 1 + 1; len(countries) != want { // less France and AQ, plus XK
		t.Errorf("%d countries mapped, want %d", len(countries), want)
	}
}

// Rows as the INSEE "pays" reference has them.
func TestCountriesKnownRows(t *testing.T) {
	for _, c := range []cdc.Country{
		{"DE", "99109", "ALLEMAGNE"},
		{"BE", "99131", "BELGIQUE"},
		{"GB", "99132", "ROYAUME-UNI"},
		{"JE", "99132", "JERSEY"},
		{"ES", "99134", "ESPAGNE"},
		{"IT", "99127", "ITALIE"},
		{"PT", "99139", "PORTUGAL"},
		{"CH", "99140", "SUISSE"},
		{"MC", "99138", "MONACO"},
		{"MA", "99350", "MAROC"},
		{"DZ", "99352", "ALGERIE"},
		{"TN", "99351", "TUNISIE"},
		{"SN", "99341", "SENEGAL"},
		{"CI", "99326", "COTE D'IVOIRE"},
		{"US", "99404", "ETATS-UNIS"},
		{"CA", "99401", "CANADA"},
		{"BR", "99416", "BRESIL"},
		{"CN", "99216", "CHINE"},
		{"VN", "99243", "VIET NAM"},
		{"TR", "99208", "TURQUIE"},
		{"UA", "99155", "UKRAINE"},
		{"RU", "99123", "RUSSIE"},
		{"AU", "99501", "AUSTRALIE"},
		{"FO", "99101", "FEROE (ILES)"},
		{"XK", "99157", "KOSOVO"},
	} {
		got, ok := cdc.CountryOf(c.ISO)
		if !ok || got != c {
			t.Errorf("%s: got %+v, want %+v", c.ISO, got, c)
		}
	}
	if got, _ := cdc.CountryOf("DE"); got.Code() != "109" {
		t.Errorf("DE: country code %q, want 109", got.Code())
	}
	for _, iso := range []string{"FR", "GP", "RE", "YT", "NC", "PF", "AQ", "ZZ", "", "de"} {
		if _, ok := cdc.CountryOf(iso); ok {
			t.Errorf("%q has an INSEE country code", iso)
		}
	}
}
