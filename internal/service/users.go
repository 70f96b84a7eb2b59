package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// User is an account of a person, with the binding its role needs.
type User struct {
	ID             string
	Email          string
	PasswordHash   string
	Role           auth.Role
	TrainingSiteID string
	JuryMemberID   string
	CandidateID    string
	Active         bool
	// SessionsValidAfter is when the account's sessions last ended (a password
	// changed or reset, a deactivation): its access tokens issued at or before it
	// are refused.
	SessionsValidAfter *time.Time
	Version            int
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// UserFilter selects accounts.
type UserFilter struct {
	Page
	Role         auth.Role
	JuryMemberID string
}

// UserInput is an account as created, or as a merge patch leaves it. An empty
// Password keeps the current one.
type UserInput struct {
	Email          string
	Role           auth.Role
	Password       string
	TrainingSiteID string
	JuryMemberID   string
	CandidateID    string
}

// ListUsers lists accounts.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]User, error) {
	return read(ctx, s, func(tx Tx) ([]User, error) { return tx.Users(f) })
}

// GetUser returns one account.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	return read(ctx, s, func(tx Tx) (User, error) { return tx.User(id) })
}

// CreateUser creates an account; its email is unique.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	now := s.Now()
	u := User{ID: newID(), Active: true, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.applyUserInput(&u, in); err != nil {
		return u, err
	}
	err := s.store.Write(ctx, func(tx Tx) error {
		if err := checkBinding(tx, u); err != nil {
			return err
		}
		if err := insertUniqueUser(tx, u); err != nil {
			return err
		}
		idempotency.Result(ctx, u)
		return s.audit(ctx, tx, "create", "user", u.ID, userChanges(u))
	})
	return u, err
}

func insertUniqueUser(tx Tx, u User) error {
	if existing, err := tx.UserByEmail(u.Email); err == nil {
		return &certification.ConflictError{Code: "duplicate_email", Message: "an account already uses this email", ExistingID: existing.ID}
	} else if !errors.Is(err, certification.ErrNotFound) {
		return err
	}
	return tx.InsertUser(u)
}

// UpdateUser replaces an account's fields, if it is still at version expected.
func (s *Service) UpdateUser(ctx context.Context, id string, expected int, in UserInput) (User, error) {
	defer s.forgetPrincipal(id)()
	var u User
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.LockUser(id); err != nil {
			return err
		}
		if !matches(u.Version, expected) {
			return certification.ErrStale
		}
		oldEmail, wasAdmin, before := u.Email, u.Role == auth.RoleAdmin && u.Active, userChanges(u)
		if err := s.applyUserInput(&u, in); err != nil {
			return err
		}
		if wasAdmin && u.Role != auth.RoleAdmin {
			if err := keepAnAdmin(tx, u.ID); err != nil {
				return err
			}
		}
		if err := checkBinding(tx, u); err != nil {
			return err
		}
		if u.Email != oldEmail {
			if existing, err := tx.UserByEmail(u.Email); err == nil && existing.ID != u.ID {
				return &certification.ConflictError{Code: "duplicate_email", Message: "an account already uses this email", ExistingID: existing.ID}
			}
		}
		if in.Password != "" {
			if _, err := s.endSessions(tx, &u); err != nil {
				return err
			}
		}
		u.Version++
		u.UpdatedAt = s.Now()
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		after := userChanges(u)
		if in.Password != "" {
			after["password"] = "changed"
		}
		return s.audit(ctx, tx, "update", "user", u.ID, changed(before, after))
	})
	return u, err
}

// DeactivateUser turns an account off; its tokens stop working at once, and its
// sessions end for good (a reactivation does not bring them back). An admin cannot
// deactivate their own account, so that one admin always remains.
func (s *Service) DeactivateUser(ctx context.Context, id string, expected int) (User, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Subject == id {
		return User{}, &certification.ConflictError{Code: "self_deactivation", Message: "an administrator cannot deactivate their own account"}
	}
	defer s.forgetPrincipal(id)()
	var u User
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.LockUser(id); err != nil {
			return err
		}
		if !matches(u.Version, expected) {
			return certification.ErrStale
		}
		if u.Role == auth.RoleAdmin && u.Active {
			if err := keepAnAdmin(tx, u.ID); err != nil {
				return err
			}
		}
		before := userChanges(u)
		u.Active = false
		if _, err := s.endSessions(tx, &u); err != nil {
			return err
		}
		u.Version++
		u.UpdatedAt = s.Now()
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		return s.audit(ctx, tx, "deactivate", "user", u.ID, changed(before, userChanges(u)))
	})
	return u, err
}

// BootstrapAdmin creates the first admin when no admin exists; it reports whether it did.
func (s *Service) BootstrapAdmin(ctx context.Context, email, password string) (bool, error) {
	now := s.Now()
	u := User{ID: newID(), Active: true, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.applyUserInput(&u, UserInput{Email: email, Role: auth.RoleAdmin, Password: password}); err != nil {
		return false, err
	}
	created := false
	err := s.store.Write(ctx, func(tx Tx) error {
		exists, err := tx.AdminExists()
		if err != nil || exists {
			return err
		}
		if err := insertUniqueUser(tx, u); err != nil {
			return err
		}
		created = true
		return s.audit(ctx, tx, "bootstrap", "user", u.ID, userChanges(u))
	})
	return created, err
}

// keepAnAdmin refuses a change that would leave no active admin but the account id.
func keepAnAdmin(tx Tx, id string) error {
	n, err := tx.CountActiveAdmins(id)
	if err != nil {
		return err
	}
	if n == 0 {
		return &certification.ConflictError{Code: "last_admin", Message: "this is the last active administrator: make another one first"}
	}
	return nil
}

func (s *Service) applyUserInput(u *User, in UserInput) error {
	u.Email = strings.ToLower(strings.TrimSpace(in.Email))
	u.Role = in.Role
	u.TrainingSiteID, u.JuryMemberID, u.CandidateID = in.TrainingSiteID, in.JuryMemberID, in.CandidateID
	if in.Password != "" {
		h, err := passwordHash(in.Password, u.Email, "/password")
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	return nil
}

// passwordHash hashes a new password for the account email, or refuses it, naming
// field: too short, too long for bcrypt, or weak.
func passwordHash(password, email, field string) (string, error) {
	switch {
	case len(password) < 12:
		return "", certification.Check([]certification.Violation{{Field: field, Message: "a password has at least 12 characters"}})
	case len(password) > 72:
		// bcrypt reads 72 bytes; a longer password would be cut without a word.
		return "", certification.Check([]certification.Violation{{Field: field, Message: "a password has at most 72 bytes"}})
	}
	if why := auth.WeakPassword(password, email); why != "" {
		return "", certification.Check([]certification.Violation{{Field: field, Message: why + ": choose another (NIST SP 800-63B)"}})
	}
	return auth.HashPassword(password)
}

// checkBinding enforces that each role carries exactly the binding it needs.
func checkBinding(tx Tx, u User) error {
	need := map[auth.Role]string{auth.RoleSiteStaff: "training_site_id", auth.RoleJuryMember: "jury_member_id", auth.RoleCandidate: "candidate_id"}[u.Role]
	have := map[string]string{"training_site_id": u.TrainingSiteID, "jury_member_id": u.JuryMemberID, "candidate_id": u.CandidateID}
	var vs []certification.Violation
	for field, value := range have {
		switch {
		case field == need && value == "":
			vs = append(vs, certification.Violation{Field: "/" + field, Message: fmt.Sprintf("the role %s needs %s", u.Role, field)})
		case field != need && value != "":
			vs = append(vs, certification.Violation{Field: "/" + field, Message: fmt.Sprintf("the role %s takes no %s", u.Role, field)})
		}
	}
	if need == "training_site_id" && u.TrainingSiteID != "" {
		if _, err := tx.TrainingSite(u.TrainingSiteID); errors.Is(err, certification.ErrNotFound) {
			vs = append(vs, certification.Violation{Field: "/training_site_id", Message: "no such training site"})
		} else if err != nil {
			return err
		}
	}
	if need == "jury_member_id" && u.JuryMemberID != "" {
		if _, err := tx.JuryMember(u.JuryMemberID); errors.Is(err, certification.ErrNotFound) {
			vs = append(vs, certification.Violation{Field: "/jury_member_id", Message: "no such jury member"})
		} else if err != nil {
			return err
		}
	}
	if need == "candidate_id" && u.CandidateID != "" {
		if _, err := tx.Candidate(u.CandidateID); errors.Is(err, certification.ErrNotFound) {
			vs = append(vs, certification.Violation{Field: "/candidate_id", Message: "no such candidate"})
		} else if err != nil {
			return err
		}
	}
	sortViolations(vs)
	if err := certification.Check(vs); err != nil || u.JuryMemberID == "" {
		return err
	}
	// One account per jury member: the unique index settles a race, this names
	// the account that holds the member.
	bound, err := tx.Users(UserFilter{JuryMemberID: u.JuryMemberID, Page: Page{Limit: 2}})
	if err != nil {
		return err
	}
	for _, other := range bound {
		if other.ID != u.ID {
			return &certification.ConflictError{Code: "jury_member_bound", ExistingID: other.ID,
				Message: "another account is bound to this jury member: one account per member"}
		}
	}
	return nil
}

func userChanges(u User) map[string]any {
	return map[string]any{"email": u.Email, "role": u.Role, "training_site_id": u.TrainingSiteID,
		"jury_member_id": u.JuryMemberID, "candidate_id": u.CandidateID, "active": u.Active}
}
