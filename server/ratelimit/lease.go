package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// maxLease is the most units of a token's window a replica takes at once.
const maxLease = 10

// LeaseSize is how many units a replica takes from the shared window at a time: 1% of
// the limit, at least 1 and at most maxLease.
func LeaseSize(r Rate) int {
	return max(1, min(r.N/100, maxLease))
}

// pgLeases counts token budgets in PostgreSQL's rate_windows in leases: a replica
// takes a few units of a token's window at a time (one upsert) and spends them in
// memory, so a request costs a database write once per lease instead of once per
// request. The database grants a unit only while the window has one left, so the
// replicas together never spend more than the limit; units a replica holds unspent
// (a lease's worth, more while many requests of one token arrive at once) lapse with
// the window, so another replica may refuse while they are held. A single server
// spends every unit it is granted before it refuses, so its budget is exact.
//
// Only the budget is leased: whether a token exists, is enabled or may call is read
// for every request, so a revocation is refused on the next request.
type pgLeases struct {
	w    *pgWindows
	size int

	mu      sync.Mutex
	entries map[string]*leaseEntry
}

// leaseEntry is what one replica holds of one key's window. Its lock is never held
// across a database call: requests for one token that find no units take leases at
// the same time, rather than queue behind one.
type leaseEntry struct {
	mu      sync.Mutex
	start   int64 // the window's start (Unix ms) the units belong to
	count   int64 // the window's count after the latest lease this replica saw, at most the limit
	unspent int64 // units leased and not yet spent
	users   int   // requests holding the entry; guarded by pgLeases.mu, not mu
	// inflight counts this replica's leases not yet answered; landed is
	// signalled (on mu) as each one lands, so a request is refused only when no
	// unit is held or on its way.
	inflight int
	landed   *sync.Cond
}

func NewPGLeases(db *sql.DB, rate Rate, now func() time.Time) *pgLeases {
	return &pgLeases{w: NewPGWindows(db, ScopeTokenBudget, rate, now), size: LeaseSize(rate),
		entries: map[string]*leaseEntry{}}
}

func (p *pgLeases) Enabled() bool { return p != nil && p.w.Enabled() }

// entry finds key's entry, kept until the caller calls release: a sweep of ended
// windows leaves it be.
func (p *pgLeases) entry(key string, now time.Time) *leaseEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entries[key]
	if e == nil {
		if len(p.entries) > 10000 {
			per := p.w.rate.Per.Milliseconds()
			for k, old := range p.entries {
				if old.mu.TryLock() {
					if old.users == 0 && old.start+per <= now.UnixMilli() {
						delete(p.entries, k)
					}
					old.mu.Unlock()
				}
			}
		}
		e = &leaseEntry{}
		p.entries[key] = e
	}
	e.users++
	return e
}

func (p *pgLeases) release(e *leaseEntry) {
	p.mu.Lock()
	e.users--
	p.mu.Unlock()
}

// budgetOf reports what this replica knows is left of e's window: the units no replica
// had leased at its last lease, plus its own unspent ones. The caller holds e.mu.
func (p *pgLeases) budgetOf(e *leaseEntry, now time.Time) Budget {
	b := p.w.budgetOf(e.start, e.count, now)
	b.Remaining += int(e.unspent)
	return b
}

func (p *pgLeases) Take(ctx context.Context, key string) (Budget, bool, error) {
	now := p.w.now()
	per := p.w.rate.Per.Milliseconds()
	e := p.entry(key, now)
	defer p.release(e)
	e.mu.Lock()
	if e.start+per <= now.UnixMilli() {
		e.unspent = 0 // the window the units belonged to has ended
	}
	if e.unspent > 0 {
		e.unspent--
		b := p.budgetOf(e, now)
		e.mu.Unlock()
		return b, true, nil
	}
	e.inflight++
	e.mu.Unlock()

	start, count, err := p.w.lease(ctx, key, now, int64(p.size))

	e.mu.Lock()
	defer e.mu.Unlock()
	e.inflight--
	if e.landed == nil {
		e.landed = sync.NewCond(&e.mu)
	}
	defer e.landed.Broadcast()
	if err != nil {
		return Budget{}, false, err
	}
	// The units this lease got: those from the window's count before it (count - size)
	// up to the limit.
	granted := min(int64(p.size), max(0, int64(p.w.rate.N)-(count-int64(p.size))))
	switch {
	case start > e.start: // the first lease seen in a new window
		e.start, e.count, e.unspent = start, 0, 0
	case start < e.start: // a window another lease has seen end: only this request's unit counts
		if granted > 0 {
			return p.budgetOf(e, now), true, nil
		}
		return p.budgetOf(e, now), false, nil
	}
	e.count = max(e.count, min(count, int64(p.w.rate.N)))
	e.unspent += granted
	// Units another lease brought in meanwhile serve this request too, so a single
	// server refuses only once every unit it was granted is spent: a lease still
	// on its way may bring some.
	for e.unspent == 0 && e.inflight > 0 && e.start == start {
		e.landed.Wait()
	}
	if e.unspent == 0 || e.start != start {
		return p.budgetOf(e, now), false, nil
	}
	e.unspent--
	return p.budgetOf(e, now), true, nil
}

func (p *pgLeases) Peek(ctx context.Context, key string) (Budget, error) {
	now := p.w.now()
	b, err := p.w.Peek(ctx, key)
	if err != nil {
		return Budget{}, err
	}
	e := p.entry(key, now)
	defer p.release(e)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.start+p.w.rate.Per.Milliseconds() > now.UnixMilli() && e.unspent > 0 {
		b.Remaining = min(b.Limit, b.Remaining+int(e.unspent))
	}
	return b, nil
}

// Add and exhausted count events exactly, as the windows they lease from do; the
// token budget never calls them.
func (p *pgLeases) Add(ctx context.Context, key string) error { return p.w.Add(ctx, key) }

func (p *pgLeases) Exhausted(ctx context.Context, key string) (Budget, bool, error) {
	return p.w.Exhausted(ctx, key)
}

// lease adds n units to key's window and answers the window after: the units granted
// are those from count-n up to the limit. The count keeps growing past the limit while
// requests are refused, as pgWindows.take's does; that only says the window is spent.
func (p *pgWindows) lease(ctx context.Context, key string, now time.Time, n int64) (start, count int64, err error) {
	p.sweep(ctx, now)
	err = p.db.QueryRowContext(ctx, `INSERT INTO rate_windows AS w (scope, key, window_start, count)
		VALUES ($1, $2, $3, $5)
		ON CONFLICT (scope, key) DO UPDATE SET
			window_start = CASE WHEN w.window_start + $4 <= $3 THEN $3 ELSE w.window_start END,
			count        = CASE WHEN w.window_start + $4 <= $3 THEN $5 ELSE w.count + $5 END
		RETURNING window_start, count`,
		p.scope, key, now.UnixMilli(), p.rate.Per.Milliseconds(), n).Scan(&start, &count)
	if err != nil {
		return 0, 0, fmt.Errorf("rate window %s: %w", p.scope, err)
	}
	return start, count, nil
}
