package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLeaseSize(t *testing.T) {
	for _, c := range []struct{ n, want int }{{1, 1}, {99, 1}, {250, 2}, {1000, 10}, {5000, 10}, {1000000000, 10}} {
		if got := LeaseSize(Rate{N: c.n, Per: time.Hour}); got != c.want {
			t.Errorf("LeaseSize(%d/h) = %d, want %d", c.n, got, c.want)
		}
	}
}

// Past 10,000 tokens a replica forgets the ones whose window has ended, never one a
// request is using.
func TestRateLeaseEntriesSwept(t *testing.T) {
	clock := &testClock{t: testEpoch}
	p := NewPGLeases(nil, Rate{N: 1000, Per: time.Minute}, clock.Now)
	held := p.entry("IRheld", clock.Now())
	kept := p.entry("IRkept", clock.Now())
	kept.start = clock.Now().UnixMilli() // a live window
	p.release(kept)
	for i := range 10000 {
		p.entries[fmt.Sprintf("IRended%d", i)] = &leaseEntry{start: clock.Now().UnixMilli()}
	}
	clock.Advance(time.Hour)
	kept.start = clock.Now().UnixMilli()
	p.release(p.entry("IRnew", clock.Now()))
	if len(p.entries) != 3 || p.entries["IRheld"] != held || p.entries["IRkept"] != kept || p.entries["IRnew"] == nil {
		t.Fatalf("after the sweep: %d entries", len(p.entries))
	}
	p.release(held)
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
