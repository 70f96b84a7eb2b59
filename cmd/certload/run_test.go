package main

import (
	"testing"
	"time"
)

// A round's row is the round of median throughput ratio, whole: its p99 and CPU
// figures were measured with it. The spread lists every round's figure.
func TestMedianRound(t *testing.T) {
	// rounds builds rounds of certapi's requests against the floor's 100, in 1 s
	// each, with p99s of 2 ms against 1 ms.
	rounds := func(certapi ...int) []round {
		rs := make([]round, len(certapi))
		for i, n := range certapi {
			rs[i] = round{a: result{requests: n, elapsed: time.Second, p99: 2 * time.Millisecond},
				b: result{requests: 100, elapsed: time.Second, p99: time.Millisecond}}
		}
		return rs
	}
	for _, c := range []struct {
		name    string
		certapi []int
		median  int
		spread  string
	}{
		{"one round", []int{40}, 0, "0.40"},
		{"odd count", []int{50, 30, 40}, 2, "0.30 0.40 0.50"},
		{"even count: the lower middle", []int{60, 30, 50, 40}, 3, "0.30 0.40 0.50 0.60"},
		{"ties keep their order", []int{40, 40, 40}, 1, "0.40 0.40 0.40"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs := rounds(c.certapi...)
			if got := medianRound(rs); got != c.median {
				t.Errorf("medianRound = %d, want %d", got, c.median)
			}
			if got := spread(rs, round.ratio); got != c.spread {
				t.Errorf("spread of ratios = %q, want %q", got, c.spread)
			}
			if got := spread(rs[:1], round.p99Ratio); got != "2.00" {
				t.Errorf("spread of p99 ratios = %q, want 2.00", got)
			}
		})
	}
}
