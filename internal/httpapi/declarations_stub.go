package httpapi

import (
	"context"

	"github.com/apformation/certapi/api"
)

// Not built yet: each answers 501 until its capability lands.

func (s *server) CreateDeclarationFile(ctx context.Context, request api.CreateDeclarationFileRequestObject) (api.CreateDeclarationFileResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ExportHoldersDeclaration(ctx context.Context, request api.ExportHoldersDeclarationRequestObject) (api.ExportHoldersDeclarationResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) GetDeclarationFile(ctx context.Context, request api.GetDeclarationFileRequestObject) (api.GetDeclarationFileResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ImportDeclarationReceipt(ctx context.Context, request api.ImportDeclarationReceiptRequestObject) (api.ImportDeclarationReceiptResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListAwardDeclarations(ctx context.Context, request api.ListAwardDeclarationsRequestObject) (api.ListAwardDeclarationsResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListDeclarationFiles(ctx context.Context, request api.ListDeclarationFilesRequestObject) (api.ListDeclarationFilesResponseObject, error) {
	return nil, errNotBuilt
}
