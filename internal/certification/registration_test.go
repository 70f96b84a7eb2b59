package certification_test

import (
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

func TestSaveRegistrationPeriod(t *testing.T) {
	now := at("2026-03-01T10:00:00Z")
	recorded := at("2026-01-01T00:00:00Z")
	first := certification.RegistrationPeriod{ID: "p1", CertificationCode: "RNCP26206", LegalAct: "arrêté du 26 mai 2016",
		EffectiveFrom: day("2013-01-29"), EffectiveUntil: day("2019-06-07"), Version: 1, CreatedAt: recorded, UpdatedAt: recorded}
	second := certification.RegistrationPeriod{ID: "p2", CertificationCode: "RNCP26206", LegalAct: "arrêté du 27 décembre 2018",
		EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04"), Version: 3, CreatedAt: recorded, UpdatedAt: recorded}
	facts := certification.PeriodFacts{Others: []certification.RegistrationPeriod{first, second}, Now: now}
	period := func(id, act, from, until string) certification.RegistrationPeriod {
		return certification.RegistrationPeriod{ID: id, CertificationCode: "RNCP26206", LegalAct: act, EffectiveFrom: day(from), EffectiveUntil: day(until)}
	}
	cases := []struct {
		name    string
		before  *certification.RegistrationPeriod
		in      certification.RegistrationPeriod
		err     string // codeOf the error: a conflict's code, or the violations' fields
		version int
	}{
		{"a renewal", nil, period("p3", "arrêté du 9 décembre 2026", "2026-12-09", "2031-12-09"), "", 1},
		{"a renewal overlapping the period it renews", nil, period("p3", "renewal", "2019-06-01", "2021-06-01"), "", 1},
		{"a one-day period", nil, period("p3", "renewal", "2026-12-09", "2026-12-09"), "[/effective_until]", 0},
		{"ending before it begins", nil, period("p3", "renewal", "2026-12-09", "2026-12-08"), "[/effective_until]", 0},
		{"a blank legal act", nil, period("p3", "  ", "2026-12-09", "2031-12-09"), "[/legal_act]", 0},
		{"blank and backwards: both at once", nil, period("p3", "", "2026-12-09", "2026-12-08"), "[/legal_act /effective_until]", 0},
		{"the dates of another period", nil, period("p3", "the same again", "2019-01-04", "2020-01-04"), "duplicate_period", 0},
		{"a correction of the legal act", &second, period("p2", "arrêté du 27 décembre 2018, JO du 4 janvier 2019", "2019-01-04", "2020-01-04"), "", 4},
		{"a correction of its own dates", &second, period("p2", second.LegalAct, "2019-01-04", "2020-01-05"), "", 4},
		{"a correction onto another period's dates", &second, period("p2", second.LegalAct, "2013-01-29", "2019-06-07"), "duplicate_period", 0},
		{"a correction that ends before it begins", &second, period("p2", second.LegalAct, "2020-01-05", "2020-01-04"), "[/effective_until]", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := certification.SaveRegistrationPeriod(facts, c.before, c.in)
			if codeOf(err) != c.err {
				t.Fatalf("error %q, want %q", codeOf(err), c.err)
			}
			if err != nil {
				return
			}
			if got.Version != c.version || !got.UpdatedAt.Equal(now) {
				t.Fatalf("version %d updated %s, want %d at %s", got.Version, got.UpdatedAt, c.version, now)
			}
			if c.before == nil && !got.CreatedAt.Equal(now) {
				t.Fatalf("a new period created at %s, want now", got.CreatedAt)
			}
			if c.before != nil && (!got.CreatedAt.Equal(recorded) || got.ID != c.before.ID || got.CertificationCode != c.before.CertificationCode) {
				t.Fatalf("a correction changed what it keeps: %+v", got)
			}
			if got.LegalAct != c.in.LegalAct || !got.EffectiveFrom.Equal(c.in.EffectiveFrom) || !got.EffectiveUntil.Equal(c.in.EffectiveUntil) {
				t.Fatalf("saved %+v, want the dates and act of %+v", got, c.in)
			}
		})
	}
}

// A duplicate names the period it collides with, so the client can read it.
func TestSaveRegistrationPeriodNamesTheDuplicate(t *testing.T) {
	other := certification.RegistrationPeriod{ID: "p1", LegalAct: "arrêté", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")}
	_, err := certification.SaveRegistrationPeriod(certification.PeriodFacts{Others: []certification.RegistrationPeriod{other}, Now: time.Now()}, nil,
		certification.RegistrationPeriod{ID: "p2", LegalAct: "again", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")})
	ce, ok := err.(*certification.ConflictError)
	if !ok || ce.ExistingID != "p1" {
		t.Fatalf("error %v, want a conflict naming p1", err)
	}
}
