package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/service"
	"github.com/labstack/echo/v4"
)

// problemTypeBase prefixes each problem's code to make its type URI: a page of the
// service explains it (registerProblems).
const problemTypeBase = "/problems/"

// contractError is a request that does not match openapi.yaml: one violation per
// field, each with a JSON pointer.
type contractError struct {
	violations []certification.Violation
}

func (e *contractError) Error() string {
	return fmt.Sprintf("request does not match the contract: %v", e.violations)
}

// statusError is an error with a status and a code of its own, for the few answers
// that are not in the service's vocabulary (idempotency, media types).
type statusError struct {
	status int
	code   string
	detail string
}

func (e *statusError) Error() string { return e.detail }

// echoCodes are the problem codes of the errors Echo itself raises, by status.
var echoCodes = map[int]api.ProblemCode{
	http.StatusBadRequest: "invalid_request", http.StatusNotFound: "not_found",
	http.StatusMethodNotAllowed: "method_not_allowed", http.StatusRequestEntityTooLarge: "payload_too_large",
	http.StatusUnsupportedMediaType: "unsupported_media_type", http.StatusUnauthorized: "unauthenticated",
	http.StatusForbidden: "forbidden", http.StatusTooManyRequests: "too_many_requests", http.StatusServiceUnavailable: "unavailable",
}

// problemFor turns any error the service can produce into its RFC 9457 problem.
// It is the only place that decides how an error looks to a client. Its code is
// one of the catalogue's (problems.go), and its title and type follow from the
// code.
func problemFor(err error) api.Problem {
	p := api.Problem{Status: http.StatusInternalServerError, Code: "internal_error", Detail: ptr("an unexpected error occurred; quote the request id when reporting it")}
	var (
		ce *contractError
		ve *certification.ViolationError
		cf *certification.ConflictError
		se *statusError
		he *echo.HTTPError
	)
	if errors.Is(err, service.ErrUnknownCursor) {
		// The service found no item where the cursor says a page starts: a cursor
		// this API did not issue, refused as the contract refuses a malformed one.
		err = badCursor
	}
	switch {
	case errors.As(err, &ce):
		p.Status, p.Code, p.Detail = http.StatusBadRequest, "invalid_request", ptr(fmt.Sprintf("%d problem(s) with the request", len(ce.violations)))
		p.Violations = toAPIViolations(ce.violations)
		// Each mismatch is somewhere in the request: a parameter, a member of the
		// body, or, with the empty pointer, the body as a whole (one of several
		// forms, say, that it matches none of).
		for i := range *p.Violations {
			(*p.Violations)[i].Field = ptr(ce.violations[i].Field)
		}
	case errors.As(err, &ve):
		p.Status, p.Code = http.StatusUnprocessableEntity, "rule_violation"
		p.Detail = ptr(fmt.Sprintf("%d violation(s)", len(ve.Violations)))
		p.Violations = toAPIViolations(ve.Violations)
		if !hasRule(p.Violations) {
			p.Code = "invalid_value"
		}
	case errors.As(err, &cf):
		p.Status, p.Code, p.Detail = http.StatusConflict, api.ProblemCode(cf.Code), ptr(cf.Message)
		if cf.ExistingID != "" {
			p.ExistingId = ptr(cf.ExistingID)
		}
	case errors.As(err, &se):
		p.Status, p.Code, p.Detail = int32(se.status), api.ProblemCode(se.code), ptr(se.detail)
	case errors.As(err, new(*ratelimit.RefusedError)):
		p.Status, p.Code, p.Detail = http.StatusTooManyRequests, "too_many_requests", ptr(err.Error())
	case errors.Is(err, service.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "unavailable", ptr("the database is unavailable or overloaded; retry after Retry-After seconds")
	case errors.Is(err, certification.ErrNotFound):
		p.Status, p.Code, p.Detail = http.StatusNotFound, "not_found", ptr(err.Error())
	case errors.Is(err, certification.ErrStale):
		p.Status, p.Code, p.Detail = http.StatusPreconditionFailed, "stale_etag", ptr("the resource has changed since this ETag; read it again")
	case errors.Is(err, auth.ErrBadToken), errors.Is(err, certification.ErrUnauthenticated):
		p.Status, p.Code, p.Detail = http.StatusUnauthorized, "unauthenticated", ptr("a valid bearer token is required")
	case errors.Is(err, certification.ErrForbidden):
		p.Status, p.Code, p.Detail = http.StatusForbidden, "forbidden", ptr("your role may not call this operation")
	case errors.As(err, &he):
		p.Status = int32(he.Code)
		code, known := echoCodes[he.Code]
		switch {
		case known:
			p.Code = code
		case he.Code < 500:
			// Another client error Echo may raise: the request is at fault, and the
			// status says how.
			p.Code = "invalid_request"
		}
		if he.Code < 500 {
			if msg, ok := he.Message.(string); ok {
				p.Detail = ptr(msg)
			} else {
				p.Detail = ptr(http.StatusText(he.Code))
			}
		}
	}
	p.Title = problemTitles[p.Code]
	if p.Title == "" {
		p.Title = http.StatusText(int(p.Status))
	}
	p.Type = problemTypeBase + string(p.Code)
	return p
}

func hasRule(vs *[]api.Violation) bool {
	if vs == nil {
		return false
	}
	for _, v := range *vs {
		if v.Rule != nil {
			return true
		}
	}
	return false
}

func toAPIViolations(vs []certification.Violation) *[]api.Violation {
	out := make([]api.Violation, len(vs))
	for i, v := range vs {
		out[i] = api.Violation{Message: v.Message}
		if v.Rule != "" {
			out[i].Rule = ptr(v.Rule)
		}
		if v.Field != "" {
			out[i].Field = ptr(v.Field)
		}
	}
	return &out
}

// errorHandler is Echo's HTTPErrorHandler: every error of every route ends here and
// leaves as application/problem+json.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			// The answer is already sent (say, storing an idempotent answer failed
			// after it); the error can only be logged.
			log.ErrorContext(c.Request().Context(), "error after the response was sent",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Request().URL.Path, "error", err.Error())
			return
		}
		p := problemFor(err)
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		if rid != "" {
			p.RequestId = ptr(rid)
		}
		p.Instance = ptr(c.Request().URL.Path)
		if p.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "request_id", rid, "method", c.Request().Method,
				"path", c.Request().URL.Path, "error", err.Error())
		}
		switch p.Status {
		case http.StatusUnauthorized:
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="certapi"`)
		case http.StatusServiceUnavailable:
			c.Response().Header().Set("Retry-After", "1")
		case http.StatusTooManyRequests:
			var re *ratelimit.RefusedError
			if errors.As(err, &re) {
				re.Decision.SetHeaders(c.Response().Header())
			}
		}
		body, merr := json.Marshal(p)
		if merr != nil {
			body = []byte(`{"type":"/problems/internal_error","title":"Internal error","status":500,"code":"internal_error"}`)
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(int(p.Status))
		if c.Request().Method != http.MethodHead {
			_, _ = c.Response().Write(body)
		}
	}
}

func ptr[T any](v T) *T { return &v }
