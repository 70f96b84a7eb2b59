package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

// The OAuth endpoints answer their errors as RFC 6749 §5.2 says, not as problems,
// so that OAuth client libraries read them.
const (
	tokenPath      = "/v1/auth/token"
	revocationPath = "/v1/auth/revoke"
)

// basicRealm is the challenge of a client that failed to authenticate.
const basicRealm = `Basic realm="certapi", charset="UTF-8"`

// clientAuth is the HTTP Basic authentication a token request carries, if any.
type clientAuth struct {
	present   bool
	malformed bool
	id        string
	secret    string
}

type clientAuthKey struct{}

// oauthEndpoints serves the token and revocation endpoints' errors as OAuth errors:
// a request the contract refuses is invalid_request (or unsupported_grant_type for a
// grant this service does not know), in the JSON of RFC 6749 §5.2. It also hands
// the token endpoint the client's HTTP Basic credentials (RFC 6749 §2.3.1), which a
// strict handler does not see. Limits, media types and body sizes keep their
// problem answers.
func oauthEndpoints(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() != tokenPath && c.Path() != revocationPath {
			return next(c)
		}
		r := c.Request()
		if c.Path() == tokenPath {
			c.SetRequest(r.WithContext(context.WithValue(r.Context(), clientAuthKey{}, basicCredentials(r.Header.Get(echo.HeaderAuthorization)))))
		}
		err := next(c)
		var ce *contractError
		if !errors.As(err, &ce) {
			return err
		}
		code, detail := api.OAuthErrorErrorInvalidRequest, "the request is malformed"
		if len(ce.violations) > 0 {
			v := ce.violations[0]
			detail = strings.TrimSpace(v.Field + " " + v.Message)
			if v.Field == "/grant_type" && c.Request().PostFormValue("grant_type") != "" {
				code, detail = api.OAuthErrorErrorUnsupportedGrantType, "this grant type is not served here: use password, refresh_token or client_credentials"
			}
		}
		return c.JSON(http.StatusBadRequest, oauthError(code, detail))
	}
}

// basicCredentials reads an Authorization header as HTTP Basic client credentials,
// each form-encoded before they were joined (RFC 6749 §2.3.1).
func basicCredentials(header string) clientAuth {
	scheme, value, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return clientAuth{}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return clientAuth{present: true, malformed: true}
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return clientAuth{present: true, malformed: true}
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return clientAuth{present: true, malformed: true}
	}
	return clientAuth{present: true, id: id, secret: secret}
}

func oauthError(code api.OAuthErrorError, detail string) api.OAuthError {
	return api.OAuthError{Error: code, ErrorDescription: ptr(detail)}
}

func tokenError(code api.OAuthErrorError, detail string) api.IssueTokenResponseObject {
	return api.IssueToken400JSONResponse{OAuthBadRequestJSONResponse: api.OAuthBadRequestJSONResponse{Body: oauthError(code, detail)}}
}

func invalidClient(detail string) api.IssueTokenResponseObject {
	return api.IssueToken401JSONResponse{OAuthUnauthorizedJSONResponse: api.OAuthUnauthorizedJSONResponse{
		Body: oauthError(api.OAuthErrorErrorInvalidClient, detail), Headers: api.OAuthUnauthorizedResponseHeaders{WWWAuthenticate: ptr(basicRealm)}}}
}

func (s *server) IssueToken(ctx context.Context, req api.IssueTokenRequestObject) (api.IssueTokenResponseObject, error) {
	b := req.Body
	var (
		t   service.Token
		err error
	)
	switch b.GrantType {
	case api.Password:
		if deref(b.Username) == "" || deref(b.Password) == "" {
			return tokenError(api.OAuthErrorErrorInvalidRequest, "the password grant needs username and password"), nil
		}
		t, err = s.svc.IssueTokenForPassword(ctx, *b.Username, *b.Password)
	case api.RefreshToken:
		if deref(b.RefreshToken) == "" {
			return tokenError(api.OAuthErrorErrorInvalidRequest, "the refresh_token grant needs refresh_token"), nil
		}
		t, err = s.svc.RefreshSession(ctx, *b.RefreshToken)
	case api.ClientCredentials:
		basic, _ := ctx.Value(clientAuthKey{}).(clientAuth)
		inForm := b.ClientId != nil || b.ClientSecret != nil
		switch {
		case basic.present && inForm:
			return tokenError(api.OAuthErrorErrorInvalidRequest, "authenticate the client one way: HTTP Basic or client_id and client_secret in the form, not both"), nil
		case basic.malformed:
			return invalidClient("the Authorization header is not HTTP Basic client credentials"), nil
		case !basic.present && (deref(b.ClientId) == "" || deref(b.ClientSecret) == ""):
			return invalidClient("the client_credentials grant needs the client's credentials: HTTP Basic, or client_id and client_secret"), nil
		}
		id, secret := basic.id, basic.secret
		if !basic.present {
			id, secret = *b.ClientId, *b.ClientSecret
		}
		t, err = s.svc.IssueTokenForClient(ctx, id, secret, deref(b.Scope))
	default:
		return tokenError(api.OAuthErrorErrorUnsupportedGrantType, "this grant type is not served here"), nil
	}
	switch {
	case errors.Is(err, service.ErrInvalidGrant):
		detail := "the username or password is wrong, or the account is deactivated"
		if b.GrantType == api.RefreshToken {
			detail = "the refresh token is unknown, used, revoked or expired: sign in again"
		}
		return tokenError(api.OAuthErrorErrorInvalidGrant, detail), nil
	case errors.Is(err, service.ErrInvalidClient):
		return invalidClient("the client_id or client_secret is wrong, or the application is revoked"), nil
	case errors.Is(err, service.ErrInvalidScope):
		return tokenError(api.OAuthErrorErrorInvalidScope, err.Error()), nil
	case err != nil:
		return nil, err
	}
	out := api.TokenResponse{AccessToken: t.AccessToken, TokenType: api.Bearer, ExpiresIn: int32(t.ExpiresIn), Scope: t.Scope}
	if t.RefreshToken != "" {
		out.RefreshToken = ptr(t.RefreshToken)
	}
	return api.IssueToken200JSONResponse{Body: out, Headers: api.IssueToken200ResponseHeaders{CacheControl: ptr("no-store")}}, nil
}

func (s *server) RevokeToken(ctx context.Context, req api.RevokeTokenRequestObject) (api.RevokeTokenResponseObject, error) {
	if err := s.svc.RevokeRefreshToken(ctx, req.Body.Token); err != nil {
		return nil, err
	}
	return api.RevokeToken200Response{}, nil
}

func (s *server) ListApiClients(ctx context.Context, req api.ListApiClientsRequestObject) (api.ListApiClientsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	clients, err := s.svc.ListAPIClients(ctx, p)
	if err != nil {
		return nil, err
	}
	clients, next := trim(ctx, clients, p, func(c service.APIClient) string { return c.ID })
	out := api.ApiClientList{Items: make([]api.ApiClient, len(clients)), NextCursor: next}
	for i, c := range clients {
		out.Items[i] = toAPIClient(c)
	}
	return api.ListApiClients200JSONResponse{Body: out}, nil
}

func (s *server) CreateApiClient(ctx context.Context, req api.CreateApiClientRequestObject) (api.CreateApiClientResponseObject, error) {
	b := req.Body
	respond := func(c service.NewAPIClient) api.CreateApiClient201JSONResponse {
		return api.CreateApiClient201JSONResponse{Body: toAPIClientWithSecret(c.APIClient, c.Secret), Headers: api.CreateApiClient201ResponseHeaders{
			ETag: ptr(etag(c.Version)), Location: ptr("/v1/api-clients/" + c.ID)}}
	}
	answerWith(ctx, respond, api.CreateApiClient201JSONResponse.VisitCreateApiClientResponse)
	c, err := s.svc.CreateAPIClient(ctx, service.APIClientInput{Name: b.Name, Scopes: scopeStrings(b.Scopes), TrainingSiteID: uuidString(b.TrainingSiteId)})
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(c), nil
}

func (s *server) GetApiClient(ctx context.Context, req api.GetApiClientRequestObject) (api.GetApiClientResponseObject, error) {
	c, err := s.svc.GetAPIClient(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetApiClient200JSONResponse{Body: toAPIClient(c), Headers: api.GetApiClient200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) UpdateApiClient(ctx context.Context, req api.UpdateApiClientRequestObject) (api.UpdateApiClientResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.GetAPIClient(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(c.Version, expected); err != nil {
		return nil, err
	}
	// The contract refuses null for either member: a merge patch here only sets.
	in := service.APIClientInput{Name: c.Name, Scopes: c.Scopes}
	if req.Body.Name != nil {
		in.Name = *req.Body.Name
	}
	if req.Body.Scopes != nil {
		in.Scopes = scopeStrings(*req.Body.Scopes)
	}
	c, err = s.svc.UpdateAPIClient(ctx, c.ID, expected, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateApiClient200JSONResponse{Body: toAPIClient(c), Headers: api.UpdateApiClient200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) RevokeApiClient(ctx context.Context, req api.RevokeApiClientRequestObject) (api.RevokeApiClientResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.RevokeAPIClient(ctx, req.Id.String(), expected)
	if err != nil {
		return nil, err
	}
	return api.RevokeApiClient200JSONResponse{Body: toAPIClient(c), Headers: api.RevokeApiClient200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) RotateApiClientSecret(ctx context.Context, req api.RotateApiClientSecretRequestObject) (api.RotateApiClientSecretResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, secret, err := s.svc.RotateAPIClientSecret(ctx, req.Id.String(), expected)
	if err != nil {
		return nil, err
	}
	return api.RotateApiClientSecret200JSONResponse{Body: toAPIClientWithSecret(c, secret),
		Headers: api.RotateApiClientSecret200ResponseHeaders{ETag: ptr(etag(c.Version))}}, nil
}

func (s *server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	me, err := s.svc.GetMe(ctx)
	if err != nil {
		return nil, err
	}
	out := api.Me{Scopes: make([]api.Scope, len(me.Scopes))}
	for i, sc := range me.Scopes {
		out.Scopes[i] = api.Scope(sc)
	}
	if me.Kind == auth.KindClient {
		c := me.Client
		out.Kind, out.Id, out.Role = api.MeKindClient, mustUUID(c.ID), api.MeRolePartner
		out.ClientId, out.Name, out.TrainingSiteId = ptr(c.ClientID), ptr(c.Name), optUUID(c.TrainingSiteID)
		return api.GetMe200JSONResponse{Body: out}, nil
	}
	u := me.User
	out.Kind, out.Id, out.Role = api.MeKindUser, mustUUID(u.ID), api.MeRole(u.Role)
	out.Email = ptr(openapi_types.Email(u.Email))
	out.TrainingSiteId, out.CandidateId, out.JuryMemberId = optUUID(u.TrainingSiteID), optUUID(u.CandidateID), optUUID(u.JuryMemberID)
	return api.GetMe200JSONResponse{Body: out}, nil
}

func (s *server) ChangeMyPassword(ctx context.Context, req api.ChangeMyPasswordRequestObject) (api.ChangeMyPasswordResponseObject, error) {
	if err := s.svc.ChangeMyPassword(ctx, req.Body.CurrentPassword, req.Body.NewPassword); err != nil {
		return nil, err
	}
	return api.ChangeMyPassword204Response{}, nil
}

func (s *server) ListMySittings(ctx context.Context, req api.ListMySittingsRequestObject) (api.ListMySittingsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	sittings, err := s.svc.ListMySittings(ctx, p)
	if err != nil {
		return nil, err
	}
	sittings, next := trim(ctx, sittings, p, func(m service.MySitting) string { return m.ID })
	out := api.MySittingList{Items: make([]api.MySitting, len(sittings)), NextCursor: next}
	for i, m := range sittings {
		out.Items[i] = toAPIMySitting(m)
	}
	return api.ListMySittings200JSONResponse{Body: out}, nil
}

func (s *server) ReactivateUser(ctx context.Context, req api.ReactivateUserRequestObject) (api.ReactivateUserResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	u, err := s.svc.ReactivateUser(ctx, req.Id.String(), expected)
	if err != nil {
		return nil, err
	}
	return api.ReactivateUser200JSONResponse{Body: toAPIUser(u), Headers: api.ReactivateUser200ResponseHeaders{ETag: ptr(etag(u.Version))}}, nil
}

func (s *server) IssuePasswordReset(ctx context.Context, req api.IssuePasswordResetRequestObject) (api.IssuePasswordResetResponseObject, error) {
	r, err := s.svc.IssuePasswordReset(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.IssuePasswordReset201JSONResponse{Body: api.PasswordReset{UserId: mustUUID(r.UserID), ResetToken: r.Token, ExpiresAt: r.ExpiresAt}}, nil
}

func (s *server) ResetPassword(ctx context.Context, req api.ResetPasswordRequestObject) (api.ResetPasswordResponseObject, error) {
	if err := s.svc.ResetPassword(ctx, req.Body.ResetToken, req.Body.NewPassword); err != nil {
		return nil, err
	}
	return api.ResetPassword204Response{}, nil
}

func toAPIClient(c service.APIClient) api.ApiClient {
	return api.ApiClient{Id: mustUUID(c.ID), ClientId: c.ClientID, Name: c.Name, Scopes: apiScopes(c.Scopes),
		TrainingSiteId: optUUID(c.TrainingSiteID), Active: c.Active, RevokedAt: c.RevokedAt, SecretRotatedAt: c.SecretRotatedAt,
		Version: int32(c.Version), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func toAPIClientWithSecret(c service.APIClient, secret string) api.ApiClientWithSecret {
	a := toAPIClient(c)
	return api.ApiClientWithSecret{Id: a.Id, ClientId: a.ClientId, ClientSecret: secret, Name: a.Name, Scopes: a.Scopes,
		TrainingSiteId: a.TrainingSiteId, Active: a.Active, RevokedAt: a.RevokedAt, SecretRotatedAt: a.SecretRotatedAt,
		Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func toAPIMySitting(m service.MySitting) api.MySitting {
	out := api.MySitting{Id: mustUUID(m.ID), Component: api.ComponentId(m.Component), Status: api.MySittingStatus(m.Status),
		ScheduledAt: m.ScheduledAt, EndsAt: m.EndsAt, JurySessionId: optUUID(m.JurySessionID), ResultHidden: m.ResultHidden,
		Absent: m.Status == certification.SittingAbsent,
		Place:  api.Place{TrainingSiteId: mustUUID(m.Site.ID), Name: m.Site.Name, Address: toAPIAddress(m.Site.Address)}}
	if !m.ResultHidden {
		out.Grade, out.DossierGrade, out.DefenceGrade = points(m.Grade), points(m.DossierGrade), points(m.DefenceGrade)
	}
	return out
}

func apiScopes(in []string) []api.Scope {
	out := make([]api.Scope, len(in))
	for i, sc := range in {
		out[i] = api.Scope(sc)
	}
	return out
}

func scopeStrings(in []api.Scope) []string {
	out := make([]string, len(in))
	for i, sc := range in {
		out[i] = string(sc)
	}
	return out
}
