package cdc

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
)

// Country is a country or territory abroad as the INSEE "pays" reference names it:
// its 5-digit code of the form 99xxx and its name, in capitals.
type Country struct {
	ISO   string
	INSEE string
	Name  string
}

// Code is the 3-digit country code the flux's codePaysNaissance holds: the last three
// digits of the INSEE code (109 for Germany, 99109).
func (c Country) Code() string { return c.INSEE[2:] }

// paysCSV maps every ISO 3166-1 alpha-2 code of a country or territory outside
// France (and XK, the code in use for Kosovo) to the INSEE "pays" reference. A
// territory without an INSEE code of its own has its sovereign's, as INSEE files it
// (the Faroe Islands under Denmark's 99101), with its own name. Antarctica (AQ) is
// not there: INSEE gives it no code.
//
//go:embed pays.csv
var paysCSV string

var countries = mustParseCountries(paysCSV)

func mustParseCountries(data string) map[string]Country {
	m, err := parseCountries(data)
	if err != nil {
		panic(err)
	}
	return m
}

func parseCountries(data string) (map[string]Country, error) {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("pays.csv: %w", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "iso,insee,libelle" {
		return nil, fmt.Errorf("pays.csv: the header is iso,insee,libelle")
	}
	m := make(map[string]Country, len(rows)-1)
	for i, r := range rows[1:] {
		c := Country{ISO: r[0], INSEE: r[1], Name: r[2]}
		if _, dup := m[c.ISO]; dup {
			return nil, fmt.Errorf("pays.csv line %d: %s twice", i+2, c.ISO)
		}
		m[c.ISO] = c
	}
	return m, nil
}

// Countries returns every country and territory abroad the flux can name, by ISO code.
func Countries() map[string]Country {
	out := make(map[string]Country, len(countries))
	for k, v := range countries {
		out[k] = v
	}
	return out
}

// franceISO are the ISO codes of France and of the overseas departments,
// collectivities and territories that INSEE counts as France: a holder born there
// is declared by their commune's code (971xx, 975xx, 987xx...), not by a country.
var franceISO = map[string]bool{
	"FR": true, "GP": true, "MQ": true, "GF": true, "RE": true, "YT": true,
	"PM": true, "BL": true, "MF": true, "WF": true, "PF": true, "NC": true, "TF": true,
}

// BirthCountries tells how the flux names a country of birth given by its ISO code.
// Its zero value is ready to use; it implements certification.BirthCountries.
type BirthCountries struct{}

// InFrance reports whether a holder born in the country is declared by commune.
func (BirthCountries) InFrance(iso string) bool { return franceISO[iso] }

// Abroad reports whether the country has an INSEE country code the flux can carry.
func (BirthCountries) Abroad(iso string) bool {
	_, ok := countries[iso]
	return ok
}

// CountryOf returns the INSEE country of an ISO code; false for France and for a
// code INSEE does not know.
func CountryOf(iso string) (Country, bool) {
	c, ok := countries[iso]
	return c, ok
}
