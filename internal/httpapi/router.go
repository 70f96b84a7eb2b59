// Package httpapi is the HTTP face of the service: it implements the strict server
// interface generated from openapi.yaml with thin handlers and converters, and owns
// the middleware chain, the router and the one renderer of errors (problem.go).
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/service"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options are what the router needs from its caller.
type Options struct {
	Service     *service.Service
	Idempotency idempotency.Store
	DB          Pinger
	Log         *slog.Logger
	// BodyLimit is the largest request body accepted, as Echo reads it ("1M").
	BodyLimit string
	// CORSOrigins are the origins browsers may call from; empty allows none.
	CORSOrigins []string
	// PublicURL is where clients reach the service (scheme and host, no trailing
	// slash): certificates carry their verification address under it.
	PublicURL string
	// RequestTimeout is how long a request may run; past it, its context ends.
	RequestTimeout time.Duration
	// Limiter counts attempts in a store every instance shares (the service counts
	// failed logins per account with it too).
	Limiter *ratelimit.Limiter
	// TrustedProxies are the addresses or networks of the reverse proxies in front
	// of the service, whose X-Forwarded-For names the client; none: the client is
	// the connection's address.
	TrustedProxies []*net.IPNet
	Now            func() time.Time
	// Issuer is the certifier's ids at the Caisse des Dépôts, which the holders
	// declaration carries.
	Issuer cdc.Issuer
}

// New builds the HTTP handler: operational endpoints at the root, the API under /v1.
func New(o Options) (*echo.Echo, error) {
	spec, err := Spec()
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BodyLimit == "" {
		o.BodyLimit = "1M"
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientAddress(o.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(o.Log)

	m := newMetrics()
	e.Use(requestIDs)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(securityHeaders)
	e.Use(requestLog(o.Log))
	e.Use(m.middleware)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			o.Log.Error("panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err.Error(), "stack", string(stack))
			return err
		},
	}))
	e.Use(bodyLimit(o.BodyLimit))
	e.Use(strictJSON)
	if len(o.CORSOrigins) > 0 {
		// A browser application on one of these origins may call the API with its
		// bearer token (no cookies), send the request headers the contract names,
		// and read the answer headers a client acts on; a preflight is cached for
		// ten minutes.
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins: o.CORSOrigins,
			AllowMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete},
			AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "Accept", "If-Match", "If-None-Match",
				"Idempotency-Key", echo.HeaderXRequestID},
			ExposeHeaders: []string{"ETag", echo.HeaderLocation, echo.HeaderXRequestID, "Idempotent-Replayed", echo.HeaderWWWAuthenticate,
				echo.HeaderRetryAfter, "RateLimit", "RateLimit-Policy", echo.HeaderContentDisposition},
			MaxAge: 600,
		}))
	}
	e.Use(requestContext(o.Service, o.Log))

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := o.DB.Ping(ctx); err != nil {
			o.Log.Warn("readiness check failed", "error", err.Error())
			return &statusError{status: http.StatusServiceUnavailable, code: "unavailable", detail: "the database does not answer"}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	e.GET("/metrics", m.handler())
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", api.SpecYAML) })
	registerReference(e)

	ops := operationsOf(spec)
	v1 := e.Group("/v1",
		deadline(o.RequestTimeout),
		limit(o.Limiter, "/v1/auth/token", TokenRequests),
		limit(o.Limiter, "/v1/auth/revoke", Revocations),
		limit(o.Limiter, "/v1/auth/password-reset", PasswordResets),
		limit(o.Limiter, "/v1/certificates/:number", Verifications),
		oauthEndpoints,
		authenticate(o.Service, ops),
		requestValidator(spec),
		// A claim's lease outlasts the longest request by a margin.
		idempotent(o.Idempotency, ops, o.Now, o.RequestTimeout+30*time.Second),
	)
	srv := &server{svc: o.Service, publicURL: strings.TrimSuffix(o.PublicURL, "/"), issuer: o.Issuer}
	api.RegisterHandlers(groupRouter{v1}, api.NewStrictHandler(srv, []api.StrictMiddlewareFunc{rulesMiddleware(o.Service)}))
	return e, nil
}

// The limits on what anyone may call without credentials, per client address.
var (
	// TokenRequests slows password guessing from one address (FailedLogins, in the
	// service, limits it per account).
	TokenRequests = ratelimit.Policy{Name: "token", Limit: 20, Window: time.Minute}
	// Verifications keeps public certificate verification from serving as an
	// oracle for guessing numbers.
	Verifications = ratelimit.Policy{Name: "verification", Limit: 60, Window: time.Minute}
	// Revocations and PasswordResets keep the other public endpoints of accounts
	// from being flooded (their tokens are too long to guess).
	Revocations    = ratelimit.Policy{Name: "revoke", Limit: 20, Window: time.Minute}
	PasswordResets = ratelimit.Policy{Name: "password-reset", Limit: 10, Window: 15 * time.Minute}
)

// limit applies a policy per client address to one route, and says so in the
// answer's RateLimit headers; a refused attempt is a 429 with Retry-After.
func limit(l *ratelimit.Limiter, path string, p ratelimit.Policy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Path() != path || l == nil {
				return next(c)
			}
			d, err := l.Take(c.Request().Context(), p, c.RealIP())
			if err != nil {
				return err
			}
			for k, v := range d.Headers() {
				c.Response().Header().Set(k, v)
			}
			if !d.Allowed {
				return &ratelimit.RefusedError{Decision: d}
			}
			return next(c)
		}
	}
}

// clientAddress says who the client is: the connection's address, or, behind a
// trusted reverse proxy, the address it forwarded. X-Forwarded-For from anyone else
// is the client's to write, and would let anyone step around the limits.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// groupRouter registers the generated routes, whose paths carry /v1, on the /v1 group.
type groupRouter struct{ g *echo.Group }

func (r groupRouter) path(p string) string { return strings.TrimPrefix(p, "/v1") }

func (r groupRouter) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.CONNECT(r.path(p), h, m...)
}
func (r groupRouter) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.DELETE(r.path(p), h, m...)
}
func (r groupRouter) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.GET(r.path(p), h, m...)
}
func (r groupRouter) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.HEAD(r.path(p), h, m...)
}
func (r groupRouter) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.OPTIONS(r.path(p), h, m...)
}
func (r groupRouter) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.PATCH(r.path(p), h, m...)
}
func (r groupRouter) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.POST(r.path(p), h, m...)
}
func (r groupRouter) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.PUT(r.path(p), h, m...)
}
func (r groupRouter) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.g.TRACE(r.path(p), h, m...)
}

// Spec returns openapi.yaml, parsed and checked: the one contract the validator,
// the reference page and the tests all read.
func Spec() (*openapi3.T, error) {
	RegisterFormats()
	spec, err := openapi3.NewLoader().LoadFromData(api.SpecYAML)
	if err != nil {
		return nil, err
	}
	return spec, spec.Validate(context.Background())
}
