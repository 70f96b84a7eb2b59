package certification

import (
	"fmt"
	"math"
	"time"
)

// Result is what an assessor records for a sitting: a grade, the grades of the
// component's parts (E4), or an absence.
type Result struct {
	Absent       bool
	Grade        *float64
	DossierGrade *float64
	DefenceGrade *float64
}

// GradeResult enforces GRADING and returns the component's grade: "Epreuve de
// synthèse : rédaction d'un dossier … Soutenance orale : devant les jurys". A
// component made of parts is graded by each part, each required, and its grade
// combines them as the certification's settings say; another component takes one
// grade. Every grade lies on the certification's scale. An absence has no grade.
func GradeResult(comp Component, r Result) (*float64, []Violation) {
	g := comp.Grading
	var vs []Violation
	inScale := func(field string, v *float64) {
		switch {
		case v == nil:
		case *v < g.ScaleMin || *v > g.ScaleMax || math.IsNaN(*v):
			vs = append(vs, Violation{Rule: RuleGrading, Field: field,
				Message: fmt.Sprintf("a grade of %s lies between %g and %g", comp.ID, g.ScaleMin, g.ScaleMax)})
		case math.Abs(*v*100-math.Round(*v*100)) > 1e-6:
			// Grades are kept to the hundredth: a finer one would be rounded on the
			// way to the database, and could cross the pass mark doing so.
			vs = append(vs, Violation{Rule: RuleGrading, Field: field, Message: "a grade has at most two decimals"})
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
	parts := map[string]*float64{"dossier": r.DossierGrade, "defence": r.DefenceGrade}
	var grades []float64
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
// and 10 give 9.99, not 10). The tiny margin absorbs binary floating-point error
// (10.1 and 10.2 give 10.15).
func mean(grades []float64) float64 {
	sum := 0.0
	for _, g := range grades {
		sum += g
	}
	return math.Floor(sum/float64(len(grades))*100+1e-6) / 100
}

// Passed reports whether a grade reaches the component's pass mark.
func Passed(comp Component, grade float64) bool { return grade >= comp.Grading.PassMark }

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
	d := Day(acquiredOn)
	y, m, day := d.Year()+*validityYears, d.Month(), d.Day()
	if last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(); day > last {
		day = last
	}
	until := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return &until
}
