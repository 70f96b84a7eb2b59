package httpapi

import (
	"context"

	"github.com/apformation/certapi/api"
)

// Not built yet: each answers 501 until its capability lands.

func (s *server) ChangeMyPassword(ctx context.Context, request api.ChangeMyPasswordRequestObject) (api.ChangeMyPasswordResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) CreateApiClient(ctx context.Context, request api.CreateApiClientRequestObject) (api.CreateApiClientResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) GetApiClient(ctx context.Context, request api.GetApiClientRequestObject) (api.GetApiClientResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) GetMe(ctx context.Context, request api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) IssuePasswordReset(ctx context.Context, request api.IssuePasswordResetRequestObject) (api.IssuePasswordResetResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListApiClients(ctx context.Context, request api.ListApiClientsRequestObject) (api.ListApiClientsResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListMySittings(ctx context.Context, request api.ListMySittingsRequestObject) (api.ListMySittingsResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ReactivateUser(ctx context.Context, request api.ReactivateUserRequestObject) (api.ReactivateUserResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ResetPassword(ctx context.Context, request api.ResetPasswordRequestObject) (api.ResetPasswordResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) RevokeApiClient(ctx context.Context, request api.RevokeApiClientRequestObject) (api.RevokeApiClientResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) RevokeToken(ctx context.Context, request api.RevokeTokenRequestObject) (api.RevokeTokenResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) RotateApiClientSecret(ctx context.Context, request api.RotateApiClientSecretRequestObject) (api.RotateApiClientSecretResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) UpdateApiClient(ctx context.Context, request api.UpdateApiClientRequestObject) (api.UpdateApiClientResponseObject, error) {
	return nil, errNotBuilt
}
