// Command certload measures certapi against the floor its own stack allows.
//
//	certload seed  --database URL --candidates N    bulk-load a synthetic dataset
//	certload floor --database URL --addr :8081      serve the raw floor
//	certload run   --target URL --floor URL         measure both, side by side
//	certload statements --database URL              what a registration's SQL costs a local MySQL server
//
// The floor is net/http and database/sql answering the same queries as certapi
// with the same JSON (and one durable INSERT for a registration), on the same
// database: what certapi costs beyond it is what its routing, authentication,
// validation, rules, audit and idempotency cost. The run alternates certapi and
// the floor on each scenario and prints throughput and latency as ratios, so
// that a noisy machine moves both together. scripts/perf.sh drives the three.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "certload:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "seed":
		return seed(ctx, args[1:])
	case "floor":
		return serveFloor(ctx, args[1:])
	case "run":
		return measure(ctx, args[1:])
	case "statements":
		return statements(ctx, args[1:], os.Stdout)
	case "-h", "--help", "help":
		_ = usage()
		return flag.ErrHelp
	}
	return usage()
}

func usage() error {
	fmt.Fprintln(os.Stderr, `usage: certload seed|floor|run|statements [flags]   (certload <command> --help for its flags)`)
	return errors.New("no such command")
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
