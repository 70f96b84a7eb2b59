package certification_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dayPtr(s string) *time.Time {
	d := day(s)
	return &d
}

// ruleFields writes violations as "RULE /field", for comparison.
func ruleFields(vs []certification.Violation) string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.TrimSpace(v.Rule+" "+v.Field))
	}
	return fmt.Sprint(out)
}

func codeOf(err error) string {
	switch e := err.(type) {
	case nil:
		return ""
	case *certification.ConflictError:
		return e.Code
	case *certification.ViolationError:
		return ruleFields(e.Violations)
	}
	return err.Error()
}

func TestSlotOverlaps(t *testing.T) {
	slot := func(from, to string) certification.Slot { return certification.Slot{Start: at(from), End: at(to)} }
	nine := slot("2019-10-01T09:00:00Z", "2019-10-01T09:45:00Z")
	cases := []struct {
		name string
		a, b certification.Slot
		want bool
	}{
		{"the same slot", nine, nine, true},
		{"starts inside", nine, slot("2019-10-01T09:30:00Z", "2019-10-01T10:15:00Z"), true},
		{"back to back", nine, slot("2019-10-01T09:45:00Z", "2019-10-01T10:30:00Z"), false},
		{"before", nine, slot("2019-10-01T08:15:00Z", "2019-10-01T09:00:00Z"), false},
		{"an instant inside", nine, slot("2019-10-01T09:10:00Z", "2019-10-01T09:10:00Z"), true},
		{"an instant at the start", nine, slot("2019-10-01T09:00:00Z", "2019-10-01T09:00:00Z"), true},
		{"an instant at the end", nine, slot("2019-10-01T09:45:00Z", "2019-10-01T09:45:00Z"), false},
		{"two equal instants", slot("2019-10-01T09:00:00Z", "2019-10-01T09:00:00Z"), slot("2019-10-01T09:00:00Z", "2019-10-01T09:00:00Z"), true},
		{"two other instants", slot("2019-10-01T09:00:00Z", "2019-10-01T09:00:00Z"), slot("2019-10-01T09:01:00Z", "2019-10-01T09:01:00Z"), false},
	}
	for _, c := range cases {
		if got := c.a.Overlaps(c.b); got != c.want || c.b.Overlaps(c.a) != c.want {
			t.Errorf("%s: %t, want %t both ways", c.name, got, c.want)
		}
	}
}

func TestCheckRouteOpening(t *testing.T) {
	rs := []certification.Route{{ID: "vae", Open: true, OpensOn: dayPtr("2014-01-01")}, {ID: "individual_application", Open: true}}
	cases := []struct {
		route certification.RouteID
		on    string
		want  string
	}{
		{"vae", "2013-12-31", "[ROUTE-OPENING /route]"},
		{"vae", "2014-01-01", "[]"},
		{"vae", "2019-06-03", "[]"},
		{"individual_application", "2013-01-29", "[]"},
	}
	for _, c := range cases {
		if got := ruleFields(certification.CheckRouteOpening(c.route, day(c.on), rs)); got != c.want {
			t.Errorf("%s on %s: %s, want %s", c.route, c.on, got, c.want)
		}
	}
}

func TestCheckWithdrawal(t *testing.T) {
	gone := certification.Candidate{WithdrawnOn: dayPtr("2019-09-20")}
	cases := []struct {
		name string
		c    certification.Candidate
		days []string
		want string
	}{
		{"never withdrew", certification.Candidate{}, []string{"2030-01-01"}, "[]"},
		{"the day before the withdrawal", gone, []string{"2019-09-19"}, "[]"},
		{"the withdrawal day", gone, []string{"2019-09-20"}, "[WITHDRAWAL /x]"},
		{"after", gone, []string{"2019-10-01"}, "[WITHDRAWAL /x]"},
		{"any of the days", gone, []string{"2019-09-01", "2019-11-01"}, "[WITHDRAWAL /x]"},
	}
	for _, c := range cases {
		var days []time.Time
		for _, d := range c.days {
			days = append(days, day(d))
		}
		if got := ruleFields(certification.CheckWithdrawal("/x", c.c, days...)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestVAEExperience(t *testing.T) {
	months := func(n int) *int { return &n }
	cases := []struct {
		applied  string
		decision certification.VAEAdmissibility
		months   *int
		need     int
		want     string
	}{
		{"2016-05-02", "admissible", months(36), 36, "[]"},
		{"2016-05-02", "admissible", months(35), 36, "[VAE-EXPERIENCE /experience_months]"},
		{"2017-09-30", "admissible", months(24), 36, "[VAE-EXPERIENCE /experience_months]"},
		{"2017-10-01", "admissible", months(12), 12, "[]"},
		{"2022-12-22", "admissible", months(11), 12, "[VAE-EXPERIENCE /experience_months]"},
		{"2022-12-23", "admissible", months(0), 0, "[]"},
		{"2022-12-23", "admissible", nil, 0, "[VAE-EXPERIENCE /experience_months]"},
		{"2016-05-02", "inadmissible", nil, 36, "[]"},
	}
	for _, c := range cases {
		cand := certification.Candidate{Route: "vae", EnrolledOn: day(c.applied)}
		if need, law := certification.VAEExperienceRequired(day(c.applied)); need != c.need || law == "" {
			t.Errorf("%s: needs %d (%s), want %d", c.applied, need, law, c.need)
		}
		if got := ruleFields(certification.CheckVAEExperience(cand, c.decision, c.months)); got != c.want {
			t.Errorf("%s %s %v: %s, want %s", c.applied, c.decision, c.months, got, c.want)
		}
	}
}

func TestCheckVAEAdmissible(t *testing.T) {
	for _, c := range []struct {
		cand certification.Candidate
		want string
	}{
		{certification.Candidate{Route: "continuing_education"}, "[]"},
		{certification.Candidate{Route: "vae", VAEAdmissibility: "admissible"}, "[]"},
		{certification.Candidate{Route: "vae", VAEAdmissibility: "pending"}, "[VAE-ADMISSIBILITY /candidate_id]"},
		{certification.Candidate{Route: "vae", VAEAdmissibility: "inadmissible"}, "[VAE-ADMISSIBILITY /candidate_id]"},
	} {
		if got := ruleFields(certification.CheckVAEAdmissible("/candidate_id", c.cand)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.cand, got, c.want)
		}
	}
}

// REGISTRATION-PERIOD for an award: inside a period, or after the last one to a
// candidate enrolled while it ran, within the grace period.
func TestCheckAwardPeriod(t *testing.T) {
	periods := []certification.RegistrationPeriod{
		{LegalAct: "first", EffectiveFrom: day("2013-01-29"), EffectiveUntil: day("2019-06-07")},
		{LegalAct: "last", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")},
	}
	cases := []struct {
		name, on, enrolled string
		grace              int
		want               string
	}{
		{"inside a period", "2019-10-01", "2015-01-01", 12, "[]"},
		{"after, enrolled during the last period, within the grace", "2021-01-04", "2019-06-03", 12, "[]"},
		{"after the grace", "2021-01-05", "2019-06-03", 12, "[REGISTRATION-PERIOD /outcome]"},
		{"after, enrolled only during an earlier period", "2020-03-01", "2018-01-01", 12, "[REGISTRATION-PERIOD /outcome]"},
		{"no grace at all", "2020-01-05", "2019-06-03", 0, "[REGISTRATION-PERIOD /outcome]"},
		{"before the first period", "2012-01-01", "2012-01-01", 12, "[REGISTRATION-PERIOD /outcome]"},
	}
	for _, c := range cases {
		vs := certification.CheckAwardPeriod("/outcome", day(c.on), day(c.enrolled), periods, c.grace)
		if got := ruleFields(vs); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if len(vs) > 0 && !strings.Contains(vs[0].Message, "20") {
			t.Errorf("%s: the message names no date: %s", c.name, vs[0].Message)
		}
	}
}

func members(roles ...certification.JuryRole) []certification.JuryMember {
	out := make([]certification.JuryMember, len(roles))
	for i, r := range roles {
		out[i] = certification.JuryMember{ID: fmt.Sprint("m", i), FullName: fmt.Sprint("Member ", i), Role: r, Active: true}
	}
	return out
}

var composition = certification.JuryComposition{Size: 5, PedagogicalDirectors: 1, Professionals: 4}

const (
	dir = certification.PedagogicalDirector
	pro = certification.Professional
)

func TestCheckJuryComposition(t *testing.T) {
	cases := []struct {
		name             string
		members          []certification.JuryMember
		planned, deliber bool // ok while planned, ok to deliberate
	}{
		{"none yet", nil, true, false},
		{"a director and three professionals", members(dir, pro, pro, pro), true, false},
		{"the full jury", members(dir, pro, pro, pro, pro), true, true},
		{"two directors", members(dir, dir, pro, pro), false, false},
		{"five professionals", members(pro, pro, pro, pro, pro), false, false},
		{"six", members(dir, pro, pro, pro, pro, pro), false, false},
	}
	for _, c := range cases {
		for exact, want := range map[bool]bool{false: c.planned, true: c.deliber} {
			vs := certification.CheckJuryComposition("/member_ids", c.members, composition, exact)
			if (len(vs) == 0) != want || (len(vs) > 0 && ruleFields(vs) != "[JURY-COMPOSITION /member_ids]") {
				t.Errorf("%s (exact %t): %s, want ok=%t", c.name, exact, ruleFields(vs), want)
			}
		}
	}
}

func TestCheckJuryIndependence(t *testing.T) {
	cand := certification.Candidate{ID: "c1", TrainingSiteID: "s1"}
	jury := members(dir, pro, pro, pro, pro)
	cases := []struct {
		name string
		link certification.MemberLink
		want string
	}{
		{"no link", certification.MemberLink{}, "[]"},
		{"trained the candidate", certification.MemberLink{Kind: "trainer", CandidateID: "c1"}, "[JURY-INDEPENDENCE /candidate_id]"},
		{"employs someone else", certification.MemberLink{Kind: "employer", CandidateID: "c2"}, "[]"},
		{"linked to the candidate's site", certification.MemberLink{Kind: "other", TrainingSiteID: "s1"}, "[JURY-INDEPENDENCE /candidate_id]"},
		{"linked to another site", certification.MemberLink{Kind: "trainer", TrainingSiteID: "s2"}, "[]"},
	}
	for _, c := range cases {
		js := append([]certification.JuryMember{}, jury...)
		js[2].Links = []certification.MemberLink{c.link}
		if got := ruleFields(certification.CheckJuryIndependence("/candidate_id", js, cand)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// A candidate without a site is not linked through an empty site id.
	js := members(dir)
	js[0].Links = []certification.MemberLink{{Kind: "trainer", TrainingSiteID: "s1"}}
	if vs := certification.CheckJuryIndependence("/candidate_id", js, certification.Candidate{ID: "c9"}); len(vs) != 0 {
		t.Errorf("a siteless candidate: %+v", vs)
	}
}

func defenceAt(id, candidate, start string) certification.Evaluation {
	end := at(start).Add(45 * time.Minute)
	return certification.Evaluation{ID: id, CandidateID: candidate, Component: "E4", ScheduledAt: at(start), EndsAt: &end, Status: "scheduled"}
}

func TestCheckDefenceSlot(t *testing.T) {
	session := certification.JurySession{ID: "s", HeldOn: day("2019-10-01")}
	booked := []certification.Evaluation{defenceAt("d1", "other", "2019-10-01T09:00:00Z")}
	slot := func(start string) certification.Slot {
		return certification.Slot{Start: at(start), End: at(start).Add(45 * time.Minute)}
	}
	e2 := certification.Evaluation{ID: "e2", CandidateID: "c", Component: "E2", ScheduledAt: at("2019-10-01T14:10:00Z")}
	cases := []struct {
		name  string
		slot  certification.Slot
		mine  []certification.Evaluation
		wants int
	}{
		{"after the booked one", slot("2019-10-01T09:45:00Z"), nil, 0},
		{"overlapping it", slot("2019-10-01T09:30:00Z"), nil, 1},
		{"another day", slot("2019-10-02T09:00:00Z"), nil, 1},
		{"running past midnight", slot("2019-10-01T23:30:00Z"), nil, 1},
		{"ending at midnight", slot("2019-10-01T23:15:00Z"), nil, 0},
		{"over the candidate's E2", slot("2019-10-01T14:00:00Z"), []certification.Evaluation{e2}, 1},
		{"two at once", slot("2019-10-01T09:00:00Z"), []certification.Evaluation{{ID: "e1", ScheduledAt: at("2019-10-01T09:15:00Z")}}, 2},
	}
	for _, c := range cases {
		vs := certification.CheckDefenceSlot(c.slot, session, "c", booked, c.mine)
		if len(vs) != c.wants {
			t.Errorf("%s: %s, want %d DEFENCE-SLOT violations", c.name, ruleFields(vs), c.wants)
		}
		for _, v := range vs {
			if v.Rule != certification.RuleDefenceSlot || v.Field != "/scheduled_at" {
				t.Errorf("%s: %+v", c.name, v)
			}
		}
	}
}

// VALIDITY by route: VAE acquisitions are permanent.
func TestValidityFor(t *testing.T) {
	five := 5
	c := certification.Certification{ValidityYears: &five, Routes: []certification.Route{{ID: "vae", PermanentAcquisitions: true}, {ID: "initial_training"}}}
	if v := c.ValidityFor("vae"); v != nil {
		t.Errorf("VAE: %d, want permanent", *v)
	}
	if v := c.ValidityFor("initial_training"); v == nil || *v != 5 {
		t.Errorf("initial training: %v, want 5", v)
	}
	if v := c.ValidityFor("unknown"); v == nil || *v != 5 {
		t.Errorf("an unknown route takes the certification's: %v", v)
	}
}

// CARRY-OVER in the transcript: only what a jury validated on an earlier
// registration counts, with its date; WITHDRAWAL makes it unawardable.
func TestTranscriptCarryOverAndWithdrawal(t *testing.T) {
	five := 5
	ref := referential(&five)
	ref.Routes = []certification.Route{{ID: "vae", PermanentAcquisitions: true}, {ID: "continuing_education"}}
	cand := certification.Candidate{ID: "new", Route: "continuing_education", EnrolledOn: day("2019-10-15")}
	earlier := func(comp string, validated string, route certification.RouteID) certification.Sitting {
		s := sitting(comp, "2019-09-02", certification.SittingGraded, f(13), validated)
		s.CandidateID, s.Route = "old", route
		return s
	}
	sittings := []certification.Sitting{
		earlier("E1", "2019-10-01", "continuing_education"),
		earlier("E2", "", "continuing_education"),
		earlier("E3", "2016-03-01", "vae"),
	}
	tr := certification.TranscriptOf(ref, cand, sittings, day("2023-01-01"), certification.Everything)
	got := map[string]certification.ComponentStanding{}
	for _, s := range tr.Components {
		got[s.Component] = s
	}
	if s := got["E1"]; s.Status != certification.Acquired || !s.CarriedOver || s.AcquiredOn.Format(time.DateOnly) != "2019-10-01" {
		t.Errorf("E1 carried over: %+v", s)
	}
	if s := got["E2"]; s.Status != certification.NotTaken {
		t.Errorf("E2, graded but never validated on the earlier registration, does not carry over: %+v", s)
	}
	if s := got["E3"]; s.Status != certification.Acquired || s.ValidUntil != nil {
		t.Errorf("E3, validated through VAE, is permanent: %+v", s)
	}
	cand.WithdrawnOn = dayPtr("2022-06-01")
	tr = certification.TranscriptOf(ref, cand, sittings, day("2023-01-01"), certification.Everything)
	if tr.Awardable || !strings.Contains(ruleFields(tr.Reasons), "WITHDRAWAL /withdrawn_on") {
		t.Errorf("after a withdrawal: %s", ruleFields(tr.Reasons))
	}
}
