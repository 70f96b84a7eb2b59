package certification

import "time"

// Evaluation is one sitting of a component by a candidate, and its result.
type Evaluation struct {
	ID                 string
	CandidateID        string
	CertificationCode  string
	Component          string
	SiteID             string
	ScheduledAt        time.Time
	Status             SittingStatus
	Grade              *float64
	DossierGrade       *float64
	DefenceGrade       *float64
	ResultRecordedAt   *time.Time
	ResultCorrected    bool
	ValidatedOn        *time.Time
	CancelledAt        *time.Time
	CancellationReason string
	Version            int
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// HasResult reports whether a result (a grade or an absence) is recorded.
func (e Evaluation) HasResult() bool { return e.Status == SittingGraded || e.Status == SittingAbsent }

// Sitting is the evaluation as the transcript reads it.
func (e Evaluation) Sitting() Sitting {
	return Sitting{EvaluationID: e.ID, Component: e.Component, HeldOn: e.ScheduledAt, Status: e.Status,
		Grade: e.Grade, DossierGrade: e.DossierGrade, DefenceGrade: e.DefenceGrade, ValidatedOn: e.ValidatedOn}
}

// Sittings turns evaluations into the transcript's sittings.
func Sittings(evals []Evaluation) []Sitting {
	out := make([]Sitting, len(evals))
	for i, e := range evals {
		out[i] = e.Sitting()
	}
	return out
}
