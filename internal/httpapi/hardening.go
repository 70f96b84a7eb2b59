package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
)

// deadline ends a request's context after d: no request, and so no claim of its
// Idempotency-Key, runs longer than that.
func deadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// clientRequestIDRE is what a client's own X-Request-Id may look like to be logged
// beside the server's: short, and nothing a log reader could be fooled by.
var clientRequestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

type clientRequestIDKey struct{}

// requestIDs makes the request id the server's own: a client's X-Request-Id never
// becomes the id the logs, problems and audit trail record (it could be forged or
// overlong), but a well-formed one is kept in the context and logged beside it.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if id := r.Header.Get(echo.HeaderXRequestID); id != "" {
			r.Header.Del(echo.HeaderXRequestID)
			if clientRequestIDRE.MatchString(id) {
				c.SetRequest(r.WithContext(context.WithValue(r.Context(), clientRequestIDKey{}, id)))
			}
		}
		return next(c)
	}
}

func clientRequestID(ctx context.Context) string {
	id, _ := ctx.Value(clientRequestIDKey{}).(string)
	return id
}

// securityHeaders sets what every answer carries: no content sniffing, no
// referrer, and, on the API, no caching (its answers carry personal data; the
// referential, which has none, says its own Cache-Control).
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(c.Request().URL.Path, "/v1/") {
			c.Response().Before(func() {
				if h.Get("Cache-Control") == "" {
					h.Set("Cache-Control", "no-store")
				}
			})
		}
		return next(c)
	}
}

// strictJSON refuses a JSON body that is not exactly one JSON value with unique
// member names: trailing data after it, or a duplicate name whose last value would
// silently win, are 400s. A body over the limit, chunked or not, is a 413.
func strictJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		if r.Body == nil || r.Body == http.NoBody || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return next(c)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
				return he
			}
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if len(bytes.TrimSpace(body)) > 0 {
			if err := checkOneJSONValue(body); err != nil {
				return &contractError{violations: []certification.Violation{{Message: "the body is not valid JSON: " + err.Error()}}}
			}
		}
		return next(c)
	}
}

// checkOneJSONValue reports trailing data after the first JSON value, member names
// given twice in one object (compared once their escapes are decoded), and values
// nested deeper than encoding/json, which decodes the body next, reads. The syntax
// is jsontext's, encoding/json/v2's, with encoding/json's reading of invalid UTF-8
// (each bad byte is U+FFFD); its pooled decoder checks a valid body without
// allocating, and a second pass says what is wrong with an invalid one.
func checkOneJSONValue(body []byte) error {
	if jsontext.Value(body).IsValid(lenientUTF8) {
		return nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body), lenientUTF8)
	if err := dec.SkipValue(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "jsontext: "))
	}
	return errors.New("data after the JSON value")
}

// lenientUTF8 reads invalid UTF-8 in strings as encoding/json does.
var lenientUTF8 = jsontext.AllowInvalidUTF8(true)
