package certification_test

import (
	"reflect"
	"testing"

	"github.com/apformation/certapi/internal/certification"
)

// PUBLICATION, for the results feed: an entry exists for a published decision only,
// and says nothing of the candidate a partner does not need.
func TestPublishedEntry(t *testing.T) {
	now := at("2019-10-01T17:30:00Z")
	session := certification.JurySession{ID: "s1", CertificationCode: "RNCP26206", HeldOn: day("2019-10-01")}
	cand := certification.Candidate{ID: "c1", CertificationCode: "RNCP26206", Route: certification.RouteContinuingEducation,
		TrainingSiteID: "site-1", FirstName: "Camille", BirthName: "Martin", UsageName: "Durand", Sex: "F",
		BirthDate: day("1995-04-12"), BirthPlace: certification.BirthPlace{INSEECode: "34172", Name: "Montpellier", CountryCode: "FR"},
		Email: "camille@example.org", Phone: "+33 6 12 34 56 78", Address: certification.Address{Line1: "3 rue de la Loge", City: "Montpellier"}}
	comps := []certification.DecidedComponent{{Component: "E1", EvaluationID: "e1", AcquiredOn: day("2019-10-01"), ValidatedNow: true}}
	published := certification.Decision{ID: "d1", JurySessionID: "s1", CandidateID: "c1", Outcome: certification.OutcomePartial,
		Components: comps, Revision: 1, PublishedAt: &now}
	draft := published
	draft.PublishedAt = nil
	correction := published
	correction.ID, correction.CorrectsID, correction.Revision = "d2", "d1", 2
	attestation := &certification.Certificate{Number: "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", Status: certification.CertificateValid, DecisionID: "d1"}
	want := certification.ResultEntry{Type: certification.EntryResultPublished, RecordedAt: now, CertificationCode: "RNCP26206",
		DecisionID: "d1", JurySessionID: "s1", HeldOn: day("2019-10-01"), Outcome: certification.OutcomePartial, Components: comps,
		Candidate: certification.ResultCandidate{ID: "c1", FirstName: "Camille", BirthName: "Martin", UsageName: "Durand",
			TrainingSiteID: "site-1", Route: certification.RouteContinuingEducation},
		CertificateNumber: attestation.Number, CertificateStatus: certification.CertificateValid}
	refusal := want
	refusal.CertificateNumber, refusal.CertificateStatus = "", ""
	corrected := want
	corrected.DecisionID, corrected.CorrectsID = "d2", "d1"
	other := session
	other.ID = "s2"

	cases := []struct {
		name    string
		d       certification.Decision
		s       certification.JurySession
		cert    *certification.Certificate
		want    certification.ResultEntry
		entered bool
	}{
		{"a published decision and its attestation", published, session, attestation, want, true},
		{"a refusal issues nothing", published, session, nil, refusal, true},
		{"a correction names the decision it replaces", correction, session, attestation, corrected, true},
		{"a draft is not published", draft, session, attestation, certification.ResultEntry{}, false},
		{"a decision of another session", published, other, attestation, certification.ResultEntry{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := certification.PublishedEntry(c.d, c.s, cand, c.cert, now)
			if ok != c.entered || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v %t, want %+v %t", got, ok, c.want, c.entered)
			}
		})
	}

	// What the entry says of the candidate is exactly what ResultCandidate holds:
	// a new field there is a decision to show it to partners.
	fields := []string{}
	rt := reflect.TypeOf(certification.ResultCandidate{})
	for i := range rt.NumField() {
		fields = append(fields, rt.Field(i).Name)
	}
	if !reflect.DeepEqual(fields, []string{"ID", "FirstName", "BirthName", "UsageName", "TrainingSiteID", "Route"}) {
		t.Errorf("a result entry tells partners %v of the candidate", fields)
	}
}

func TestRevokedEntry(t *testing.T) {
	now := at("2020-02-01T10:00:00Z")
	published := at("2019-10-01T17:30:00Z")
	session := certification.JurySession{ID: "s1", CertificationCode: "RNCP26206", HeldOn: day("2019-10-01")}
	cand := certification.Candidate{ID: "c1", Route: certification.RouteVAE, FirstName: "Ana", BirthName: "Lopes"}
	d := certification.Decision{ID: "d1", JurySessionID: "s1", CandidateID: "c1", Outcome: certification.OutcomeAward, PublishedAt: &published}
	revoked := certification.Certificate{Number: "N", DecisionID: "d1", Status: certification.CertificateRevoked, RevokedAt: &now}
	valid := revoked
	valid.Status, valid.RevokedAt = certification.CertificateValid, nil
	ofAnother := revoked
	ofAnother.DecisionID = "d9"
	cases := []struct {
		name    string
		cert    certification.Certificate
		entered bool
	}{
		{"a revoked certificate", revoked, true},
		{"a certificate still valid", valid, false},
		{"the certificate of another decision", ofAnother, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ok := certification.RevokedEntry(c.cert, d, session, cand, now)
			if ok != c.entered {
				t.Fatalf("entered %t, want %t", ok, c.entered)
			}
			if ok && (e.Type != certification.EntryCertificateRevoked || e.CertificateStatus != certification.CertificateRevoked ||
				e.CertificateNumber != "N" || e.DecisionID != "d1" || e.Outcome != certification.OutcomeAward || !e.RecordedAt.Equal(now)) {
				t.Fatalf("entry %+v", e)
			}
		})
	}
}

func TestSuccessRate(t *testing.T) {
	rate := func(f float64) *float64 { return &f }
	cases := []struct {
		name                     string
		awards, partial, refusal int64
		withdrawals, candidates  int64
		want                     *float64
	}{
		{"no decision yet", 0, 0, 0, 3, 10, nil},
		{"awards only", 4, 0, 0, 0, 4, rate(1)},
		{"awards over every published decision", 18, 3, 1, 2, 24, rate(18.0 / 22)},
		{"withdrawals and registrations do not count", 1, 1, 0, 40, 100, rate(0.5)},
		{"refusals only", 0, 0, 5, 0, 5, rate(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := certification.Statistic{Awards: c.awards, PartialValidations: c.partial, Refusals: c.refusal,
				Withdrawals: c.withdrawals, Candidates: c.candidates}
			got := s.SuccessRate()
			if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
				t.Fatalf("%v, want %v", rateOf(got), rateOf(c.want))
			}
		})
	}
}

func rateOf(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
