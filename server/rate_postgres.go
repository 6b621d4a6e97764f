package server

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// counter keeps fixed-window counts per key: a token's request budget or a client
// address's failed authentications. The in-memory limiter serves one process; pgWindows
// keeps the windows in PostgreSQL, so every replica spends from one budget.
type counter interface {
	enabled() bool
	// take spends one request of key's budget; ok is false when none was left.
	take(ctx context.Context, key string) (b budget, ok bool, err error)
	// peek reports key's budget without spending any.
	peek(ctx context.Context, key string) (budget, error)
	// add counts one event against key.
	add(ctx context.Context, key string) error
	// exhausted reports whether key has used its whole budget in the current window.
	exhausted(ctx context.Context, key string) (budget, bool, error)
}

// The scopes of the counters a server keeps.
const (
	scopeTokenBudget  = "token"     // requests per token SID
	scopeAuthFailures = "auth_fail" // failed authentications per client address
)

// newCounter keeps scope's windows where every server on st sees them: in the
// database when st is shared by replicas (PostgreSQL), else in this process's memory.
func newCounter(st Store, scope string, rate Rate) counter {
	if shared, ok := st.(sharedCounters); ok {
		return shared.counter(scope, rate)
	}
	return memoryCounter{newLimiter(rate, st.Env().now)}
}

// sharedCounters is a Store that keeps counters every server on it shares.
type sharedCounters interface {
	counter(scope string, rate Rate) counter
}

// memoryCounter adapts the in-process limiter to counter.
type memoryCounter struct{ l *limiter }

func (m memoryCounter) enabled() bool { return m.l.enabled() }

func (m memoryCounter) take(_ context.Context, key string) (budget, bool, error) {
	b, ok := m.l.take(key)
	return b, ok, nil
}

func (m memoryCounter) peek(_ context.Context, key string) (budget, error) { return m.l.peek(key), nil }

func (m memoryCounter) add(_ context.Context, key string) error {
	m.l.add(key)
	return nil
}

func (m memoryCounter) exhausted(_ context.Context, key string) (budget, bool, error) {
	b, over := m.l.exhausted(key)
	return b, over, nil
}

// pgWindows keeps fixed windows in PostgreSQL's rate_windows table, one row per
// (scope, key). Each take is one atomic upsert: a window that has ended restarts at
// now with a count of 1, a live one counts up; the count returned says whether the
// request fitted. Refused requests count too, which changes nothing: the window is
// spent either way and restarts on time.
type pgWindows struct {
	db    *sql.DB
	scope string // scopeTokenBudget or scopeAuthFailures
	rate  Rate
	now   func() time.Time

	lastSweep atomic.Int64 // Unix milliseconds of the last delete of ended windows
}

func newPGWindows(db *sql.DB, scope string, rate Rate, now func() time.Time) *pgWindows {
	return &pgWindows{db: db, scope: scope, rate: rate, now: now}
}

func (p *pgWindows) enabled() bool { return p != nil && p.rate.N > 0 && p.rate.Per > 0 }

func (p *pgWindows) budgetOf(start, count int64, now time.Time) budget {
	rem := int64(p.rate.N) - count
	if rem < 0 {
		rem = 0
	}
	reset := time.UnixMilli(start).Add(p.rate.Per).Sub(now)
	if reset < 0 {
		reset = 0
	}
	return budget{Limit: p.rate.N, Remaining: int(rem), Reset: reset}
}

// upsert counts one event against key and answers the window after it.
func (p *pgWindows) upsert(ctx context.Context, key string, now time.Time) (start, count int64, err error) {
	p.sweep(ctx, now)
	err = p.db.QueryRowContext(ctx, `INSERT INTO rate_windows AS w (scope, key, window_start, count)
		VALUES ($1, $2, $3, 1)
		ON CONFLICT (scope, key) DO UPDATE SET
			window_start = CASE WHEN w.window_start + $4 <= $3 THEN $3 ELSE w.window_start END,
			count        = CASE WHEN w.window_start + $4 <= $3 THEN 1 ELSE w.count + 1 END
		RETURNING window_start, count`,
		p.scope, key, now.UnixMilli(), p.rate.Per.Milliseconds()).Scan(&start, &count)
	if err != nil {
		return 0, 0, fmt.Errorf("rate window %s: %w", p.scope, err)
	}
	return start, count, nil
}

func (p *pgWindows) take(ctx context.Context, key string) (budget, bool, error) {
	now := p.now()
	start, count, err := p.upsert(ctx, key, now)
	if err != nil {
		return budget{}, false, err
	}
	return p.budgetOf(start, count, now), count <= int64(p.rate.N), nil
}

func (p *pgWindows) add(ctx context.Context, key string) error {
	_, _, err := p.upsert(ctx, key, p.now())
	return err
}

// current reads key's live window without changing it; none (or an ended one) is a
// fresh window starting now.
func (p *pgWindows) current(ctx context.Context, key string, now time.Time) (start, count int64, err error) {
	err = p.db.QueryRowContext(ctx, `SELECT coalesce(max(window_start), 0), coalesce(max(count), 0)
		FROM rate_windows WHERE scope = $1 AND key = $2 AND window_start + $3 > $4`,
		p.scope, key, p.rate.Per.Milliseconds(), now.UnixMilli()).Scan(&start, &count)
	if err != nil {
		return 0, 0, fmt.Errorf("rate window %s: %w", p.scope, err)
	}
	if count == 0 {
		start = now.UnixMilli()
	}
	return start, count, nil
}

func (p *pgWindows) peek(ctx context.Context, key string) (budget, error) {
	now := p.now()
	start, count, err := p.current(ctx, key, now)
	if err != nil {
		return budget{}, err
	}
	return p.budgetOf(start, count, now), nil
}

func (p *pgWindows) exhausted(ctx context.Context, key string) (budget, bool, error) {
	now := p.now()
	start, count, err := p.current(ctx, key, now)
	if err != nil {
		return budget{}, false, err
	}
	return p.budgetOf(start, count, now), count >= int64(p.rate.N), nil
}

// sweep deletes this scope's ended windows, at most once a minute per process, so the
// table holds about one row per key active in the last window.
func (p *pgWindows) sweep(ctx context.Context, now time.Time) {
	last := p.lastSweep.Load()
	ms := now.UnixMilli()
	if ms-last < time.Minute.Milliseconds() || !p.lastSweep.CompareAndSwap(last, ms) {
		return
	}
	// Best effort: a failed sweep leaves rows that the next one removes.
	p.db.ExecContext(ctx, `DELETE FROM rate_windows WHERE scope = $1 AND window_start + $2 <= $3`,
		p.scope, p.rate.Per.Milliseconds(), ms)
}
