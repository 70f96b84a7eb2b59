package certification

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DecidedComponent is a component a candidate holds after a decision: validated by
// it (ValidatedNow), or acquired earlier and still valid on the session's day.
type DecidedComponent struct {
	Component    string
	EvaluationID string
	AcquiredOn   time.Time
	ValidUntil   *time.Time // nil: acquired permanently
	ValidatedNow bool
}

// Decision is a jury's decision on a candidate in a session. It is a draft until the
// session closes, then published and immutable; a correction is a new decision of
// the same session that names the one it corrects.
type Decision struct {
	ID            string
	JurySessionID string
	CandidateID   string
	Outcome       Outcome
	Components    []DecidedComponent
	Reason        string
	// Revision is 1 for a first decision and one more for each correction.
	Revision     int
	CorrectsID   string
	SupersededBy string
	DecidedAt    time.Time
	DecidedBy    string
	PublishedAt  *time.Time
	// CertificateNumber is the certificate or attestation the decision issued.
	CertificateNumber string
}

// Published reports whether the decision is visible outside the certifier (PUBLICATION).
func (d Decision) Published() bool { return d.PublishedAt != nil }

// ValidatedNow lists the components the decision validates itself.
func (d Decision) ValidatedNow() []DecidedComponent {
	var out []DecidedComponent
	for _, c := range d.Components {
		if c.ValidatedNow {
			out = append(out, c)
		}
	}
	return out
}

// DecisionFacts are what a decision on a candidate in a session is decided on; the
// service loads them with the session's and the candidate's rows locked.
type DecisionFacts struct {
	Certification Certification
	Session       JurySession
	// Members are the session's members, with their declared links.
	Members   []JuryMember
	Candidate Candidate
	// Sittings are the person's sittings (CARRY-OVER); for a correction, the
	// validations the corrected decision made are undone in them.
	Sittings []PersonSitting
	// PersonIDs are the ids of the person's other registrations: a link declared on
	// one of them is a link to the person (JURY-INDEPENDENCE).
	PersonIDs []string
	// Current is the candidate's current decision in this session, if any.
	Current *Decision
	// Pending is the candidate's current decision in another session not yet closed.
	Pending *Decision
	// Certified is a published award of the candidate's, in another session.
	Certified *Decision
	// Corrected is the decision a correction names, whatever it is; nil when it
	// names none that exists.
	Corrected *Decision
	// LatestPublished is the candidate's latest published decision that stands.
	LatestPublished *Decision
	Now             time.Time
}

// Proposal is the decision the facts support on the session's day (AWARD).
type Proposal struct {
	Outcome Outcome
	// Components are what the candidate would hold: every earlier acquisition still
	// valid, and every passing result awaiting the jury, validated now.
	Components []DecidedComponent
	// Reasons say why it is not an award.
	Reasons []Violation
	// Blockers say why this session can decide nothing on the candidate.
	Blockers []Violation
}

// Propose computes the decision the facts support on the session's day: the
// components the candidate holds or may be validated now, the outcome they make, why
// it is not an award, and what prevents this session from deciding at all
// (JURY-COMPOSITION, JURY-INDEPENDENCE, WITHDRAWAL, VAE-ADMISSIBILITY). A withdrawal
// counts from its day: a closed session, which only corrects its decisions, is not
// stopped by one that came after it.
func Propose(f DecisionFacts) Proposal {
	day := f.Session.HeldOn
	tr := TranscriptOf(f.Certification, f.Candidate, Sittings(f.Sittings), day, Everything)
	var p Proposal
	for _, s := range tr.Components {
		switch s.Status {
		case Acquired:
			p.Components = append(p.Components, DecidedComponent{Component: s.Component, EvaluationID: s.EvaluationID,
				AcquiredOn: *s.AcquiredOn, ValidUntil: s.ValidUntil})
		case Graded:
			p.Components = append(p.Components, DecidedComponent{Component: s.Component, EvaluationID: s.EvaluationID,
				AcquiredOn: day, ValidUntil: ValidUntil(day, f.Certification.ValidityFor(f.Candidate.Route)), ValidatedNow: true})
		}
	}
	for _, r := range tr.Reasons {
		if strings.HasPrefix(r.Field, "/components/") && !strings.Contains(r.Message, "awaits the jury") {
			p.Reasons = append(p.Reasons, r)
		}
	}
	p.Outcome = outcomeOf(len(p.Components), len(f.Certification.Components))
	if p.Outcome == OutcomeAward {
		if vs := CheckAwardPeriod("/outcome", day, f.Candidate.EnrolledOn, f.Certification.Periods, f.Certification.AwardGraceMonths); len(vs) > 0 {
			p.Outcome, p.Reasons = OutcomePartial, append(p.Reasons, vs...)
		}
	}
	p.Blockers = append(p.Blockers, CheckJuryComposition("", f.Members, f.Certification.Jury, true)...)
	p.Blockers = append(p.Blockers, CheckJuryIndependence("/candidate_id", f.Members, f.Candidate, f.PersonIDs...)...)
	withdrawalDays := []time.Time{day, f.Now}
	if f.Session.Status == SessionClosed {
		withdrawalDays = withdrawalDays[:1]
	}
	p.Blockers = append(p.Blockers, CheckWithdrawal("/candidate_id", f.Candidate, withdrawalDays...)...)
	p.Blockers = append(p.Blockers, CheckVAEAdmissible("/candidate_id", f.Candidate)...)
	return p
}

func outcomeOf(held, components int) Outcome {
	switch {
	case held == components && components > 0:
		return OutcomeAward
	case held > 0:
		return OutcomePartial
	}
	return OutcomeRefusal
}

// DecisionRequest is what the jury decides on a candidate.
type DecisionRequest struct {
	CandidateID string
	// Outcome is checked against the facts; empty takes the proposal's.
	Outcome Outcome
	// ValidatedComponents are the passing results the jury validates; nil validates
	// every one the facts allow. Earlier acquisitions stay acquired either way.
	ValidatedComponents []string
	Reason              string
	// CorrectsID names the published decision a correction replaces.
	CorrectsID string
}

// Decide decides on a candidate in a session. The jury validates passing results
// awaiting it (never a failed, absent or untaken component), the outcome follows
// from what the candidate then holds (AWARD: all of them, on a day the certification
// may be awarded; REGISTRATION-PERIOD), and the session must be able to decide on
// them at all (see Propose). A first decision is a draft until the session closes,
// and the first one opens the session's deliberation (its members are fixed from
// then on); a correction, of a closed session's decision, is published at once.
func Decide(f DecisionFacts, req DecisionRequest, id string) (Decision, JurySession, error) {
	s := f.Session
	if err := checkRegistrationOpen(f.Candidate); err != nil {
		return Decision{}, s, err
	}
	d := Decision{ID: id, JurySessionID: f.Session.ID, CandidateID: f.Candidate.ID, Reason: strings.TrimSpace(req.Reason),
		Revision: 1, DecidedAt: f.Now}
	if err := checkDecisionState(f, req, &d); err != nil {
		return Decision{}, s, err
	}
	p := Propose(f)
	vs := slices.Clone(p.Blockers)
	if d.Reason == "" {
		vs = append(vs, Violation{Rule: RuleMinutes, Field: "/reason", Message: "the minutes give the reason of each decision"})
	}
	d.Components = p.Components
	if req.ValidatedComponents != nil {
		var vcs []Violation
		d.Components, vcs = chooseValidated(f, p, req.ValidatedComponents)
		vs = append(vs, vcs...)
	}
	held := outcomeOf(len(d.Components), len(f.Certification.Components))
	d.Outcome = held
	var barred []Violation
	if held == OutcomeAward {
		// Every component is validated; on a day the certification may not be
		// awarded, they are held and the title waits for a jury that may.
		if barred = CheckAwardPeriod("/outcome", f.Session.HeldOn, f.Candidate.EnrolledOn, f.Certification.Periods, f.Certification.AwardGraceMonths); len(barred) > 0 {
			d.Outcome = OutcomePartial
		}
	}
	switch {
	case req.Outcome == "" || req.Outcome == d.Outcome:
	case req.Outcome == OutcomeAward && held == OutcomeAward:
		vs = append(vs, barred...)
	default:
		vs = append(vs, Violation{Rule: RuleAward, Field: "/outcome", Message: fmt.Sprintf(
			"the facts support %s, not %s: the candidate would hold %s of %d components on %s",
			d.Outcome, req.Outcome, componentList(d.Components), len(f.Certification.Components), f.Session.HeldOn.Format(time.DateOnly))})
	}
	if err := Check(vs); err != nil {
		return Decision{}, s, err
	}
	now := f.Now
	if d.CorrectsID != "" {
		d.PublishedAt = &now
	}
	if s.Status == SessionPlanned {
		s.Status, s.DeliberationStartedAt = SessionDeliberating, &now
		s.Version++
		s.UpdatedAt = now
	}
	return d, s, nil
}

// checkDecisionState refuses a decision the session's state or the candidate's
// decisions rule out, and sets what a correction carries.
func checkDecisionState(f DecisionFacts, req DecisionRequest, d *Decision) error {
	if req.CorrectsID == "" {
		switch {
		case f.Session.Status == SessionClosed:
			return &ConflictError{Code: "session_closed",
				Message: "the deliberation is closed and never edited: a decision of it is corrected by a new one that names it (corrects)"}
		case f.Current != nil:
			return &ConflictError{Code: "decision_exists", ExistingID: f.Current.ID,
				Message: "the session has decided on this candidate; delete that draft decision first, or correct it once the session is closed"}
		case f.Pending != nil:
			return &ConflictError{Code: "decision_pending", ExistingID: f.Pending.ID,
				Message: "session " + f.Pending.JurySessionID + " has decided on this candidate and is not closed yet: one deliberation at a time"}
		case f.Certified != nil:
			return &ConflictError{Code: "already_certified", ExistingID: f.Certified.ID,
				Message: "the candidate was awarded the certification by session " + f.Certified.JurySessionID}
		}
		return nil
	}
	c := f.Corrected
	switch {
	case c == nil || c.JurySessionID != f.Session.ID || c.CandidateID != f.Candidate.ID:
		return Check([]Violation{{Rule: RulePublication, Field: "/corrects",
			Message: "a correction names the decision it corrects: a decision of this candidate in this session"}})
	case f.Session.Status != SessionClosed:
		return &ConflictError{Code: "session_not_closed",
			Message: "a decision of a deliberation not yet closed is deleted and made again, not corrected"}
	case c.SupersededBy != "":
		e := &ConflictError{Code: "decision_superseded", Message: "that decision was corrected already; correct the current one"}
		if f.Current != nil {
			e.ExistingID = f.Current.ID
		}
		return e
	case f.LatestPublished != nil && f.LatestPublished.ID != c.ID:
		return &ConflictError{Code: "decision_not_latest", ExistingID: f.LatestPublished.ID,
			Message: "a later decision (session " + f.LatestPublished.JurySessionID + ") relies on this one: correct the later one"}
	}
	d.CorrectsID, d.Revision = c.ID, c.Revision+1
	return nil
}

// ConfirmDecision checks a draft again, at the close, on the facts as they are then:
// a withdrawal, a link declared, a registration replaced, an application no longer
// admissible or a result changed since the draft stops the close, naming the
// candidate. The jury's composition is the close's own check.
func ConfirmDecision(f DecisionFacts, d Decision, candidateName string) []Violation {
	var vs []Violation
	if f.Candidate.SupersededBy != "" {
		vs = append(vs, Violation{Rule: RuleCarryOver, Message: "the person registered again (" + f.Candidate.SupersededBy + ")"})
	}
	p := Propose(f)
	for _, b := range p.Blockers {
		if b.Rule != RuleJuryComposition {
			vs = append(vs, b)
		}
	}
	for _, c := range d.Components {
		if !slices.ContainsFunc(p.Components, func(x DecidedComponent) bool {
			return x.Component == c.Component && x.EvaluationID == c.EvaluationID && x.ValidatedNow == c.ValidatedNow
		}) {
			vs = append(vs, Violation{Rule: RuleAward, Message: c.Component + " is no longer what the decision validated"})
		}
	}
	for i := range vs {
		vs[i].Field = ""
		vs[i].Message = candidateName + ": " + vs[i].Message + "; delete the draft decision and decide again"
	}
	return vs
}

// chooseValidated keeps, of the proposal, the earlier acquisitions and the results
// the jury chose to validate; a component the facts do not allow is a violation.
func chooseValidated(f DecisionFacts, p Proposal, chosen []string) ([]DecidedComponent, []Violation) {
	var vs []Violation
	for i, c := range chosen {
		if !slices.ContainsFunc(p.Components, func(d DecidedComponent) bool { return d.Component == c }) {
			// The transcript's reason says why: expired (VALIDITY), failed or not taken (AWARD).
			v := Violation{Rule: RuleAward, Message: c + " has no passing result awaiting the jury, nor a valid acquisition, on " + f.Session.HeldOn.Format(time.DateOnly)}
			for _, r := range p.Reasons {
				if r.Field == "/components/"+c {
					v = r
				}
			}
			v.Field = "/validated_components/" + strconv.Itoa(i)
			vs = append(vs, v)
		}
	}
	var out []DecidedComponent
	for _, d := range p.Components {
		if !d.ValidatedNow || slices.Contains(chosen, d.Component) {
			out = append(out, d)
		}
	}
	return out, vs
}

func componentList(cs []DecidedComponent) string {
	if len(cs) == 0 {
		return "none"
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.Component
	}
	return strings.Join(ids, ", ")
}

// CloseFacts are what closing a session's deliberation is decided on.
type CloseFacts struct {
	Certification Certification
	Session       JurySession
	Members       []JuryMember
	// Drafts are the session's decisions not yet published.
	Drafts []Decision
	Now    time.Time
}

// CloseDeliberation decides closing a session: a jury of the full composition
// (JURY-COMPOSITION) that has deliberated, minutes signed by every member present
// (MINUTES: each member once, on or after the session's day and not in the future).
// Every draft decision is published with it (PUBLICATION).
func CloseDeliberation(f CloseFacts, signatures []Signature) (JurySession, []Decision, error) {
	s := f.Session
	switch s.Status {
	case SessionClosed:
		return s, nil, &ConflictError{Code: "session_closed", Message: "the session closed at " + s.ClosedAt.Format(time.RFC3339)}
	case SessionPlanned:
		return s, nil, &ConflictError{Code: "session_not_deliberating", Message: "the session has decided on no candidate: there is nothing to close"}
	}
	vs := CheckJuryComposition("", f.Members, f.Certification.Jury, true)
	signed := map[string]bool{}
	for i, sig := range signatures {
		field := "/signatures/" + strconv.Itoa(i)
		switch {
		case !s.HasMember(sig.MemberID):
			vs = append(vs, Violation{Rule: RuleMinutes, Field: field + "/member_id", Message: "only the session's members sign its minutes"})
		case signed[sig.MemberID]:
			vs = append(vs, Violation{Rule: RuleMinutes, Field: field + "/member_id", Message: "each member signs once"})
		case Day(sig.SignedAt).Before(s.HeldOn) || sig.SignedAt.After(f.Now):
			vs = append(vs, Violation{Rule: RuleMinutes, Field: field + "/signed_at",
				Message: "the minutes are signed on or after the session's day, " + s.HeldOn.Format(time.DateOnly) + ", and not in the future"})
		}
		signed[sig.MemberID] = true
	}
	for _, m := range f.Members {
		if !signed[m.ID] {
			vs = append(vs, Violation{Rule: RuleMinutes, Field: "/signatures",
				Message: m.FullName + " sits in the session and has not signed: the minutes are signed by every member present"})
		}
	}
	if err := Check(vs); err != nil {
		return s, nil, err
	}
	now := f.Now
	s.Status, s.ClosedAt, s.Signatures = SessionClosed, &now, signatures
	s.Version++
	s.UpdatedAt = now
	published := make([]Decision, len(f.Drafts))
	for i, d := range f.Drafts {
		d.PublishedAt = &now
		published[i] = d
	}
	return s, published, nil
}

// DeleteDraftDecision decides taking back a decision before its session closes;
// with the last one gone (others is how many stay), the session is planned again
// and its members may change.
func DeleteDraftDecision(s JurySession, d Decision, others int, now time.Time) (JurySession, error) {
	if d.Published() {
		return s, &ConflictError{Code: "decision_published", Message: "a published decision is never deleted, only corrected by a new one"}
	}
	if s.Status == SessionClosed {
		return s, &ConflictError{Code: "session_closed", Message: "the session is closed"}
	}
	if others == 0 && s.Status == SessionDeliberating {
		s.Status, s.DeliberationStartedAt = SessionPlanned, nil
		s.Version++
		s.UpdatedAt = now
	}
	return s, nil
}
