package httpapi

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

// The holders declaration answers in XML (the Caisse des Dépôts' flux) and takes the
// Caisse's receipt in XML: the validator checks those bodies as the opaque strings
// the contract declares them.
func init() {
	openapi3filter.RegisterBodyDecoder(mediaXML, openapi3filter.FileBodyDecoder)
}

// receiptPath is the route of a receipt's import, whose body may be larger than any
// other: a receipt lists every record of a file.
const receiptPath = "/v1/exports/holders-declaration/files/:id/receipt"

// ReceiptBodyLimit is the largest receipt accepted, the contract's bound.
const ReceiptBodyLimit = "10M"

// bodyLimit refuses bodies larger than limit, and receipts larger than
// ReceiptBodyLimit.
func bodyLimit(limit string) echo.MiddlewareFunc {
	std, receipts := middleware.BodyLimit(limit), middleware.BodyLimit(ReceiptBodyLimit)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		stdNext, receiptNext := std(next), receipts(next)
		return func(c echo.Context) error {
			if c.Path() == receiptPath {
				return receiptNext(c)
			}
			return stdNext(c)
		}
	}
}

func (s *server) ExportHoldersDeclaration(ctx context.Context, req api.ExportHoldersDeclarationRequestObject) (api.ExportHoldersDeclarationResponseObject, error) {
	flux, err := s.svc.ExportHolders(ctx, s.issuer, req.Params.From.Time, req.Params.To.Time)
	if err != nil {
		return nil, err
	}
	name := "declaration-titulaires-" + req.Params.From.Format(time.DateOnly) + "-" + req.Params.To.Format(time.DateOnly) + ".xml"
	return fluxResponse{ctx: ctx, flux: flux, filename: name}, nil
}

func (s *server) ListDeclarationFiles(ctx context.Context, req api.ListDeclarationFilesRequestObject) (api.ListDeclarationFilesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	files, err := s.svc.ListDeclarationFiles(ctx, p)
	if err != nil {
		return nil, err
	}
	files, next := trim(ctx, files, p, func(f certification.DeclarationFile) string { return f.ID })
	out := api.DeclarationFileList{Items: make([]api.DeclarationFile, len(files)), NextCursor: next}
	for i, f := range files {
		out.Items[i] = toAPIDeclarationFile(f)
	}
	return api.ListDeclarationFiles200JSONResponse{Body: out}, nil
}

func (s *server) CreateDeclarationFile(ctx context.Context, req api.CreateDeclarationFileRequestObject) (api.CreateDeclarationFileResponseObject, error) {
	respond := func(f certification.DeclarationFile) api.CreateDeclarationFile201JSONResponse {
		return api.CreateDeclarationFile201JSONResponse{Body: toAPIDeclarationFile(f),
			Headers: api.CreateDeclarationFile201ResponseHeaders{Location: ptr("/v1/exports/holders-declaration/files/" + f.ID)}}
	}
	answerWith(ctx, respond, api.CreateDeclarationFile201JSONResponse.VisitCreateDeclarationFileResponse)
	f, err := s.svc.CreateDeclarationFile(ctx, s.issuer, req.Body.AwardedTo.Time)
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(f), nil
}

func (s *server) GetDeclarationFile(ctx context.Context, req api.GetDeclarationFileRequestObject) (api.GetDeclarationFileResponseObject, error) {
	if preferred(ctx) == mediaXML {
		flux, err := s.svc.DeclarationFileFlux(ctx, req.Id.String())
		if err != nil {
			return nil, err
		}
		return fluxResponse{ctx: ctx, flux: flux, filename: flux.FluxID() + ".xml"}, nil
	}
	f, err := s.svc.GetDeclarationFile(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetDeclarationFile200JSONResponse{Body: toAPIDeclarationFile(f)}, nil
}

func (s *server) ImportDeclarationReceipt(ctx context.Context, req api.ImportDeclarationReceiptRequestObject) (api.ImportDeclarationReceiptResponseObject, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	f, err := s.svc.ImportDeclarationReceipt(ctx, req.Id.String(), body)
	if err != nil {
		return nil, err
	}
	return api.ImportDeclarationReceipt200JSONResponse{Body: toAPIDeclarationFile(f)}, nil
}

func (s *server) ListAwardDeclarations(ctx context.Context, req api.ListAwardDeclarationsRequestObject) (api.ListAwardDeclarationsResponseObject, error) {
	limit := 20
	if req.Params.Limit != nil {
		limit = int(*req.Params.Limit)
	}
	after, err := awardCursor(req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	var state certification.DeclarationState
	if req.Params.State != nil {
		state = certification.DeclarationState(*req.Params.State)
	}
	var dueBefore *time.Time
	if req.Params.DueBefore != nil {
		dueBefore = &req.Params.DueBefore.Time
	}
	awards, err := s.svc.ListAwardDeclarations(ctx, state, dueBefore, after, limit)
	if err != nil {
		return nil, err
	}
	out := api.AwardDeclarationList{Items: []api.AwardDeclaration{}}
	if len(awards) > limit {
		awards = awards[:limit]
		last := awards[limit-1]
		c := base64.RawURLEncoding.EncodeToString([]byte(last.AwardedOn.Format(time.DateOnly) + "/" + last.DecisionID))
		out.NextCursor = &c
	}
	for _, a := range awards {
		out.Items = append(out.Items, toAPIAwardDeclaration(a))
	}
	return api.ListAwardDeclarations200JSONResponse{Body: out}, nil
}

// awardCursor reads the cursor of a page of awards, which is where the last page
// ended: its last award's day and decision.
func awardCursor(cursor *string) (*service.AwardCursor, error) {
	if cursor == nil || *cursor == "" {
		return nil, nil
	}
	bad := &contractError{violations: []certification.Violation{{Field: "/cursor", Message: "not a cursor this API issued"}}}
	raw, err := base64.RawURLEncoding.DecodeString(*cursor)
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != *cursor {
		return nil, bad
	}
	day, id, ok := strings.Cut(string(raw), "/")
	on, err := time.Parse(time.DateOnly, day)
	if !ok || err != nil || !uuidRE.MatchString(id) {
		return nil, bad
	}
	return &service.AwardCursor{AwardedOn: on, DecisionID: id}, nil
}

// fluxResponse streams a holders declaration as it is read. Should the flux fail
// once its first bytes are sent, the connection is cut: the client sees a broken
// download, never a short file that looks whole.
type fluxResponse struct {
	ctx      context.Context
	flux     *service.HoldersFlux
	filename string
}

func (r fluxResponse) VisitExportHoldersDeclarationResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r fluxResponse) VisitGetDeclarationFileResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r fluxResponse) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", mediaXML)
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.filename+`"`)
	w.WriteHeader(http.StatusOK)
	if err := r.flux.WriteTo(r.ctx, w); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

func toAPIDeclarationFile(f certification.DeclarationFile) api.DeclarationFile {
	return api.DeclarationFile{Id: mustUUID(f.ID), CreatedAt: f.CreatedAt, AwardedTo: openapi_types.Date{Time: f.AwardedTo},
		Records: int32(f.Records), Accepted: int32(f.Accepted), Rejected: int32(f.Rejected), ReceiptImportedAt: f.ReceiptImportedAt}
}

func toAPIAwardDeclaration(a certification.AwardDeclaration) api.AwardDeclaration {
	return api.AwardDeclaration{DecisionId: mustUUID(a.DecisionID), CertificateNumber: a.CertificateNumber,
		CandidateId: mustUUID(a.CandidateID), HolderName: a.HolderName, AwardedOn: openapi_types.Date{Time: a.AwardedOn},
		DueOn: openapi_types.Date{Time: a.DueOn()}, IdTechnique: a.IDTechnique, State: api.DeclarationState(a.State),
		FileId: optUUID(a.FileID), Message: nilIfEmpty(a.Message)}
}
