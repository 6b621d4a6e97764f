// Package ratelimit keeps fixed-window counts per key: each token's request budget and
// each client address's failed authentications, in memory for a single server, or in
// PostgreSQL (shared windows, and leases of a few units for budgets) for replicas.
package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is a request budget per window; N == 0 means unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// String formats the rate the way ParseRate reads it, e.g. "1000/h".
func (r Rate) String() string {
	if r.N == 0 {
		return "0"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.N)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.N)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.N)
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// ParseRate reads "N", "N/h", "N/m", "N/s" or "N/DURATION" with any positive Go
// duration ("100/10s", "5/1m30s"). A bare number is a budget per hour, the unit of
// impact.com's published limit; "0" turns the limit off.
func ParseRate(s string) (Rate, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return Rate{}, fmt.Errorf("rate %q: want N, N/h, N/m, N/s or N/DURATION with N a whole number >= 0", s)
	}
	per := time.Hour
	if hasUnit {
		switch unit = strings.TrimSpace(unit); unit {
		case "h", "hour":
			per = time.Hour
		case "m", "min", "minute":
			per = time.Minute
		case "s", "sec", "second":
			per = time.Second
		default:
			d, err := time.ParseDuration(unit)
			if err != nil || d < time.Second {
				return Rate{}, fmt.Errorf("rate %q: the window must be h, m, s or a duration of at least 1s such as 10s", s)
			}
			per = d
		}
	}
	return Rate{N: n, Per: per}, nil
}

// limiter keeps a fixed window per key (a token SID or a client address).
type limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	count int
}

// Budget is what the X-RateLimit-* headers report.
type Budget struct {
	Limit     int
	Remaining int
	Reset     time.Duration
}

func newLimiter(rate Rate, now func() time.Time) *limiter {
	return &limiter{rate: rate, now: now, windows: map[string]*window{}}
}

func (l *limiter) Enabled() bool { return l != nil && l.rate.N > 0 && l.rate.Per > 0 }

// current returns the live window for key, starting a new one when the old has ended.
// The caller holds l.mu.
func (l *limiter) current(key string, now time.Time) *window {
	w := l.windows[key]
	if w == nil || !now.Before(w.start.Add(l.rate.Per)) {
		if len(l.windows) > 10000 {
			l.sweep(now)
		}
		w = &window{start: now}
		l.windows[key] = w
	}
	return w
}

func (l *limiter) sweep(now time.Time) {
	for k, w := range l.windows {
		if !now.Before(w.start.Add(l.rate.Per)) {
			delete(l.windows, k)
		}
	}
}

func (l *limiter) budgetOf(w *window, now time.Time) Budget {
	rem := l.rate.N - w.count
	if rem < 0 {
		rem = 0
	}
	reset := w.start.Add(l.rate.Per).Sub(now)
	if reset < 0 {
		reset = 0
	}
	return Budget{Limit: l.rate.N, Remaining: rem, Reset: reset}
}

// Take spends one request of key's budget; ok is false when none was left.
func (l *limiter) Take(key string) (Budget, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	if w.count >= l.rate.N {
		return l.budgetOf(w, now), false
	}
	w.count++
	return l.budgetOf(w, now), true
}

// Peek reports key's budget without spending any.
func (l *limiter) Peek(key string) Budget {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.budgetOf(l.current(key, now), now)
}

// Add counts one event against key (a failed authentication).
func (l *limiter) Add(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.current(key, now).count++
}

// Exhausted reports whether key has used its whole budget in the current window.
func (l *limiter) Exhausted(key string) (Budget, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	return l.budgetOf(w, now), w.count >= l.rate.N
}

// seconds rounds a wait up to whole seconds, at least 1, for Retry-After and X-RateLimit-Reset.
func Seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
