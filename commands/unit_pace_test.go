package commands

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
)

// fakeClock is time that moves only when a wait asks it to: After records
// the wait, moves the clock past it and fires at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func newTestPacer() (*pacer, *fakeClock, *bytes.Buffer) {
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	// Workers report waits concurrently, as they do to the progress line.
	return newPacer(clk, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&out, "waiting %s\n", d)
	}), clk, &out
}

// budget is the rate limit an answer arriving after d carries.
func budget(clk *fakeClock, d time.Duration, limit, remaining, reset int) client.RateLimit {
	return client.RateLimit{Limit: limit, Remaining: remaining, Reset: reset, At: clk.Now().Add(d)}
}

func TestPaceUnknownBudgetDoesNotWait(t *testing.T) {
	p, clk, _ := newTestPacer()
	for range 10 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if w := clk.recorded(); len(w) != 0 {
		t.Errorf("waited %v for a budget never announced", w)
	}
}

func TestPaceWaitsForTheRefill(t *testing.T) {
	p, clk, out := newTestPacer()
	p.note(budget(clk, 0, 100, 0, 30))
	clk.now = clk.now.Add(9500 * time.Millisecond)
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 20.5 s were left: the wait is counted in whole seconds, up.
	if w := clk.recorded(); len(w) != 1 || w[0] != 21*time.Second {
		t.Errorf("waits %v, want one of 21s", w)
	}
	if !strings.Contains(out.String(), "waiting 21s\n") {
		t.Errorf("stderr: %q", out)
	}
	// After the refill the next requests go at once.
	for range 5 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if w := clk.recorded(); len(w) != 1 {
		t.Errorf("waits %v after the refill", w)
	}
}

func TestPaceRefusesAWaitOverAnHour(t *testing.T) {
	p, clk, _ := newTestPacer()
	p.note(budget(clk, 0, 1000, 0, 2*3600))
	err := p.wait(context.Background())
	if checkExit(t, err, ExitRateLimited) && !strings.Contains(err.Error(), "(in 2h0m0s), more than an hour away") {
		t.Errorf("err = %v", err)
	}
	if w := clk.recorded(); len(w) != 0 {
		t.Errorf("waited %v", w)
	}
}

func TestPaceCountsRequestsInFlight(t *testing.T) {
	// Two units left and four workers: two go, the others wait for the
	// answers instead of spending requests on 429s.
	p, clk, _ := newTestPacer()
	p.note(budget(clk, 0, 100, 2, 60))
	for range 2 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	started := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.wait(context.Background()); err != nil {
				t.Error(err)
			}
			started <- struct{}{}
		}()
	}
	select {
	case <-started:
		t.Fatal("a third request went out with two units left and two in flight")
	case <-time.After(50 * time.Millisecond):
	}
	// The answers, the newer one last: the budget is spent, refilling 50 s
	// after the newer one arrived.
	p.done(budget(clk, time.Second, 100, 1, 59))
	select {
	case <-started:
		t.Fatal("a request went out with none left and one in flight")
	case <-time.After(50 * time.Millisecond):
	}
	p.done(budget(clk, 2*time.Second, 100, 0, 50))
	wg.Wait()
	w := clk.recorded()
	if len(w) == 0 {
		t.Fatal("no wait for the refill")
	}
	for _, d := range w {
		if d != 52*time.Second {
			t.Errorf("waits %v, want 52s each: the refill the newest answer announced", w)
		}
	}
}

func TestPaceKeepsTheNewestAnswer(t *testing.T) {
	p, clk, _ := newTestPacer()
	p.note(budget(clk, 2*time.Second, 100, 0, 30))
	// An older answer, arriving late, says there was budget left: it is
	// not the newest view.
	p.note(budget(clk, time.Second, 100, 50, 31))
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := clk.recorded(); len(w) != 1 || w[0] != 32*time.Second {
		t.Errorf("waits %v, want one of 32s (30 s from the newest answer, 2 s ahead of the clock)", w)
	}
}

func TestPaceStopsWithTheContext(t *testing.T) {
	p, clk, _ := newTestPacer()
	p.note(budget(clk, 0, 100, 1, 60))
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A request is in flight and none left: the wait ends with ctx.
	if err := p.wait(ctx); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestBudgetWithinReach(t *testing.T) {
	for _, tt := range []struct {
		rl   client.RateLimit
		code int
	}{
		{client.RateLimit{}, 0},
		{client.RateLimit{Limit: 10, Remaining: 3, Reset: 99999}, 0},
		{client.RateLimit{Limit: 10, Remaining: 0, Reset: 3600}, 0},
		{client.RateLimit{Limit: 10, Remaining: 0, Reset: 3601}, ExitRateLimited},
	} {
		checkExit(t, budgetWithinReach(tt.rl), tt.code)
	}
}
