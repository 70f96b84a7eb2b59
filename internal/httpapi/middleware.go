package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/service"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// operation is what the contract says of one route: who may call it, and whether
// it takes an Idempotency-Key.
type operation struct {
	id     string
	public bool
	roles  map[auth.Role]bool
	// scopes are those of which a partner application needs one (x-scopes).
	scopes     []string
	idempotent bool
}

// operationsOf reads each operation's x-roles and security from the contract, keyed
// by method and Echo route path.
func operationsOf(spec *openapi3.T) map[string]operation {
	ops := map[string]operation{}
	for path, item := range spec.Paths.Map() {
		echoPath := pathParamRE.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			o := operation{id: op.OperationID, roles: map[auth.Role]bool{}}
			o.public = op.Security != nil && len(*op.Security) == 0
			for _, p := range op.Parameters {
				o.idempotent = o.idempotent || (p.Value != nil && p.Value.In == "header" && p.Value.Name == "Idempotency-Key")
			}
			if roles, ok := op.Extensions["x-roles"].([]any); ok {
				for _, r := range roles {
					if s, ok := r.(string); ok {
						o.roles[auth.Role(s)] = true
					}
				}
			}
			if scopes, ok := op.Extensions["x-scopes"].([]any); ok {
				for _, sc := range scopes {
					if s, ok := sc.(string); ok {
						o.scopes = append(o.scopes, s)
					}
				}
			}
			ops[method+" "+echoPath] = o
		}
	}
	return ops
}

// Authenticator turns a bearer token into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// authenticate enforces the contract's security: no or bad token on a secured
// operation is a 401, a role the operation's x-roles do not list is a 403, and so
// is a partner application that holds none of the operation's x-scopes (when it
// lists some: GET /v1/me needs none). The
// principal then travels in the request context. Unknown routes pass through to
// the validator, which answers 404 or 405.
func authenticate(authn Authenticator, ops map[string]operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op, ok := ops[c.Request().Method+" "+c.Path()]
			if !ok || op.public {
				return next(c)
			}
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, token, found := strings.Cut(h, " ")
			if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return certification.ErrUnauthenticated
			}
			p, err := authn.Authenticate(c.Request().Context(), strings.TrimSpace(token))
			if err != nil {
				return err
			}
			// The principal is known from here on, refused or not: the request's log
			// line names who was refused.
			c.SetRequest(c.Request().WithContext(auth.WithPrincipal(c.Request().Context(), p)))
			if !op.roles[p.Role] || (p.Role == auth.RolePartner && len(op.scopes) > 0 && !slices.ContainsFunc(op.scopes, p.HasScope)) {
				return certification.ErrForbidden
			}
			return next(c)
		}
	}
}

// requestContext puts where the service finds them the request id and the client's
// address (for the audit trail) and a collector of the request's refused attempts,
// which it audits once the request is answered; and, where the handlers find it,
// the media type the client prefers.
func requestContext(svc *service.Service, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			ctx := service.WithRequestID(r.Context(), c.Response().Header().Get(echo.HeaderXRequestID))
			ctx = service.WithProbes(service.WithClientAddress(ctx, c.RealIP()))
			c.SetRequest(negotiate(r.WithContext(ctx)))
			err := next(c)
			if ferr := svc.FlushProbes(context.WithoutCancel(c.Request().Context())); ferr != nil {
				log.Warn("audit refused attempts", "error", ferr.Error())
			}
			return err
		}
	}
}

// requestLog writes one structured line per request.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			if !log.Enabled(c.Request().Context(), slog.LevelInfo) {
				return nil
			}
			attrs := []any{"method", v.Method, "uri", redactURI(v.URI), "status", v.Status,
				"latency_ms", float64(v.Latency.Microseconds()) / 1000, "request_id", v.RequestID}
			if p, ok := auth.PrincipalFrom(c.Request().Context()); ok {
				attrs = append(attrs, "actor", p.Subject, "role", string(p.Role))
			}
			if id := clientRequestID(c.Request().Context()); id != "" {
				attrs = append(attrs, "client_request_id", id)
			}
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", toAttrs(attrs)...)
			return nil
		},
	})
}

// redactURI is a request URI as the log shows it: the values of query parameters
// that carry credentials are replaced. The API reads no credential from the query
// string, but a client may still send its bearer token there (RFC 6750 §2.3) or a
// password, and the log must not keep them. Everything else is left as sent.
func redactURI(uri string) string {
	path, query, found := strings.Cut(uri, "?")
	if !found {
		return uri
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		name, _, _ := strings.Cut(p, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		if secretParam(name) {
			params[i] = url.QueryEscape(name) + "=REDACTED"
		}
	}
	return path + "?" + strings.Join(params, "&")
}

// secretParam reports whether a query parameter's name says it carries a
// credential: access_token, refresh_token, password, client_secret, api_key...
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "password", "passwd", "secret", "assertion", "authorization"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	switch n {
	case "key", "apikey", "api_key", "api-key", "code":
		return true
	}
	return false
}

func toAttrs(kv []any) []slog.Attr {
	out := make([]slog.Attr, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, slog.Any(kv[i].(string), kv[i+1]))
	}
	return out
}

// idempotent makes creating POSTs safe to retry: with an Idempotency-Key, the first
// successful answer is recorded and replayed for the same key and body; the same key
// with another body is a 422. The key is recorded by the request's write, as it
// commits (see package idempotency): a request that fails records nothing, and a
// key whose write committed but whose answer is not recorded yet is a 409, until
// its lease ends; then the answer was lost, and the 409 names what the write did.
//
// The key is not read first. A new key, the usual case, costs its write nothing
// but the record's INSERT; a key already recorded makes the write fail (the
// INSERT meets it, if nothing refused the request before) and roll back, and only
// then is the record read, to answer from it.
func idempotent(store idempotency.Store, ops map[string]operation, now func() time.Time, lease time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			req := c.Request()
			key := req.Header.Get("Idempotency-Key")
			// Only the operations the contract gives the header: never, say, the
			// token endpoint, whose answers must not be stored.
			if key == "" || !ops[req.Method+" "+c.Path()].idempotent {
				return next(c)
			}
			p, _ := auth.PrincipalFrom(req.Context())
			principal := p.Subject
			if principal == "" {
				principal = "anonymous"
			}
			body, err := io.ReadAll(req.Body)
			if err != nil {
				return err
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			sum := sha256.Sum256(append([]byte(req.Method+" "+req.URL.Path+"\n"), body...))
			at := now().UTC().Truncate(time.Second)
			claim := &idempotency.Claim{Record: idempotency.Record{PrincipalID: principal, Key: key, Method: req.Method,
				Path: req.URL.Path, RequestHash: hex.EncodeToString(sum[:]), CreatedAt: at, LeaseUntil: at.Add(lease)}}

			// The claim goes down to the transaction of the request's write, which
			// records the key as it commits; for this request only, not for what
			// outer middleware writes after it.
			c.SetRequest(req.WithContext(idempotency.WithClaim(req.Context(), claim)))
			defer c.SetRequest(req)
			rw := &recorder{ResponseWriter: c.Response().Writer}
			c.Response().Writer = rw
			err = next(c)
			status := c.Response().Status
			// A detached context: the answer is recorded even if the client went away.
			ctx := context.WithoutCancel(req.Context())
			if err != nil || status < 200 || status >= 300 {
				if err == nil || claim.Done || c.Response().Committed {
					return err
				}
				// Nothing of this request committed. If the key is recorded (an earlier
				// request with it, or one that committed meanwhile: this one's write
				// then rolled back as it met the key), this one is answered as the
				// key's request was, whatever refused it here.
				if existing, lerr := store.Lookup(ctx, principal, key); lerr == nil && existing.Live(at) {
					service.ForgetProbes(req.Context())
					return answerFrom(c, existing, claim.Record)
				}
				if errors.Is(err, idempotency.ErrRaced) {
					return inProgress()
				}
				return err
			}
			h := c.Response().Header()
			sent := idempotency.Answer{StatusCode: status, ContentType: h.Get(echo.HeaderContentType),
				Location: h.Get(echo.HeaderLocation), ETag: h.Get("ETag"), Body: rw.body.Bytes()}
			if claim.Answered && sameAnswer(claim.Record.Answer, sent) {
				return nil
			}
			claim.Record.Answer = sent
			return store.Complete(ctx, claim.Record)
		}
	}
}

// answerFrom answers a request whose key is already recorded.
func answerFrom(c echo.Context, existing, request idempotency.Record) error {
	switch {
	case existing.RequestHash != request.RequestHash:
		return &statusError{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused",
			detail: "this Idempotency-Key was used with another request; use a new key"}
	case existing.StatusCode == 0 && existing.LeaseUntil.After(request.CreatedAt):
		return inProgress()
	case existing.StatusCode == 0:
		return &certification.ConflictError{Code: "idempotency_answer_lost", ExistingID: existing.Location,
			Message: "the request with this Idempotency-Key was carried out, but the service stopped before keeping its answer; existing_id names what it created"}
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, existing.ContentType)
	if existing.Location != "" {
		h.Set(echo.HeaderLocation, existing.Location)
	}
	if existing.ETag != "" {
		h.Set("ETag", existing.ETag)
	}
	h.Set("Idempotent-Replayed", "true")
	return c.Blob(existing.StatusCode, existing.ContentType, existing.Body)
}

func inProgress() error {
	return &statusError{status: http.StatusConflict, code: "idempotency_in_progress",
		detail: "a request with this Idempotency-Key is still being served; retry later"}
}

func sameAnswer(a, b idempotency.Answer) bool {
	return a.StatusCode == b.StatusCode && a.ContentType == b.ContentType && a.Location == b.Location &&
		a.ETag == b.ETag && bytes.Equal(a.Body, b.Body)
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// answerInWrite has the write of the request of ctx, if it holds an
// Idempotency-Key, record the answer the handler will send with the key, in the
// write's own transaction: visit writes the response of the write's result (see
// idempotency.Result) as the handler will. A retry after a process that died
// between the commit and the answer is then replayed, not told the answer was lost,
// and the answer is not recorded a second time once sent.
func answerInWrite(ctx context.Context, visit func(result any, w http.ResponseWriter) error) {
	claim, ok := idempotency.ClaimFrom(ctx)
	if !ok {
		return
	}
	claim.Render(func(result any) (idempotency.Answer, error) {
		w := &answerWriter{header: http.Header{}}
		if err := visit(result, w); err != nil {
			return idempotency.Answer{}, err
		}
		h := w.header
		return idempotency.Answer{StatusCode: w.status, ContentType: h.Get(echo.HeaderContentType),
			Location: h.Get(echo.HeaderLocation), ETag: h.Get("ETag"), Body: w.body.Bytes()}, nil
	})
}

// answerWith is answerInWrite for a handler that answers respond(result), written
// by visit: the Visit method of respond's response.
func answerWith[T, R any](ctx context.Context, respond func(T) R, visit func(R, http.ResponseWriter) error) {
	answerInWrite(ctx, func(result any, w http.ResponseWriter) error { return visit(respond(result.(T)), w) })
}

// recorded is an answer a write recorded with its request's Idempotency-Key, sent
// to the client as recorded rather than rendered a second time. It is the answer
// of every operation that records one (a method for each).
type recorded idempotency.Answer

// recordedAnswer is the answer the write of the request of ctx recorded, if any.
func recordedAnswer(ctx context.Context) (recorded, bool) {
	c, ok := idempotency.ClaimFrom(ctx)
	if !ok || !c.Answered {
		return recorded{}, false
	}
	return recorded(c.Record.Answer), true
}

func (a recorded) send(w http.ResponseWriter) error {
	h := w.Header()
	h.Set(echo.HeaderContentType, a.ContentType)
	if a.Location != "" {
		h.Set(echo.HeaderLocation, a.Location)
	}
	if a.ETag != "" {
		h.Set("ETag", a.ETag)
	}
	w.WriteHeader(a.StatusCode)
	_, err := w.Write(a.Body)
	return err
}

func (a recorded) VisitCreateApiClientResponse(w http.ResponseWriter) error { return a.send(w) }
func (a recorded) VisitCreateDeclarationFileResponse(w http.ResponseWriter) error {
	return a.send(w)
}
func (a recorded) VisitScheduleEvaluationResponse(w http.ResponseWriter) error { return a.send(w) }
func (a recorded) VisitRecordRegistrationPeriodResponse(w http.ResponseWriter) error {
	return a.send(w)
}
func (a recorded) VisitCreateTrainingSiteResponse(w http.ResponseWriter) error { return a.send(w) }
func (a recorded) VisitCreateUserResponse(w http.ResponseWriter) error         { return a.send(w) }
func (a recorded) VisitCreateJuryMemberResponse(w http.ResponseWriter) error   { return a.send(w) }
func (a recorded) VisitPlanJurySessionResponse(w http.ResponseWriter) error    { return a.send(w) }
func (a recorded) VisitRecordDecisionResponse(w http.ResponseWriter) error     { return a.send(w) }
func (a recorded) VisitCreateWebhookSubscriptionResponse(w http.ResponseWriter) error {
	return a.send(w)
}
func (a recorded) VisitRegisterCandidateResponse(w http.ResponseWriter) error { return a.send(w) }

// answerWriter is a response written to memory.
type answerWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *answerWriter) Header() http.Header { return w.header }

func (w *answerWriter) WriteHeader(status int) { w.status = status }

func (w *answerWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
