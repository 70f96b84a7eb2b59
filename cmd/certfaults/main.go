// Command certfaults puts a certapi binary through faults on loopback, under a
// write load, and counts what its clients saw:
//
//	certfaults outage -down CMD -up CMD   the database stops for a while, then comes back
//	certfaults kill                       the service is killed (SIGKILL) and started again
//	certfaults term                       the service is stopped with SIGTERM
//
// The service is configured the way it always is, by the CERTAPI_* environment,
// which certfaults passes on to the process it starts and reads with the
// service's own configuration code, so that it knows the request deadline, the
// shutdown timeout and the database exactly as the service does. The first admin
// (CERTAPI_BOOTSTRAP_ADMIN_EMAIL and _PASSWORD) is the account the load writes
// with.
//
// Each scenario prints its counts and one PASS or FAIL line per bar, and exits 1
// when a bar fails. scripts/faults.sh prepares the databases and runs them all;
// docs/faults.md describes the bars.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/config"
)

const usage = `Usage: certfaults outage|kill|term [flags]

  outage  stop the database under a write load (-down), keep it stopped, start it
          again (-up); every answer while it is down must be a quick 503 problem
          with Retry-After, /readyz 503; then 200 again, no acknowledged write lost
  kill    SIGKILL the service under a write load, start it again on the same data:
          every acknowledged write is there; the keys that were in flight, sent
          again, are neither in progress forever nor create twice
  term    SIGTERM the service under a write load: requests already accepted are
          answered, later ones refused or answered cleanly, and the process exits
          within CERTAPI_SHUTDOWN_TIMEOUT

The service reads its CERTAPI_* environment as usual (certfaults sets only
CERTAPI_ADDR).
`

// options are the flags every scenario shares.
type options struct {
	bin     string
	addr    string
	workers int
	logPath string
	writes  string
	warm    time.Duration
	pause   time.Duration
	cfg     config.Config
}

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	scenario := os.Args[1]
	fs := flag.NewFlagSet(scenario, flag.ExitOnError)
	var o options
	fs.StringVar(&o.bin, "bin", "certapi", "the certapi binary")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "the address the service listens on (port 0: a free one, kept across restarts)")
	fs.IntVar(&o.workers, "workers", 8, "concurrent writers")
	fs.StringVar(&o.logPath, "log", os.DevNull, "file the service's output is appended to")
	fs.StringVar(&o.writes, "writes", "sites",
		"what the load writes: sites (training sites declared) or registrations (candidates registered at a site it declares first)")
	fs.DurationVar(&o.warm, "warm", 2*time.Second, "load before the fault")
	fs.DurationVar(&o.pause, "pause", 100*time.Millisecond,
		"pause of a writer after an answer other than 201 or a failed connection (shorter than Retry-After, to sample the fault densely)")
	var (
		down, up      string
		downFor       time.Duration
		quick         time.Duration
		recoverWithin time.Duration
	)
	if scenario == "outage" {
		fs.StringVar(&down, "down", "", "shell command that stops the database and returns once it is stopped")
		fs.StringVar(&up, "up", "", "shell command that starts the database again")
		fs.DurationVar(&downFor, "down-for", 5*time.Second, "how long the database stays stopped")
		fs.DurationVar(&quick, "quick", time.Second, "slowest acceptable answer while the database is down")
		fs.DurationVar(&recoverWithin, "recover-within", 30*time.Second, "longest acceptable time from the database answering again to a write acknowledged")
	}
	_ = fs.Parse(os.Args[2:])
	if o.writes != "sites" && o.writes != "registrations" {
		fatalf("-writes is sites or registrations")
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fatalf("configuration: %v", err)
	}
	if cfg.BootstrapAdminEmail == "" {
		fatalf("CERTAPI_BOOTSTRAP_ADMIN_EMAIL and _PASSWORD are needed: the load writes as that admin")
	}
	o.cfg = cfg
	if o.addr, err = freeAddr(o.addr); err != nil {
		fatalf("%v", err)
	}

	var b bars
	switch scenario {
	case "outage":
		if down == "" || up == "" {
			fatalf("outage needs -down and -up")
		}
		if cfg.Embedded() {
			fatalf("outage needs a database server: set CERTAPI_DATABASE_URL")
		}
		b = outage(o, down, up, downFor, quick, recoverWithin)
	case "kill":
		b = kill(o)
	case "term":
		b = term(o)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if b.failed > 0 {
		fmt.Printf("   %d bar(s) failed\n", b.failed)
		os.Exit(1)
	}
}

// bars prints each bar a scenario sets, and counts those that fail.
type bars struct{ failed int }

func (b *bars) check(ok bool, format string, args ...any) {
	mark := "PASS"
	if !ok {
		mark = "FAIL"
		b.failed++
	}
	fmt.Printf("   %s %s\n", mark, fmt.Sprintf(format, args...))
}

// freeAddr checks that nothing listens on addr already (another server there would
// answer in the service's place), and turns port 0 into a free port.
func freeAddr(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("the service's address: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "certfaults: "+format+"\n", args...)
	os.Exit(2)
}

// dialect names the database the configuration points at, for the report.
func dialect(cfg config.Config) string {
	if cfg.Embedded() {
		return "SQLite"
	}
	return "MariaDB"
}

func ms(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}
