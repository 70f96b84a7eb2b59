package service

import (
	"testing"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// fold gives what a fresh chain of normalisations gives, on ASCII and on the rest,
// however many times it runs (its transformers are reused).
func TestFold(t *testing.T) {
	reference := func(s string) string {
		out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct{ in, want string }{
		{"Élodie  DUPONT", "elodie dupont"},
		{"elodie dupont", "elodie dupont"},
		{"  Jean-Noël\tLe\u00a0Gall ", "jean-noel le gall"},
		{"Zoé Œuvray", "zoe œuvray"},
		{"E\u0301lodie", "elodie"},
		{"ÇA ÑANDÚ Ångström", "ca nandu angstrom"},
		{"Δήμητρα", "δημητρα"},
		{"", ""},
		{"MARTIN", "martin"},
	} {
		for range 3 {
			if got := fold(tc.in); got != tc.want {
				t.Errorf("fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
		}
		if got, ref := fold(tc.in), fold(reference(tc.in)); got != ref {
			t.Errorf("fold(%q) = %q, but %q after the reference normalisation", tc.in, got, ref)
		}
	}
}
