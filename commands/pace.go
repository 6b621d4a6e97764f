package commands

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/impactcom/impactctl/client"
)

// clock is time as the pacer sees it; tests give it a fake one.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// maxBudgetWait is the longest a command waits for the rate budget to
// refill. A server announcing a longer wait (or a Reset misread by a broken
// server) gets exit 8 saying when, rather than a job asleep for days.
const maxBudgetWait = time.Hour

// budgetWithinReach refuses, with exit 8, a budget that is spent and refills
// more than maxBudgetWait from now: the change could not be made anyway.
func budgetWithinReach(rl client.RateLimit) error {
	if rl.Limit == 0 || rl.Remaining > 0 || rl.Reset <= 0 {
		return nil
	}
	return waitWithinReach(time.Duration(rl.Reset)*time.Second, time.Now())
}

func waitWithinReach(wait time.Duration, now time.Time) error {
	if wait <= maxBudgetWait {
		return nil
	}
	at := now.Add(wait).UTC().Format(time.RFC3339)
	return &ExitError{Code: ExitRateLimited, Err: fmt.Errorf("the token's request budget is spent and refills at %s (in %s), more than an hour away: try again then; nothing more was sent", at, wait)}
}

// pacer shares the token's request budget among concurrent bulk workers:
// one view of it, updated by every answer, from which every wait is
// computed. A worker takes a unit before it sends. While the view says none
// is left, it waits for a request in flight to bring a newer view, or, with
// none in flight, for the budget to refill — rather than spending requests
// on 429s. A budget never announced is not paced.
type pacer struct {
	clock clock
	// waiting says a worker pauses d for the budget to refill.
	waiting func(d time.Duration)

	mu    sync.Mutex
	known bool
	limit int
	// remaining counts the requests in flight as spent: the answer it
	// came from may not have counted them yet.
	remaining int
	resetAt   time.Time
	// seen is when the answer the view comes from arrived: an older one,
	// or the same one read again, changes nothing.
	seen     time.Time
	inflight int
	// changed is closed, and replaced, whenever the view changes.
	changed chan struct{}
}

func newPacer(c clock, waiting func(time.Duration)) *pacer {
	return &pacer{clock: c, waiting: waiting, changed: make(chan struct{})}
}

// note takes in the budget an answer carried.
func (p *pacer) note(rl client.RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noteLocked(rl)
}

func (p *pacer) noteLocked(rl client.RateLimit) {
	if rl.Limit == 0 || (p.known && !rl.At.After(p.seen)) {
		return
	}
	p.known, p.seen, p.limit = true, rl.At, rl.Limit
	p.remaining = rl.Remaining - p.inflight
	p.resetAt = rl.At.Add(time.Duration(rl.Reset) * time.Second)
	p.signal()
}

func (p *pacer) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// done ends a request taken with wait, taking in the budget its answer
// carried (the zero RateLimit when there was no answer).
func (p *pacer) done(rl client.RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	p.noteLocked(rl)
	p.signal()
}

// wait takes a unit of the budget for one request, waiting until there is
// one. A refill more than maxBudgetWait away is refused with exit 8.
func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := p.clock.Now()
		if p.known && p.remaining <= 0 && !now.Before(p.resetAt) {
			// The window ended: the budget refilled.
			p.remaining = p.limit - p.inflight
		}
		if !p.known || p.remaining > 0 {
			p.remaining--
			p.inflight++
			p.mu.Unlock()
			return nil
		}
		if p.inflight > 0 {
			// An answer on its way brings a newer view.
			changed := p.changed
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-changed:
			}
			continue
		}
		wait := ceilSecond(p.resetAt.Sub(now))
		p.mu.Unlock()
		if err := waitWithinReach(wait, now); err != nil {
			return err
		}
		p.waiting(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.clock.After(wait):
		}
	}
}

// ceilSecond rounds d up to a whole second, as a budget's Reset counts.
func ceilSecond(d time.Duration) time.Duration {
	if r := d % time.Second; r > 0 {
		return d - r + time.Second
	}
	return d
}
