package server

import (
	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
)

// newCounter keeps scope's windows where every server on st sees them: in the
// database when st is shared by replicas (PostgreSQL), else in this process's memory.
func newCounter(st service.Store, scope string, rate Rate) ratelimit.Counter {
	if shared, ok := st.(sharedCounters); ok {
		return shared.Counter(scope, rate)
	}
	return ratelimit.Memory(rate, st.Env().Now)
}

// sharedCounters is a Store that keeps counters every server on it shares.
type sharedCounters interface {
	Counter(scope string, rate Rate) ratelimit.Counter
}

// Rate is a request budget per window; N == 0 means unlimited.
type Rate = ratelimit.Rate

// ParseRate reads "N", "N/h", "N/m", "N/s" or "N/DURATION" with any positive Go
// duration ("100/10s", "5/1m30s"). A bare number is a budget per hour; "0" turns
// the limit off.
func ParseRate(s string) (Rate, error) { return ratelimit.ParseRate(s) }
