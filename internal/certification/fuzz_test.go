package certification_test

import (
	"encoding/binary"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// jsonNumber is a number as JSON writes it, the only spelling a grade reaches
// ParseGrade in (the API reads grades as json.Number): sign, integer, fraction,
// exponent.
var jsonNumber = regexp.MustCompile(`^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$`)

// plainGrade is a grade written plainly: no exponent, no leading or trailing zero,
// at most two decimals.
var plainGrade = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]?[1-9])?$`)

// exactHundredths reads a JSON number as a decimal, digit by digit, independently of
// ParseGrade: ok when it is a whole number of hundredths that fits an int32, that
// number, and the number written plainly. decided is false for what this reading does
// not judge: text that is not a JSON number, and exponents of six digits or more,
// which ParseGrade may refuse whatever they multiply (0e99999999999999999999 is 0).
func exactHundredths(text string) (h int64, plain string, ok, decided bool) {
	m := jsonNumber.FindStringSubmatch(text)
	if m == nil {
		return 0, "", false, false
	}
	exp := 0
	if e := strings.TrimLeft(strings.TrimLeft(m[4], "+-"), "0"); e != "" {
		if len(e) > 5 {
			return 0, "", false, false
		}
		exp, _ = strconv.Atoi(e)
		if strings.HasPrefix(m[4], "-") {
			exp = -exp
		}
	}
	// The value is digits × 10^-scale.
	digits, scale := strings.TrimLeft(m[2]+m[3], "0"), len(m[3])-exp
	if digits == "" {
		return 0, "0", true, true
	}
	for strings.HasSuffix(digits, "0") {
		digits, scale = digits[:len(digits)-1], scale-1
	}
	if scale > 2 || len(digits)+2-scale > 10 {
		return 0, "", false, true // more than two decimals, or beyond every int32
	}
	h, _ = strconv.ParseInt(digits+strings.Repeat("0", 2-scale), 10, 64)
	switch {
	case scale <= 0:
		plain = digits + strings.Repeat("0", -scale)
	case len(digits) > scale:
		plain = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	default:
		plain = "0." + strings.Repeat("0", scale-len(digits)) + digits
	}
	if m[1] == "-" {
		h, plain = -h, "-"+plain
	}
	if h > 1<<31-1 || h < -1<<31 {
		return 0, "", false, true
	}
	return h, plain, true, true
}

// FuzzParseGrade checks GRADING's reading of a grade. For any text, ParseGrade
//   - never panics, and refuses with one GRADING violation on the field it is given;
//   - accepts a JSON number exactly when it is a whole number of hundredths, read
//     digit by digit (9.999999999 and 9.995 are refused, never rounded; 1e1 and
//     10.000 are 10), within an int32, and then reads that number;
//   - accepts nothing that does not print back, plainly and exactly, as what it
//     read: format(parse(x)) is x written canonically, and parse(format(h)) is h;
//
// and a grade it accepts lies on a 0-20 scale for GradeResult exactly when it is
// between 0.00 and 20.00.
func FuzzParseGrade(f *testing.F) {
	for _, seed := range []string{
		"12", "12.5", "12.50", "0", "-0", "-0.00", "20", "9.99", "0.01", "-1", "10.000", "1e1", "1E+1", "0.1e2", "1250e-2", "125e-1",
		"9.999999999", "9.995", "0.001", "1e-3", "12.345e1",
		"1e400", "-1e400", "1e-400", "1e999999", "1e1000000", "1e1000001", "0e99999999999999999999", "1e-99999999999999999999",
		"99999999999999999999", "21474836.47", "21474836.48", "-21474836.48", "-21474836.49",
		"", " ", "abc", "NaN", "Inf", "-Inf", "+5", " 12 ", "1/2", "0x10", "0x1p-2", "0b101", "1_000", "12,5", "1.", ".5", "01", "--1",
	} {
		f.Add(seed, int64(1250))
	}
	f.Add("12", int64(-1))
	f.Add("12", int64(1<<31-1))
	f.Add("12", int64(-1<<31))
	f.Add("12", int64(1<<40+7))
	scale := certification.Component{ID: "E1", Grading: certification.Grading{ScaleMin: 0, ScaleMax: 20, PassMark: 10}}
	f.Fuzz(func(t *testing.T, text string, n int64) {
		h, vs := certification.ParseGrade("/grade", text)
		accepted := len(vs) == 0
		if !accepted && (len(vs) != 1 || vs[0].Rule != certification.RuleGrading || vs[0].Field != "/grade" || h != 0) {
			t.Fatalf("%q: refused as %d %+v, want one GRADING violation on /grade", text, h, vs)
		}
		if want, plain, ok, decided := exactHundredths(text); decided {
			if accepted != ok || (ok && int64(h) != want) {
				t.Fatalf("%q: read as %d (accepted %t), want %d (accepted %t)", text, h, accepted, want, ok)
			}
			if ok && h.String() != plain {
				t.Fatalf("%q: read as %d, which prints %q, want %q", text, h, h.String(), plain)
			}
		}
		if accepted {
			if int64(h) != int64(int32(h)) {
				t.Fatalf("%q: read as %d, beyond an int32", text, h)
			}
			if back, bad := certification.ParseGrade("/grade", h.String()); len(bad) > 0 || back != h || !plainGrade.MatchString(h.String()) {
				t.Fatalf("%q: read as %d, printed %q, read back as %d %+v", text, h, h.String(), back, bad)
			}
			got, bad := certification.GradeResult(scale, certification.Result{Grade: &h})
			if inside := h >= 0 && h <= 2000; (len(bad) == 0) != inside || (inside && *got != h) {
				t.Fatalf("%q: a grade of %d on 0-20: %v %+v", text, h, got, bad)
			}
		}

		// Every int32 of hundredths prints plainly and reads back as itself.
		g := certification.Hundredths(int32(n))
		if back, bad := certification.ParseGrade("/grade", g.String()); len(bad) > 0 || back != g || !plainGrade.MatchString(g.String()) {
			t.Fatalf("%d prints %q, read back as %d %+v", g, g.String(), back, bad)
		}
	})
}

// The days of the domain: the service accepts dates from 1900 to 2199.
var (
	firstDay = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	dayCount = uint32(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Sub(firstDay).Hours() / 24)
)

func domainDay(n uint32) time.Time { return firstDay.AddDate(0, 0, int(n%dayCount)) }

// daysIn is the length of a month, by the Gregorian calendar's rules.
func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
}

// monthsLater is the same day months later as French law counts it, computed
// field by field: the month and year by arithmetic, the day kept, or cut to the
// month's last.
func monthsLater(d time.Time, months int) (int, time.Month, int) {
	total := int(d.Month()) - 1 + months
	year, month := d.Year()+total/12, total%12
	if month < 0 {
		year, month = year-1, month+12
	}
	return year, time.Month(month + 1), min(d.Day(), daysIn(time.Month(month+1), year))
}

func isDay(t time.Time) bool {
	return t.Location() == time.UTC && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// FuzzValidUntil checks VALIDITY's dates. For any two days of the domain, a time
// of day and a zone, a validity of 0 to 100 years and a shift of up to 400 years:
//   - ValidUntil without a validity is nil (acquisitions that never expire);
//   - ValidUntil is a day, the anniversary validity years later, the day kept or
//     cut to the month's last (29 February to 28 February), whatever the time of
//     day and zone the acquisition is written in;
//   - it is after the acquisition, or the same day for a validity of 0 years, and
//     moves forward with the acquisition and with the validity;
//   - AddMonths is a day, exactly months later by the month, never overflowing
//     into the next month (31 January plus one month is 28 or 29 February), and
//     moves forward with the day and with the months.
func FuzzValidUntil(f *testing.F) {
	day := func(s string) uint32 {
		d, _ := time.Parse(time.DateOnly, s)
		return uint32(d.Sub(firstDay).Hours() / 24)
	}
	f.Add(day("2020-03-10"), day("2020-03-11"), uint32(0), int8(0), uint8(5), int32(12))
	f.Add(day("2020-02-29"), day("2020-03-01"), uint32(43200), int8(-10), uint8(5), int32(1))
	f.Add(day("2021-01-31"), day("2021-01-30"), uint32(86399), int8(14), uint8(1), int32(1))
	f.Add(day("2019-12-31"), day("2019-12-31"), uint32(3600), int8(2), uint8(4), int32(-13))
	f.Add(day("2000-02-29"), day("2100-02-28"), uint32(1), int8(-12), uint8(100), int32(1200))
	f.Add(day("2199-12-31"), day("1900-01-01"), uint32(0), int8(0), uint8(0), int32(-4800))
	f.Add(day("1900-03-31"), day("1900-01-31"), uint32(0), int8(1), uint8(0), int32(-1))
	f.Fuzz(func(t *testing.T, na, nb, clock uint32, zone int8, validity uint8, shift int32) {
		a, b := domainDay(na), domainDay(nb)
		if b.Before(a) {
			a, b = b, a
		}
		years, months := int(validity%101), int(shift%(12*400+1))
		// a as written in some zone, at some time of day: still day a.
		loc := time.FixedZone("", int(zone%15)*3600)
		aAt := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, loc).Add(time.Duration(clock%86400) * time.Second)

		if certification.ValidUntil(a, nil) != nil {
			t.Fatalf("%s: valid until a day without a validity", a.Format(time.DateOnly))
		}
		until := *certification.ValidUntil(aAt, &years)
		y, m, d := monthsLater(a, 12*years)
		if !isDay(until) || until.Year() != y || until.Month() != m || until.Day() != d {
			t.Fatalf("%s (%s) + %d years: valid until %s, want %04d-%02d-%02d", a.Format(time.DateOnly), aAt, years, until, y, m, d)
		}
		if (years == 0 && !until.Equal(a)) || (years > 0 && !until.After(a)) {
			t.Fatalf("%s + %d years: valid until %s", a.Format(time.DateOnly), years, until.Format(time.DateOnly))
		}
		if untilB := *certification.ValidUntil(b, &years); untilB.Before(until) {
			t.Fatalf("+ %d years: %s is valid until %s, the later %s until %s", years, a.Format(time.DateOnly), until.Format(time.DateOnly), b.Format(time.DateOnly), untilB.Format(time.DateOnly))
		}
		longer := years + 1
		if more := *certification.ValidUntil(a, &longer); !more.After(until) {
			t.Fatalf("%s: valid until %s for %d years, %s for %d", a.Format(time.DateOnly), until.Format(time.DateOnly), years, more.Format(time.DateOnly), longer)
		}

		later := certification.AddMonths(aAt, months)
		y, m, d = monthsLater(a, months)
		if !isDay(later) || later.Year() != y || later.Month() != m || later.Day() != d {
			t.Fatalf("%s (%s) + %d months: %s, want %04d-%02d-%02d", a.Format(time.DateOnly), aAt, months, later, y, m, d)
		}
		if next := certification.AddMonths(a, months+1); !next.After(later) {
			t.Fatalf("%s: + %d months is %s, + %d is %s", a.Format(time.DateOnly), months, later.Format(time.DateOnly), months+1, next.Format(time.DateOnly))
		}
		if laterB := certification.AddMonths(b, months); laterB.Before(later) {
			t.Fatalf("+ %d months: %s gives %s, the later %s gives %s", months, a.Format(time.DateOnly), later.Format(time.DateOnly), b.Format(time.DateOnly), laterB.Format(time.DateOnly))
		}
	})
}

// FuzzCheckAwardPeriod checks REGISTRATION-PERIOD for an award. The periods, up to
// six, each ending after it begins, the day of the award, the day of enrolment
// (days from 2015) and the grace (0-36 months) come from the input. CheckAwardPeriod
//   - never panics, and refuses with one REGISTRATION-PERIOD violation on the
//     field it is given;
//   - allows an award on a day some period contains;
//   - refuses it outside every period before the last one ends, and with no period;
//   - after the last period ends, allows it exactly to a candidate enrolled while a
//     period that ended last ran, until the grace has passed;
//   - says the same whatever the order the periods are given in, and allows with a
//     longer grace whatever it allows with a shorter one.
func FuzzCheckAwardPeriod(f *testing.F) {
	period := func(from, days uint16) []byte {
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, from), days)
	}
	two := append(period(0, 2350), period(2194, 365)...) // the test referential's shape
	f.Add(uint16(2600), uint16(2400), two, uint8(12))
	f.Add(uint16(2921), uint16(2400), two, uint8(12))
	f.Add(uint16(2600), uint16(1000), two, uint8(12))
	f.Add(uint16(100), uint16(100), []byte{}, uint8(12))
	// Two periods ending on the same day, the candidate enrolled in the one that
	// began first.
	f.Add(uint16(2000), uint16(1100), append(period(1500, 365), period(1000, 865)...), uint8(12))
	f.Add(uint16(2000), uint16(1100), append(period(1000, 865), period(1500, 365)...), uint8(12))
	f.Fuzz(func(t *testing.T, on, enrolled uint16, spec []byte, grace uint8) {
		origin := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
		var periods []certification.RegistrationPeriod
		for i := 0; i+4 <= len(spec) && len(periods) < 6; i += 4 {
			from := origin.AddDate(0, 0, int(binary.BigEndian.Uint16(spec[i:])%4000))
			periods = append(periods, certification.RegistrationPeriod{LegalAct: "arrêté " + strconv.Itoa(i/4),
				EffectiveFrom: from, EffectiveUntil: from.AddDate(0, 0, 1+int(binary.BigEndian.Uint16(spec[i+2:])%2000))})
		}
		day, enrolledOn, months := origin.AddDate(0, 0, int(on%6000)), origin.AddDate(0, 0, int(enrolled%6000)), int(grace%37)

		vs := certification.CheckAwardPeriod("/outcome", day, enrolledOn, periods, months)
		allowed := len(vs) == 0
		if !allowed && (len(vs) != 1 || vs[0].Rule != certification.RuleRegistrationPeriod || vs[0].Field != "/outcome") {
			t.Fatalf("refused with %+v, want one REGISTRATION-PERIOD violation on /outcome", vs)
		}

		var within bool
		var lastEnd time.Time
		for _, p := range periods {
			within = within || (!day.Before(p.EffectiveFrom) && !day.After(p.EffectiveUntil))
			if p.EffectiveUntil.After(lastEnd) {
				lastEnd = p.EffectiveUntil
			}
		}
		want := within
		if !within && len(periods) > 0 && day.After(lastEnd) {
			y, m, d := monthsLater(lastEnd, months)
			inGrace := !day.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
			for _, p := range periods {
				if p.EffectiveUntil.Equal(lastEnd) && !enrolledOn.Before(p.EffectiveFrom) && !enrolledOn.After(p.EffectiveUntil) {
					want = inGrace
				}
			}
		}
		if allowed != want {
			t.Fatalf("an award on %s to a candidate enrolled on %s, %d months of grace, periods %s: allowed %t, want %t (%+v)",
				day.Format(time.DateOnly), enrolledOn.Format(time.DateOnly), months, spans(periods), allowed, want, vs)
		}

		reversed := slices.Clone(periods)
		slices.Reverse(reversed)
		if again := certification.CheckAwardPeriod("/outcome", day, enrolledOn, reversed, months); (len(again) == 0) != allowed {
			t.Fatalf("periods %s allow %t, in the reverse order %t", spans(periods), allowed, len(again) == 0)
		}
		if allowed {
			if longer := certification.CheckAwardPeriod("/outcome", day, enrolledOn, periods, months+1); len(longer) > 0 {
				t.Fatalf("allowed with %d months of grace, refused with %d: %+v", months, months+1, longer)
			}
		}
	})
}

func spans(periods []certification.RegistrationPeriod) string {
	var b strings.Builder
	for _, p := range periods {
		b.WriteString("[" + p.EffectiveFrom.Format(time.DateOnly) + " " + p.EffectiveUntil.Format(time.DateOnly) + "]")
	}
	return b.String()
}
