package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// Counter keeps fixed-window counts per key: a token's request budget or a client
// address's failed authentications. The in-memory limiter serves one process; pgWindows
// keeps the windows in PostgreSQL, so every replica spends from one budget.
type Counter interface {
	Enabled() bool
	// Take spends one request of key's budget; ok is false when none was left.
	Take(ctx context.Context, key string) (b Budget, ok bool, err error)
	// Peek reports key's budget without spending any.
	Peek(ctx context.Context, key string) (Budget, error)
	// Add counts one event against key.
	Add(ctx context.Context, key string) error
	// Exhausted reports whether key has used its whole budget in the current window.
	Exhausted(ctx context.Context, key string) (Budget, bool, error)
}

// The scopes of the counters a server keeps.
const (
	ScopeTokenBudget  = "token"     // requests per token SID
	ScopeAuthFailures = "auth_fail" // failed authentications per client address
)

// Memory keeps rate's windows in this process's memory: the counter of a server
// that shares its store with no other (SQLite).
func Memory(rate Rate, now func() time.Time) Counter {
	return memoryCounter{newLimiter(rate, now)}
}

// memoryCounter adapts the in-process limiter to Counter.
type memoryCounter struct{ l *limiter }

func (m memoryCounter) Enabled() bool { return m.l.Enabled() }

func (m memoryCounter) Take(_ context.Context, key string) (Budget, bool, error) {
	b, ok := m.l.Take(key)
	return b, ok, nil
}

func (m memoryCounter) Peek(_ context.Context, key string) (Budget, error) { return m.l.Peek(key), nil }

func (m memoryCounter) Add(_ context.Context, key string) error {
	m.l.Add(key)
	return nil
}

func (m memoryCounter) Exhausted(_ context.Context, key string) (Budget, bool, error) {
	b, over := m.l.Exhausted(key)
	return b, over, nil
}

// pgWindows keeps fixed windows in PostgreSQL's rate_windows table, one row per
// (scope, key). Each take is one atomic upsert: a window that has ended restarts at
// now with a count of 1, a live one counts up; the count returned says whether the
// request fitted. Refused requests count too, which changes nothing: the window is
// spent either way and restarts on time.
type pgWindows struct {
	db    *sql.DB
	scope string // ScopeTokenBudget or ScopeAuthFailures
	rate  Rate
	now   func() time.Time

	lastSweep atomic.Int64 // Unix milliseconds of the last delete of ended windows
}

func NewPGWindows(db *sql.DB, scope string, rate Rate, now func() time.Time) *pgWindows {
	return &pgWindows{db: db, scope: scope, rate: rate, now: now}
}

func (p *pgWindows) Enabled() bool { return p != nil && p.rate.N > 0 && p.rate.Per > 0 }

func (p *pgWindows) budgetOf(start, count int64, now time.Time) Budget {
	rem := int64(p.rate.N) - count
	if rem < 0 {
		rem = 0
	}
	reset := time.UnixMilli(start).Add(p.rate.Per).Sub(now)
	if reset < 0 {
		reset = 0
	}
	return Budget{Limit: p.rate.N, Remaining: int(rem), Reset: reset}
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

func (p *pgWindows) Take(ctx context.Context, key string) (Budget, bool, error) {
	now := p.now()
	start, count, err := p.upsert(ctx, key, now)
	if err != nil {
		return Budget{}, false, err
	}
	return p.budgetOf(start, count, now), count <= int64(p.rate.N), nil
}

func (p *pgWindows) Add(ctx context.Context, key string) error {
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

func (p *pgWindows) Peek(ctx context.Context, key string) (Budget, error) {
	now := p.now()
	start, count, err := p.current(ctx, key, now)
	if err != nil {
		return Budget{}, err
	}
	return p.budgetOf(start, count, now), nil
}

func (p *pgWindows) Exhausted(ctx context.Context, key string) (Budget, bool, error) {
	now := p.now()
	start, count, err := p.current(ctx, key, now)
	if err != nil {
		return Budget{}, false, err
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
