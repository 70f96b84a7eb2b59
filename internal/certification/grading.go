package certification

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Hundredths is a grade in hundredths of a point: 1250 is 12.50. Grades are exact
// integers from the request to the database, so that every re-read, on either
// database, says what the answer said about a pass.
type Hundredths int64

// HundredthsOf is a setting (a scale bound, a pass mark) in hundredths.
func HundredthsOf(v float64) Hundredths { return Hundredths(math.Round(v * 100)) }

// Float is the grade as a number of points, for JSON and the audit trail; two
// decimals print exactly.
func (h Hundredths) Float() float64 { return float64(h) / 100 }

func (h Hundredths) String() string { return strconv.FormatFloat(h.Float(), 'f', -1, 64) }

// ParseGrade reads a grade as the request wrote it, exactly: a number with at most
// two decimals (GRADING: "a grade of 9.999999999" is not 10.00 on one database and
// 9.999999999 on the other, it is refused).
func ParseGrade(field, text string) (Hundredths, []Violation) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(text))
	if ok {
		r.Mul(r, big.NewRat(100, 1))
	}
	if !ok || !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() > math.MaxInt32 || r.Num().Int64() < math.MinInt32 {
		return 0, []Violation{{Rule: RuleGrading, Field: field, Message: "a grade is a number with at most two decimals"}}
	}
	return Hundredths(r.Num().Int64()), nil
}

// Result is what an assessor records for a sitting: a grade, the grades of the
// component's parts (E4), or an absence.
type Result struct {
	Absent       bool
	Grade        *Hundredths
	DossierGrade *Hundredths
	DefenceGrade *Hundredths
}

// GradeResult enforces GRADING and returns the component's grade: "Epreuve de
// synthèse : rédaction d'un dossier … Soutenance orale : devant les jurys". A
// component made of parts is graded by each part, each required, and its grade
// combines them as the certification's settings say; another component takes one
// grade. Every grade lies on the certification's scale. An absence has no grade.
func GradeResult(comp Component, r Result) (*Hundredths, []Violation) {
	g := comp.Grading
	var vs []Violation
	inScale := func(field string, v *Hundredths) {
		if v != nil && (*v < HundredthsOf(g.ScaleMin) || *v > HundredthsOf(g.ScaleMax)) {
			vs = append(vs, Violation{Rule: RuleGrading, Field: field,
				Message: fmt.Sprintf("a grade of %s lies between %g and %g", comp.ID, g.ScaleMin, g.ScaleMax)})
		}
	}
	if r.Absent {
		if r.Grade != nil || r.DossierGrade != nil || r.DefenceGrade != nil {
			vs = append(vs, Violation{Rule: RuleGrading, Field: "/absent", Message: "an absent candidate has no grade"})
		}
		return nil, vs
	}
	if len(comp.Parts) == 0 {
		if r.DossierGrade != nil || r.DefenceGrade != nil {
			vs = append(vs, Violation{Rule: RuleGrading, Field: "/grade", Message: fmt.Sprintf("%s has no parts: give one grade", comp.ID)})
		}
		if r.Grade == nil {
			vs = append(vs, Violation{Rule: RuleGrading, Field: "/grade", Message: fmt.Sprintf("%s needs a grade", comp.ID)})
		}
		inScale("/grade", r.Grade)
		if len(vs) > 0 {
			return nil, vs
		}
		return r.Grade, nil
	}
	if r.Grade != nil {
		vs = append(vs, Violation{Rule: RuleGrading, Field: "/grade",
			Message: fmt.Sprintf("%s is graded by its parts, dossier_grade and defence_grade, not as a whole", comp.ID)})
	}
	parts := map[string]*Hundredths{"dossier": r.DossierGrade, "defence": r.DefenceGrade}
	var grades []Hundredths
	for _, p := range comp.Parts {
		field := "/" + p.ID + "_grade"
		v, ok := parts[p.ID]
		if !ok || v == nil {
			vs = append(vs, Violation{Rule: RuleGrading, Field: field, Message: fmt.Sprintf("each part of %s must be graded: %s is missing", comp.ID, p.ID)})
			continue
		}
		inScale(field, v)
		grades = append(grades, *v)
	}
	if g.Combination != "" && g.Combination != "mean" {
		vs = append(vs, Violation{Rule: RuleGrading, Field: "/" + comp.Parts[0].ID + "_grade",
			Message: fmt.Sprintf("the grading settings of %s combine its parts by %q, which this service does not know", comp.ID, g.Combination)})
	}
	if len(vs) > 0 {
		return nil, vs
	}
	combined := mean(grades)
	return &combined, nil
}

// mean is how the grades of a component's parts combine: "mean", the default and
// the only combination the referential offers. It is cut, not rounded, to the
// hundredth, so that the grade kept never passes where the exact mean fails (9.99
// and 10 give 9.99, not 10).
func mean(grades []Hundredths) Hundredths {
	var sum Hundredths
	for _, g := range grades {
		sum += g
	}
	return sum / Hundredths(len(grades))
}

// Passed reports whether a grade reaches the component's pass mark.
func Passed(comp Component, grade Hundredths) bool {
	return grade >= HundredthsOf(comp.Grading.PassMark)
}

// ValidUntil is the last day an acquisition stays valid (VALIDITY: "Validité des
// composantes acquises : 5 an(s)"): its anniversary validityYears later, that day
// included, as French law counts periods in years (code de procédure civile, art.
// 641-642); an acquisition of 29 February runs to 28 February. Nil when
// acquisitions never expire (a certification without validity, or a route such as
// VAE whose acquisitions are permanent).
func ValidUntil(acquiredOn time.Time, validityYears *int) *time.Time {
	if validityYears == nil {
		return nil
	}
	until := AddMonths(acquiredOn, 12**validityYears)
	return &until
}

// AddMonths is the same day months later, as French law counts periods: when that
// month is shorter, its last day (31 January plus one month is 28 or 29 February).
func AddMonths(d time.Time, months int) time.Time {
	d = Day(d)
	y, m, day := d.Year(), d.Month()+time.Month(months), d.Day()
	if last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(); day > last {
		day = last
	}
	return time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
}
