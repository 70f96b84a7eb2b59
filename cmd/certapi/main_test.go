package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/config"
	"github.com/apformation/certapi/internal/contracttest"
	"github.com/apformation/certapi/internal/store"
	"github.com/apformation/certapi/internal/testdb"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Vars {
		if !strings.Contains(out.String(), v.Name) {
			t.Errorf("--help does not list %s", v.Name)
		}
	}
	for _, cmd := range []string{"serve", "migrate"} {
		out.Reset()
		err := run(context.Background(), []string{cmd, "--help"}, envOf(nil), &out, io.Discard)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "Usage: certapi "+cmd) {
			t.Errorf("%s --help: %v, %q", cmd, err, out.String())
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), io.Discard, io.Discard); err == nil {
		t.Error("an unknown command is accepted")
	}
}

func TestMigrateCommand(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			env := envOf(map[string]string{"CERTAPI_DATABASE_URL": testdb.URL(t, d)})
			migrate := func(action string) string {
				t.Helper()
				var out bytes.Buffer
				if err := run(context.Background(), []string{"migrate", action}, env, &out, io.Discard); err != nil {
					t.Fatalf("migrate %s: %v", action, err)
				}
				return out.String()
			}
			if got := migrate("status"); !strings.Contains(got, "00001  pending") {
				t.Fatalf("status before: %q", got)
			}
			up := strings.Fields(migrate("up"))
			if len(up) < 4 || up[0] != "applied" || up[1] != "00001" {
				t.Fatalf("up: %v", up)
			}
			latest := up[len(up)-1]
			if got := migrate("up"); got != "already up to date\n" {
				t.Fatalf("second up: %q", got)
			}
			if got := migrate("status"); !strings.Contains(got, latest+"  applied") {
				t.Fatalf("status after up: %q", got)
			}
			if got := migrate("down"); got != "rolled back "+latest+"\n" {
				t.Fatalf("down: %q", got)
			}
			if got := migrate("status"); !strings.Contains(got, latest+"  pending") || !strings.Contains(got, "00001  applied") {
				t.Fatalf("status after down: %q", got)
			}
			if got := migrate("up"); got != "applied "+latest+"\n" {
				t.Fatalf("up again: %q", got)
			}
			if err := run(context.Background(), []string{"migrate", "sideways"}, env, io.Discard, io.Discard); err == nil {
				t.Fatal("an unknown action is accepted")
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveUntil starts serve, waits until it is ready, runs fn, then stops it the way
// SIGTERM does and checks that it shut down cleanly.
func serveUntil(t *testing.T, env map[string]string, fn func(base string)) {
	t.Helper()
	env["CERTAPI_ADDR"] = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), io.Discard, io.Discard) }()
	base := "http://" + env["CERTAPI_ADDR"]
	ready := false
	for i := 0; i < 100 && !ready; i++ {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if c, err := net.Dial("tcp", env["CERTAPI_ADDR"]); err == nil {
			c.Close()
			code, _ := call(t, "GET", base+"/readyz", "", "", "")
			ready = code == http.StatusOK
		}
	}
	if !ready {
		cancel()
		t.Fatal("serve never became ready")
	}
	fn(base)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func call(t *testing.T, method, u, bearer, contentType, body string) (int, map[string]any) {
	t.Helper()
	r, _ := http.NewRequest(method, u, strings.NewReader(body))
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := contracttest.Check(method, r.URL.RequestURI(), res.StatusCode, res.Header, raw); err != nil {
		t.Fatalf("%s %s: the %d response does not match openapi.yaml: %v", method, r.URL.Path, res.StatusCode, err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m
}

// TestMain lets a test start the service as a process of its own (this binary, with
// CERTAPI_TEST_SERVE set), which it can then kill for real.
func TestMain(m *testing.M) {
	if os.Getenv("CERTAPI_TEST_SERVE") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child starts the service as a process on env and waits until it is ready.
func child(t *testing.T, env map[string]string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CERTAPI_TEST_SERVE=1", "CERTAPI_LOG_LEVEL=error")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + env["CERTAPI_ADDR"]
	for range 200 {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return cmd, base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the service never became ready")
	return nil, ""
}

// A crash loses nothing acknowledged: writes run on several connections, the
// process is killed (SIGKILL, not a clean close) while they run, and after a
// restart every write that was answered 201 is there, and tokens still work. On
// both databases.
func TestServeSurvivesKill9(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			env := map[string]string{"CERTAPI_BOOTSTRAP_ADMIN_EMAIL": "admin@example.org", "CERTAPI_BOOTSTRAP_ADMIN_PASSWORD": "a-long-enough-password"}
			if d == store.SQLite {
				env["CERTAPI_DATA_DIR"] = t.TempDir()
			} else {
				env["CERTAPI_DATABASE_URL"], env["CERTAPI_JWT_KEY"], env["CERTAPI_MIGRATE"] = testdb.URL(t, d), strings.Repeat("k", 32), "true"
			}
			env["CERTAPI_ADDR"] = freeAddr(t)
			cmd, base := child(t, env)
			code, tok := call(t, "POST", base+"/v1/auth/token", "", "application/x-www-form-urlencoded",
				url.Values{"grant_type": {"password"}, "username": {"admin@example.org"}, "password": {"a-long-enough-password"}}.Encode())
			if code != http.StatusOK {
				t.Fatalf("token: %d %v", code, tok)
			}
			token := tok["access_token"].(string)

			var (
				mu    sync.Mutex
				acked []string
				wg    sync.WaitGroup
			)
			client := &http.Client{Timeout: 10 * time.Second}
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						body := fmt.Sprintf(`{"name":"Site %d-%d","address":{"line1":"1 rue","postal_code":"31000","city":"Toulouse","country_code":"FR"},"roles":["preparation"],"certification_codes":["RNCP26206"]}`, w, i)
						r, _ := http.NewRequest("POST", base+"/v1/training-sites", strings.NewReader(body))
						r.Header.Set("Authorization", "Bearer "+token)
						r.Header.Set("Content-Type", "application/json")
						res, err := client.Do(r)
						if err != nil {
							return // the process is gone
						}
						var site map[string]any
						err = json.NewDecoder(res.Body).Decode(&site)
						res.Body.Close()
						if err == nil && res.StatusCode == http.StatusCreated {
							mu.Lock()
							acked = append(acked, site["id"].(string))
							mu.Unlock()
						}
					}
				}()
			}
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 30 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			wg.Wait()

			_, base = child(t, env)
			for _, id := range acked {
				if code, site := call(t, "GET", base+"/v1/training-sites/"+id, token, "", ""); code != http.StatusOK {
					t.Fatalf("acknowledged before the crash, gone after: %s (%d %v)", id, code, site)
				}
			}
			t.Logf("%d acknowledged writes, all present after kill -9", len(acked))
		})
	}
}

// MySQL is migrated only when asked: a schema behind the binary stops serve.
func TestServeOnMySQLMigratesOnlyWhenTold(t *testing.T) {
	dsn := testdb.URL(t, store.MySQL)
	env := map[string]string{"CERTAPI_DATABASE_URL": dsn, "CERTAPI_JWT_KEY": strings.Repeat("k", 32), "CERTAPI_ADDR": freeAddr(t)}
	err := run(context.Background(), []string{"serve"}, envOf(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "migrate up") {
		t.Fatalf("serve on an unmigrated MySQL: %v", err)
	}
	env["CERTAPI_MIGRATE"] = "true"
	serveUntil(t, env, func(base string) {
		code, _ := call(t, "GET", base+"/v1/certifications", "", "", "")
		if code != http.StatusUnauthorized {
			t.Fatalf("GET /v1/certifications without a token: %d", code)
		}
	})
}

// The container's HEALTHCHECK: ready is exit 0, anything else an error naming why.
func TestHealthcheck(t *testing.T) {
	var status = http.StatusOK
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	var out bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck"}, envOf(map[string]string{"CERTAPI_ADDR": ":" + port}), &out, io.Discard); err != nil || out.String() != "ready\n" {
		t.Fatalf("ready service: %v %q", err, out.String())
	}
	status = http.StatusServiceUnavailable
	if err := run(context.Background(), []string{"healthcheck"}, envOf(map[string]string{"CERTAPI_ADDR": "0.0.0.0:" + port}), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("unready service: %v", err)
	}
	_ = srv.Close()
	if err := run(context.Background(), []string{"healthcheck", "--url", "http://" + ln.Addr().String() + "/readyz", "--timeout", "1s"}, envOf(nil), io.Discard, io.Discard); err == nil {
		t.Error("a service that is down is ready")
	}
}

// The service sets the collector's defaults, and leaves alone those that the
// runtime's own variables set.
func TestGCDefaultsYieldToTheEnvironment(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	for _, c := range []struct {
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{env: nil, wantPercent: defaultGCPercent, wantLimit: defaultMemoryLimit},
		{env: map[string]string{"GOGC": "100"}, wantPercent: 100, wantLimit: defaultMemoryLimit},
		{env: map[string]string{"GOMEMLIMIT": "1GiB"}, wantPercent: defaultGCPercent, wantLimit: math.MaxInt64},
		{env: map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}, wantPercent: 100, wantLimit: math.MaxInt64},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		gcDefaults(envOf(c.env))
		if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != c.wantPercent || l != c.wantLimit {
			t.Errorf("with %v: GOGC %d, limit %d; want %d, %d", c.env, p, l, c.wantPercent, c.wantLimit)
		}
	}
}
