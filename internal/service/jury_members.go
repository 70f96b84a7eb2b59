package service

import (
	"context"
	"errors"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// JuryMemberFilter selects jury members.
type JuryMemberFilter struct {
	Page
	Role            certification.JuryRole
	IncludeInactive bool
	// OnlyID restricts the list to one member (a jury_member caller's own).
	OnlyID string
}

// JuryMemberInput is a member's record, as created or as a merge patch leaves it.
type JuryMemberInput struct {
	FullName     string
	Role         certification.JuryRole
	Organisation string
	Email        string
	Phone        string
	Links        []certification.MemberLink
}

// ListJuryMembers lists members: a jury member sees only themselves.
func (s *Service) ListJuryMembers(ctx context.Context, f JuryMemberFilter) ([]certification.JuryMember, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleJuryMember {
		f.OnlyID = p.JuryMemberID
	}
	return read(ctx, s, func(tx Tx) ([]certification.JuryMember, error) { return tx.JuryMembers(f) })
}

// GetJuryMember returns one member, if the caller may see them.
func (s *Service) GetJuryMember(ctx context.Context, id string) (certification.JuryMember, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleJuryMember && p.JuryMemberID != id {
		return certification.JuryMember{}, certification.NotFoundf("jury member %s", id)
	}
	return read(ctx, s, func(tx Tx) (certification.JuryMember, error) { return tx.JuryMember(id) })
}

// CreateJuryMember records a person who may sit on juries.
func (s *Service) CreateJuryMember(ctx context.Context, in JuryMemberInput) (certification.JuryMember, error) {
	var m certification.JuryMember
	err := s.store.Write(ctx, func(tx Tx) error {
		f, err := s.memberFacts(tx, "", in.Links)
		if err != nil {
			return err
		}
		if m, err = certification.SaveJuryMember(f, nil, memberOf(newID(), in)); err != nil {
			return err
		}
		if err := tx.InsertJuryMember(m); err != nil {
			return err
		}
		idempotency.Result(ctx, m)
		return s.audit(ctx, tx, "create", "jury_member", m.ID, memberChanges(m))
	})
	return m, err
}

// UpdateJuryMember replaces a member's record, if still at version expected.
func (s *Service) UpdateJuryMember(ctx context.Context, id string, expected int, in JuryMemberInput) (certification.JuryMember, error) {
	var m certification.JuryMember
	err := s.store.Write(ctx, func(tx Tx) error {
		before, err := lockMemberAt(tx, id, expected)
		if err != nil {
			return err
		}
		f, err := s.memberFacts(tx, id, in.Links)
		if err != nil {
			return err
		}
		if m, err = certification.SaveJuryMember(f, &before, memberOf(id, in)); err != nil {
			return err
		}
		if err := tx.UpdateJuryMember(m); err != nil {
			return err
		}
		return s.audit(ctx, tx, "update", "jury_member", m.ID, changed(memberChanges(before), memberChanges(m)))
	})
	return m, err
}

// DeactivateJuryMember records that a member sits on no further jury; the record
// stays, since sessions and minutes name them.
func (s *Service) DeactivateJuryMember(ctx context.Context, id string, expected int) (certification.JuryMember, error) {
	var m certification.JuryMember
	err := s.store.Write(ctx, func(tx Tx) error {
		before, err := lockMemberAt(tx, id, expected)
		if err != nil {
			return err
		}
		f, err := s.memberFacts(tx, id, nil)
		if err != nil {
			return err
		}
		if m, err = certification.DeactivateJuryMember(f, before); err != nil {
			return err
		}
		if err := tx.UpdateJuryMember(m); err != nil {
			return err
		}
		return s.audit(ctx, tx, "deactivate", "jury_member", m.ID, map[string]any{"active": false})
	})
	return m, err
}

func lockMemberAt(tx Tx, id string, expected int) (certification.JuryMember, error) {
	m, err := tx.LockJuryMember(id)
	if err == nil && !matches(m.Version, expected) {
		err = certification.ErrStale
	}
	return m, err
}

// memberFacts loads which linked candidates and sites exist, and the open sessions
// the member (none for a new one) sits in.
func (s *Service) memberFacts(tx Tx, memberID string, links []certification.MemberLink) (certification.MemberFacts, error) {
	f := certification.MemberFacts{KnownCandidates: map[string]bool{}, KnownSites: map[string]bool{}, Now: s.Now()}
	for _, l := range links {
		if l.CandidateID != "" {
			_, err := tx.Candidate(l.CandidateID)
			if err != nil && !errors.Is(err, certification.ErrNotFound) {
				return f, err
			}
			f.KnownCandidates[l.CandidateID] = err == nil
		}
		if l.TrainingSiteID != "" {
			_, err := tx.TrainingSite(l.TrainingSiteID)
			if err != nil && !errors.Is(err, certification.ErrNotFound) {
				return f, err
			}
			f.KnownSites[l.TrainingSiteID] = err == nil
		}
	}
	if memberID != "" {
		var err error
		if f.OpenSessions, err = tx.OpenSessionsOf(memberID); err != nil {
			return f, err
		}
	}
	return f, nil
}

func memberOf(id string, in JuryMemberInput) certification.JuryMember {
	links := in.Links
	if links == nil {
		links = []certification.MemberLink{}
	}
	return certification.JuryMember{ID: id, FullName: in.FullName, Role: in.Role, Organisation: in.Organisation,
		Email: in.Email, Phone: in.Phone, Links: links}
}

func memberChanges(m certification.JuryMember) map[string]any {
	return map[string]any{"full_name": m.FullName, "role": m.Role, "organisation": m.Organisation, "email": m.Email,
		"phone": m.Phone, "links": m.Links}
}
