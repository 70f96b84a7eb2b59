package certification_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

func f(v float64) *certification.Hundredths { h := certification.HundredthsOf(v); return &h }

var (
	grading   = certification.Grading{ScaleMin: 0, ScaleMax: 20, PassMark: 10, Combination: "mean"}
	e1        = certification.Component{ID: "E1", Grading: grading}
	e4        = certification.Component{ID: "E4", Grading: grading, Parts: []certification.ComponentPart{{ID: "dossier"}, {ID: "defence", BeforeJury: true, DurationMinutes: &fortyFive}}}
	fortyFive = 45
)

func TestGradeResult(t *testing.T) {
	cases := []struct {
		name   string
		comp   certification.Component
		result certification.Result
		want   *certification.Hundredths
		fields string
	}{
		{"E1 graded", e1, certification.Result{Grade: f(12.5)}, f(12.5), "[]"},
		{"E1 at the bottom of the scale", e1, certification.Result{Grade: f(0)}, f(0), "[]"},
		{"E1 at the top of the scale", e1, certification.Result{Grade: f(20)}, f(20), "[]"},
		{"E1 above the scale", e1, certification.Result{Grade: f(20.5)}, nil, "[/grade]"},
		{"E1 below the scale", e1, certification.Result{Grade: f(-1)}, nil, "[/grade]"},
		{"E1 without a grade", e1, certification.Result{}, nil, "[/grade]"},
		{"E1 with parts", e1, certification.Result{Grade: f(12), DossierGrade: f(12)}, nil, "[/grade]"},
		{"E4 by its parts: the mean", e4, certification.Result{DossierGrade: f(9), DefenceGrade: f(12)}, f(10.5), "[]"},
		{"E4 mean cut to the hundredth", e4, certification.Result{DossierGrade: f(10.33), DefenceGrade: f(10)}, f(10.16), "[]"},
		{"E4 mean just below the pass mark stays below", e4, certification.Result{DossierGrade: f(9.99), DefenceGrade: f(10)}, f(9.99), "[]"},
		{"E4 mean exact despite binary floats", e4, certification.Result{DossierGrade: f(10.1), DefenceGrade: f(10.2)}, f(10.15), "[]"},
		{"E4 with the defence missing", e4, certification.Result{DossierGrade: f(14)}, nil, "[/defence_grade]"},
		{"E4 with the dossier missing", e4, certification.Result{DefenceGrade: f(14)}, nil, "[/dossier_grade]"},
		{"E4 with one grade for the whole", e4, certification.Result{Grade: f(14)}, nil, "[/grade /dossier_grade /defence_grade]"},
		{"E4 with a part off the scale", e4, certification.Result{DossierGrade: f(21), DefenceGrade: f(14)}, nil, "[/dossier_grade]"},
		{"absent", e4, certification.Result{Absent: true}, nil, "[]"},
		{"E4 with no combination set: the mean", certification.Component{ID: "E4", Grading: certification.Grading{ScaleMax: 20, PassMark: 10}, Parts: e4.Parts}, certification.Result{DossierGrade: f(8), DefenceGrade: f(12)}, f(10), "[]"},
		{"E4 with a combination the service does not know", certification.Component{ID: "E4", Grading: certification.Grading{ScaleMax: 20, PassMark: 10, Combination: "max"}, Parts: e4.Parts}, certification.Result{DossierGrade: f(8), DefenceGrade: f(12)}, nil, "[/dossier_grade]"},
		{"absent with a grade", e1, certification.Result{Absent: true, Grade: f(3)}, nil, "[/absent]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, vs := certification.GradeResult(c.comp, c.result)
			var fields []string
			for _, v := range vs {
				if v.Rule != certification.RuleGrading {
					t.Errorf("violation without GRADING: %+v", v)
				}
				fields = append(fields, v.Field)
			}
			if fmt.Sprint(fields) != c.fields && !(c.fields == "[]" && len(fields) == 0) {
				t.Fatalf("violations at %v, want %s", fields, c.fields)
			}
			if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
				t.Fatalf("grade %v, want %v", deref(got), deref(c.want))
			}
		})
	}
}

func deref(p *certification.Hundredths) any {
	if p == nil {
		return nil
	}
	return *p
}

// GRADING: a grade is read exactly as written; more than two decimals is refused,
// never rounded one way on a database and another way on the other.
func TestParseGrade(t *testing.T) {
	for _, c := range []struct {
		text string
		want certification.Hundredths
		ok   bool
	}{
		{"12", 1200, true}, {"12.5", 1250, true}, {"12.50", 1250, true}, {"0", 0, true}, {"20", 2000, true},
		{"9.99", 999, true}, {"1e1", 1000, true}, {"10.000", 1000, true}, {"-1", -100, true},
		{"9.999999999", 0, false}, {"9.995", 0, false}, {"1e-3", 0, false}, {"abc", 0, false}, {"", 0, false},
		{"1e400", 0, false}, {"99999999999999999999", 0, false},
	} {
		got, vs := certification.ParseGrade("/grade", c.text)
		if (len(vs) == 0) != c.ok || (c.ok && got != c.want) || (!c.ok && (vs[0].Rule != certification.RuleGrading || vs[0].Field != "/grade")) {
			t.Errorf("%q: %d %+v, want %d ok=%t", c.text, got, vs, c.want, c.ok)
		}
	}
	if s := certification.Hundredths(1050).String(); s != "10.5" {
		t.Errorf("10.50 prints %q", s)
	}
}

func TestPassMark(t *testing.T) {
	for _, c := range []struct {
		grade float64
		pass  bool
	}{{10, true}, {9.99, false}, {20, true}, {0, false}} {
		if certification.Passed(e1, certification.HundredthsOf(c.grade)) != c.pass {
			t.Errorf("%v: passed=%t", c.grade, !c.pass)
		}
	}
	strict := certification.Component{ID: "X", Grading: certification.Grading{ScaleMax: 100, PassMark: 60}}
	if certification.Passed(strict, 5900) || !certification.Passed(strict, 6000) {
		t.Error("the pass mark comes from the settings, not a constant")
	}
}

// VALIDITY: through the anniversary included, French counting; 29 February runs to
// 28 February when the anniversary year has none.
func TestValidUntil(t *testing.T) {
	one, four, five := 1, 4, 5
	cases := []struct {
		acquired string
		years    *int
		want     string
	}{
		{"2020-03-10", &five, "2025-03-10"},
		{"2020-02-29", &five, "2025-02-28"},
		{"2019-12-31", &five, "2024-12-31"},
		{"2020-02-29", &four, "2024-02-29"},
		{"2021-01-31", &one, "2022-01-31"},
		{"2020-03-10", nil, ""},
	}
	for _, c := range cases {
		got := certification.ValidUntil(day(c.acquired), c.years)
		if (got == nil && c.want != "") || (got != nil && got.Format(time.DateOnly) != c.want) {
			t.Errorf("%s + %v: %v, want %q", c.acquired, c.years, got, c.want)
		}
	}
}

// referential is RNCP26206's components, validity and a registration period covering
// the dates the transcript tests use.
func referential(validity *int) certification.Certification {
	return certification.Certification{Code: "RNCP26206", ValidityYears: validity,
		Components: []certification.Component{e1, {ID: "E2", Grading: grading}, {ID: "E3", Grading: grading}, e4},
		Periods:    []certification.RegistrationPeriod{{LegalAct: "test", EffectiveFrom: day("2013-01-01"), EffectiveUntil: day("2040-12-31")}}}
}

func sitting(comp, held string, status certification.SittingStatus, grade *certification.Hundredths, validated string) certification.Sitting {
	s := certification.Sitting{EvaluationID: comp + "@" + held, Component: comp, HeldOn: day(held), Status: status, Grade: grade}
	if validated != "" {
		v := day(validated)
		s.ValidatedOn = &v
	}
	return s
}

func TestTranscriptStandings(t *testing.T) {
	five := 5
	acquiredE1 := sitting("E1", "2020-03-01", certification.SittingGraded, f(14), "2020-03-10")
	cases := []struct {
		name     string
		validity *int
		sittings []certification.Sitting
		asOf     string
		want     certification.Standing
		until    string
	}{
		{"never taken", &five, nil, "2021-01-01", certification.NotTaken, ""},
		{"only scheduled", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingScheduled, nil, "")}, "2021-07-01", certification.NotTaken, ""},
		{"cancelled", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingCancelled, nil, "")}, "2021-07-01", certification.NotTaken, ""},
		{"passed, awaiting the jury", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingGraded, f(12), "")}, "2021-07-01", certification.Graded, ""},
		{"exactly the pass mark", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingGraded, f(10), "")}, "2021-07-01", certification.Graded, ""},
		{"below the pass mark", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingGraded, f(9.5), "")}, "2021-07-01", certification.Failed, ""},
		{"absent", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingAbsent, nil, "")}, "2021-07-01", certification.Failed, ""},
		{"a result after as_of does not count yet", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingGraded, f(12), "")}, "2021-05-31", certification.NotTaken, ""},
		{"validated", &five, []certification.Sitting{acquiredE1}, "2021-01-01", certification.Acquired, "2025-03-10"},
		{"validated, before the validation day", &five, []certification.Sitting{acquiredE1}, "2020-03-09", certification.Graded, ""},
		{"the day before the fifth anniversary", &five, []certification.Sitting{acquiredE1}, "2025-03-09", certification.Acquired, "2025-03-10"},
		{"the fifth anniversary itself", &five, []certification.Sitting{acquiredE1}, "2025-03-10", certification.Acquired, "2025-03-10"},
		{"the day after", &five, []certification.Sitting{acquiredE1}, "2025-03-11", certification.Expired, "2025-03-10"},
		{"no validity setting: never expires", nil, []certification.Sitting{acquiredE1}, "2040-01-01", certification.Acquired, ""},
		{"expired, retaken and failed", &five, []certification.Sitting{acquiredE1, sitting("E1", "2025-06-01", certification.SittingGraded, f(8), "")}, "2025-07-01", certification.Failed, ""},
		{"failed, retaken and passed", &five, []certification.Sitting{sitting("E1", "2021-06-01", certification.SittingGraded, f(8), ""), sitting("E1", "2021-12-01", certification.SittingGraded, f(13), "")}, "2022-01-01", certification.Graded, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := certification.TranscriptOf(referential(c.validity), certification.Candidate{}, c.sittings, day(c.asOf), certification.Everything)
			s := tr.Components[0]
			if s.Status != c.want {
				t.Fatalf("E1: %s, want %s", s.Status, c.want)
			}
			until := ""
			if s.ValidUntil != nil {
				until = s.ValidUntil.Format(time.DateOnly)
			}
			if until != c.until {
				t.Fatalf("valid_until %q, want %q", until, c.until)
			}
		})
	}
}

func TestTranscriptAward(t *testing.T) {
	five := 5
	all := func(validated string) []certification.Sitting {
		var out []certification.Sitting
		for _, comp := range []string{"E1", "E2", "E3", "E4"} {
			out = append(out, sitting(comp, "2020-03-01", certification.SittingGraded, f(12), validated))
		}
		return out
	}
	vae := certification.Candidate{Route: certification.RouteVAE, VAEAdmissibility: certification.VAEPending}
	cases := []struct {
		name      string
		cand      certification.Candidate
		sittings  []certification.Sitting
		asOf      string
		periods   []certification.RegistrationPeriod
		awardable bool
		reasons   string
	}{
		{"all four acquired and valid", certification.Candidate{}, all("2020-03-10"), "2021-01-01", nil, true, "[]"},
		{"one failed", certification.Candidate{}, append(all("2020-03-10")[:3], sitting("E4", "2020-03-01", certification.SittingGraded, f(8), "")), "2021-01-01", nil, false, "[AWARD /components/E4]"},
		{"one not taken", certification.Candidate{}, all("2020-03-10")[:3], "2021-01-01", nil, false, "[AWARD /components/E4]"},
		{"awaiting validation", certification.Candidate{}, all(""), "2021-01-01", nil, false, "[AWARD /components/E1 AWARD /components/E2 AWARD /components/E3 AWARD /components/E4]"},
		{"all expired", certification.Candidate{}, all("2020-03-10"), "2025-03-11", nil, false, "[VALIDITY /components/E1 VALIDITY /components/E2 VALIDITY /components/E3 VALIDITY /components/E4]"},
		{"outside every registration period", certification.Candidate{}, all("2020-03-10"), "2021-01-01",
			[]certification.RegistrationPeriod{{LegalAct: "old", EffectiveFrom: day("2013-01-29"), EffectiveUntil: day("2020-01-04")}}, false, "[REGISTRATION-PERIOD /as_of]"},
		{"a VAE application not yet admissible", vae, all("2020-03-10"), "2021-01-01", nil, false, "[VAE-ADMISSIBILITY /vae_admissibility]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := referential(&five)
			if c.periods != nil {
				ref.Periods = c.periods
			}
			tr := certification.TranscriptOf(ref, c.cand, c.sittings, day(c.asOf), certification.Everything)
			var got []string
			for _, r := range tr.Reasons {
				got = append(got, r.Rule+" "+r.Field)
			}
			if tr.Awardable != c.awardable || (fmt.Sprint(got) != c.reasons && !(c.reasons == "[]" && len(got) == 0)) {
				t.Fatalf("awardable=%t reasons=%v, want %t %s", tr.Awardable, got, c.awardable, c.reasons)
			}
		})
	}
}

// A candidate sees no grade that no jury has validated, nor whether it passed.
func TestTranscriptPublishedOnly(t *testing.T) {
	five := 5
	sittings := []certification.Sitting{
		sitting("E1", "2020-03-01", certification.SittingGraded, f(14), "2020-03-10"),
		sitting("E2", "2020-03-01", certification.SittingGraded, f(12), ""),
		sitting("E3", "2020-03-01", certification.SittingGraded, f(6), ""),
	}
	tr := certification.TranscriptOf(referential(&five), certification.Candidate{}, sittings, day("2021-01-01"), certification.Visibility{Hide: true})
	for _, s := range tr.Components[1:3] {
		if s.Status != certification.Graded || s.Grade != nil {
			t.Errorf("%s: %s %v, want graded without a grade", s.Component, s.Status, deref(s.Grade))
		}
	}
	if tr.Components[0].Status != certification.Acquired || *tr.Components[0].Grade != 1400 {
		t.Errorf("E1: the validated grade is shown: %+v", tr.Components[0])
	}
	for _, r := range tr.Reasons {
		if strings.Contains(r.Message, "failed") {
			t.Errorf("a reason reveals an unpublished failure: %s", r.Message)
		}
	}
}

func TestCheckSchedulable(t *testing.T) {
	until := day("2025-03-09")
	cases := []struct {
		standing certification.ComponentStanding
		pending  bool
		code     string
	}{
		{certification.ComponentStanding{Component: "E1", Status: certification.NotTaken}, false, ""},
		{certification.ComponentStanding{Component: "E1", Status: certification.Failed}, false, ""},
		{certification.ComponentStanding{Component: "E1", Status: certification.Expired}, false, ""},
		{certification.ComponentStanding{Component: "E1", Status: certification.Acquired, ValidUntil: &until}, false, "component_acquired"},
		{certification.ComponentStanding{Component: "E1", Status: certification.Acquired}, false, "component_acquired"},
		{certification.ComponentStanding{Component: "E1", Status: certification.Graded}, false, "component_awaiting_validation"},
		{certification.ComponentStanding{Component: "E1", Status: certification.Failed}, true, "component_already_scheduled"},
	}
	for _, c := range cases {
		err := certification.CheckSchedulable(c.standing, c.pending)
		code := ""
		if ce, ok := err.(*certification.ConflictError); ok {
			code = ce.Code
			if c.standing.ValidUntil != nil && !strings.Contains(ce.Message, "2025-03-09") {
				t.Errorf("the conflict does not name the expiry: %s", ce.Message)
			}
		}
		if code != c.code {
			t.Errorf("%+v pending=%t: %q, want %q", c.standing, c.pending, code, c.code)
		}
	}
}

func TestCheckSiteCertification(t *testing.T) {
	bayle := &certification.TrainingSite{Name: "AP Formation", Roles: []certification.SiteRole{"preparation", "certification"}, CertificationCodes: []string{"RNCP26206"}, Active: true}
	prepOnly := &certification.TrainingSite{Name: "Gréa", Roles: []certification.SiteRole{"preparation"}, CertificationCodes: []string{"RNCP26206"}, Active: true}
	closed := &certification.TrainingSite{Name: "Old hall", Roles: []certification.SiteRole{"certification"}, CertificationCodes: []string{"RNCP26206"}}
	other := &certification.TrainingSite{Name: "Other", Roles: []certification.SiteRole{"certification"}, CertificationCodes: []string{"RNCP1"}, Active: true}
	for name, c := range map[string]struct {
		site *certification.TrainingSite
		ok   bool
	}{"the declared certification site": {bayle, true}, "a preparation-only site": {prepOnly, false}, "an inactive site": {closed, false},
		"another certification's site": {other, false}, "no such site": {nil, false}} {
		vs := certification.CheckSiteCertification("/site_id", "RNCP26206", c.site)
		if c.ok != (len(vs) == 0) || (!c.ok && (vs[0].Rule != certification.RuleSiteCertification || vs[0].Field != "/site_id")) {
			t.Errorf("%s: %+v", name, vs)
		}
	}
}

func TestCheckComponent(t *testing.T) {
	ref := referential(nil)
	if _, vs := certification.CheckComponent("E3", ref); len(vs) != 0 {
		t.Errorf("E3: %+v", vs)
	}
	if _, vs := certification.CheckComponent("E5", ref); len(vs) != 1 || vs[0].Rule != certification.RuleComponents {
		t.Errorf("E5: %+v", vs)
	}
}
