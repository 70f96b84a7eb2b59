package certification

import (
	"fmt"
	"strings"
	"time"
)

// Candidate is a person registered for a certification.
type Candidate struct {
	ID                string
	CertificationCode string
	Route             RouteID
	TrainingSiteID    string // empty: none (individual application, VAE)
	EnrolledOn        time.Time
	FirstName         string
	BirthName         string
	UsageName         string
	Sex               string // F or M, as the Caisse des Dépôts records it
	BirthDate         time.Time
	BirthPlace        BirthPlace
	Email             string
	Phone             string
	Address           Address
	Status            CandidateStatus
	VAEAdmissibility  VAEAdmissibility // empty unless Route is VAE
	VAEDecidedOn      *time.Time
	// VAEExperienceMonths is the experience an admissibility decision relied on
	// (VAE-EXPERIENCE); VAERequiredMonths what the law required that day.
	VAEExperienceMonths *int
	VAERequiredMonths   *int
	WithdrawnOn         *time.Time
	WithdrawalReason    string
	// SupersededBy is the person's later registration for the same certification,
	// which carries this one's acquisitions over (CARRY-OVER); empty while this one
	// is their current registration.
	SupersededBy string
	// CertificateNumber is the number of the certificate of the candidate's award,
	// once published.
	CertificateNumber string
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// BirthPlace is where a candidate was born: a commune by INSEE code or postal code.
type BirthPlace struct {
	INSEECode   string
	PostalCode  string
	Name        string
	CountryCode string
}

// CandidateStatus is where a candidate stands on their path.
type CandidateStatus string

// The statuses of a candidate, each following from facts.
const (
	StatusEnrolled           CandidateStatus = "enrolled"
	StatusInAssessment       CandidateStatus = "in_assessment"
	StatusCertified          CandidateStatus = "certified"
	StatusPartiallyValidated CandidateStatus = "partially_validated"
	StatusRefused            CandidateStatus = "refused"
	StatusWithdrawn          CandidateStatus = "withdrawn"
)

// Outcome is a jury's decision on a candidate.
type Outcome string

// The outcomes of a deliberation.
const (
	OutcomeAward   Outcome = "award"
	OutcomePartial Outcome = "partial"
	OutcomeRefusal Outcome = "refusal"
)

// CandidateFacts are the facts a candidate's status follows from.
type CandidateFacts struct {
	Withdrawn bool
	// Evaluations is how many sittings were scheduled for the candidate.
	Evaluations int
	// LastOutcome is the outcome of the candidate's latest published decision, if any.
	LastOutcome Outcome
	// Validations is how many of the candidate's results a jury validated.
	Validations int
}

// StatusOf derives a candidate's status from the facts: a withdrawal ends the path;
// a published decision says where it ended; a scheduled sitting means the candidate
// is being assessed; otherwise they are enrolled.
func StatusOf(f CandidateFacts) CandidateStatus {
	switch {
	case f.Withdrawn:
		return StatusWithdrawn
	case f.LastOutcome == OutcomeAward:
		return StatusCertified
	case f.LastOutcome == OutcomePartial:
		return StatusPartiallyValidated
	case f.LastOutcome == OutcomeRefusal:
		return StatusRefused
	case f.Evaluations > 0:
		return StatusInAssessment
	default:
		return StatusEnrolled
	}
}

// VAEAdmissibility is the recevabilité of a VAE application.
type VAEAdmissibility string

// The states of a VAE application.
const (
	VAEPending      VAEAdmissibility = "pending"
	VAEAdmissible   VAEAdmissibility = "admissible"
	VAEInadmissible VAEAdmissibility = "inadmissible"
)

// TrainingRoutes are the routes on which a candidate follows a course, and so is
// attached to a preparation site.
var TrainingRoutes = map[RouteID]bool{
	RouteInitialTraining:             true,
	RouteContinuingEducation:         true,
	RouteProfessionalisationContract: true,
}

// Withdraw decides a candidate's withdrawal on day: once, and not before they
// enrolled. From that day WITHDRAWAL applies; what they acquired stays theirs.
func Withdraw(c Candidate, f CandidateFacts, reason string, day, now time.Time) (Candidate, error) {
	if c.WithdrawnOn != nil {
		return c, &ConflictError{Code: "already_withdrawn", Message: "the candidate withdrew on " + c.WithdrawnOn.Format(time.DateOnly)}
	}
	day = Day(day)
	if day.Before(c.EnrolledOn) {
		return c, Check([]Violation{{Field: "/withdrawn_on", Message: "a withdrawal comes after the enrolment, on " + c.EnrolledOn.Format(time.DateOnly)}})
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return c, Check([]Violation{{Field: "/reason", Message: "a withdrawal gives its reason"}})
	}
	c.WithdrawnOn, c.WithdrawalReason = &day, reason
	f.Withdrawn = true
	c.Status = StatusOf(f)
	c.Version++
	c.UpdatedAt = now
	return c, nil
}

// DecideVAEAdmissibility decides the recevabilité of a VAE application on day: only
// a VAE candidate's, not after a withdrawal, not before the application, and an
// admissible one with the experience the law required on the day of the application
// (VAE-EXPERIENCE), which the decision records.
func DecideVAEAdmissibility(c Candidate, decision VAEAdmissibility, day time.Time, experienceMonths *int, now time.Time) (Candidate, error) {
	switch {
	case c.Route != RouteVAE:
		return c, &ConflictError{Code: "not_vae", Message: "only a VAE candidate has an admissibility decision"}
	case c.WithdrawnOn != nil:
		return c, Check(CheckWithdrawal("", c, day, now))
	}
	day = Day(day)
	var vs []Violation
	if day.Before(c.EnrolledOn) {
		vs = append(vs, Violation{Field: "/decided_on", Message: "the decision comes after the application, on " + c.EnrolledOn.Format(time.DateOnly)})
	}
	vs = append(vs, CheckVAEExperience(c, decision, experienceMonths)...)
	if err := Check(vs); err != nil {
		return c, err
	}
	need, _ := VAEExperienceRequired(c.EnrolledOn)
	c.VAEAdmissibility, c.VAEDecidedOn, c.VAEExperienceMonths, c.VAERequiredMonths = decision, &day, experienceMonths, &need
	c.Version++
	c.UpdatedAt = now
	return c, nil
}

// MayRegisterAgain reports whether the person of a registration may register again
// for the certification, the new registration replacing this one: once a published
// decision ended its path with a refusal or a partial validation. (A withdrawn
// registration no longer holds the person's identity at all.)
func MayRegisterAgain(c Candidate) bool {
	return c.Status == StatusRefused || c.Status == StatusPartiallyValidated
}

// CheckRouteChange refuses changing the route of a registration on which a jury has
// validated a result: how long those acquisitions last follows from the route they
// were validated on (VALIDITY: VAE acquisitions are permanent).
func CheckRouteChange(before, after Candidate, f CandidateFacts) error {
	if before.Route != after.Route && f.Validations > 0 {
		return &ConflictError{Code: "route_fixed",
			Message: fmt.Sprintf("a jury validated %d result(s) on the %s route: the route of this registration no longer changes", f.Validations, before.Route)}
	}
	return nil
}
