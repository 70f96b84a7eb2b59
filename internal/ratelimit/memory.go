package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory keeps counts in the process: for limits that protect one instance (the
// general limit per caller), where a database write per request would cost more
// than what it protects. Several instances each count on their own.
type Memory struct {
	mu     sync.Mutex
	counts map[string]memoryCount
}

type memoryCount struct {
	start, expires time.Time
	n              int
}

// NewMemory returns an empty in-process counter.
func NewMemory() *Memory { return &Memory{counts: map[string]memoryCount{}} }

// Count implements Counter.
func (m *Memory) Count(_ context.Context, key string, start, expires time.Time, n int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts[key]
	if !c.start.Equal(start) {
		c = memoryCount{start: start, expires: expires}
	}
	c.n += n
	m.counts[key] = c
	return c.n, nil
}

// PurgeCounts implements Counter.
func (m *Memory) PurgeCounts(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, c := range m.counts {
		if c.expires.Before(before) {
			delete(m.counts, k)
			n++
		}
	}
	return n, nil
}
