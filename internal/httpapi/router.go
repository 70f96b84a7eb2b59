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
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/auth"
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
	// CallerLimit is the general limit on each caller's requests (per account or
	// application, else per address), counted by each instance; zero: none. The
	// routes with limits of their own (the token endpoint, certificate
	// verification...) are not counted under it.
	CallerLimit ratelimit.Policy
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

	e.Pre(headAsGet)
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
	registerProblems(e)

	ops := operationsOf(spec)
	callers := newCallerLimit(o.CallerLimit, o.Now, "/v1/auth/token", "/v1/auth/revoke", "/v1/auth/password-reset", "/v1/certificates/:number")
	v1 := e.Group("/v1",
		deadline(o.RequestTimeout),
		limit(o.Limiter, "/v1/auth/token", TokenRequests),
		limit(o.Limiter, "/v1/auth/revoke", Revocations),
		limit(o.Limiter, "/v1/auth/password-reset", PasswordResets),
		limit(o.Limiter, "/v1/certificates/:number", Verifications),
		oauthEndpoints,
		callers.refused,
		authenticate(o.Service, ops),
		callers.identified,
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
			d.SetHeaders(c.Response().Header())
			if !d.Allowed {
				return &ratelimit.RefusedError{Decision: d}
			}
			return next(c)
		}
	}
}

// callerLimit is the general limit on each caller's requests, per instance (in
// memory: a write per request to a shared store would cost more than what it
// protects), told in every answer's RateLimit headers; a refused request is a 429
// with Retry-After. Callers are told apart by their account or application, and
// anonymous ones by their address; the paths in own have limits of their own. It
// takes two places in the chain, around authentication: identified counts what
// authentication let through, before the request goes on; refused counts, after
// the fact, what authentication turned away (no or a bad token, a role the
// operation does not list), which past the allowance is a 429 rather than a 401 or
// a 403, so that refusals are no way around the limit.
type callerLimit struct {
	policy  ratelimit.Policy
	now     func() time.Time
	own     []string
	counts  *ratelimit.Memory
	limiter *ratelimit.Limiter
	purged  atomic.Int64
}

// countedKey marks, in the echo.Context, a request the limit has counted.
const countedKey = "certapi.caller-limit-counted"

func newCallerLimit(p ratelimit.Policy, now func() time.Time, own ...string) *callerLimit {
	counts := ratelimit.NewMemory()
	return &callerLimit{policy: p, now: now, own: own, counts: counts, limiter: ratelimit.New(counts, now)}
}

func (l *callerLimit) applies(c echo.Context) bool {
	return l.policy.Limit > 0 && !slices.Contains(l.own, c.Path())
}

// take counts the request against its caller and sets the answer's RateLimit
// headers; past the allowance it is a *ratelimit.RefusedError.
func (l *callerLimit) take(c echo.Context) error {
	c.Set(countedKey, true)
	ctx := c.Request().Context()
	key := "address:" + c.RealIP()
	if pr, ok := auth.PrincipalFrom(ctx); ok {
		key = "caller:" + pr.Subject
	}
	// Forget the windows that ended, once per window.
	if t := l.now().Unix(); t-l.purged.Load() >= int64(l.policy.Window.Seconds()) {
		l.purged.Store(t)
		_, _ = l.counts.PurgeCounts(ctx, l.now())
	}
	d, err := l.limiter.Take(ctx, l.policy, key)
	if err != nil {
		return err
	}
	d.SetHeaders(c.Response().Header())
	if !d.Allowed {
		return &ratelimit.RefusedError{Decision: d}
	}
	return nil
}

// identified goes after authentication: it counts the request before it goes on.
func (l *callerLimit) identified(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !l.applies(c) {
			return next(c)
		}
		if err := l.take(c); err != nil {
			return err
		}
		return next(c)
	}
}

// refused goes before authentication: a request it turned away, which identified
// never saw, is counted once refused.
func (l *callerLimit) refused(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || !l.applies(c) || c.Get(countedKey) != nil {
			return err
		}
		if terr := l.take(c); terr != nil {
			return terr
		}
		return err
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

// headAsGet answers HEAD wherever GET is answered (RFC 9110 §9.3.2): the request is
// routed, authenticated, validated and served as a GET, with the same status and
// headers, and no body.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodHead {
			return next(c)
		}
		r.Method = http.MethodGet
		c.Response().Writer = headWriter{c.Response().Writer}
		err := next(c)
		r.Method = http.MethodHead
		return err
	}
}

// headWriter drops a body, keeping what says how long it was.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }
