package certification_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// countries stands for the declaration's mapping: France and its overseas by
// commune, a few countries abroad.
type countries struct{}

func (countries) InFrance(iso string) bool { return iso == "FR" || iso == "RE" || iso == "NC" }
func (countries) Abroad(iso string) bool   { return iso == "DE" || iso == "MA" }

// HOLDERS-DECLARATION at registration: a birth place the declaration cannot carry is
// refused.
func TestCheckDeclarableBirthPlace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bp    certification.BirthPlace
		field string
	}{
		{"a commune in France by INSEE code", certification.BirthPlace{INSEECode: "31555", CountryCode: "FR"}, ""},
		{"a commune in Corsica", certification.BirthPlace{INSEECode: "2A004", CountryCode: "FR"}, ""},
		{"a commune overseas", certification.BirthPlace{INSEECode: "97411", CountryCode: "RE"}, ""},
		{"a commune in France by postal code", certification.BirthPlace{PostalCode: "34000", CountryCode: "FR"}, ""},
		{"a postal code of 9 characters", certification.BirthPlace{PostalCode: "123456789", CountryCode: "FR"}, ""},
		{"a postal code of 10 characters", certification.BirthPlace{PostalCode: "1234567890", CountryCode: "FR"}, "/birth_place/postal_code"},
		{"a long postal code beside an INSEE code", certification.BirthPlace{INSEECode: "34172", PostalCode: "1234567890", CountryCode: "FR"}, ""},
		{"a country code as commune", certification.BirthPlace{INSEECode: "99109", CountryCode: "FR"}, "/birth_place/insee_code"},
		{"a country abroad", certification.BirthPlace{PostalCode: "10115", CountryCode: "DE"}, ""},
		{"a country abroad by its INSEE code", certification.BirthPlace{INSEECode: "99350", CountryCode: "MA"}, ""},
		{"a country without INSEE code", certification.BirthPlace{PostalCode: "x", CountryCode: "AQ"}, "/birth_place/country_code"},
		{"an unassigned code", certification.BirthPlace{INSEECode: "31555", CountryCode: "ZZ"}, "/birth_place/country_code"},
	} {
		vs := certification.CheckDeclarableBirthPlace(tc.bp, countries{})
		var got string
		if len(vs) > 1 {
			t.Errorf("%s: %v", tc.name, vs)
			continue
		}
		if len(vs) == 1 {
			got = vs[0].Field
			if vs[0].Rule != certification.RuleHoldersDeclaration {
				t.Errorf("%s: rule %q", tc.name, vs[0].Rule)
			}
		}
		if got != tc.field {
			t.Errorf("%s: violation at %q, want %q", tc.name, got, tc.field)
		}
	}
}

// The registration check applies it beside the other rules.
func TestCheckRegistrationChecksTheBirthCountry(t *testing.T) {
	ref := certification.Certification{Code: "RNCP26206", Routes: routes,
		Periods: []certification.RegistrationPeriod{{EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")}}}
	c := certification.Candidate{Route: "individual_application", EnrolledOn: day("2019-06-03"), BirthDate: day("1995-04-12"),
		BirthPlace: certification.BirthPlace{PostalCode: "x", CountryCode: "AQ"}}
	vs := certification.CheckRegistration(certification.Registration{Candidate: c, Certification: ref, BirthCountries: countries{}})
	if len(vs) != 1 || vs[0].Field != "/birth_place/country_code" || vs[0].Rule != certification.RuleHoldersDeclaration {
		t.Fatalf("%+v", vs)
	}
	c.BirthPlace.CountryCode = "DE"
	if vs := certification.CheckRegistration(certification.Registration{Candidate: c, Certification: ref, BirthCountries: countries{}}); len(vs) != 0 {
		t.Fatalf("%+v", vs)
	}
}

// Three months, as French law counts months: to the same day, or the month's last.
func TestDueOn(t *testing.T) {
	for awarded, due := range map[string]string{
		"2026-06-30": "2026-09-30",
		"2026-01-15": "2026-04-15",
		"2026-11-30": "2027-02-28",
		"2027-11-30": "2028-02-29",
		"2026-03-31": "2026-06-30",
		"2026-12-31": "2027-03-31",
	} {
		if got := certification.DueOn(day(awarded)).Format(time.DateOnly); got != due {
			t.Errorf("awarded %s: due %s, want %s", awarded, got, due)
		}
	}
}

// The cutoff of a due_before day is the first award whose deadline is not before it;
// checked against DueOn on every day of four years.
func TestDueCutoff(t *testing.T) {
	for d := day("2025-01-01"); d.Before(day("2029-01-01")); d = d.AddDate(0, 0, 1) {
		c := certification.DueCutoff(d)
		if certification.DueOn(c).Before(d) || !certification.DueOn(c.AddDate(0, 0, -1)).Before(d) {
			t.Fatalf("due before %s: cutoff %s (due %s), the day before is due %s", d.Format(time.DateOnly), c.Format(time.DateOnly),
				certification.DueOn(c).Format(time.DateOnly), certification.DueOn(c.AddDate(0, 0, -1)).Format(time.DateOnly))
		}
	}
}

func TestCheckDeclarationPeriod(t *testing.T) {
	if vs := certification.CheckDeclarationPeriod(day("2026-01-01"), day("2026-01-01")); len(vs) != 0 {
		t.Errorf("a one-day period: %v", vs)
	}
	if vs := certification.CheckDeclarationPeriod(day("2026-01-02"), day("2026-01-01")); len(vs) != 1 || vs[0].Field != "/from" {
		t.Errorf("a period that ends before it starts: %v", vs)
	}
}

func TestCheckDeclarationFile(t *testing.T) {
	if err := certification.CheckDeclarationFile(day("2026-06-30"), 3); err != nil {
		t.Error(err)
	}
	var ve *certification.ViolationError
	if err := certification.CheckDeclarationFile(day("2026-06-30"), 0); !errors.As(err, &ve) ||
		ve.Violations[0].Rule != certification.RuleHoldersDeclaration || ve.Violations[0].Field != "/awarded_to" {
		t.Errorf("an empty file: %v", err)
	}
}

func TestDecideReceipt(t *testing.T) {
	now := time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC)
	file := certification.DeclarationFile{ID: "f1", Records: 4}
	records := []string{"a", "b", "c", "d"}
	line := func(id string, ok bool, msg string) certification.ReceiptLine {
		return certification.ReceiptLine{IDTechnique: id, Accepted: ok, Message: msg}
	}
	t.Run("accepted, rejected and unmentioned records", func(t *testing.T) {
		f, out, err := certification.DecideReceipt(file, records, certification.Receipt{FluxID: "f1", ProcessingID: "51354", Lines: []certification.ReceiptLine{
			line("a", true, ""), line("b", false, "Aucun titulaire ne correspond aux critères obligatoires"), line("c", false, " "),
		}}, now)
		if err != nil {
			t.Fatal(err)
		}
		want := []certification.RecordOutcome{
			{IDTechnique: "a", State: certification.Accepted},
			{IDTechnique: "b", State: certification.Rejected, Message: "Aucun titulaire ne correspond aux critères obligatoires"},
			{IDTechnique: "c", State: certification.Rejected, Message: "rejected without a message"},
			{IDTechnique: "d", State: certification.Rejected, Message: "the receipt does not mention this record: it goes out again in the next file"},
		}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("outcomes %+v", out)
		}
		if f.Accepted != 1 || f.Rejected != 3 || f.ReceiptImportedAt == nil || !f.ReceiptImportedAt.Equal(now) || f.ProcessingID != "51354" {
			t.Errorf("file %+v", f)
		}
	})
	t.Run("an acceptance wins over a rejection of the same record", func(t *testing.T) {
		_, out, err := certification.DecideReceipt(file, records[:1], certification.Receipt{FluxID: "f1", Lines: []certification.ReceiptLine{
			line("a", true, ""), line("a", false, "x")}}, now)
		if err != nil || out[0].State != certification.Accepted {
			t.Fatalf("%v %+v", err, out)
		}
	})
	t.Run("a long message is kept to its limit", func(t *testing.T) {
		_, out, _ := certification.DecideReceipt(file, records[:1], certification.Receipt{FluxID: "f1", Lines: []certification.ReceiptLine{
			line("a", false, strings.Repeat("é", 3000))}}, now)
		if n := len([]rune(out[0].Message)); n != certification.MaxRejectionMessage {
			t.Fatalf("a message of %d characters", n)
		}
	})
	t.Run("once per file", func(t *testing.T) {
		done := file
		done.ReceiptImportedAt = &now
		_, _, err := certification.DecideReceipt(done, records, certification.Receipt{FluxID: "f1"}, now)
		var ce *certification.ConflictError
		if !errors.As(err, &ce) || ce.Code != "receipt_imported" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("another file's receipt", func(t *testing.T) {
		_, _, err := certification.DecideReceipt(file, records, certification.Receipt{FluxID: "f2"}, now)
		var ve *certification.ViolationError
		if !errors.As(err, &ve) || ve.Violations[0].Field != "/rapport/idFlux" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("records of no file of ours", func(t *testing.T) {
		var lines []certification.ReceiptLine
		for i := range 150 {
			lines = append(lines, line(fmt.Sprint("x", i), true, ""))
		}
		_, _, err := certification.DecideReceipt(file, records, certification.Receipt{FluxID: "f1", Lines: lines}, now)
		var ve *certification.ViolationError
		if !errors.As(err, &ve) || len(ve.Violations) != 100 || !strings.Contains(ve.Violations[0].Message, `"x0"`) {
			t.Fatalf("%v", err)
		}
	})
}
