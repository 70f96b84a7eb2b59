package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	echomw "github.com/oapi-codegen/echo-middleware"
)

// uuidPattern accepts any RFC 9562 UUID in its canonical form: ids are UUIDv7, which
// kin-openapi's built-in pattern (versions 1-5) refuses.
var uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

// emailPattern is deliberately plain: one @, no spaces, a dot in the domain.
var emailPattern = `^[^@\s]+@[^@\s]+\.[^@\s]+$`

// RegisterFormats teaches kin-openapi the string formats the contract uses. They are
// global to kin-openapi, read by every validation, so they are written once.
func RegisterFormats() { registerFormats() }

var registerFormats = sync.OnceFunc(func() {
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern))
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(emailPattern))
	openapi3.DefineStringFormatValidator("date", openapi3.NewCallbackValidator(func(v string) error {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return err
		}
		return inRange(d)
	}))
	openapi3.DefineStringFormatValidator("date-time", openapi3.NewCallbackValidator(func(v string) error {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return err
		}
		return inRange(t)
	}))
})

// The days the service deals in: births since 1900, sessions and registrations up to
// 2199. Outside them a date is a typo, and, near year 0 or 9999, one that overflows
// on the databases when a day is added to it.
var (
	firstDay = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	lastDay  = time.Date(2199, 12, 31, 23, 59, 59, 0, time.UTC)
)

func inRange(t time.Time) error {
	if t.Before(firstDay) || t.After(lastDay) {
		return fmt.Errorf("dates lie between %s and %s", firstDay.Format(time.DateOnly), lastDay.Format(time.DateOnly))
	}
	return nil
}

var uuidRE = regexp.MustCompile(uuidPattern)

// requestValidator checks every /v1 request against the contract and reports every
// mismatch at once, each with a JSON pointer. Echo has already matched the route:
// its operation is looked up by method and route rather than matched again by
// kin-openapi's router, whose regular expressions cost more than a small read.
// A request Echo matched to no operation goes to the generic validator, which
// answers it 404 or 405.
func requestValidator(spec *openapi3.T) echo.MiddlewareFunc {
	opts := openapi3filter.Options{
		MultiError: true,
		// Authentication runs before this middleware (see authenticate).
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		KeepValidatedValue: true,
	}
	generic := echomw.OapiRequestValidatorWithOptions(spec, &echomw.Options{
		DoNotValidateServers:  true,
		SilenceServersWarning: true,
		Options:               opts,
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: http.StatusBadRequest, Internal: contractErrorOf(me)}
		},
		ErrorHandler: func(_ echo.Context, he *echo.HTTPError) error {
			if he.Internal != nil {
				return he.Internal
			}
			return he
		},
	})
	routes := map[string]*routers.Route{}
	queryParams := map[*routers.Route]map[string]bool{}
	allowed := map[string][]string{}
	for path, item := range spec.Paths.Map() {
		echoPath := pathParamRE.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			r := &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op}
			routes[method+" "+echoPath] = r
			known := map[string]bool{}
			for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range ps {
					if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
						known[p.Value.Name] = true
					}
				}
			}
			queryParams[r] = known
			allowed[echoPath] = append(allowed[echoPath], method)
			if method == http.MethodGet {
				allowed[echoPath] = append(allowed[echoPath], http.MethodHead)
			}
		}
	}
	// The paths the contract has, as patterns, to tell a method a path does not take
	// (405) from a path that does not exist (404): Echo routes both to the group's
	// catch-all.
	type pathMethods struct {
		re      *regexp.Regexp
		methods []string
	}
	var paths []pathMethods
	for p, methods := range allowed {
		slices.Sort(methods)
		re := regexp.MustCompile("^" + regexp.MustCompile(`:[^/]+`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$")
		paths = append(paths, pathMethods{re: re, methods: methods})
	}
	allowedFor := func(path string) ([]string, bool) {
		for _, p := range paths {
			if p.re.MatchString(path) {
				return p.methods, true
			}
		}
		return nil, false
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		fallback := generic(next)
		return func(c echo.Context) error {
			route, ok := routes[c.Request().Method+" "+c.Path()]
			if !ok {
				if methods, exists := allowedFor(c.Request().URL.Path); exists {
					// The path exists, not with this method.
					c.Response().Header().Set(echo.HeaderAllow, strings.Join(methods, ", "))
					return &statusError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
						detail: c.Request().Method + " is not an operation of this path; it takes " + strings.Join(methods, ", ")}
				}
				return fallback(c)
			}
			// A query parameter the operation does not take is a mistake, not
			// something to ignore: a misspelt filter would silently list everything.
			query := c.QueryParams()
			var unknown []certification.Violation
			for name := range query {
				if !queryParams[route][name] {
					unknown = append(unknown, certification.Violation{Field: "/" + pointerEscaper.Replace(name), Message: "this operation takes no query parameter " + strconv.Quote(name)})
				}
			}
			if len(unknown) > 0 {
				slices.SortFunc(unknown, func(a, b certification.Violation) int { return strings.Compare(a.Field, b.Field) })
				return &contractError{violations: unknown}
			}
			c.SetRequest(c.Request().WithContext(withFilters(c.Request().Context(), query)))
			names, values := c.ParamNames(), c.ParamValues()
			params := make(map[string]string, len(names))
			for i, n := range names {
				v, err := url.PathUnescape(values[i])
				if err != nil {
					return &statusError{status: http.StatusBadRequest, code: "invalid_request", detail: "a path segment is not properly escaped"}
				}
				params[n] = v
			}
			in := &openapi3filter.RequestValidationInput{Request: c.Request(), PathParams: params, Route: route, Options: &opts}
			if err := openapi3filter.ValidateRequest(c.Request().Context(), in); err != nil {
				return contractErrorOf(err)
			}
			return next(c)
		}
	}
}

// contractErrorOf flattens kin-openapi's errors into violations; a body of the wrong
// media type is a 415 instead.
func contractErrorOf(err error) error {
	var vs []certification.Violation
	unsupported := false
	var walk func(err error, field string)
	walk = func(err error, field string) {
		// A direct type switch: errors.As would look through a RequestError into
		// its inner MultiError and lose the parameter the errors belong to.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				walk(x, field)
			}
		case *openapi3filter.RequestError:
			switch {
			case e.Parameter != nil:
				field = "/" + e.Parameter.Name
			case strings.HasPrefix(e.Reason, "header Content-Type has unexpected value"):
				unsupported = true
				return
			}
			if e.Err == nil {
				vs = append(vs, certification.Violation{Field: field, Message: e.Reason})
				return
			}
			walk(e.Err, field)
		case *openapi3.SchemaError:
			ptr := field + pointer(e.JSONPointer())
			if m := unsupportedRE.FindStringSubmatch(e.Reason); m != nil {
				// kin-openapi points at the object; point at the unknown member.
				ptr += "/" + escapePointer(m[1])
			}
			vs = append(vs, certification.Violation{Field: ptr, Message: e.Reason})
		case *openapi3filter.ParseError:
			msg := e.Error()
			if e.Kind == openapi3filter.KindInvalidFormat || strings.Contains(msg, "invalid character") || strings.Contains(msg, "unexpected end") {
				msg = "the body is not valid JSON: " + msg
			}
			vs = append(vs, certification.Violation{Field: field, Message: msg})
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner, field)
				return
			}
			vs = append(vs, certification.Violation{Field: field, Message: err.Error()})
		}
	}
	walk(err, "")
	if unsupported && len(vs) == 0 {
		return &statusError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			detail: "the body's Content-Type is not one this operation takes (see openapi.yaml)"}
	}
	return &contractError{violations: vs}
}

var unsupportedRE = regexp.MustCompile(`^property "(.+)" is unsupported$`)

func pointer(parts []string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("/")
		b.WriteString(escapePointer(p))
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// pointerEscaper escapes a name for a JSON pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
