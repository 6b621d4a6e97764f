package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

// clock is time as the pacer sees it; tests give it a fake one.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real time.
type SystemClock struct{}

func (SystemClock) Now() time.Time                         { return time.Now() }
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// MaxBudgetWait is the longest a command waits for the rate budget to
// refill, in one wait and in all its waits together. A server announcing a
// longer wait (or a Reset misread by a broken server), or a run that would
// sleep through window after window, gets exit 8 saying when, rather than a
// job asleep for days.
const MaxBudgetWait = time.Hour

// BudgetWithinReach refuses, with exit 8, a budget that is spent and refills
// more than maxBudgetWait from now: the change could not be made anyway.
func BudgetWithinReach(rl client.RateLimit) error {
	if rl.Limit == 0 || rl.Remaining > 0 || rl.Reset <= 0 {
		return nil
	}
	return waitWithinReach(time.Duration(rl.Reset)*time.Second, time.Now())
}

func waitWithinReach(wait time.Duration, now time.Time) error {
	if wait <= MaxBudgetWait {
		return nil
	}
	at := now.Add(wait).UTC().Format(time.RFC3339)
	return &cmdutil.ExitError{Code: cmdutil.ExitRateLimited, Err: fmt.Errorf("the token's request budget is spent and refills at %s (in %s), more than an hour away: try again then; nothing more was sent", at, wait)}
}

// Pacer shares the token's request budget among concurrent bulk workers:
// one view of it, updated by every answer, from which every wait is
// computed. A worker takes a unit (a ticket) before it sends. While the
// view says none is left, it waits for a request in flight to bring a newer
// view, or, with none in flight, for the budget to refill — rather than
// spending requests on 429s. A budget never announced is not paced.
//
// The server counts requests in fixed windows. Answers arrive in any
// order, so the view keeps the fewest units any answer from the current
// window said were left (a later answer may have been counted earlier),
// less the requests in flight (they may be counted already, or soon).
// An answer's Reset tells which window it was counted in: that window ends
// no earlier than the request was sent plus Reset less a second (the server
// rounds Reset up), and no later than the answer arrived plus Reset.
type Pacer struct {
	clock clock
	// waiting says the workers pause d for the budget to refill.
	waiting func(d time.Duration)
	// Budget bounds the waits of the whole command (nil: no bound but
	// maxBudgetWait for each); over is the exit 8 once it ran out.
	Budget *client.WaitBudget

	mu    sync.Mutex
	over  error
	known bool
	limit int
	// left is the fewest units left any answer from the current window
	// announced; the requests in flight come off it.
	left int
	// resetAt is when the current window ends, at the latest; zero when
	// no answer from it has arrived yet.
	resetAt time.Time
	// window numbers the current window; prevReset is when the one
	// before it ended, at the latest.
	window    int
	prevReset time.Time
	// until holds every request back until then: a 429 asked for it.
	until    time.Time
	inflight int
	// announced is the end of the last wait reported, so that the
	// workers waiting for the same refill report it once.
	announced time.Time
	// changed is closed, and replaced, whenever the view changes.
	changed chan struct{}
}

// Ticket is one request's unit of the budget, taken by wait and handed
// back with the request's answer to done or refused.
type Ticket struct {
	Window int
	sent   time.Time
}

func NewPacer(c clock, waiting func(time.Duration)) *Pacer {
	return &Pacer{clock: c, waiting: waiting, changed: make(chan struct{})}
}

// Note takes in the budget an answer before the run carried (the listing
// that found the tokens).
func (p *Pacer) Note(rl client.RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rl.Limit > 0 {
		p.adopt(rl)
	}
}

// adopt makes rl the view of the current window.
func (p *Pacer) adopt(rl client.RateLimit) {
	p.known, p.limit, p.left = true, rl.Limit, rl.Remaining
	p.resetAt = rl.At.Add(time.Duration(rl.Reset) * time.Second)
}

// learn takes in the budget the answer to t's request carried.
func (p *Pacer) learn(t Ticket, rl client.RateLimit) {
	if rl.Limit <= 0 {
		return
	}
	if !p.known {
		p.adopt(rl)
		return
	}
	reset := time.Duration(rl.Reset) * time.Second
	// The window the answer was counted in ends after this.
	after := t.sent.Add(reset - time.Second)
	switch {
	case t.Window < p.window-1, t.Window < p.window && !after.After(p.prevReset):
		// Sent before the current window began and counted in one that
		// has ended: it says nothing of this one.
		return
	case !p.resetAt.IsZero() && after.After(p.resetAt.Add(time.Second)):
		// Counted in a window that began before the view expected it to
		// (the second spares a Reset rounded down).
		p.nextWindow()
		p.adopt(rl)
		return
	}
	p.limit = rl.Limit
	p.left = min(p.left, rl.Remaining)
	if end := rl.At.Add(reset); end.After(p.resetAt) {
		p.resetAt = end
	}
}

// nextWindow begins a new window, the budget full until an answer from it
// says otherwise.
func (p *Pacer) nextWindow() {
	p.window++
	p.prevReset = p.resetAt
	p.left, p.resetAt = p.limit, time.Time{}
}

func (p *Pacer) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Done ends the request t was taken for, taking in the budget its answer
// carried (the zero RateLimit when there was no answer).
func (p *Pacer) Done(t Ticket, rl client.RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if rl.Limit > 0 {
		p.learn(t, rl)
	} else if p.known && t.Window == p.window && !p.resetAt.IsZero() {
		// No answer: the request may have been counted all the same.
		p.left--
	}
	p.signal()
}

// Refused ends the request t was taken for, Refused with 429 because the
// budget was spent: nothing is sent before its Retry-After (a second when
// the answer gave no time at all), and the window it met has no unit left.
func (p *Pacer) Refused(t Ticket, rl client.RateLimit, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	at := rl.At
	if at.IsZero() {
		at = p.clock.Now()
	}
	if rl.Limit > 0 {
		rl.Remaining = 0
		p.learn(t, rl)
	} else if retryAfter <= 0 {
		retryAfter = time.Second
	}
	if until := at.Add(retryAfter); until.After(p.until) {
		p.until = until
	}
	p.signal()
}

// Wait takes a unit of the budget for one request, waiting until there is
// one. A refill more than maxBudgetWait away is refused with exit 8.
func (p *Pacer) Wait(ctx context.Context) (Ticket, error) {
	for {
		p.mu.Lock()
		if p.over != nil {
			p.mu.Unlock()
			return Ticket{}, p.over
		}
		now := p.clock.Now()
		if p.known && !p.resetAt.IsZero() && !now.Before(p.resetAt) {
			// The window ended: the budget refilled.
			p.nextWindow()
		}
		held := now.Before(p.until)
		if !held && (!p.known || p.left-p.inflight > 0) {
			p.inflight++
			t := Ticket{Window: p.window, sent: now}
			p.mu.Unlock()
			return t, nil
		}
		if !held && p.inflight > 0 {
			// An answer on its way brings a newer view.
			changed := p.changed
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return Ticket{}, ctx.Err()
			case <-changed:
			}
			continue
		}
		end := p.until
		if !held {
			end = p.resetAt
		}
		if end.IsZero() {
			// Spent, with no answer from this window to say until when.
			end = now.Add(time.Second)
		}
		wait := ceilSecond(end.Sub(now))
		if err := waitWithinReach(wait, now); err != nil {
			p.mu.Unlock()
			return Ticket{}, err
		}
		announce := end.After(p.announced)
		if announce {
			// Workers waiting for the same refill wait once, together:
			// the first counts it against the command's waits.
			if !p.Budget.Take(wait) {
				at := now.Add(wait).UTC().Format(time.RFC3339)
				p.over = &cmdutil.ExitError{Code: cmdutil.ExitRateLimited, Err: fmt.Errorf("this command has waited an hour in all for the token's request budget to refill, which it next does at %s (in %s): run it again then to finish; nothing more was sent", at, wait)}
				p.mu.Unlock()
				return Ticket{}, p.over
			}
			p.announced = end
		}
		p.mu.Unlock()
		if announce {
			p.waiting(wait)
		}
		select {
		case <-ctx.Done():
			return Ticket{}, ctx.Err()
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
