package certification

import (
	"fmt"
	"strings"
	"time"
)

// Evaluation is one sitting of a component by a candidate, and its result. An E4
// oral defence is a sitting too: booked in a jury session, in a slot that ends at
// EndsAt.
type Evaluation struct {
	ID                 string
	CandidateID        string
	CertificationCode  string
	Component          string
	TrainingSiteID     string
	JurySessionID      string // the session a defence is heard in; empty for other sittings
	ScheduledAt        time.Time
	EndsAt             *time.Time // the end of a defence slot; nil for other sittings
	Status             SittingStatus
	Grade              *Hundredths
	DossierGrade       *Hundredths
	DefenceGrade       *Hundredths
	ResultRecordedAt   *time.Time
	ResultCorrected    bool
	ValidatedOn        *time.Time
	ValidatedBy        string // the decision that validated the result
	CancelledAt        *time.Time
	CancellationReason string
	Version            int
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// HasResult reports whether a result (a grade or an absence) is recorded.
func (e Evaluation) HasResult() bool { return e.Status == SittingGraded || e.Status == SittingAbsent }

// Slot is the time the sitting occupies: its slot for a defence, its instant for
// another sitting.
func (e Evaluation) Slot() Slot {
	if e.EndsAt != nil {
		return Slot{Start: e.ScheduledAt, End: *e.EndsAt}
	}
	return Slot{Start: e.ScheduledAt, End: e.ScheduledAt}
}

// Sitting is the evaluation as the transcript reads it; route is the route of the
// registration it belongs to (VALIDITY depends on it).
func (e Evaluation) Sitting(route RouteID) Sitting {
	return Sitting{EvaluationID: e.ID, CandidateID: e.CandidateID, Route: route, Component: e.Component, HeldOn: e.ScheduledAt,
		Status: e.Status, Grade: e.Grade, DossierGrade: e.DossierGrade, DefenceGrade: e.DefenceGrade, ValidatedOn: e.ValidatedOn}
}

// Slot is an interval of time [Start, End); a slot with End equal to Start is an
// instant.
type Slot struct {
	Start, End time.Time
}

// Overlaps reports whether two slots share a moment.
func (s Slot) Overlaps(o Slot) bool {
	switch {
	case !s.End.After(s.Start) && !o.End.After(o.Start):
		return s.Start.Equal(o.Start)
	case !s.End.After(s.Start):
		return !s.Start.Before(o.Start) && s.Start.Before(o.End)
	case !o.End.After(o.Start):
		return !o.Start.Before(s.Start) && o.Start.Before(s.End)
	}
	return s.Start.Before(o.End) && o.Start.Before(s.End)
}

// SittingFacts are what a change of a sitting is decided on; the service loads them
// in the change's transaction, the candidate's row locked.
type SittingFacts struct {
	Certification Certification
	Candidate     Candidate
	// Sittings are every sitting of the person: this registration's, and the
	// earlier registrations' whose acquisitions carry over (CARRY-OVER).
	Sittings []PersonSitting
	// Site is the training site the request names; nil when none exists or the
	// caller may not see it.
	Site *TrainingSite
	// Session is the jury session a defence is booked in, nil when the request names
	// none or the caller may not see it; SessionDefences are its defences that are
	// not cancelled.
	Session         *JurySession
	SessionDefences []Evaluation
	Now             time.Time
}

// PersonSitting is one sitting of the person and the route of the registration it
// belongs to.
type PersonSitting struct {
	Evaluation
	Route RouteID
}

// Sittings turns the person's sittings into the transcript's.
func Sittings(ps []PersonSitting) []Sitting {
	out := make([]Sitting, len(ps))
	for i, s := range ps {
		out[i] = s.Sitting(s.Route)
	}
	return out
}

// SittingRequest is where and when a sitting takes place.
type SittingRequest struct {
	Component      string
	TrainingSiteID string // may be empty for a defence: the session's site
	JurySessionID  string
	ScheduledAt    time.Time
}

// ScheduleSitting decides a new sitting: the candidate may sit (WITHDRAWAL, a
// registration that is not superseded), the component is one of the certification's
// (COMPONENTS) at a certification site (SITE-CERTIFICATION, TERRITORY), a defence is
// booked in a jury session's slot (DEFENCE-SLOT, VAE-ADMISSIBILITY), and the
// component is not held, awaiting the jury or already scheduled.
func ScheduleSitting(f SittingFacts, req SittingRequest, id string) (Evaluation, error) {
	e := Evaluation{ID: id, CandidateID: f.Candidate.ID, CertificationCode: f.Candidate.CertificationCode,
		Component: req.Component, Status: SittingScheduled, Version: 1, CreatedAt: f.Now, UpdatedAt: f.Now}
	if err := placeSitting(f, &e, req); err != nil {
		return Evaluation{}, err
	}
	return e, nil
}

// RescheduleSitting decides moving a sitting that has no result yet, under the rules
// of a new sitting.
func RescheduleSitting(f SittingFacts, e Evaluation, req SittingRequest) (Evaluation, error) {
	if e.Status != SittingScheduled {
		return e, &ConflictError{Code: "evaluation_not_scheduled", Message: "only a scheduled sitting without a result can move; this one is " + string(e.Status)}
	}
	req.Component = e.Component
	if err := placeSitting(f, &e, req); err != nil {
		return e, err
	}
	e.Version++
	e.UpdatedAt = f.Now
	return e, nil
}

// placeSitting applies the rules of where and when e takes place and sets them on e.
func placeSitting(f SittingFacts, e *Evaluation, req SittingRequest) error {
	if err := checkRegistrationOpen(f.Candidate); err != nil {
		return err
	}
	at := req.ScheduledAt.UTC().Truncate(time.Second)
	e.ScheduledAt, e.EndsAt, e.JurySessionID, e.TrainingSiteID = at, nil, "", req.TrainingSiteID
	comp, vs := CheckComponent(req.Component, f.Certification)
	vs = append(CheckWithdrawal("/candidate_id", f.Candidate, f.Now, at), vs...)
	defence, isDefence := comp.Defence()
	switch {
	case isDefence:
		vs = append(vs, placeDefence(f, e, req, defence)...)
	case req.JurySessionID != "":
		vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/jury_session_id",
			Message: fmt.Sprintf("only an oral defence before the jury is booked in a jury session; %s has none", comp.ID)})
	default:
		vs = append(vs, checkSittingSite("/training_site_id", f.Certification, f.Site)...)
	}
	if Day(at).Before(f.Candidate.EnrolledOn) {
		vs = append(vs, Violation{Field: "/scheduled_at", Message: "a sitting comes after the enrolment, on " + f.Candidate.EnrolledOn.Format(time.DateOnly)})
	}
	if err := Check(vs); err != nil {
		return err
	}
	return CheckSchedulable(standingOn(f, e.Component, at, e.ID))
}

// placeDefence books e as a defence in the session the request names.
func placeDefence(f SittingFacts, e *Evaluation, req SittingRequest, part ComponentPart) []Violation {
	if req.JurySessionID == "" {
		return []Violation{{Rule: RuleDefenceSlot, Field: "/jury_session_id",
			Message: fmt.Sprintf("%s is defended orally before the jury: name the jury session that hears it", e.Component)}}
	}
	if f.Session == nil {
		return []Violation{{Rule: RuleDefenceSlot, Field: "/jury_session_id", Message: "no such jury session"}}
	}
	s := *f.Session
	var vs []Violation
	if s.CertificationCode != f.Candidate.CertificationCode {
		vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/jury_session_id", Message: "the jury session is of another certification, " + s.CertificationCode})
	}
	if s.Status != SessionPlanned {
		vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/jury_session_id", Message: "defences are booked in a planned session; this one is " + string(s.Status)})
	}
	if req.TrainingSiteID != "" && req.TrainingSiteID != s.TrainingSiteID {
		vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/training_site_id", Message: "a defence takes place where its jury session sits"})
	}
	vs = append(vs, checkSittingSite("/jury_session_id", f.Certification, f.Site)...)
	vs = append(vs, CheckVAEAdmissible("/candidate_id", f.Candidate)...)
	end := e.ScheduledAt.Add(time.Duration(part.Minutes()) * time.Minute)
	e.EndsAt, e.JurySessionID, e.TrainingSiteID = &end, s.ID, s.TrainingSiteID
	var others []Evaluation
	for _, x := range f.Sittings {
		if x.CandidateID == f.Candidate.ID && x.ID != e.ID && x.Status != SittingCancelled {
			others = append(others, x.Evaluation)
		}
	}
	var defences []Evaluation
	for _, d := range f.SessionDefences {
		if d.ID != e.ID && d.Status != SittingCancelled {
			defences = append(defences, d)
		}
	}
	return append(vs, CheckDefenceSlot(e.Slot(), s, f.Candidate.ID, defences, others)...)
}

// checkSittingSite applies SITE-CERTIFICATION and TERRITORY to the place of a sitting.
func checkSittingSite(field string, c Certification, site *TrainingSite) []Violation {
	vs := CheckSiteCertification(field, c.Code, site)
	if site != nil {
		for _, v := range CheckTerritory(field, site.Address, c.ExcludedTerritories) {
			v.Field = field
			vs = append(vs, v)
		}
	}
	return vs
}

// checkRegistrationOpen refuses acts on a registration another one of the same person
// has replaced (CARRY-OVER: the new one carries the acquisitions over).
func checkRegistrationOpen(c Candidate) error {
	if c.SupersededBy != "" {
		return Check([]Violation{{Rule: RuleCarryOver, Field: "/candidate_id",
			Message: "the person registered again (" + c.SupersededBy + "): their acquisitions and their path continue on that registration"}})
	}
	return nil
}

// standingOn is where the candidate stands on one component on the day of at, the
// sitting except left aside, and whether another sitting of it is scheduled.
func standingOn(f SittingFacts, component string, at time.Time, except string) (ComponentStanding, bool) {
	var sittings []Sitting
	pending := false
	for _, s := range f.Sittings {
		if s.ID == except {
			continue
		}
		sittings = append(sittings, s.Sitting(s.Route))
		pending = pending || (s.CandidateID == f.Candidate.ID && s.Component == component && s.Status == SittingScheduled)
	}
	tr := TranscriptOf(f.Certification, f.Candidate, sittings, at, Everything)
	for _, c := range tr.Components {
		if c.Component == component {
			return c, pending
		}
	}
	return ComponentStanding{Component: component, Status: NotTaken}, pending
}

// CancelSitting decides cancelling a sitting that has no result.
func CancelSitting(e Evaluation, reason string, now time.Time) (Evaluation, error) {
	if e.Status != SittingScheduled {
		return e, &ConflictError{Code: "evaluation_not_scheduled", Message: "only a scheduled sitting without a result can be cancelled; this one is " + string(e.Status)}
	}
	e.Status, e.CancelledAt, e.CancellationReason = SittingCancelled, &now, strings.TrimSpace(reason)
	e.Version++
	e.UpdatedAt = now
	return e, nil
}

// ResultFacts are what recording or correcting a result is decided on.
type ResultFacts struct {
	Certification Certification
	Candidate     Candidate
	// Session is the jury session of a defence; nil for another sitting.
	Session *JurySession
	// UnderDeliberation: a decision of a session not yet closed relies on the result.
	UnderDeliberation bool
	Now               time.Time
}

// RecordResult decides the result of a sitting, recorded once, under GRADING and
// WITHDRAWAL; a defence is graded while its session has not closed.
func RecordResult(f ResultFacts, e Evaluation, r Result) (Evaluation, error) {
	switch {
	case e.HasResult():
		return e, &ConflictError{Code: "result_already_recorded", Message: "this sitting has its result; a correction is its own act (result-correction)"}
	case e.Status == SittingCancelled:
		return e, &ConflictError{Code: "evaluation_cancelled", Message: "this sitting was cancelled"}
	case e.ScheduledAt.After(f.Now):
		return e, &ConflictError{Code: "evaluation_not_held", Message: "this sitting is scheduled at " + e.ScheduledAt.Format(time.RFC3339) + " and has not been held yet"}
	case f.Session != nil && f.Session.Status == SessionClosed:
		return e, &ConflictError{Code: "session_closed", Message: "the jury session that heard this defence is closed"}
	}
	if err := Check(CheckWithdrawal("", f.Candidate, f.Now, e.ScheduledAt)); err != nil {
		return e, err
	}
	if err := gradeSitting(f, &e, r); err != nil {
		return e, err
	}
	return e, nil
}

// CorrectResult decides replacing a recorded result that no jury has validated or is
// deliberating on.
func CorrectResult(f ResultFacts, e Evaluation, r Result) (Evaluation, error) {
	switch {
	case !e.HasResult():
		return e, &ConflictError{Code: "no_result", Message: "this sitting has no result to correct"}
	case e.ValidatedOn != nil:
		return e, &ConflictError{Code: "result_validated",
			Message: "a jury validated this result on " + e.ValidatedOn.Format(time.DateOnly) + ": it is corrected by a new decision, not here"}
	case f.Session != nil && f.Session.Status == SessionClosed:
		return e, &ConflictError{Code: "session_closed", Message: "the jury session that heard this defence is closed: its minutes stand"}
	case f.UnderDeliberation:
		return e, &ConflictError{Code: "result_under_deliberation",
			Message: "a decision of a jury session not yet closed relies on this result: delete that decision first"}
	}
	if err := gradeSitting(f, &e, r); err != nil {
		return e, err
	}
	e.ResultCorrected = true
	return e, nil
}

func gradeSitting(f ResultFacts, e *Evaluation, r Result) error {
	comp, vs := CheckComponent(e.Component, f.Certification)
	if len(vs) > 0 {
		return Check(vs)
	}
	grade, vs := GradeResult(comp, r)
	if err := Check(vs); err != nil {
		return err
	}
	now := f.Now
	e.Grade, e.DossierGrade, e.DefenceGrade, e.ResultRecordedAt = grade, r.DossierGrade, r.DefenceGrade, &now
	e.Status = SittingGraded
	if r.Absent {
		e.Status, e.DossierGrade, e.DefenceGrade = SittingAbsent, nil, nil
	}
	e.Version++
	e.UpdatedAt = now
	return nil
}
