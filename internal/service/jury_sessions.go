package service

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// JurySessionFilter selects jury sessions.
type JurySessionFilter struct {
	Page
	CertificationCode string
	Status            certification.SessionStatus
	From, To          *time.Time // held on or after, on or before
	// MemberID restricts to the sessions a member sits in (a jury_member caller).
	MemberID string
}

// JurySessionInput is a session as planned, or as a merge patch leaves it.
type JurySessionInput struct {
	CertificationCode string
	TrainingSiteID    string
	HeldOn            time.Time
	MemberIDs         []string
}

// SessionCandidate is one line of a session's deliberation sheet: a candidate whose
// defence the session hears or on whom it decided, what the facts support, and the
// decision.
type SessionCandidate struct {
	Candidate certification.Candidate
	Defence   *certification.Evaluation
	Proposal  certification.Proposal
	Decision  *certification.Decision
}

// canSeeSession says who sees a session: the certifier's staff all of them, a jury
// member those they sit in.
func canSeeSession(ctx context.Context, s certification.JurySession) bool {
	p, _ := auth.PrincipalFrom(ctx)
	switch p.Role {
	case auth.RoleAdmin, auth.RoleDirector:
		return true
	case auth.RoleJuryMember:
		return s.HasMember(p.JuryMemberID)
	}
	return false
}

// ListJurySessions lists the sessions the caller may see.
func (s *Service) ListJurySessions(ctx context.Context, f JurySessionFilter) ([]certification.JurySession, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleJuryMember {
		f.MemberID = p.JuryMemberID
	}
	return read(ctx, s, func(tx Tx) ([]certification.JurySession, error) { return tx.JurySessions(f) })
}

// GetJurySession returns one session, if the caller may see it.
func (s *Service) GetJurySession(ctx context.Context, id string) (certification.JurySession, error) {
	var out certification.JurySession
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = s.visibleSession(ctx, tx.JurySession, id)
		return err
	})
	return out, err
}

func (s *Service) visibleSession(ctx context.Context, load func(string) (certification.JurySession, error), id string) (certification.JurySession, error) {
	session, err := load(id)
	if err == nil && !canSeeSession(ctx, session) {
		s.probe(ctx, "refused_read", "jury_session", id)
		err = certification.NotFoundf("jury session %s", id)
	}
	return session, err
}

// PlanJurySession plans a session; the rules are certification.PlanSession's.
func (s *Service) PlanJurySession(ctx context.Context, in JurySessionInput) (certification.JurySession, error) {
	var out certification.JurySession
	err := s.store.Write(ctx, func(tx Tx) error {
		// The members' rows, so that none changes seat or leaves while being seated.
		for _, id := range slices.Compact(slices.Sorted(slices.Values(in.MemberIDs))) {
			if _, err := tx.LockJuryMember(id); err != nil && !errors.Is(err, certification.ErrNotFound) {
				return err
			}
		}
		f, err := s.sessionFacts(tx, in.CertificationCode, in.TrainingSiteID, in.MemberIDs, "")
		if err != nil {
			return err
		}
		if out, err = certification.PlanSession(f, sessionOf(newID(), in)); err != nil {
			return err
		}
		if err := tx.InsertJurySession(out); err != nil {
			return err
		}
		idempotency.Result(ctx, out)
		return s.audit(ctx, tx, "plan", "jury_session", out.ID, sessionChanges(out))
	})
	return out, err
}

// ReplanJurySession moves a planned session to another site or day.
func (s *Service) ReplanJurySession(ctx context.Context, id string, expected int, siteID string, heldOn time.Time) (certification.JurySession, error) {
	return s.changeSession(ctx, id, expected, "replan", func(tx Tx, session certification.JurySession) (certification.JurySession, error) {
		f, err := s.sessionFacts(tx, session.CertificationCode, siteID, session.MemberIDs, session.ID)
		if err != nil {
			return session, err
		}
		return certification.ReplanSession(f, session, siteID, heldOn)
	})
}

// SeatJuryMember seats a member in a planned session. The session's row lock makes
// concurrent additions wait for each other, so none of them can pass the jury's
// composition.
func (s *Service) SeatJuryMember(ctx context.Context, id string, expected int, memberID string) (certification.JurySession, error) {
	return s.changeSession(ctx, id, expected, "seat_member", func(tx Tx, session certification.JurySession) (certification.JurySession, error) {
		// The member's row too, so that their seat cannot change while they are seated.
		if _, err := tx.LockJuryMember(memberID); err != nil && !errors.Is(err, certification.ErrNotFound) {
			return session, err
		}
		f, err := s.sessionFacts(tx, session.CertificationCode, session.TrainingSiteID, append(slices.Clone(session.MemberIDs), memberID), session.ID)
		if err != nil {
			return session, err
		}
		out, _, err := certification.AddSessionMember(f, session, memberID)
		return out, err
	})
}

// UnseatJuryMember takes a member out of a planned session.
func (s *Service) UnseatJuryMember(ctx context.Context, id string, expected int, memberID string) (certification.JurySession, error) {
	return s.changeSession(ctx, id, expected, "unseat_member", func(_ Tx, session certification.JurySession) (certification.JurySession, error) {
		return certification.RemoveSessionMember(session, memberID, s.Now())
	})
}

// changeSession is the transaction of a change of a session: lock it, check the
// version (NoPrecondition: none given), decide, save when it changed, audit.
func (s *Service) changeSession(ctx context.Context, id string, expected int, action string,
	decide func(Tx, certification.JurySession) (certification.JurySession, error)) (certification.JurySession, error) {
	var out certification.JurySession
	err := s.store.Write(ctx, func(tx Tx) error {
		session, err := s.visibleSession(ctx, tx.LockJurySession, id)
		if err != nil {
			return err
		}
		if !matches(session.Version, expected) {
			return certification.ErrStale
		}
		if out, err = decide(tx, session); err != nil {
			return err
		}
		if out.Version == session.Version {
			return nil
		}
		if err := tx.UpdateJurySession(out); err != nil {
			return err
		}
		return s.audit(ctx, tx, action, "jury_session", out.ID, sessionChanges(out))
	})
	return out, err
}

// sessionFacts loads the referential, the site and the members a session change is
// decided on, and the session's defences.
func (s *Service) sessionFacts(tx Tx, code, siteID string, memberIDs []string, sessionID string) (certification.SessionFacts, error) {
	f := certification.SessionFacts{Now: s.Now()}
	var err error
	f.Certification, err = tx.Certification(code)
	if errors.Is(err, certification.ErrNotFound) {
		return f, certification.Check([]certification.Violation{{Field: "/certification_code", Message: "unknown certification " + code}})
	} else if err != nil {
		return f, err
	}
	if site, err := tx.TrainingSite(siteID); err == nil {
		f.Site = &site
	} else if !errors.Is(err, certification.ErrNotFound) {
		return f, err
	}
	if f.Members, err = tx.JuryMembersByID(memberIDs); err != nil {
		return f, err
	}
	if sessionID != "" {
		defences, err := tx.SessionDefences(sessionID)
		if err != nil {
			return f, err
		}
		for _, d := range defences {
			if d.Status != certification.SittingCancelled {
				f.Defences = append(f.Defences, d)
			}
		}
	}
	return f, nil
}

// SessionCandidates pages a session's deliberation sheet: every candidate it hears
// or decided on, with the decision the facts support, by candidate id. The facts
// are loaded for the candidates of the page only.
func (s *Service) SessionCandidates(ctx context.Context, id string, page Page) ([]SessionCandidate, error) {
	var out []SessionCandidate
	err := s.store.Snapshot(ctx, func(tx Tx) error {
		session, err := s.visibleSession(ctx, tx.JurySession, id)
		if err != nil {
			return err
		}
		defences, err := tx.SessionDefences(id)
		if err != nil {
			return err
		}
		decisions, err := tx.Decisions(DecisionFilter{SessionID: id, Page: Page{Limit: Unlimited}})
		if err != nil {
			return err
		}
		byCandidate := map[string]*SessionCandidate{}
		line := func(candidateID string) *SessionCandidate {
			if byCandidate[candidateID] == nil {
				byCandidate[candidateID] = &SessionCandidate{}
			}
			return byCandidate[candidateID]
		}
		for _, d := range defences {
			if d.Status != certification.SittingCancelled {
				line(d.CandidateID).Defence = &d
			}
		}
		for _, d := range decisions {
			if d.SupersededBy == "" {
				line(d.CandidateID).Decision = &d
			}
		}
		ids := slices.Sorted(maps.Keys(byCandidate))
		ids = slices.DeleteFunc(ids, func(c string) bool { return c <= page.After })
		for _, candidateID := range ids[:min(len(ids), page.Limit+1)] {
			f, err := s.loadDecisionFacts(tx, session, candidateID, "", tx.Candidate)
			if err != nil {
				return err
			}
			sc := byCandidate[candidateID]
			sc.Candidate, sc.Proposal = f.Candidate, certification.Propose(f)
			out = append(out, *sc)
		}
		return nil
	})
	return out, err
}

func sessionOf(id string, in JurySessionInput) certification.JurySession {
	members := in.MemberIDs
	if members == nil {
		members = []string{}
	}
	return certification.JurySession{ID: id, CertificationCode: in.CertificationCode, TrainingSiteID: in.TrainingSiteID,
		HeldOn: in.HeldOn, MemberIDs: members}
}

func sessionChanges(s certification.JurySession) map[string]any {
	return map[string]any{"certification_code": s.CertificationCode, "training_site_id": s.TrainingSiteID,
		"held_on": s.HeldOn.Format(time.DateOnly), "member_ids": s.MemberIDs, "status": s.Status}
}
