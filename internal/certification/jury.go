package certification

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// JuryRole is the seat a member holds on a jury.
type JuryRole string

// The seats of a jury (JURY-COMPOSITION).
const (
	PedagogicalDirector JuryRole = "pedagogical_director"
	Professional        JuryRole = "professional"
)

// LinkKind is how a jury member is linked to a candidate or a training site.
type LinkKind string

// The kinds of link a member declares (JURY-INDEPENDENCE).
const (
	LinkTrainer  LinkKind = "trainer"
	LinkEmployer LinkKind = "employer"
	LinkOther    LinkKind = "other"
)

// MemberLink is a link a member declares, to a candidate or to a training site.
type MemberLink struct {
	Kind           LinkKind
	CandidateID    string
	TrainingSiteID string
}

// JuryMember is a person who may sit on juries.
type JuryMember struct {
	ID           string
	FullName     string
	Role         JuryRole
	Organisation string
	Email        string
	Phone        string
	Links        []MemberLink
	Active       bool
	Version      int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// SessionStatus is where a jury session stands.
type SessionStatus string

// A session is planned (members and defences are set), deliberating (from its first
// decision: members are fixed), then closed (signed and published).
const (
	SessionPlanned      SessionStatus = "planned"
	SessionDeliberating SessionStatus = "deliberating"
	SessionClosed       SessionStatus = "closed"
)

// Signature is a member's signature of a session's minutes.
type Signature struct {
	MemberID string
	SignedAt time.Time
}

// JurySession is a meeting of a jury of a certification at a certification site.
type JurySession struct {
	ID                    string
	CertificationCode     string
	TrainingSiteID        string
	HeldOn                time.Time
	MemberIDs             []string
	Status                SessionStatus
	Signatures            []Signature
	DeliberationStartedAt *time.Time
	ClosedAt              *time.Time
	Version               int
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// HasMember reports whether the member sits in the session.
func (s JurySession) HasMember(id string) bool { return slices.Contains(s.MemberIDs, id) }

// MemberFacts are what a change of a jury member is decided on.
type MemberFacts struct {
	// KnownCandidates and KnownSites say which of the linked ids exist.
	KnownCandidates map[string]bool
	KnownSites      map[string]bool
	// OpenSessions are the sessions not yet closed the member sits in.
	OpenSessions []JurySession
	Now          time.Time
}

// SaveJuryMember decides a member's record, new or changed (before: nil for a new
// one): names are not blank, each link names one candidate or one training site that
// exists, and a member who sits in a session not yet closed keeps their seat.
func SaveJuryMember(f MemberFacts, before *JuryMember, m JuryMember) (JuryMember, error) {
	m.FullName, m.Organisation = strings.TrimSpace(m.FullName), strings.TrimSpace(m.Organisation)
	m.Email, m.Phone = strings.ToLower(strings.TrimSpace(m.Email)), strings.TrimSpace(m.Phone)
	var vs []Violation
	if m.FullName == "" {
		vs = append(vs, Violation{Field: "/full_name", Message: "a member has a name"})
	}
	if m.Organisation == "" {
		vs = append(vs, Violation{Field: "/organisation", Message: "a member has an organisation"})
	}
	for i, l := range m.Links {
		field := "/links/" + strconv.Itoa(i)
		switch {
		case (l.CandidateID == "") == (l.TrainingSiteID == ""):
			vs = append(vs, Violation{Field: field, Message: "a link names either a candidate_id or a training_site_id"})
		case l.CandidateID != "" && !f.KnownCandidates[l.CandidateID]:
			vs = append(vs, Violation{Field: field + "/candidate_id", Message: "no such candidate"})
		case l.TrainingSiteID != "" && !f.KnownSites[l.TrainingSiteID]:
			vs = append(vs, Violation{Field: field + "/training_site_id", Message: "no such training site"})
		}
	}
	if err := Check(vs); err != nil {
		return m, err
	}
	if before == nil {
		m.Active, m.Version, m.CreatedAt, m.UpdatedAt = true, 1, f.Now, f.Now
		return m, nil
	}
	if m.Role != before.Role && len(f.OpenSessions) > 0 {
		return m, &ConflictError{Code: "member_in_session",
			Message: "the member sits in session " + f.OpenSessions[0].ID + ", not yet closed: their seat there cannot change"}
	}
	m.ID, m.Active, m.CreatedAt = before.ID, before.Active, before.CreatedAt
	m.Version, m.UpdatedAt = before.Version+1, f.Now
	return m, nil
}

// DeactivateJuryMember decides that a member sits on no further jury; one who sits in
// a session not yet closed is replaced there first.
func DeactivateJuryMember(f MemberFacts, m JuryMember) (JuryMember, error) {
	if len(f.OpenSessions) > 0 {
		return m, &ConflictError{Code: "member_in_session",
			Message: "the member sits in session " + f.OpenSessions[0].ID + ", not yet closed: replace them there first"}
	}
	m.Active = false
	m.Version++
	m.UpdatedAt = f.Now
	return m, nil
}

// SessionFacts are what a change of a jury session is decided on.
type SessionFacts struct {
	Certification Certification
	// Site is the training site the session sits at; nil when none exists.
	Site *TrainingSite
	// Members are the session's members and any member the change names, by id.
	Members map[string]JuryMember
	// Defences are the session's defences that are not cancelled.
	Defences []Evaluation
	Now      time.Time
}

// PlanSession decides a new jury session: at a certification site
// (SITE-CERTIFICATION, TERRITORY), with members who exist, are active and do not
// exceed the jury's composition (JURY-COMPOSITION).
func PlanSession(f SessionFacts, s JurySession) (JurySession, error) {
	s.Status, s.Version, s.CreatedAt, s.UpdatedAt = SessionPlanned, 1, f.Now, f.Now
	s.HeldOn = Day(s.HeldOn)
	vs := checkSittingSite("/training_site_id", f.Certification, f.Site)
	var members []JuryMember
	for i, id := range s.MemberIDs {
		field := "/member_ids/" + strconv.Itoa(i)
		m, ok := f.Members[id]
		switch {
		case slices.Index(s.MemberIDs, id) != i:
			vs = append(vs, Violation{Field: field, Message: "the member is named twice"})
		case !ok:
			vs = append(vs, Violation{Field: field, Message: "no such jury member"})
		case !m.Active:
			vs = append(vs, Violation{Field: field, Message: m.FullName + " no longer sits on juries"})
		default:
			members = append(members, m)
		}
	}
	vs = append(vs, CheckJuryComposition("/member_ids", members, f.Certification.Jury, false)...)
	return s, Check(vs)
}

// ReplanSession decides moving a planned session to another site or day; a session
// with defences booked keeps its site and day (move or cancel the defences first).
func ReplanSession(f SessionFacts, s JurySession, siteID string, heldOn time.Time) (JurySession, error) {
	if s.Status != SessionPlanned {
		return s, &ConflictError{Code: "session_not_planned", Message: "only a planned session changes; this one is " + string(s.Status)}
	}
	heldOn = Day(heldOn)
	moved := siteID != s.TrainingSiteID || !heldOn.Equal(s.HeldOn)
	if moved && len(f.Defences) > 0 {
		return s, &ConflictError{Code: "session_has_defences",
			Message: fmt.Sprintf("%d defence(s) are booked in this session: move or cancel them before moving it", len(f.Defences))}
	}
	if err := Check(checkSittingSite("/training_site_id", f.Certification, f.Site)); err != nil {
		return s, err
	}
	s.TrainingSiteID, s.HeldOn = siteID, heldOn
	s.Version++
	s.UpdatedAt = f.Now
	return s, nil
}

// AddSessionMember decides seating a member in a planned session, never beyond the
// jury's composition (JURY-COMPOSITION). Seating a member already seated changes
// nothing (changed is false).
func AddSessionMember(f SessionFacts, s JurySession, memberID string) (session JurySession, changed bool, err error) {
	if s.Status != SessionPlanned {
		return s, false, &ConflictError{Code: "session_not_planned", Message: "members change while a session is planned; this one is " + string(s.Status)}
	}
	m, ok := f.Members[memberID]
	switch {
	case !ok:
		return s, false, NotFoundf("jury member %s", memberID)
	case s.HasMember(memberID):
		return s, false, nil
	case !m.Active:
		return s, false, Check([]Violation{{Message: m.FullName + " no longer sits on juries"}})
	}
	members := []JuryMember{m}
	for _, id := range s.MemberIDs {
		members = append(members, f.Members[id])
	}
	if err := Check(CheckJuryComposition("", members, f.Certification.Jury, false)); err != nil {
		return s, false, err
	}
	s.MemberIDs = append(slices.Clone(s.MemberIDs), memberID)
	s.Version++
	s.UpdatedAt = f.Now
	return s, true, nil
}

// RemoveSessionMember decides that a member no longer sits in a planned session.
func RemoveSessionMember(s JurySession, memberID string, now time.Time) (JurySession, error) {
	if s.Status != SessionPlanned {
		return s, &ConflictError{Code: "session_not_planned", Message: "members change while a session is planned; this one is " + string(s.Status)}
	}
	i := slices.Index(s.MemberIDs, memberID)
	if i < 0 {
		return s, NotFoundf("jury member %s in session %s", memberID, s.ID)
	}
	s.MemberIDs = slices.Delete(slices.Clone(s.MemberIDs), i, i+1)
	s.Version++
	s.UpdatedAt = now
	return s, nil
}
