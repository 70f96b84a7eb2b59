package certification

import "time"

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
	WithdrawnOn       *time.Time
	WithdrawalReason  string
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
