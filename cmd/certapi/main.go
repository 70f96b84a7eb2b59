// Command certapi runs the certification API (serve, the default) and its
// operations tools (migrate).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/config"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/ratelimit"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "certapi:", err)
		os.Exit(1)
	}
}

const usage = `certapi runs the AP Formation certification API.

Usage:
  certapi [serve]              run the HTTP API (the default)
  certapi migrate up|down|status
                               apply, roll back the latest, or list the migrations
  certapi healthcheck          exit 0 when the service on CERTAPI_ADDR is ready (for HEALTHCHECK)
  certapi <command> --help     help on a command

`

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, usage)
		printEnv(stdout)
		return nil
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func printEnv(w io.Writer) {
	fmt.Fprintln(w, "Environment:")
	for _, v := range config.Vars {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(w, "  %-34s %s\n  %-34s default: %s\n", v.Name, v.Help, "", def)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, "Usage: certapi serve\n\nRuns the HTTP API until SIGINT or SIGTERM, then drains in-flight requests.\n\n")
		printEnv(stdout)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	log.Info("starting", "config", cfg.String())

	db, err := store.Open(ctx, cfg.StoreOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.Migrate {
		applied, err := db.MigrateUp(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("migrated", "versions", applied)
		}
	} else if pending, err := db.Pending(ctx); err != nil {
		return err
	} else if pending {
		return errors.New("the database schema is behind this binary: run `certapi migrate up` (or set CERTAPI_MIGRATE=true)")
	}
	key, err := cfg.SigningKey()
	if err != nil {
		return err
	}
	tokens, err := auth.NewTokens(key, cfg.TokenTTL, nil)
	if err != nil {
		return err
	}
	limiter := ratelimit.New(db, nil)
	webhooks := webhook.Policy{AllowPrivate: cfg.WebhookAllowPrivate}
	svc := service.New(db, tokens, limiter, nil, log, service.WebhookPolicy(webhooks), service.RefreshTokenTTL(cfg.RefreshTokenTTL))
	if err := bootstrapAdmin(ctx, svc, cfg, log); err != nil {
		return err
	}
	handler, err := httpapi.New(httpapi.Options{Service: svc, Idempotency: db, DB: db, Log: log,
		BodyLimit: cfg.BodyLimit, CORSOrigins: cfg.CORSOrigins, PublicURL: cfg.PublicURL, RequestTimeout: cfg.WriteTimeout,
		Limiter: limiter, TrustedProxies: cfg.TrustedProxies,
		Issuer:      cdc.Issuer{ClientID: cfg.CDCClientID, ContractID: cfg.CDCContractID},
		CallerLimit: ratelimit.Policy{Name: "api", Limit: cfg.RateLimit, Window: time.Minute}})
	if err != nil {
		return err
	}
	go purgeHourly(ctx, log,
		purge{"idempotency keys", func(ctx context.Context, now time.Time) (int64, error) {
			return db.Purge(ctx, now.Add(-idempotency.TTL))
		}},
		purge{"rate-limit counts", db.PurgeCounts},
		purge{"expired refresh tokens and password resets", db.PurgeSessions})
	// Every instance sends webhook deliveries; leases keep two from sending one.
	dispatcher := service.NewDispatcher(svc, service.DispatcherOptions{Sender: webhook.NewSender(webhooks, cfg.WebhookTimeout),
		Render: httpapi.WebhookPayload, Lease: cfg.WebhookTimeout + time.Minute, Log: log})
	dctx, stopDispatcher := context.WithCancel(ctx)
	defer stopDispatcher()
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		dispatcher.Run(dctx)
	}()

	srv := &http.Server{Addr: cfg.Addr, Handler: handler, ReadTimeout: cfg.ReadTimeout, ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	gcDefaults(getenv)
	// Parsing the contract for the request validator leaves megabytes of garbage;
	// give them back before serving, not whenever the runtime gets round to it.
	debug.FreeOSMemory()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	select {
	case <-dispatched:
	case <-sctx.Done():
		log.Warn("webhook attempts still under way at shutdown: their leases expire and another instance makes them again")
	}
	log.Info("stopped")
	return nil
}

// purgeHourly forgets, every hour, what is past its time: idempotency keys after
// their 24 hours, rate-limit counts after their window.
func purgeHourly(ctx context.Context, log *slog.Logger, purges ...purge) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		for _, p := range purges {
			if n, err := p.run(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("purge "+p.what, "error", err.Error())
			} else if n > 0 {
				log.Info("purged "+p.what, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type purge struct {
	what string
	run  func(ctx context.Context, now time.Time) (int64, error)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, `Usage: certapi migrate up|down|status

  up      apply every pending migration
  down    roll back the latest applied migration
  status  list the migrations and whether each is applied

The database is the one CERTAPI_DATABASE_URL names (default: the embedded SQLite
under CERTAPI_DATA_DIR).
`)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("migrate needs exactly one of up, down, status")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.StoreOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	switch fs.Arg(0) {
	case "up":
		applied, err := db.MigrateUp(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "already up to date")
		}
		for _, v := range applied {
			fmt.Fprintf(stdout, "applied %05d\n", v)
		}
	case "down":
		v, err := db.MigrateDown(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rolled back %05d\n", v)
	case "status":
		states, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		for _, s := range states {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%05d  %-8s %s\n", s.Version, state, s.Name)
		}
	default:
		fs.Usage()
		return fmt.Errorf("unknown migrate action %q", fs.Arg(0))
	}
	return nil
}

// bootstrapAdmin creates the first administrator from the configuration. With an
// administrator already there, configured credentials are ignored, and the log
// says so; with none and no credentials, the log says how to make one.
func bootstrapAdmin(ctx context.Context, svc *service.Service, cfg config.Config, log *slog.Logger) error {
	if cfg.BootstrapAdminEmail == "" {
		exists, err := svc.AdminExists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			log.Warn("no administrator yet: nobody can sign in. Set CERTAPI_BOOTSTRAP_ADMIN_EMAIL and CERTAPI_BOOTSTRAP_ADMIN_PASSWORD and start the service again")
		}
		return nil
	}
	created, err := svc.BootstrapAdmin(ctx, cfg.BootstrapAdminEmail, cfg.BootstrapAdminPassword)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	if created {
		log.Info("bootstrap admin created", "email", cfg.BootstrapAdminEmail)
	} else {
		log.Warn("an administrator already exists: CERTAPI_BOOTSTRAP_ADMIN_EMAIL and CERTAPI_BOOTSTRAP_ADMIN_PASSWORD are ignored (change accounts through /v1/users)",
			"email", cfg.BootstrapAdminEmail)
	}
	return nil
}

// healthcheck asks the service listening on CERTAPI_ADDR (or --url) whether it is
// ready: a container's HEALTHCHECK, in an image that has no shell and no curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stdout)
	target := fs.String("url", "", "the readiness address (default: /readyz on CERTAPI_ADDR, on loopback)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		addr := getenv("CERTAPI_ADDR")
		if addr == "" {
			addr = ":8080"
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("CERTAPI_ADDR: %w", err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		*target = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %d", *target, res.StatusCode)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}

// The garbage collector's defaults, unless the runtime's own GOGC or GOMEMLIMIT
// say otherwise. A request allocates more than its live data, and the live heap
// of a serving process is small (a few MiB): at the runtime's default GOGC=100 it
// collects every few hundred requests, and the requests that meet a collection
// were the slowest 1% at one connection (docs/performance.md: a read's p99
// 1.50–1.87 times the floor's, 1.10–1.34 with GOGC=400). So the heap may grow to
// five times its live data between collections, within a soft limit on the
// runtime's memory: past it, the collector runs more often. The limit keeps the
// holders declaration of 100k awards under its 64 MiB target (59.7–60.9 MiB at
// 36 MiB in five runs) and leaves many requests in flight room between
// collections: 64 transcripts at a time on SQLite made a p99 1.33–1.59 times the
// floor's within 30 MiB (three runs), 1.19 and 1.22 within 36 MiB, at a28b934
// (docs/performance.md).
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 36 << 20
)

func gcDefaults(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
