package certification_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/certification"
)

var routes = []certification.Route{
	{ID: "initial_training", Open: true},
	{ID: "apprenticeship", Label: certification.Label{FR: "En contrat d'apprentissage"}, Open: false},
	{ID: "continuing_education", Open: true},
	{ID: "professionalisation_contract", Open: true},
	{ID: "individual_application", Open: true},
	{ID: "vae", Open: true},
}

func TestCheckRouteOpen(t *testing.T) {
	cases := []struct {
		route certification.RouteID
		ok    bool
	}{
		{"initial_training", true},
		{"continuing_education", true},
		{"professionalisation_contract", true},
		{"individual_application", true},
		{"vae", true},
		{"apprenticeship", false},
		{"correspondence", false},
	}
	for _, c := range cases {
		vs := certification.CheckRouteOpen(c.route, routes)
		if c.ok != (len(vs) == 0) {
			t.Errorf("%s: %+v, want ok=%t", c.route, vs, c.ok)
		}
		if !c.ok && (vs[0].Rule != certification.RuleRouteOpen || vs[0].Field != "/route") {
			t.Errorf("%s: %+v", c.route, vs)
		}
	}
}

func TestCheckSitePreparation(t *testing.T) {
	prep := &certification.TrainingSite{Name: "Gréa", Roles: []certification.SiteRole{"preparation"}, CertificationCodes: []string{"RNCP26206"}, Active: true}
	certOnly := &certification.TrainingSite{Name: "Exam hall", Roles: []certification.SiteRole{"certification"}, CertificationCodes: []string{"RNCP26206"}, Active: true}
	inactive := &certification.TrainingSite{Name: "Closed", Roles: []certification.SiteRole{"preparation"}, CertificationCodes: []string{"RNCP26206"}}
	otherCert := &certification.TrainingSite{Name: "Elsewhere", Roles: []certification.SiteRole{"preparation"}, CertificationCodes: []string{"RNCP1"}, Active: true}
	cases := []struct {
		name   string
		route  certification.RouteID
		siteID string
		site   *certification.TrainingSite
		ok     bool
	}{
		{"initial training at a preparation site", "initial_training", "s", prep, true},
		{"continuing education without a site", "continuing_education", "", nil, false},
		{"professionalisation contract without a site", "professionalisation_contract", "", nil, false},
		{"initial training without a site", "initial_training", "", nil, false},
		{"individual application without a site", "individual_application", "", nil, true},
		{"VAE without a site", "vae", "", nil, true},
		{"VAE at a preparation site", "vae", "s", prep, true},
		{"a site that does not exist", "vae", "s", nil, false},
		{"a certification-only site", "initial_training", "s", certOnly, false},
		{"an inactive site", "initial_training", "s", inactive, false},
		{"a site of another certification", "continuing_education", "s", otherCert, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := certification.CheckSitePreparation(c.route, "RNCP26206", c.siteID, c.site)
			if c.ok != (len(vs) == 0) {
				t.Fatalf("%+v, want ok=%t", vs, c.ok)
			}
			if !c.ok && (vs[0].Rule != certification.RuleSitePreparation || vs[0].Field != "/training_site_id") {
				t.Fatalf("%+v", vs)
			}
		})
	}
}

// A registration that breaks several rules gets every violation at once.
func TestCheckRegistrationReportsEveryRule(t *testing.T) {
	ref := certification.Certification{Code: "RNCP26206", Routes: routes, ExcludedTerritories: territories,
		Periods: []certification.RegistrationPeriod{{LegalAct: "arrêté du 27 décembre 2018", EffectiveFrom: day("2019-01-04"), EffectiveUntil: day("2020-01-04")}}}
	good := certification.Candidate{Route: "continuing_education", TrainingSiteID: "s", EnrolledOn: day("2019-06-03"), BirthDate: day("1995-04-12"),
		BirthPlace: certification.BirthPlace{INSEECode: "34172"}, Address: certification.Address{PostalCode: "34000", CountryCode: "FR"}}
	site := &certification.TrainingSite{Roles: []certification.SiteRole{"preparation"}, CertificationCodes: []string{"RNCP26206"}, Active: true}
	if vs := certification.CheckRegistration(certification.Registration{Candidate: good, Certification: ref, Site: site}); len(vs) != 0 {
		t.Fatalf("a valid registration: %+v", vs)
	}
	bad := good
	bad.Route, bad.TrainingSiteID = "apprenticeship", ""
	bad.Address.PostalCode = "98800"
	bad.EnrolledOn = day("2026-11-26")
	bad.BirthPlace = certification.BirthPlace{}
	vs := certification.CheckRegistration(certification.Registration{Candidate: bad, Certification: ref})
	var got []string
	for _, v := range vs {
		got = append(got, strings.TrimSpace(v.Rule+" "+v.Field))
	}
	want := "[ROUTE-OPEN /route REGISTRATION-PERIOD /enrolled_on /birth_place]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if !strings.Contains(vs[1].Message, "ended on 2020-01-04") {
		t.Errorf("the period message does not name the last period's end: %s", vs[1].Message)
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		facts certification.CandidateFacts
		want  certification.CandidateStatus
	}{
		{certification.CandidateFacts{}, certification.StatusEnrolled},
		{certification.CandidateFacts{Evaluations: 2}, certification.StatusInAssessment},
		{certification.CandidateFacts{Evaluations: 4, LastOutcome: certification.OutcomeAward}, certification.StatusCertified},
		{certification.CandidateFacts{Evaluations: 4, LastOutcome: certification.OutcomePartial}, certification.StatusPartiallyValidated},
		{certification.CandidateFacts{Evaluations: 1, LastOutcome: certification.OutcomeRefusal}, certification.StatusRefused},
		{certification.CandidateFacts{Withdrawn: true, Evaluations: 3}, certification.StatusWithdrawn},
		{certification.CandidateFacts{Withdrawn: true, LastOutcome: certification.OutcomeAward}, certification.StatusWithdrawn},
	}
	for _, c := range cases {
		if got := certification.StatusOf(c.facts); got != c.want {
			t.Errorf("%+v: %s, want %s", c.facts, got, c.want)
		}
	}
}

// The rules that need nothing but the request, which the rules middleware applies
// before the handler: the birth place, the birth date against the enrolment.
func TestCheckRegistrationRequest(t *testing.T) {
	good := certification.Candidate{Route: "apprenticeship", EnrolledOn: day("2019-06-03"), BirthDate: day("1995-04-12"),
		BirthPlace: certification.BirthPlace{INSEECode: "34172", CountryCode: "FR"}}
	cases := []struct {
		name  string
		edit  func(*certification.Candidate)
		want  string
		check certification.BirthCountries
	}{
		{"a valid request, whatever its route and dates against the referential", func(*certification.Candidate) {}, "[]", countries{}},
		{"no birth place", func(c *certification.Candidate) { c.BirthPlace = certification.BirthPlace{} }, "[/birth_place]", nil},
		{"born the day of the enrolment", func(c *certification.Candidate) { c.BirthDate = c.EnrolledOn }, "[/birth_date]", nil},
		{"a birth country the declaration cannot carry", func(c *certification.Candidate) { c.BirthPlace.CountryCode = "AQ" },
			"[HOLDERS-DECLARATION /birth_place/country_code]", countries{}},
		{"the same, countries not checked", func(c *certification.Candidate) { c.BirthPlace.CountryCode = "AQ" }, "[]", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			var got []string
			for _, v := range certification.CheckRegistrationRequest(c, tc.check) {
				got = append(got, strings.TrimSpace(v.Rule+" "+v.Field))
			}
			if g := fmt.Sprint(got); g != tc.want {
				t.Fatalf("got %s, want %s", g, tc.want)
			}
		})
	}
}
