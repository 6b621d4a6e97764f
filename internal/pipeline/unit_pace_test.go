package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline/pipelinetest"
)

func newTestPacer() (*Pacer, *pipelinetest.FakeClock, *bytes.Buffer) {
	clk := pipelinetest.NewFakeClock(time.Unix(1_800_000_000, 0))
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	// Workers report waits concurrently, as they do to the progress line.
	return NewPacer(clk, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&out, "waiting %s\n", d)
	}), clk, &out
}

// budget is the rate limit an answer arriving after d carries.
func budget(clk *pipelinetest.FakeClock, d time.Duration, limit, remaining, reset int) client.RateLimit {
	return client.RateLimit{Limit: limit, Remaining: remaining, Reset: reset, At: clk.Now().Add(d)}
}

// take is one unit of p's budget; it fails the test when wait does.
func take(t *testing.T, p *Pacer) Ticket {
	t.Helper()
	tk, err := p.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// blocked reports whether a wait for a unit is still blocked after a while
// of real time, with the goroutine left to take its unit on got.
func blocked(t *testing.T, p *Pacer, got chan Ticket) bool {
	t.Helper()
	go func() {
		tk, err := p.Wait(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- tk
	}()
	select {
	case tk := <-got:
		got <- tk
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

func TestPaceUnknownBudgetDoesNotWait(t *testing.T) {
	p, clk, _ := newTestPacer()
	for range 10 {
		take(t, p)
	}
	if w := clk.Recorded(); len(w) != 0 {
		t.Errorf("waited %v for a budget never announced", w)
	}
}

func TestPaceWaitsForTheRefill(t *testing.T) {
	p, clk, out := newTestPacer()
	p.Note(budget(clk, 0, 100, 0, 30))
	clk.Advance(9500 * time.Millisecond)
	take(t, p)
	// 20.5 s were left: the wait is counted in whole seconds, up.
	if w := clk.Recorded(); len(w) != 1 || w[0] != 21*time.Second {
		t.Errorf("waits %v, want one of 21s", w)
	}
	if out.String() != "waiting 21s\n" {
		t.Errorf("waits reported: %q", out)
	}
	// After the refill the next requests go at once.
	for range 5 {
		take(t, p)
	}
	if w := clk.Recorded(); len(w) != 1 {
		t.Errorf("waits %v after the refill", w)
	}
}

func TestPaceRefusesAWaitOverAnHour(t *testing.T) {
	p, clk, _ := newTestPacer()
	p.Note(budget(clk, 0, 1000, 0, 2*3600))
	_, err := p.Wait(context.Background())
	if cmdutiltest.CheckExit(t, err, cmdutil.ExitRateLimited) && !strings.Contains(err.Error(), "(in 2h0m0s), more than an hour away") {
		t.Errorf("err = %v", err)
	}
	if w := clk.Recorded(); len(w) != 0 {
		t.Errorf("waited %v", w)
	}
}

func TestPaceCountsRequestsInFlight(t *testing.T) {
	// Two units left and four workers: two go, the others wait for the
	// answers instead of spending requests on 429s.
	p, clk, out := newTestPacer()
	p.Note(budget(clk, 0, 100, 2, 60))
	a, b := take(t, p), take(t, p)
	got := make(chan Ticket, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := p.Wait(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- tk
		}()
	}
	select {
	case <-got:
		t.Fatal("a third request went out with two units left and two in flight")
	case <-time.After(50 * time.Millisecond):
	}
	p.Done(a, budget(clk, time.Second, 100, 1, 59))
	select {
	case <-got:
		t.Fatal("a request went out with none left and one in flight")
	case <-time.After(50 * time.Millisecond):
	}
	// The budget is spent, refilling 58 s after the newer answer arrived.
	p.Done(b, budget(clk, 2*time.Second, 100, 0, 58))
	wg.Wait()
	w := clk.Recorded()
	if len(w) == 0 {
		t.Fatal("no wait for the refill")
	}
	for _, d := range w {
		if d != 60*time.Second {
			t.Errorf("waits %v, want 60s each: the refill the answers announced", w)
		}
	}
	if out.String() != "waiting 1m0s\n" {
		t.Errorf("waits reported: %q, want the workers' one wait reported once", out)
	}
}

func TestPaceKeepsTheFewestUnitsLeft(t *testing.T) {
	// Answers arrive in any order: the one counted later (fewer left)
	// may come first. An answer saying more were left is older news.
	p, clk, _ := newTestPacer()
	p.Note(budget(clk, 0, 10, 3, 30))
	a, b, c := take(t, p), take(t, p), take(t, p)
	p.Done(b, budget(clk, time.Second, 10, 1, 29))
	p.Done(a, budget(clk, 2*time.Second, 10, 2, 29))
	got := make(chan Ticket, 1)
	if !blocked(t, p, got) {
		t.Fatal("a request went out with one unit left and one in flight")
	}
	p.Done(c, budget(clk, 3*time.Second, 10, 0, 28))
	<-got
	if w := clk.Recorded(); len(w) != 1 || w[0] != 31*time.Second {
		t.Errorf("waits %v, want one of 31s", w)
	}
}

func TestPaceIgnoresAnswersFromAnEndedWindow(t *testing.T) {
	// A request sent just before the window ended is answered after the
	// next one began: its spent budget is the old window's.
	p, clk, _ := newTestPacer()
	p.Note(budget(clk, 0, 10, 2, 2))
	late := take(t, p)
	clk.Advance(2 * time.Second)
	fresh := take(t, p) // the window ended: the budget refilled
	if late.Window == fresh.Window {
		t.Fatal("no new window after the reset")
	}
	p.Done(fresh, budget(clk, 100*time.Millisecond, 10, 9, 60))
	p.Done(late, budget(clk, 200*time.Millisecond, 10, 0, 1))
	for range 9 {
		take(t, p)
	}
	if w := clk.Recorded(); len(w) != 0 {
		t.Errorf("waited %v: the old window's answer was taken for the new one's", w)
	}
	got := make(chan Ticket, 1)
	if !blocked(t, p, got) {
		t.Fatal("an eleventh request went out in a window of ten")
	}
}

func TestPaceFollowsAWindowThatBeganEarly(t *testing.T) {
	// The server's window ended before the view expected (its Reset was
	// rounded up): an answer counted in the next one starts a new view.
	p, clk, _ := newTestPacer()
	p.Note(budget(clk, 0, 10, 5, 30))
	tk := take(t, p)
	p.Done(tk, budget(clk, time.Second, 10, 9, 60))
	for range 8 {
		take(t, p)
	}
	if w := clk.Recorded(); len(w) != 0 {
		t.Errorf("waited %v with the new window's units left", w)
	}
}

func TestPaceWaitsOutA429(t *testing.T) {
	// The view said a unit was left; the server refused (another client
	// spends the same budget). Nothing is sent before its Retry-After.
	p, clk, out := newTestPacer()
	p.Note(budget(clk, 0, 10, 5, 40))
	tk := take(t, p)
	p.Refused(tk, budget(clk, time.Second, 10, 0, 45), 45*time.Second)
	take(t, p)
	if w := clk.Recorded(); len(w) != 1 || w[0] != 46*time.Second {
		t.Errorf("waits %v, want one of 46s", w)
	}
	if out.String() != "waiting 46s\n" {
		t.Errorf("waits reported: %q", out)
	}
}

func TestPaceWaitsOutA429WithoutBudget(t *testing.T) {
	p, clk, _ := newTestPacer()
	tk := take(t, p)
	p.Refused(tk, client.RateLimit{}, 7*time.Second)
	take(t, p)
	tk = take(t, p)
	// A refusal naming no time at all holds the requests for a second.
	p.Refused(tk, client.RateLimit{}, 0)
	take(t, p)
	if w := clk.Recorded(); len(w) != 2 || w[0] != 7*time.Second || w[1] != time.Second {
		t.Errorf("waits %v, want 7s then 1s", w)
	}
}

func TestPaceRefusesA429OverAnHour(t *testing.T) {
	p, clk, _ := newTestPacer()
	tk := take(t, p)
	p.Refused(tk, client.RateLimit{}, 3*time.Hour)
	_, err := p.Wait(context.Background())
	cmdutiltest.CheckExit(t, err, cmdutil.ExitRateLimited)
	if w := clk.Recorded(); len(w) != 0 {
		t.Errorf("waited %v", w)
	}
}

// Each refill is well within an hour, but a run that would wait through
// window after window stops once its waits reach an hour in all: exit 8,
// saying when the budget refills, for every worker after.
func TestPaceWaitsAnHourInAllAtMost(t *testing.T) {
	p, clk, _ := newTestPacer()
	p.Budget = client.NewWaitBudget(MaxBudgetWait)
	for i := range 3 {
		// Spent, refilling in 25 minutes: two waits fit in an hour, not three.
		p.Note(budget(clk, 0, 10, 0, 25*60))
		tk, err := p.Wait(context.Background())
		if i < 2 {
			if err != nil {
				t.Fatalf("wait %d: %v", i+1, err)
			}
			p.Done(tk, client.RateLimit{})
			continue
		}
		if cmdutiltest.CheckExit(t, err, cmdutil.ExitRateLimited) && !strings.Contains(err.Error(), "waited an hour in all") ||
			!strings.Contains(err.Error(), "(in 25m0s)") {
			t.Errorf("err = %v", err)
		}
	}
	if w := clk.Recorded(); len(w) != 2 || w[0]+w[1] != 50*time.Minute {
		t.Errorf("waits %v, want two of 25m", w)
	}
	// Every later request is refused at once, without waiting.
	if _, err := p.Wait(context.Background()); !cmdutiltest.CheckExit(t, err, cmdutil.ExitRateLimited) {
		t.Error("a later wait went on")
	}
}

func TestPaceStopsWithTheContext(t *testing.T) {
	p, clk, _ := newTestPacer()
	p.Note(budget(clk, 0, 100, 1, 60))
	take(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A request is in flight and none left: the wait ends with ctx.
	if _, err := p.Wait(ctx); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// refusal is a 429 with Retry-After, carrying a spent budget of 10 when
// the clock is given.
func refusal(clk *pipelinetest.FakeClock, retryAfter time.Duration) (client.RateLimit, error) {
	var rl client.RateLimit
	if clk != nil {
		rl = client.RateLimit{Limit: 10, Remaining: 0, Reset: int(retryAfter / time.Second), At: clk.Now()}
	}
	return rl, &client.APIError{StatusCode: 429, Code: "rate_limited", Message: "budget spent", RetryAfter: retryAfter}
}

func listTokens(api *pipelinetest.FakeAPI) []*client.Token {
	var toks []*client.Token
	for tok := range api.Tokens(context.Background(), client.TokenListOptions{}) {
		toks = append(toks, tok)
	}
	return toks
}

func TestBulkWaitsOutA429AndSendsTheSameRequestAgain(t *testing.T) {
	for _, key := range []string{"", "job"} {
		t.Run("key="+key, func(t *testing.T) {
			api := pipelinetest.NewFakeAPI(250, client.StateEnabled)
			r, _, errOut := newTestRun(t, api, true)
			clk := r.Clock.(*pipelinetest.FakeClock)
			// The first request to arrive is refused for 40 s, beyond the
			// 30 s a single request would wait; the others go through.
			api.BulkBudget = func(n int) (client.RateLimit, error) {
				if n == 0 {
					return refusal(clk, 40*time.Second)
				}
				return client.RateLimit{Limit: 10, Remaining: 9 - n, Reset: 60, At: clk.Now()}, nil
			}
			toks := listTokens(api)
			got := r.Apply(context.Background(), client.ActionDisable, toks, key, 4)
			if len(got) != 250 || Failures(got) != 0 {
				t.Fatalf("%d results, %d failed: want 250 done", len(got), Failures(got))
			}
			if len(api.Bulks) != 4 {
				t.Fatalf("%d bulk calls, want 4: three requests and the refused one again", len(api.Bulks))
			}
			// The refused request went again, the same SIDs with the same key;
			// every other request has its own key.
			var again int
			for i := 1; i < 4; i++ {
				if api.BulkKeys[i] == api.BulkKeys[0] {
					again = i
				}
			}
			if again == 0 || strings.Join(api.Bulks[again], ",") != strings.Join(api.Bulks[0], ",") {
				t.Errorf("keys %q: the refused request was not sent again with its key", api.BulkKeys)
			}
			keys := map[string]bool{}
			for _, k := range api.BulkKeys {
				keys[k] = true
				if key != "" && !strings.HasPrefix(k, key+"-") {
					t.Errorf("key %q is not from the run's key %q", k, key)
				}
			}
			if len(keys) != 3 {
				t.Errorf("keys %q: want one per request", api.BulkKeys)
			}
			if w := clk.Recorded(); len(w) == 0 || w[0] != 40*time.Second {
				t.Errorf("waits %v, want 40s first", w)
			}
			if n := strings.Count(errOut.String(), "waiting 40s for it to refill"); n != 1 {
				t.Errorf("the wait reported %d times, want once:\n%s", n, errOut)
			}
		})
	}
}

func TestBulkGivesUpOnAServerThatKeepsRefusing(t *testing.T) {
	api := pipelinetest.NewFakeAPI(2, client.StateEnabled)
	r, _, _ := newTestRun(t, api, true)
	api.BulkBudget = func(int) (client.RateLimit, error) { return refusal(nil, time.Second) }
	got := r.Apply(context.Background(), client.ActionDisable, listTokens(api), "", 4)
	if len(api.Bulks) != MaxRefusals {
		t.Errorf("%d bulk calls, want %d", len(api.Bulks), MaxRefusals)
	}
	for _, res := range got {
		if res.Status != "ERROR" || res.StatusCode != 429 {
			t.Errorf("%+v: want failed with the 429", res)
		}
	}
}

func TestBulk429OverAnHourIsNotWaited(t *testing.T) {
	api := pipelinetest.NewFakeAPI(2, client.StateEnabled)
	r, _, _ := newTestRun(t, api, true)
	clk := r.Clock.(*pipelinetest.FakeClock)
	api.BulkBudget = func(int) (client.RateLimit, error) { return refusal(clk, 2*time.Hour) }
	got := r.Apply(context.Background(), client.ActionDisable, listTokens(api), "", 4)
	if len(api.Bulks) != 1 {
		t.Errorf("%d bulk calls, want 1", len(api.Bulks))
	}
	for _, res := range got {
		if res.Status != "ERROR" || !cmdutiltest.CheckExit(t, res.Err, cmdutil.ExitRateLimited) {
			t.Errorf("%+v: want failed with exit 8", res)
		}
	}
	if w := clk.Recorded(); len(w) != 0 {
		t.Errorf("waited %v", w)
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
		{client.RateLimit{Limit: 10, Remaining: 0, Reset: 3601}, cmdutil.ExitRateLimited},
	} {
		cmdutiltest.CheckExit(t, BudgetWithinReach(tt.rl), tt.code)
	}
}
