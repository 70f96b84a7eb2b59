package certification_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// A table per decide function: each takes the facts, decides, and answers the change,
// every violation with its rule, or a conflict with its code.

var (
	certSite = &certification.TrainingSite{ID: "bayle", Name: "AP Formation", Roles: []certification.SiteRole{"preparation", "certification"},
		CertificationCodes: []string{"RNCP26206"}, Active: true, Address: certification.Address{PostalCode: "31100", CountryCode: "FR"}}
	prepSite = &certification.TrainingSite{ID: "grea", Name: "Gréa", Roles: []certification.SiteRole{"preparation"},
		CertificationCodes: []string{"RNCP26206"}, Active: true, Address: certification.Address{PostalCode: "34060", CountryCode: "FR"}}
	nouméaSite = &certification.TrainingSite{ID: "noumea", Name: "Salle", Roles: []certification.SiteRole{"certification"},
		CertificationCodes: []string{"RNCP26206"}, Active: true, Address: certification.Address{PostalCode: "98800", CountryCode: "FR"}}
	now = at("2026-11-27T10:00:00Z")
)

func ref26206() certification.Certification {
	five := 5
	r := referential(&five)
	r.ExcludedTerritories = territories
	r.Jury = composition
	r.AwardGraceMonths = 12
	r.Routes = []certification.Route{{ID: "vae", Open: true, PermanentAcquisitions: true, OpensOn: dayPtr("2014-01-01")}, {ID: "continuing_education", Open: true}}
	return r
}

func candidate() certification.Candidate {
	return certification.Candidate{ID: "c", CertificationCode: "RNCP26206", Route: "continuing_education", TrainingSiteID: "grea",
		EnrolledOn: day("2019-06-03"), FirstName: "Camille", BirthName: "Martin", Sex: "F"}
}

func planned() *certification.JurySession {
	return &certification.JurySession{ID: "s", CertificationCode: "RNCP26206", TrainingSiteID: "bayle", HeldOn: day("2019-10-01"),
		MemberIDs: []string{"m0", "m1", "m2", "m3", "m4"}, Status: certification.SessionPlanned, Version: 1}
}

func graded(id, comp, held string, grade float64, validated string) certification.PersonSitting {
	e := certification.Evaluation{ID: id, CandidateID: "c", Component: comp, ScheduledAt: at(held + "T09:00:00Z"), Status: "graded", Grade: f(grade)}
	if validated != "" {
		e.ValidatedOn = dayPtr(validated)
	}
	return certification.PersonSitting{Evaluation: e, Route: "continuing_education"}
}

func TestScheduleSitting(t *testing.T) {
	withdrawn := candidate()
	withdrawn.WithdrawnOn = dayPtr("2019-09-01")
	superseded := candidate()
	superseded.SupersededBy = "c2"
	vae := candidate()
	vae.Route, vae.VAEAdmissibility = "vae", "pending"
	closed := planned()
	closed.Status = certification.SessionClosed
	other := defenceAt("d", "other", "2019-10-01T09:00:00Z")
	cases := []struct {
		name string
		f    func(*certification.SittingFacts)
		req  certification.SittingRequest
		want string
	}{
		{"E1 at the certification site", nil, certification.SittingRequest{Component: "E1", TrainingSiteID: "bayle", ScheduledAt: at("2019-09-02T09:00:00Z")}, ""},
		{"E1 at a preparation site", func(f *certification.SittingFacts) { f.Site = prepSite },
			certification.SittingRequest{Component: "E1", TrainingSiteID: "grea", ScheduledAt: at("2019-09-02T09:00:00Z")}, "[SITE-CERTIFICATION /training_site_id]"},
		{"E1 in New Caledonia", func(f *certification.SittingFacts) { f.Site = nouméaSite },
			certification.SittingRequest{Component: "E1", TrainingSiteID: "noumea", ScheduledAt: at("2019-09-02T09:00:00Z")}, "[TERRITORY /training_site_id]"},
		{"E7", nil, certification.SittingRequest{Component: "E7", TrainingSiteID: "bayle", ScheduledAt: at("2019-09-02T09:00:00Z")}, "[COMPONENTS /component]"},
		{"before the enrolment", nil, certification.SittingRequest{Component: "E1", TrainingSiteID: "bayle", ScheduledAt: at("2019-01-02T09:00:00Z")}, "[/scheduled_at]"},
		{"a withdrawn candidate", func(f *certification.SittingFacts) { f.Candidate = withdrawn },
			certification.SittingRequest{Component: "E1", TrainingSiteID: "bayle", ScheduledAt: at("2019-08-02T09:00:00Z")}, "[WITHDRAWAL /candidate_id]"},
		{"a superseded registration", func(f *certification.SittingFacts) { f.Candidate = superseded },
			certification.SittingRequest{Component: "E1", TrainingSiteID: "bayle", ScheduledAt: at("2019-09-02T09:00:00Z")}, "[CARRY-OVER /candidate_id]"},
		{"E1 already acquired", func(f *certification.SittingFacts) {
			f.Sittings = []certification.PersonSitting{graded("x", "E1", "2019-06-10", 12, "2019-07-01")}
		}, certification.SittingRequest{Component: "E1", TrainingSiteID: "bayle", ScheduledAt: at("2019-09-02T09:00:00Z")}, "component_acquired"},
		{"E4 booked in the session", func(f *certification.SittingFacts) { f.Session = planned() },
			certification.SittingRequest{Component: "E4", JurySessionID: "s", ScheduledAt: at("2019-10-01T10:00:00Z")}, ""},
		{"E4 without a session", nil, certification.SittingRequest{Component: "E4", TrainingSiteID: "bayle", ScheduledAt: at("2019-10-01T10:00:00Z")}, "[DEFENCE-SLOT /jury_session_id]"},
		{"E4 in an unknown session", nil, certification.SittingRequest{Component: "E4", JurySessionID: "nope", ScheduledAt: at("2019-10-01T10:00:00Z")}, "[DEFENCE-SLOT /jury_session_id]"},
		{"E4 in a closed session", func(f *certification.SittingFacts) { f.Session = closed },
			certification.SittingRequest{Component: "E4", JurySessionID: "s", ScheduledAt: at("2019-10-01T10:00:00Z")}, "[DEFENCE-SLOT /jury_session_id]"},
		{"E4 at another site than the session's", func(f *certification.SittingFacts) { f.Session = planned() },
			certification.SittingRequest{Component: "E4", JurySessionID: "s", TrainingSiteID: "grea", ScheduledAt: at("2019-10-01T10:00:00Z")}, "[DEFENCE-SLOT /training_site_id]"},
		{"E4 over another defence", func(f *certification.SittingFacts) {
			f.Session, f.SessionDefences = planned(), []certification.Evaluation{other}
		},
			certification.SittingRequest{Component: "E4", JurySessionID: "s", ScheduledAt: at("2019-10-01T09:15:00Z")}, "[DEFENCE-SLOT /scheduled_at]"},
		{"E4 of a pending VAE application", func(f *certification.SittingFacts) { f.Session, f.Candidate = planned(), vae },
			certification.SittingRequest{Component: "E4", JurySessionID: "s", ScheduledAt: at("2019-10-01T10:00:00Z")}, "[VAE-ADMISSIBILITY /candidate_id]"},
		{"E1 in a jury session", func(f *certification.SittingFacts) { f.Session = planned() },
			certification.SittingRequest{Component: "E1", JurySessionID: "s", ScheduledAt: at("2019-10-01T10:00:00Z")}, "[DEFENCE-SLOT /jury_session_id]"},
	}
	for _, c := range cases {
		f := certification.SittingFacts{Certification: ref26206(), Candidate: candidate(), Site: certSite, Now: now}
		if c.f != nil {
			c.f(&f)
		}
		e, err := certification.ScheduleSitting(f, c.req, "new")
		if got := codeOf(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
			continue
		}
		if err == nil && (e.ID != "new" || e.Status != certification.SittingScheduled || e.Version != 1) {
			t.Errorf("%s: %+v", c.name, e)
		}
		if err == nil && c.req.Component == "E4" && (e.EndsAt == nil || e.EndsAt.Sub(e.ScheduledAt) != 45*time.Minute || e.TrainingSiteID != "bayle") {
			t.Errorf("%s: a defence is a 45-minute slot at the session's site: %+v", c.name, e)
		}
	}
}

func TestRescheduleAndCancelSitting(t *testing.T) {
	f := certification.SittingFacts{Certification: ref26206(), Candidate: candidate(), Site: certSite, Now: now}
	e := certification.Evaluation{ID: "e", CandidateID: "c", Component: "E1", TrainingSiteID: "bayle", ScheduledAt: at("2019-09-02T09:00:00Z"), Status: "scheduled", Version: 1}
	f.Sittings = []certification.PersonSitting{{Evaluation: e, Route: "continuing_education"}}
	moved, err := certification.RescheduleSitting(f, e, certification.SittingRequest{TrainingSiteID: "bayle", ScheduledAt: at("2019-09-09T09:00:00Z")})
	if err != nil || moved.Version != 2 || !moved.ScheduledAt.Equal(at("2019-09-09T09:00:00Z")) {
		t.Fatalf("moving itself is not a second sitting: %+v %v", moved, err)
	}
	done := e
	done.Status = certification.SittingGraded
	if _, err := certification.RescheduleSitting(f, done, certification.SittingRequest{TrainingSiteID: "bayle", ScheduledAt: at("2019-09-09T09:00:00Z")}); codeOf(err) != "evaluation_not_scheduled" {
		t.Errorf("moving a graded sitting: %v", err)
	}
	c, err := certification.CancelSitting(e, "  ill  ", now)
	if err != nil || c.Status != certification.SittingCancelled || c.CancellationReason != "ill" || !c.CancelledAt.Equal(now) {
		t.Errorf("cancelled: %+v %v", c, err)
	}
	if _, err := certification.CancelSitting(done, "x", now); codeOf(err) != "evaluation_not_scheduled" {
		t.Errorf("cancelling a graded sitting: %v", err)
	}
}

func TestRecordAndCorrectResult(t *testing.T) {
	sitting := certification.Evaluation{ID: "e", CandidateID: "c", Component: "E1", ScheduledAt: at("2019-09-02T09:00:00Z"), Status: "scheduled", Version: 1}
	withdrawn := candidate()
	withdrawn.WithdrawnOn = dayPtr("2019-09-20")
	closed := planned()
	closed.Status = certification.SessionClosed
	future := sitting
	future.ScheduledAt = now.Add(time.Hour)
	cancelled := sitting
	cancelled.Status = certification.SittingCancelled
	gradedOne := sitting
	gradedOne.Status, gradedOne.Grade = certification.SittingGraded, f(12)
	cases := []struct {
		name string
		f    func(*certification.ResultFacts)
		e    certification.Evaluation
		r    certification.Result
		want string
	}{
		{"a grade", nil, sitting, certification.Result{Grade: f(12)}, ""},
		{"above the scale", nil, sitting, certification.Result{Grade: f(21)}, "[GRADING /grade]"},
		{"twice", nil, gradedOne, certification.Result{Grade: f(13)}, "result_already_recorded"},
		{"not held yet", nil, future, certification.Result{Grade: f(12)}, "evaluation_not_held"},
		{"cancelled", nil, cancelled, certification.Result{Grade: f(12)}, "evaluation_cancelled"},
		{"a withdrawn candidate", func(f *certification.ResultFacts) { f.Candidate = withdrawn }, sitting, certification.Result{Grade: f(12)}, "[WITHDRAWAL]"},
		{"a defence of a closed session", func(f *certification.ResultFacts) { f.Session = closed }, sitting, certification.Result{Grade: f(12)}, "session_closed"},
	}
	for _, c := range cases {
		rf := certification.ResultFacts{Certification: ref26206(), Candidate: candidate(), Now: now}
		if c.f != nil {
			c.f(&rf)
		}
		e, err := certification.RecordResult(rf, c.e, c.r)
		if got := codeOf(err); got != c.want {
			t.Errorf("record %s: %q, want %q", c.name, got, c.want)
		}
		if err == nil && (e.Status != certification.SittingGraded || *e.Grade != 1200 || e.Version != 2) {
			t.Errorf("record %s: %+v", c.name, e)
		}
	}
	validated := gradedOne
	validated.ValidatedOn = dayPtr("2019-10-01")
	for _, c := range []struct {
		name         string
		e            certification.Evaluation
		deliberating bool
		want         string
	}{
		{"a provisional grade", gradedOne, false, ""},
		{"no result", sitting, false, "no_result"},
		{"a validated result", validated, false, "result_validated"},
		{"a result a draft decision relies on", gradedOne, true, "result_under_deliberation"},
	} {
		rf := certification.ResultFacts{Certification: ref26206(), Candidate: candidate(), UnderDeliberation: c.deliberating, Now: now}
		e, err := certification.CorrectResult(rf, c.e, certification.Result{Grade: f(9)})
		if got := codeOf(err); got != c.want {
			t.Errorf("correct %s: %q, want %q", c.name, got, c.want)
		}
		if err == nil && (!e.ResultCorrected || *e.Grade != 900) {
			t.Errorf("correct %s: %+v", c.name, e)
		}
	}
}

func TestSaveAndDeactivateJuryMember(t *testing.T) {
	facts := certification.MemberFacts{KnownCandidates: map[string]bool{"c": true, "ghost": false}, KnownSites: map[string]bool{"grea": true}, Now: now}
	base := certification.JuryMember{ID: "m", FullName: " Claire ", Role: pro, Organisation: "Pixel", Email: " Claire@X.example "}
	with := func(links ...certification.MemberLink) certification.JuryMember {
		m := base
		m.Links = links
		return m
	}
	for _, c := range []struct {
		name string
		m    certification.JuryMember
		want string
	}{
		{"no links", with(), ""},
		{"a link to a candidate", with(certification.MemberLink{Kind: "trainer", CandidateID: "c"}), ""},
		{"a link to a site", with(certification.MemberLink{Kind: "employer", TrainingSiteID: "grea"}), ""},
		{"a link to no one", with(certification.MemberLink{Kind: "other"}), "[/links/0]"},
		{"a link to both", with(certification.MemberLink{Kind: "other", CandidateID: "c", TrainingSiteID: "grea"}), "[/links/0]"},
		{"a link to an unknown candidate", with(certification.MemberLink{Kind: "trainer", CandidateID: "ghost"}), "[/links/0/candidate_id]"},
		{"a link to an unknown site", with(certification.MemberLink{Kind: "trainer", TrainingSiteID: "elsewhere"}), "[/links/0/training_site_id]"},
		{"a blank name", certification.JuryMember{FullName: "  ", Organisation: "x", Role: pro}, "[/full_name]"},
	} {
		m, err := certification.SaveJuryMember(facts, nil, c.m)
		if got := codeOf(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
		if err == nil && (m.FullName != "Claire" || m.Email != "claire@x.example" || !m.Active || m.Version != 1) {
			t.Errorf("%s: %+v", c.name, m)
		}
	}
	seated := facts
	seated.OpenSessions = []certification.JurySession{*planned()}
	before := base
	before.Version, before.Active = 3, true
	director := base
	director.Role = dir
	if _, err := certification.SaveJuryMember(seated, &before, director); codeOf(err) != "member_in_session" {
		t.Errorf("a change of seat while seated: %v", err)
	}
	if m, err := certification.SaveJuryMember(seated, &before, base); err != nil || m.Version != 4 || !m.Active {
		t.Errorf("a change of details while seated: %+v %v", m, err)
	}
	if _, err := certification.DeactivateJuryMember(seated, before); codeOf(err) != "member_in_session" {
		t.Errorf("deactivating a seated member: %v", err)
	}
	if m, err := certification.DeactivateJuryMember(facts, before); err != nil || m.Active || m.Version != 4 {
		t.Errorf("deactivated: %+v %v", m, err)
	}
}

func TestSessionDecisions(t *testing.T) {
	jury := members(dir, pro, pro, pro, pro, dir, pro)
	byID := map[string]certification.JuryMember{}
	for _, m := range jury {
		byID[m.ID] = m
	}
	inactive := byID["m6"]
	inactive.Active = false
	byID["m6"] = inactive
	facts := func(site *certification.TrainingSite) certification.SessionFacts {
		return certification.SessionFacts{Certification: ref26206(), Site: site, Members: byID, Now: now}
	}
	session := func(ids ...string) certification.JurySession {
		return certification.JurySession{ID: "s", CertificationCode: "RNCP26206", TrainingSiteID: "bayle", HeldOn: day("2019-10-01"), MemberIDs: ids}
	}
	for _, c := range []struct {
		name string
		site *certification.TrainingSite
		s    certification.JurySession
		want string
	}{
		{"the full jury", certSite, session("m0", "m1", "m2", "m3", "m4"), ""},
		{"no members yet", certSite, session(), ""},
		{"at a preparation site", prepSite, session(), "[SITE-CERTIFICATION /training_site_id]"},
		{"in New Caledonia", nouméaSite, session(), "[TERRITORY /training_site_id]"},
		{"at no site", nil, session(), "[SITE-CERTIFICATION /training_site_id]"},
		{"two directors", certSite, session("m0", "m5"), "[JURY-COMPOSITION /member_ids]"},
		{"a member twice", certSite, session("m0", "m0"), "[/member_ids/1]"},
		{"an unknown member", certSite, session("nobody"), "[/member_ids/0]"},
		{"an inactive member", certSite, session("m6"), "[/member_ids/0]"},
	} {
		s, err := certification.PlanSession(facts(c.site), c.s)
		if got := codeOf(err); got != c.want {
			t.Errorf("plan %s: %q, want %q", c.name, got, c.want)
		}
		if err == nil && (s.Status != certification.SessionPlanned || s.Version != 1) {
			t.Errorf("plan %s: %+v", c.name, s)
		}
	}

	four := session("m0", "m1", "m2", "m3")
	four.Status, four.Version = certification.SessionPlanned, 1
	for _, c := range []struct {
		name, member string
		s            certification.JurySession
		changed      bool
		want         string
	}{
		{"the fifth", "m4", four, true, ""},
		{"one already seated", "m1", four, false, ""},
		{"a second director", "m5", four, false, "[JURY-COMPOSITION]"},
		{"an inactive member", "m6", four, false, "[]"},
		{"an unknown member", "x", four, false, "jury member x: not found"},
	} {
		s, changed, err := certification.AddSessionMember(facts(certSite), c.s, c.member)
		if got := codeOf(err); got != c.want || changed != c.changed {
			t.Errorf("seat %s: %q changed=%t, want %q %t", c.name, codeOf(err), changed, c.want, c.changed)
		}
		if changed && (len(s.MemberIDs) != 5 || s.Version != 2 || len(four.MemberIDs) != 4) {
			t.Errorf("seat %s: %+v (the facts' session must not change)", c.name, s)
		}
	}
	deliberating := four
	deliberating.Status = certification.SessionDeliberating
	if _, _, err := certification.AddSessionMember(facts(certSite), deliberating, "m4"); codeOf(err) != "session_not_planned" {
		t.Errorf("seating in a deliberating session: %v", err)
	}
	if s, err := certification.RemoveSessionMember(four, "m2", now); err != nil || strings.Join(s.MemberIDs, ",") != "m0,m1,m3" {
		t.Errorf("unseat: %+v %v", s, err)
	}
	if _, err := certification.RemoveSessionMember(four, "m4", now); err == nil {
		t.Error("unseating one not seated")
	}
	withDefence := facts(certSite)
	withDefence.Defences = []certification.Evaluation{defenceAt("d", "c", "2019-10-01T09:00:00Z")}
	if _, err := certification.ReplanSession(withDefence, four, "bayle", day("2019-10-08")); codeOf(err) != "session_has_defences" {
		t.Errorf("moving a session with defences: %v", err)
	}
	if s, err := certification.ReplanSession(facts(certSite), four, "bayle", day("2019-10-08")); err != nil || !s.HeldOn.Equal(day("2019-10-08")) {
		t.Errorf("moving an empty session: %+v %v", s, err)
	}
}

func deliberation(sittings ...certification.PersonSitting) certification.DecisionFacts {
	s := planned()
	return certification.DecisionFacts{Certification: ref26206(), Session: *s, Members: members(dir, pro, pro, pro, pro),
		Candidate: candidate(), Sittings: sittings, Now: now}
}

func defenceGraded(grade float64) certification.PersonSitting {
	e := defenceAt("e4", "c", "2019-10-01T09:00:00Z")
	e.Status, e.Grade = certification.SittingGraded, f(grade)
	return certification.PersonSitting{Evaluation: e, Route: "continuing_education"}
}

func TestProposeAndDecide(t *testing.T) {
	all := []certification.PersonSitting{graded("e1", "E1", "2019-09-02", 12, ""), graded("e2", "E2", "2019-09-03", 14, ""),
		graded("e3", "E3", "2019-09-04", 11, ""), defenceGraded(13)}
	e3failed := []certification.PersonSitting{all[0], all[1], graded("e3", "E3", "2019-09-04", 7, ""), all[3]}
	earlier := []certification.PersonSitting{graded("e1", "E1", "2018-09-02", 12, "2018-10-01"), all[1], all[2], all[3]}
	withdrawn := candidate()
	withdrawn.WithdrawnOn = dayPtr("2019-09-30")
	linked := members(dir, pro, pro, pro, pro)
	linked[3].Links = []certification.MemberLink{{Kind: "employer", CandidateID: "c"}}
	late := deliberation(all...)
	late.Session.HeldOn = day("2021-02-01")
	late.Certification.Periods = []certification.RegistrationPeriod{{LegalAct: "last", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")}}
	cases := []struct {
		name     string
		f        certification.DecisionFacts
		req      certification.DecisionRequest
		want     string
		outcome  certification.Outcome
		validate string // the components validated now
	}{
		{"all four passing: an award", deliberation(all...), certification.DecisionRequest{Reason: "ok"}, "", "award", "E1 E2 E3 E4"},
		{"the award named", deliberation(all...), certification.DecisionRequest{Outcome: "award", Reason: "ok"}, "", "award", "E1 E2 E3 E4"},
		{"an earlier acquisition counts", deliberation(earlier...), certification.DecisionRequest{Reason: "ok"}, "", "award", "E2 E3 E4"},
		{"E3 failed: a partial validation", deliberation(e3failed...), certification.DecisionRequest{Reason: "ok"}, "", "partial", "E1 E2 E4"},
		{"E3 failed, an award asked", deliberation(e3failed...), certification.DecisionRequest{Outcome: "award", Reason: "ok"}, "[AWARD /outcome]", "", ""},
		{"the jury validates fewer", deliberation(all...), certification.DecisionRequest{ValidatedComponents: []string{"E1"}, Reason: "ok"}, "", "partial", "E1"},
		{"the jury validates none", deliberation(all...), certification.DecisionRequest{ValidatedComponents: []string{}, Reason: "ok"}, "", "refusal", ""},
		{"a failed component validated", deliberation(e3failed...), certification.DecisionRequest{ValidatedComponents: []string{"E3"}, Reason: "ok"}, "[AWARD /validated_components/0]", "", ""},
		{"nothing passed: a refusal", deliberation(), certification.DecisionRequest{Reason: "ok"}, "", "refusal", ""},
		{"an expired acquisition validated", func() certification.DecisionFacts {
			f := deliberation(graded("e1", "E1", "2013-09-02", 12, "2013-10-01"))
			return f
		}(), certification.DecisionRequest{ValidatedComponents: []string{"E1"}, Reason: "ok"}, "[VALIDITY /validated_components/0]", "", ""},
		{"a refusal asked for all four", deliberation(all...), certification.DecisionRequest{Outcome: "refusal", Reason: "ok"}, "[AWARD /outcome]", "", ""},
		{"no reason", deliberation(all...), certification.DecisionRequest{Reason: " "}, "[MINUTES /reason]", "", ""},
		{"after the grace period: all held, no award", late, certification.DecisionRequest{Reason: "ok"}, "", "partial", "E1 E2 E3 E4"},
		{"after the grace period, an award asked", late, certification.DecisionRequest{Outcome: "award", Reason: "ok"}, "[REGISTRATION-PERIOD /outcome]", "", ""},
		{"a withdrawn candidate", func() certification.DecisionFacts { f := deliberation(all...); f.Candidate = withdrawn; return f }(),
			certification.DecisionRequest{Reason: "ok"}, "[WITHDRAWAL /candidate_id]", "", ""},
		{"a member linked to them", func() certification.DecisionFacts { f := deliberation(all...); f.Members = linked; return f }(),
			certification.DecisionRequest{Reason: "ok"}, "[JURY-INDEPENDENCE /candidate_id]", "", ""},
		{"a jury of four", func() certification.DecisionFacts { f := deliberation(all...); f.Members = f.Members[:4]; return f }(),
			certification.DecisionRequest{Reason: "ok"}, "[JURY-COMPOSITION]", "", ""},
		{"a second decision", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.Current = &certification.Decision{ID: "d0"}
			return f
		}(),
			certification.DecisionRequest{Reason: "ok"}, "decision_exists", "", ""},
		{"already certified elsewhere", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.Certified = &certification.Decision{ID: "d0", JurySessionID: "s0"}
			return f
		}(), certification.DecisionRequest{Reason: "ok"}, "already_certified", "", ""},
		{"a closed session", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.Session.Status = certification.SessionClosed
			return f
		}(),
			certification.DecisionRequest{Reason: "ok"}, "session_closed", "", ""},
		{"pending in another session", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.Pending = &certification.Decision{ID: "d0", JurySessionID: "s0"}
			return f
		}(), certification.DecisionRequest{Reason: "ok"}, "decision_pending", "", ""},
		{"a refusal asked where all held cannot be awarded", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.Session.HeldOn = day("2021-02-01")
			f.Certification.Periods = []certification.RegistrationPeriod{{LegalAct: "last", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")}}
			return f
		}(), certification.DecisionRequest{Outcome: "refusal", Reason: "ok"}, "[AWARD /outcome]", "", ""},
		{"a member linked to an earlier registration of the person", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.PersonIDs = []string{"c-earlier"}
			f.Members[1].Links = []certification.MemberLink{{Kind: "trainer", CandidateID: "c-earlier"}}
			return f
		}(), certification.DecisionRequest{Reason: "ok"}, "[JURY-INDEPENDENCE /candidate_id]", "", ""},
		{"a correction of an open session", func() certification.DecisionFacts {
			f := deliberation(all...)
			f.Current = &certification.Decision{ID: "d0", JurySessionID: "s", CandidateID: "c"}
			f.Corrected = f.Current
			return f
		}(),
			certification.DecisionRequest{Reason: "ok", CorrectsID: "d0"}, "session_not_closed", "", ""},
	}
	for _, c := range cases {
		d, s, err := certification.Decide(c.f, c.req, "d")
		if got := codeOf(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
			continue
		}
		if err != nil {
			continue
		}
		var now []string
		for _, v := range d.ValidatedNow() {
			now = append(now, v.Component)
			if !v.AcquiredOn.Equal(c.f.Session.HeldOn) || v.ValidUntil == nil || v.ValidUntil.Format(time.DateOnly) != c.f.Session.HeldOn.AddDate(5, 0, 0).Format(time.DateOnly) {
				t.Errorf("%s: %s validated now runs from the session's day for five years: %+v", c.name, v.Component, v)
			}
		}
		if d.Outcome != c.outcome || strings.Join(now, " ") != c.validate || d.Published() || s.Status != certification.SessionDeliberating {
			t.Errorf("%s: %s validating %v, published %t, session %s; want %s validating %s, a draft", c.name, d.Outcome, now, d.Published(), s.Status, c.outcome, c.validate)
		}
		if p := certification.Propose(c.f); c.req.Outcome == "" && c.req.ValidatedComponents == nil && p.Outcome != d.Outcome {
			t.Errorf("%s: proposed %s, decided %s", c.name, p.Outcome, d.Outcome)
		}
	}

	// A correction, of a closed session's published decision, is published at once.
	f := deliberation(all...)
	f.Session.Status = certification.SessionClosed
	published := now
	f.Current = &certification.Decision{ID: "d0", JurySessionID: "s", CandidateID: "c", Revision: 1, PublishedAt: &published}
	f.Corrected, f.LatestPublished = f.Current, f.Current
	d, _, err := certification.Decide(f, certification.DecisionRequest{CorrectsID: "d0", ValidatedComponents: []string{"E1", "E2"}, Reason: "correction"}, "d1")
	if err != nil || d.CorrectsID != "d0" || d.Revision != 2 || !d.Published() || d.Outcome != certification.OutcomePartial {
		t.Errorf("correction: %+v %v", d, err)
	}
	// A withdrawal after the session does not stop correcting it.
	g := f
	g.Candidate.WithdrawnOn = dayPtr("2020-01-01")
	if _, _, err := certification.Decide(g, certification.DecisionRequest{CorrectsID: "d0", Reason: "correction"}, "d1"); err != nil {
		t.Errorf("correcting after a later withdrawal: %v", err)
	}
	for _, c := range []struct {
		name      string
		corrected *certification.Decision
		latest    *certification.Decision
		want      string
	}{
		{"a superseded decision", &certification.Decision{ID: "old", JurySessionID: "s", CandidateID: "c", SupersededBy: "d0"}, f.Current, "decision_superseded"},
		{"another candidate's decision", &certification.Decision{ID: "x", JurySessionID: "s", CandidateID: "other"}, f.Current, "[PUBLICATION /corrects]"},
		{"another session's decision", &certification.Decision{ID: "x", JurySessionID: "s2", CandidateID: "c"}, f.Current, "[PUBLICATION /corrects]"},
		{"no decision", nil, f.Current, "[PUBLICATION /corrects]"},
		{"one a later session relies on", f.Current, &certification.Decision{ID: "later", JurySessionID: "s3"}, "decision_not_latest"},
	} {
		g := f
		g.Corrected, g.LatestPublished = c.corrected, c.latest
		if _, _, err := certification.Decide(g, certification.DecisionRequest{CorrectsID: "x", Reason: "x"}, "d2"); codeOf(err) != c.want {
			t.Errorf("correcting %s: %v, want %s", c.name, codeOf(err), c.want)
		}
	}
}

// At the close, every draft is checked again on the facts as they are then.
func TestConfirmDecision(t *testing.T) {
	all := []certification.PersonSitting{graded("e1", "E1", "2019-09-02", 12, ""), graded("e2", "E2", "2019-09-03", 14, ""),
		graded("e3", "E3", "2019-09-04", 11, ""), defenceGraded(13)}
	f := deliberation(all...)
	d, _, err := certification.Decide(f, certification.DecisionRequest{Reason: "ok"}, "d")
	if err != nil {
		t.Fatal(err)
	}
	if vs := certification.ConfirmDecision(f, d, "Camille"); len(vs) != 0 {
		t.Fatalf("nothing changed: %+v", vs)
	}
	for name, c := range map[string]struct {
		mod  func(*certification.DecisionFacts)
		want string
	}{
		"withdrawn since":  {func(g *certification.DecisionFacts) { g.Candidate.WithdrawnOn = dayPtr("2019-09-20") }, "[WITHDRAWAL]"},
		"registered again": {func(g *certification.DecisionFacts) { g.Candidate.SupersededBy = "c2" }, "[CARRY-OVER]"},
		"a link declared": {func(g *certification.DecisionFacts) {
			g.Members[2].Links = []certification.MemberLink{{Kind: "other", CandidateID: "c"}}
		}, "[JURY-INDEPENDENCE]"},
		"a result corrected down": {func(g *certification.DecisionFacts) { g.Sittings[1] = graded("e2", "E2", "2019-09-03", 8, "") }, "[AWARD]"},
		"a jury of four":          {func(g *certification.DecisionFacts) { g.Members = g.Members[:4] }, "[]"},
	} {
		g := deliberation(append([]certification.PersonSitting{}, all...)...)
		c.mod(&g)
		vs := certification.ConfirmDecision(g, d, "Camille")
		for _, v := range vs {
			if !strings.HasPrefix(v.Message, "Camille: ") || v.Field != "" {
				t.Errorf("%s: %+v", name, v)
			}
		}
		if got := ruleFields(vs); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}

func TestCloseDeliberation(t *testing.T) {
	signed := func(when string, ids ...string) []certification.Signature {
		var out []certification.Signature
		for _, id := range ids {
			out = append(out, certification.Signature{MemberID: id, SignedAt: at(when)})
		}
		return out
	}
	all := []string{"m0", "m1", "m2", "m3", "m4"}
	cases := []struct {
		name   string
		status certification.SessionStatus
		sigs   []certification.Signature
		want   string
	}{
		{"every member signs", certification.SessionDeliberating, signed("2019-10-01T17:00:00Z", all...), ""},
		{"one did not", certification.SessionDeliberating, signed("2019-10-01T17:00:00Z", all[:4]...), "[MINUTES /signatures]"},
		{"a stranger signs", certification.SessionDeliberating, signed("2019-10-01T17:00:00Z", append(all, "x")...), "[MINUTES /signatures/5/member_id]"},
		{"one signs twice", certification.SessionDeliberating, signed("2019-10-01T17:00:00Z", append(all, "m0")...), "[MINUTES /signatures/5/member_id]"},
		{"signed the day before", certification.SessionDeliberating, signed("2019-09-30T17:00:00Z", all...),
			"[MINUTES /signatures/0/signed_at MINUTES /signatures/1/signed_at MINUTES /signatures/2/signed_at MINUTES /signatures/3/signed_at MINUTES /signatures/4/signed_at]"},
		{"signed in the future", certification.SessionDeliberating, append(signed("2019-10-01T17:00:00Z", all[:4]...), signed("2030-01-01T00:00:00Z", "m4")...), "[MINUTES /signatures/4/signed_at]"},
		{"no decision yet", certification.SessionPlanned, signed("2019-10-01T17:00:00Z", all...), "session_not_deliberating"},
	}
	for _, c := range cases {
		s := *planned()
		s.Status = c.status
		drafts := []certification.Decision{{ID: "d1"}, {ID: "d2"}}
		closed, published, err := certification.CloseDeliberation(certification.CloseFacts{Certification: ref26206(), Session: s,
			Members: members(dir, pro, pro, pro, pro), Drafts: drafts, Now: now}, c.sigs)
		if got := codeOf(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
			continue
		}
		if err == nil && (closed.Status != certification.SessionClosed || len(published) != 2 || !published[0].Published() || len(closed.Signatures) != 5 || drafts[0].Published()) {
			t.Errorf("%s: %+v %+v", c.name, closed, published)
		}
	}
	s := *planned()
	s.Status, s.ClosedAt = certification.SessionClosed, &now
	if _, _, err := certification.CloseDeliberation(certification.CloseFacts{Session: s, Now: now}, nil); codeOf(err) != "session_closed" {
		t.Errorf("a second close: %v", err)
	}
	if _, err := certification.DeleteDraftDecision(s, certification.Decision{}, 1, now); codeOf(err) != "session_closed" {
		t.Errorf("deleting in a closed session: %v", err)
	}
	if _, err := certification.DeleteDraftDecision(*planned(), certification.Decision{PublishedAt: &now}, 1, now); codeOf(err) != "decision_published" {
		t.Errorf("deleting a published decision: %v", err)
	}
	deliberating := *planned()
	deliberating.Status = certification.SessionDeliberating
	if s, err := certification.DeleteDraftDecision(deliberating, certification.Decision{}, 1, now); err != nil || s.Status != certification.SessionDeliberating {
		t.Errorf("deleting one draft of two: %+v %v", s, err)
	}
	if s, err := certification.DeleteDraftDecision(deliberating, certification.Decision{}, 0, now); err != nil || s.Status != certification.SessionPlanned || s.Version != 2 {
		t.Errorf("deleting the last draft plans the session again: %+v %v", s, err)
	}
}

func TestCertificates(t *testing.T) {
	published := now
	s := *planned()
	c := candidate()
	comps := []certification.DecidedComponent{{Component: "E1", AcquiredOn: day("2019-10-01")}}
	for _, x := range []struct {
		outcome certification.Outcome
		kind    certification.CertificateKind
		comps   int
	}{{"award", "certificate", 0}, {"partial", "attestation", 1}, {"refusal", "", 0}} {
		cert, ok := certification.IssueCertificate(certification.Decision{ID: "d", Outcome: x.outcome, Components: comps, PublishedAt: &published}, s, c, "N", now)
		if ok != (x.kind != "") || cert.Kind != x.kind || len(cert.Components) != x.comps {
			t.Errorf("%s: %+v %t", x.outcome, cert, ok)
		}
		if ok && (cert.HolderName != "Camille Martin" || !cert.AwardedOn.Equal(s.HeldOn) || cert.Status != certification.CertificateValid) {
			t.Errorf("%s: %+v", x.outcome, cert)
		}
	}
	if _, ok := certification.IssueCertificate(certification.Decision{Outcome: "award"}, s, c, "N", now); ok {
		t.Error("a draft issues nothing")
	}
	cert, _ := certification.IssueCertificate(certification.Decision{Outcome: "award", PublishedAt: &published}, s, c, "N", now)
	revoked, err := certification.RevokeCertificate(cert, " fraude ", now)
	if err != nil || revoked.Status != certification.CertificateRevoked || revoked.RevocationReason != "fraude" || !revoked.RevokedAt.Equal(now) {
		t.Errorf("revoked: %+v %v", revoked, err)
	}
	if _, err := certification.RevokeCertificate(revoked, "again", now); codeOf(err) != "certificate_revoked" {
		t.Errorf("revoked twice: %v", err)
	}
	if _, err := certification.RevokeCertificate(cert, "  ", now); codeOf(err) != "[/reason]" {
		t.Errorf("no reason: %v", err)
	}
	married := c
	married.UsageName = "Durand"
	if got := certification.HolderName(married); got != "Camille Durand, née Martin" {
		t.Errorf("holder name: %q", got)
	}
	if _, err := certification.MinutesOf(*planned(), ref26206(), *certSite, nil, nil, nil); codeOf(err) != "session_not_closed" {
		t.Errorf("minutes of an open session: %v", err)
	}
}

func TestCandidateDecisions(t *testing.T) {
	c := candidate()
	w, err := certification.Withdraw(c, certification.CandidateFacts{Evaluations: 2}, " moved ", day("2019-09-01"), now)
	if err != nil || w.Status != certification.StatusWithdrawn || w.WithdrawalReason != "moved" || w.Version != 1 {
		t.Errorf("withdrawn: %+v %v", w, err)
	}
	if _, err := certification.Withdraw(w, certification.CandidateFacts{}, "x", day("2019-09-02"), now); codeOf(err) != "already_withdrawn" {
		t.Errorf("twice: %v", err)
	}
	if _, err := certification.Withdraw(c, certification.CandidateFacts{}, "x", day("2019-01-01"), now); codeOf(err) != "[/withdrawn_on]" {
		t.Errorf("before the enrolment: %v", err)
	}
	twelve := 12
	vae := c
	vae.Route, vae.VAEAdmissibility = "vae", "pending"
	v, err := certification.DecideVAEAdmissibility(vae, "admissible", day("2019-07-01"), &twelve, now)
	if err != nil || v.VAEAdmissibility != "admissible" || *v.VAEExperienceMonths != 12 || *v.VAERequiredMonths != 12 {
		t.Errorf("admissible: %+v %v", v, err)
	}
	if _, err := certification.DecideVAEAdmissibility(c, "admissible", day("2019-07-01"), &twelve, now); codeOf(err) != "not_vae" {
		t.Errorf("not VAE: %v", err)
	}
	for status, may := range map[certification.CandidateStatus]bool{"enrolled": false, "in_assessment": false, "certified": false,
		"partially_validated": true, "refused": true} {
		c.Status = status
		if certification.MayRegisterAgain(c) != may {
			t.Errorf("%s: may register again %t, want %t", status, !may, may)
		}
	}
}

func TestCheckRouteChange(t *testing.T) {
	before := candidate()
	after := before
	after.Route = "vae"
	if err := certification.CheckRouteChange(before, after, certification.CandidateFacts{}); err != nil {
		t.Errorf("nothing validated yet: %v", err)
	}
	if err := certification.CheckRouteChange(before, after, certification.CandidateFacts{Validations: 1}); codeOf(err) != "route_fixed" {
		t.Errorf("after a validation: %v", err)
	}
	if err := certification.CheckRouteChange(before, before, certification.CandidateFacts{Validations: 3}); err != nil {
		t.Errorf("the same route: %v", err)
	}
}
