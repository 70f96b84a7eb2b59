package store

import (
	"context"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/service"
	"gorm.io/gorm"
)

// accountModels are the row structs of the accounts.
var accountModels = []any{&apiClientRow{}, &refreshTokenRow{}, &passwordResetRow{}}

type apiClientRow struct {
	ID              string `gorm:"primaryKey"`
	ClientID        string
	Name            string
	Scopes          string // separated by spaces
	TrainingSiteID  *string
	SecretHash      string
	Active          bool
	RevokedAt       *time.Time
	SecretRotatedAt time.Time
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (apiClientRow) TableName() string { return "api_clients" }

type refreshTokenRow struct {
	ID        string `gorm:"primaryKey"`
	FamilyID  string
	UserID    string
	TokenHash string
	IssuedAt  time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

type passwordResetRow struct {
	UserID    string `gorm:"primaryKey"`
	TokenHash string
	ExpiresAt time.Time
	CreatedAt time.Time
}

func (passwordResetRow) TableName() string { return "password_resets" }

func (t *tx) APIClients(p service.Page) ([]service.APIClient, error) {
	var rows []apiClientRow
	if err := keyset(t.db.Model(&apiClientRow{}), "id", p).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]service.APIClient, len(rows))
	for i, r := range rows {
		out[i] = apiClientFromRow(r)
	}
	return out, nil
}

func (t *tx) APIClient(id string) (service.APIClient, error) {
	var r apiClientRow
	if err := t.db.Take(&r, "id = ?", id).Error; err != nil {
		return service.APIClient{}, notFound(err, "api client %s", id)
	}
	return apiClientFromRow(r), nil
}

func (t *tx) APIClientByClientID(clientID string) (service.APIClient, error) {
	var r apiClientRow
	if err := t.db.Take(&r, "client_id = ?", clientID).Error; err != nil {
		return service.APIClient{}, notFound(err, "api client %s", clientID)
	}
	return apiClientFromRow(r), nil
}

func (t *tx) LockAPIClient(id string) (service.APIClient, error) {
	var r apiClientRow
	if err := t.forUpdate().Take(&r, "id = ?", id).Error; err != nil {
		return service.APIClient{}, notFound(err, "api client %s", id)
	}
	return apiClientFromRow(r), nil
}

func (t *tx) InsertAPIClient(c service.APIClient) error {
	return t.db.Create(ptr(apiClientToRow(c))).Error
}

func (t *tx) UpdateAPIClient(c service.APIClient) error {
	row := apiClientToRow(c)
	return t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error
}

func apiClientFromRow(r apiClientRow) service.APIClient {
	c := service.APIClient{ID: r.ID, ClientID: r.ClientID, Name: r.Name, Scopes: strings.Fields(r.Scopes),
		TrainingSiteID: deref(r.TrainingSiteID), SecretHash: r.SecretHash, Active: r.Active,
		SecretRotatedAt: r.SecretRotatedAt.UTC(), Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.RevokedAt != nil {
		c.RevokedAt = ptr(r.RevokedAt.UTC())
	}
	return c
}

func apiClientToRow(c service.APIClient) apiClientRow {
	return apiClientRow{ID: c.ID, ClientID: c.ClientID, Name: c.Name, Scopes: strings.Join(c.Scopes, " "),
		TrainingSiteID: nilIfEmpty(c.TrainingSiteID), SecretHash: c.SecretHash, Active: c.Active, RevokedAt: c.RevokedAt,
		SecretRotatedAt: c.SecretRotatedAt, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (t *tx) RefreshToken(hash string) (service.RefreshToken, error) {
	var r refreshTokenRow
	if err := t.db.Take(&r, "token_hash = ?", hash).Error; err != nil {
		return service.RefreshToken{}, notFound(err, "refresh token")
	}
	return refreshTokenFromRow(r), nil
}

func (t *tx) LockRefreshToken(hash string) (service.RefreshToken, error) {
	var r refreshTokenRow
	if err := t.forUpdate().Take(&r, "token_hash = ?", hash).Error; err != nil {
		return service.RefreshToken{}, notFound(err, "refresh token")
	}
	return refreshTokenFromRow(r), nil
}

func (t *tx) InsertRefreshToken(r service.RefreshToken) error {
	return t.db.Create(&refreshTokenRow{ID: r.ID, FamilyID: r.FamilyID, UserID: r.UserID, TokenHash: r.Hash,
		IssuedAt: r.IssuedAt, ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt, RevokedAt: r.RevokedAt}).Error
}

func (t *tx) MarkRefreshTokenUsed(id string, at time.Time) error {
	return t.db.Model(&refreshTokenRow{}).Where("id = ?", id).Update("used_at", at).Error
}

func (t *tx) RevokeRefreshFamily(familyID string, at time.Time) (int, error) {
	res := t.db.Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", familyID).Update("revoked_at", at)
	return int(res.RowsAffected), res.Error
}

func (t *tx) RevokeRefreshTokensOf(userID string, at time.Time) (int, error) {
	res := t.db.Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", at)
	return int(res.RowsAffected), res.Error
}

func refreshTokenFromRow(r refreshTokenRow) service.RefreshToken {
	out := service.RefreshToken{ID: r.ID, FamilyID: r.FamilyID, UserID: r.UserID, Hash: r.TokenHash,
		IssuedAt: r.IssuedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if r.UsedAt != nil {
		out.UsedAt = ptr(r.UsedAt.UTC())
	}
	if r.RevokedAt != nil {
		out.RevokedAt = ptr(r.RevokedAt.UTC())
	}
	return out
}

func (t *tx) PasswordReset(hash string) (service.PasswordReset, error) {
	var r passwordResetRow
	if err := t.db.Take(&r, "token_hash = ?", hash).Error; err != nil {
		return service.PasswordReset{}, notFound(err, "password reset")
	}
	return passwordResetFromRow(r), nil
}

func (t *tx) LockPasswordReset(hash string) (service.PasswordReset, error) {
	var r passwordResetRow
	if err := t.forUpdate().Take(&r, "token_hash = ?", hash).Error; err != nil {
		return service.PasswordReset{}, notFound(err, "password reset")
	}
	return passwordResetFromRow(r), nil
}

func (t *tx) PutPasswordReset(r service.PasswordReset) error {
	if err := t.DeletePasswordReset(r.UserID); err != nil {
		return err
	}
	return t.db.Create(&passwordResetRow{UserID: r.UserID, TokenHash: r.Hash, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}).Error
}

func (t *tx) DeletePasswordReset(userID string) error {
	return t.db.Where("user_id = ?", userID).Delete(&passwordResetRow{}).Error
}

func passwordResetFromRow(r passwordResetRow) service.PasswordReset {
	return service.PasswordReset{UserID: r.UserID, Hash: r.TokenHash, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
}

// PurgeSessions forgets the refresh tokens and password resets that expired before
// t: an expired token is refused whether it is kept or not.
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		res := gtx.Where("expires_at < ?", before).Delete(&refreshTokenRow{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		res = gtx.Where("expires_at < ?", before).Delete(&passwordResetRow{})
		n += res.RowsAffected
		return res.Error
	})
	return n, unavailable(err)
}
