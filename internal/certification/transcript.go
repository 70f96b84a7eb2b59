package certification

import (
	"fmt"
	"sort"
	"time"
)

// SittingStatus is where one evaluation stands.
type SittingStatus string

// The statuses of a sitting.
const (
	SittingScheduled SittingStatus = "scheduled"
	SittingGraded    SittingStatus = "graded"
	SittingAbsent    SittingStatus = "absent"
	SittingCancelled SittingStatus = "cancelled"
)

// Sitting is one evaluation of a component, as the transcript reads it.
type Sitting struct {
	EvaluationID string
	// CandidateID is the registration the sitting belongs to: the transcript's own,
	// or an earlier registration of the same person whose acquisitions carry over.
	CandidateID string
	// Route is the route of that registration: VALIDITY may differ by route.
	Route        RouteID
	Component    string
	HeldOn       time.Time
	Status       SittingStatus
	Grade        *Hundredths
	DossierGrade *Hundredths
	DefenceGrade *Hundredths
	// ValidatedOn is the day a jury validated this sitting's result; nil until then.
	ValidatedOn *time.Time
}

// Standing is where a candidate stands on one component.
type Standing string

// The standings of a component in a transcript.
const (
	NotTaken Standing = "not_taken"
	Graded   Standing = "graded"
	Failed   Standing = "failed"
	Acquired Standing = "acquired"
	Expired  Standing = "expired"
)

// ComponentStanding is one line of a transcript.
type ComponentStanding struct {
	Component    string
	Status       Standing
	Grade        *Hundredths
	DossierGrade *Hundredths
	DefenceGrade *Hundredths
	Absent       bool
	AcquiredOn   *time.Time
	ValidUntil   *time.Time
	EvaluationID string
	// HeldOn is when the sitting the standing comes from was held.
	HeldOn time.Time
	// CarriedOver: acquired on an earlier registration of the person (CARRY-OVER).
	CarriedOver bool
}

// Visibility is what a reader of a transcript may see of results no jury has yet
// deliberated on (PUBLICATION).
type Visibility struct {
	// Hide shows such results as graded, without their grades or whether they
	// passed; DefencesOnly restricts that to the components defended before the
	// jury (the preparation site's staff record the others themselves).
	Hide         bool
	DefencesOnly bool
	// DeliberatedThrough is the day of the latest session that published a decision
	// on the candidate: results held by then are deliberated on, and shown.
	DeliberatedThrough *time.Time
}

// Everything is the view of the certifier's staff and juries.
var Everything = Visibility{}

func (v Visibility) hides(comp Component, s ComponentStanding) bool {
	if s.Status != Graded && s.Status != Failed {
		return false
	}
	return v.HidesResultOf(comp, s.HeldOn)
}

// HidesResultOf says whether the reader may not see the result of a sitting of comp
// held on heldOn: no jury has deliberated on it yet (PUBLICATION).
func (v Visibility) HidesResultOf(comp Component, heldOn time.Time) bool {
	if !v.Hide {
		return false
	}
	if _, defended := comp.Defence(); v.DefencesOnly && !defended {
		return false
	}
	return v.DeliberatedThrough == nil || Day(heldOn).After(*v.DeliberatedThrough)
}

// Transcript is where a candidate stands on a day, and whether the certification
// could be awarded to them that day.
type Transcript struct {
	AsOf       time.Time
	Components []ComponentStanding
	Awardable  bool
	Reasons    []Violation
}

// TranscriptOf computes a candidate's transcript on asOf from the person's sittings.
//
// Per component (COMPONENTS): acquired while a jury-validated result is within its
// validity (VALIDITY, which depends on the route of the registration it was
// validated on), expired after; otherwise the latest result of this registration
// held on or before asOf says graded (passed, awaiting the jury), failed (below the
// pass mark, or absent) or, with none, not_taken. Sittings of the person's earlier
// registrations count only by what a jury validated on them (CARRY-OVER). What the
// reader may see of results no jury has deliberated on is v (PUBLICATION).
//
// AWARD: the certification can be awarded on asOf when every component is acquired
// and valid that day, on a day a jury may award (REGISTRATION-PERIOD), to a candidate
// who has not withdrawn (WITHDRAWAL) and, for VAE, whose application is admissible
// (VAE-ADMISSIBILITY); Reasons say why not.
func TranscriptOf(c Certification, cand Candidate, sittings []Sitting, asOf time.Time, v Visibility) Transcript {
	asOf = Day(asOf)
	t := Transcript{AsOf: asOf, Components: make([]ComponentStanding, 0, len(c.Components))}
	own := make([]Sitting, 0, len(sittings))
	for _, s := range sittings {
		if s.CandidateID == "" || s.CandidateID == cand.ID || s.ValidatedOn != nil {
			if s.Route == "" {
				s.Route = cand.Route
			}
			own = append(own, s)
		}
	}
	sort.SliceStable(own, func(i, j int) bool { return own[i].HeldOn.Before(own[j].HeldOn) })
	for _, comp := range c.Components {
		s := standingOf(c, comp, cand.ID, own, asOf)
		if v.hides(comp, s) {
			s = ComponentStanding{Component: comp.ID, Status: Graded, EvaluationID: s.EvaluationID, HeldOn: s.HeldOn}
		}
		t.Components = append(t.Components, s)
		field := "/components/" + comp.ID
		switch s.Status {
		case Acquired:
		case Expired:
			t.Reasons = append(t.Reasons, Violation{Rule: RuleValidity, Field: field,
				Message: fmt.Sprintf("%s expired after %s: it must be taken again", comp.ID, s.ValidUntil.Format(time.DateOnly))})
		case NotTaken:
			t.Reasons = append(t.Reasons, Violation{Rule: RuleAward, Field: field, Message: comp.ID + " has not been taken"})
		case Failed:
			t.Reasons = append(t.Reasons, Violation{Rule: RuleAward, Field: field, Message: comp.ID + " is failed"})
		case Graded:
			t.Reasons = append(t.Reasons, Violation{Rule: RuleAward, Field: field, Message: comp.ID + " awaits the jury's validation"})
		}
	}
	t.Reasons = append(t.Reasons, CheckAwardPeriod("/as_of", asOf, cand.EnrolledOn, c.Periods, c.AwardGraceMonths)...)
	t.Reasons = append(t.Reasons, CheckWithdrawal("/withdrawn_on", cand, asOf)...)
	t.Reasons = append(t.Reasons, CheckVAEAdmissible("/vae_admissibility", cand)...)
	t.Awardable = len(t.Reasons) == 0
	return t
}

func standingOf(c Certification, comp Component, candidateID string, sittings []Sitting, asOf time.Time) ComponentStanding {
	out := ComponentStanding{Component: comp.ID, Status: NotTaken}
	var latest *Sitting
	for i := range sittings {
		s := &sittings[i]
		if s.Component != comp.ID || Day(s.HeldOn).After(asOf) {
			continue
		}
		if s.Status != SittingGraded && s.Status != SittingAbsent {
			continue
		}
		validity := c.ValidityFor(s.Route)
		if s.ValidatedOn != nil && !Day(*s.ValidatedOn).After(asOf) {
			until := ValidUntil(*s.ValidatedOn, validity)
			if until == nil || !asOf.After(*until) {
				on := Day(*s.ValidatedOn)
				return ComponentStanding{Component: comp.ID, Status: Acquired, Grade: s.Grade, DossierGrade: s.DossierGrade,
					DefenceGrade: s.DefenceGrade, AcquiredOn: &on, ValidUntil: until, EvaluationID: s.EvaluationID, HeldOn: s.HeldOn,
					CarriedOver: s.CandidateID != "" && s.CandidateID != candidateID}
			}
		}
		latest = s
	}
	if latest == nil {
		return out
	}
	out.EvaluationID, out.Grade, out.DossierGrade, out.DefenceGrade = latest.EvaluationID, latest.Grade, latest.DossierGrade, latest.DefenceGrade
	out.HeldOn = latest.HeldOn
	out.CarriedOver = latest.CandidateID != "" && latest.CandidateID != candidateID
	switch {
	case latest.ValidatedOn != nil && !Day(*latest.ValidatedOn).After(asOf):
		on := Day(*latest.ValidatedOn)
		out.Status, out.AcquiredOn, out.ValidUntil = Expired, &on, ValidUntil(on, c.ValidityFor(latest.Route))
	case latest.Status == SittingAbsent:
		out.Status, out.Absent = Failed, true
	case Passed(comp, *latest.Grade):
		out.Status = Graded
	default:
		out.Status = Failed
	}
	return out
}

// CheckSchedulable refuses a new sitting of a component the candidate already holds
// (acquired and still valid: the conflict names the expiry), has a result for that
// awaits the jury, or is already scheduled for.
func CheckSchedulable(s ComponentStanding, pending bool) error {
	switch {
	case s.Status == Acquired && s.ValidUntil != nil:
		return &ConflictError{Code: "component_acquired",
			Message: fmt.Sprintf("%s is acquired and valid until %s: it cannot be taken again before it expires", s.Component, s.ValidUntil.Format(time.DateOnly))}
	case s.Status == Acquired:
		return &ConflictError{Code: "component_acquired", Message: s.Component + " is acquired for good"}
	case s.Status == Graded:
		return &ConflictError{Code: "component_awaiting_validation", Message: s.Component + " has a passing grade that awaits the jury's validation"}
	case pending:
		return &ConflictError{Code: "component_already_scheduled", Message: s.Component + " already has a sitting scheduled"}
	}
	return nil
}

// CheckSiteCertification enforces SITE-CERTIFICATION: "Lieu(x) de certification : AP
// Formation, 14 rue Pierre Bayle - 31100 TOULOUSE". Evaluations and jury sessions
// take place at an active certification site declared for the certification. site
// is nil when no site has the id the request names.
func CheckSiteCertification(field, certificationCode string, site *TrainingSite) []Violation {
	if site == nil {
		return []Violation{{Rule: RuleSiteCertification, Field: field, Message: "no such training site"}}
	}
	declared := false
	for _, c := range site.CertificationCodes {
		declared = declared || c == certificationCode
	}
	if !site.Active || !site.HasRole(SiteCertification) || !declared {
		return []Violation{{Rule: RuleSiteCertification, Field: field,
			Message: fmt.Sprintf("%s (%s) is not an active certification site declared for %s", site.Name, site.Address.Line1, certificationCode)}}
	}
	return nil
}

// CheckComponent enforces COMPONENTS: the component is one of the certification's.
func CheckComponent(component string, c Certification) (Component, []Violation) {
	for _, comp := range c.Components {
		if comp.ID == component {
			return comp, nil
		}
	}
	return Component{}, []Violation{{Rule: RuleComponents, Field: "/component",
		Message: fmt.Sprintf("%s is not a component of %s", component, c.Code)}}
}
