package store

import (
	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/service"
)

func (t *tx) Users(f service.UserFilter) ([]service.User, error) {
	q := t.db.Model(&userRow{})
	if f.Role != "" {
		q = q.Where("role = ?", string(f.Role))
	}
	if f.JuryMemberID != "" {
		q = q.Where("jury_member_id = ?", f.JuryMemberID)
	}
	var rows []userRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]service.User, len(rows))
	for i, r := range rows {
		out[i] = userFromRow(r)
	}
	return out, nil
}

func (t *tx) User(id string) (service.User, error) {
	var r userRow
	if err := t.db.Take(&r, "id = ?", id).Error; err != nil {
		return service.User{}, notFound(err, "user %s", id)
	}
	return userFromRow(r), nil
}

func (t *tx) LockUser(id string) (service.User, error) {
	var r userRow
	if err := t.forUpdate().Take(&r, "id = ?", id).Error; err != nil {
		return service.User{}, notFound(err, "user %s", id)
	}
	return userFromRow(r), nil
}

func (t *tx) UserByEmail(email string) (service.User, error) {
	var r userRow
	if err := t.db.Take(&r, "email = ?", email).Error; err != nil {
		return service.User{}, notFound(err, "user with email %s", email)
	}
	return userFromRow(r), nil
}

func (t *tx) AdminExists() (bool, error) {
	var n int64
	err := t.db.Model(&userRow{}).Where("role = ? AND active = ?", string(auth.RoleAdmin), true).Count(&n).Error
	return n > 0, err
}

func (t *tx) CountActiveAdmins(except string) (int, error) {
	var n int64
	// Locked, so that two admins demoting each other cannot both succeed.
	err := t.forUpdate().Model(&userRow{}).Where("role = ? AND active = ? AND id <> ?", string(auth.RoleAdmin), true, except).Count(&n).Error
	return int(n), err
}

func (t *tx) InsertUser(u service.User) error {
	return duplicate(t.db.Create(ptr(userToRow(u))).Error, "duplicate_email", "an account already uses this email")
}

func (t *tx) UpdateUser(u service.User) error {
	row := userToRow(u)
	return duplicate(t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error,
		"duplicate_email", "an account already uses this email")
}

func userFromRow(r userRow) service.User {
	return service.User{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash, Role: auth.Role(r.Role),
		TrainingSiteID: deref(r.TrainingSiteID), JuryMemberID: deref(r.JuryMemberID), CandidateID: deref(r.CandidateID),
		Active: r.Active, SessionsValidAfter: utcPtr(r.SessionsValidAfter), Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func userToRow(u service.User) userRow {
	return userRow{ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash, Role: string(u.Role),
		TrainingSiteID: nilIfEmpty(u.TrainingSiteID), JuryMemberID: nilIfEmpty(u.JuryMemberID), CandidateID: nilIfEmpty(u.CandidateID),
		Active: u.Active, SessionsValidAfter: u.SessionsValidAfter, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
