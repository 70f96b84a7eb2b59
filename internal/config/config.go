// Package config is the one place that reads the environment: every setting of the
// service, its default, and how it is printed (secrets masked).
package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/store"
)

// Config is every setting of the service.
type Config struct {
	Addr                   string
	DatabaseURL            string
	DataDir                string
	Migrate                bool
	JWTKey                 []byte
	TokenTTL               time.Duration
	RefreshTokenTTL        time.Duration
	BootstrapAdminEmail    string
	BootstrapAdminPassword string
	BodyLimit              string
	CORSOrigins            []string
	PublicURL              string
	TrustedProxies         []*net.IPNet
	LogLevel               string
	ReadTimeout            time.Duration
	WriteTimeout           time.Duration
	IdleTimeout            time.Duration
	ShutdownTimeout        time.Duration
	// WebhookAllowPrivate lets webhook subscriptions name http URLs and loopback,
	// private, link-local, unique-local and shared (CGNAT) addresses.
	WebhookAllowPrivate bool
	WebhookTimeout      time.Duration
	// CDCClientID and CDCContractID are the certifier's ids at the Caisse des
	// Dépôts, which the holders declaration carries.
	CDCClientID   string
	CDCContractID string
	// RateLimit is how many requests a minute each caller may make of one instance;
	// 0: no general limit.
	RateLimit int
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Help string
}

// Vars lists every environment variable, for --help.
var Vars = []Var{
	{"CERTAPI_ADDR", ":8080", "address the HTTP server listens on"},
	{"CERTAPI_DATABASE_URL", "", "empty: the embedded SQLite under CERTAPI_DATA_DIR; else a MySQL DSN (user:pass@tcp(host:3306)/db) or mysql://user:pass@host:3306/db"},
	{"CERTAPI_DATA_DIR", "./data", "folder of the embedded database and its generated token key"},
	{"CERTAPI_MIGRATE", "true with SQLite, false with MySQL", "apply pending migrations when serve starts"},
	{"CERTAPI_JWT_KEY", "", "token signing key, at least 32 bytes (raw or base64); required with MySQL, generated into the data folder with SQLite"},
	{"CERTAPI_TOKEN_TTL", "15m", "lifetime of an access token"},
	{"CERTAPI_REFRESH_TOKEN_TTL", "720h", "lifetime of a refresh token (people's sessions: 30 days); each refresh gives a new one"},
	{"CERTAPI_BOOTSTRAP_ADMIN_EMAIL", "", "with the password below: the first admin, created at start when no admin exists"},
	{"CERTAPI_BOOTSTRAP_ADMIN_PASSWORD", "", "the first admin's password (12 characters or more)"},
	{"CERTAPI_BODY_LIMIT", "1M", "largest request body accepted"},
	{"CERTAPI_CORS_ORIGINS", "", "comma-separated origins browsers may call the API from"},
	{"CERTAPI_PUBLIC_URL", "http://localhost:8080", "where clients reach the service; certificates carry their verification address under it"},
	{"CERTAPI_TRUSTED_PROXIES", "", "comma-separated addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For names the client; empty: the connection's address is the client's"},
	{"CERTAPI_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"CERTAPI_READ_TIMEOUT", "15s", "HTTP read timeout"},
	{"CERTAPI_WRITE_TIMEOUT", "30s", "HTTP write timeout"},
	{"CERTAPI_IDLE_TIMEOUT", "120s", "HTTP idle timeout"},
	{"CERTAPI_SHUTDOWN_TIMEOUT", "35s", "how long in-flight requests get to finish on SIGTERM (longer than the write timeout, so that a drain waits for the longest request)"},
	{"CERTAPI_WEBHOOK_ALLOW_PRIVATE", "false", "let webhook subscriptions name http URLs and loopback, private, link-local, unique-local and CGNAT addresses (development only: it lets partners reach the service's own network)"},
	{"CERTAPI_WEBHOOK_TIMEOUT", "10s", "how long one webhook delivery attempt may take, from the connection to the end of the answer"},
	{"CERTAPI_CDC_CLIENT_ID", "", "the certifier's client id at the Caisse des Dépôts (8 characters), for the holders declaration; empty: the declaration answers 422 until it is set"},
	{"CERTAPI_CDC_CONTRACT_ID", "", "the certifier's contract id at the Caisse des Dépôts (1 to 20 characters), for the holders declaration"},
	{"CERTAPI_RATE_LIMIT", "1200", "requests a minute each caller (account, application, else address) may make of one instance; 0: no general limit"},
}

// Load reads the configuration from getenv.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Addr: or(getenv("CERTAPI_ADDR"), ":8080"), DatabaseURL: getenv("CERTAPI_DATABASE_URL"),
		DataDir: or(getenv("CERTAPI_DATA_DIR"), "./data"), BodyLimit: or(getenv("CERTAPI_BODY_LIMIT"), "1M"),
		LogLevel:            or(getenv("CERTAPI_LOG_LEVEL"), "info"),
		PublicURL:           strings.TrimSuffix(or(getenv("CERTAPI_PUBLIC_URL"), "http://localhost:8080"), "/"),
		BootstrapAdminEmail: getenv("CERTAPI_BOOTSTRAP_ADMIN_EMAIL"), BootstrapAdminPassword: getenv("CERTAPI_BOOTSTRAP_ADMIN_PASSWORD"),
	}
	for _, o := range strings.Split(getenv("CERTAPI_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	var err error
	durations := []struct {
		dst  *time.Duration
		name string
		def  time.Duration
	}{
		{&c.TokenTTL, "CERTAPI_TOKEN_TTL", 15 * time.Minute}, {&c.RefreshTokenTTL, "CERTAPI_REFRESH_TOKEN_TTL", 30 * 24 * time.Hour},
		{&c.ReadTimeout, "CERTAPI_READ_TIMEOUT", 15 * time.Second},
		{&c.WriteTimeout, "CERTAPI_WRITE_TIMEOUT", 30 * time.Second}, {&c.IdleTimeout, "CERTAPI_IDLE_TIMEOUT", 120 * time.Second},
		{&c.ShutdownTimeout, "CERTAPI_SHUTDOWN_TIMEOUT", 35 * time.Second}, {&c.WebhookTimeout, "CERTAPI_WEBHOOK_TIMEOUT", 10 * time.Second},
	}
	for _, d := range durations {
		*d.dst = d.def
		if v := getenv(d.name); v != "" {
			if *d.dst, err = time.ParseDuration(v); err != nil || *d.dst <= 0 {
				return c, fmt.Errorf("%s: %q is not a positive duration", d.name, v)
			}
		}
	}
	if v := getenv("CERTAPI_WEBHOOK_ALLOW_PRIVATE"); v != "" {
		if c.WebhookAllowPrivate, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("CERTAPI_WEBHOOK_ALLOW_PRIVATE: %q is not a boolean", v)
		}
	}
	c.Migrate = c.Embedded()
	if v := getenv("CERTAPI_MIGRATE"); v != "" {
		if c.Migrate, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("CERTAPI_MIGRATE: %q is not a boolean", v)
		}
	}
	if v := getenv("CERTAPI_JWT_KEY"); v != "" {
		c.JWTKey = []byte(v)
		if dec, err := base64.StdEncoding.DecodeString(v); err == nil && len(dec) >= 32 {
			c.JWTKey = dec
		}
		if len(c.JWTKey) < 32 {
			return c, fmt.Errorf("CERTAPI_JWT_KEY: at least 32 bytes are needed")
		}
	}
	for _, p := range strings.Split(getenv("CERTAPI_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return c, fmt.Errorf("CERTAPI_TRUSTED_PROXIES: %q is not an address or a network", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("CERTAPI_PUBLIC_URL: %q is not an http(s) URL", c.PublicURL)
	}
	c.RateLimit = 1200
	if v := getenv("CERTAPI_RATE_LIMIT"); v != "" {
		if c.RateLimit, err = strconv.Atoi(v); err != nil || c.RateLimit < 0 {
			return c, fmt.Errorf("CERTAPI_RATE_LIMIT: %q is not a number of requests a minute", v)
		}
	}
	c.CDCClientID, c.CDCContractID = strings.TrimSpace(getenv("CERTAPI_CDC_CLIENT_ID")), strings.TrimSpace(getenv("CERTAPI_CDC_CONTRACT_ID"))
	if n := utf8.RuneCountInString(c.CDCClientID); n != 0 && n != 8 {
		return c, fmt.Errorf("CERTAPI_CDC_CLIENT_ID: %q is not the 8 characters of a client id of the Caisse des Dépôts", c.CDCClientID)
	}
	if utf8.RuneCountInString(c.CDCContractID) > 20 {
		return c, fmt.Errorf("CERTAPI_CDC_CONTRACT_ID: %q is longer than the 20 characters of a contract id", c.CDCContractID)
	}
	if (c.BootstrapAdminEmail == "") != (c.BootstrapAdminPassword == "") {
		return c, fmt.Errorf("CERTAPI_BOOTSTRAP_ADMIN_EMAIL and CERTAPI_BOOTSTRAP_ADMIN_PASSWORD go together")
	}
	return c, nil
}

// Embedded reports whether the service runs on the embedded SQLite.
func (c Config) Embedded() bool {
	return c.DatabaseURL == "" || strings.HasPrefix(c.DatabaseURL, "sqlite:") || strings.HasPrefix(c.DatabaseURL, "file:")
}

// StoreOptions says how to open the database.
func (c Config) StoreOptions() store.Options {
	return store.Options{URL: c.DatabaseURL, DataDir: c.DataDir}
}

// SigningKey returns the configured token key or, on the embedded default, the key
// generated on first start and kept in the data folder, so that tokens survive a restart.
func (c Config) SigningKey() ([]byte, error) {
	if len(c.JWTKey) > 0 {
		return c.JWTKey, nil
	}
	if !c.Embedded() {
		return nil, fmt.Errorf("CERTAPI_JWT_KEY is required with MySQL: every instance must sign with the same key")
	}
	path := filepath.Join(c.DataDir, "token.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s: not a base64 key of 32 bytes or more", path)
		}
		return key, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, err
	}
	key := auth.NewKey()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keep the generated token key: %w", err)
	}
	return key, nil
}

// String prints the configuration with its secrets masked.
func (c Config) String() string {
	db := "embedded SQLite in " + c.DataDir
	if !c.Embedded() {
		db = maskURL(c.DatabaseURL)
	}
	key := "generated"
	if len(c.JWTKey) > 0 {
		key = "***"
	}
	admin := "none"
	if c.BootstrapAdminEmail != "" {
		admin = c.BootstrapAdminEmail + " (password ***)"
	}
	return fmt.Sprintf("addr=%s public_url=%s database=%s migrate=%t jwt_key=%s token_ttl=%s bootstrap_admin=%s body_limit=%s cors=%v log_level=%s webhook_allow_private=%t",
		c.Addr, c.PublicURL, db, c.Migrate, key, c.TokenTTL, admin, c.BodyLimit, c.CORSOrigins, c.LogLevel, c.WebhookAllowPrivate)
}

// maskURL hides the password of a DSN or URL.
func maskURL(u string) string {
	at := strings.LastIndex(u, "@")
	if at < 0 {
		return u
	}
	head := u[:at]
	colon := strings.LastIndex(head, ":")
	if colon < 0 || strings.HasPrefix(head[colon+1:], "//") {
		return u
	}
	return head[:colon+1] + "***" + u[at:]
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
