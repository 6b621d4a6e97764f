package httpapi

import (
	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
)

// newCounter keeps scope's windows where every server on st sees them: in the
// database when st is shared by replicas (PostgreSQL), else in this process's memory.
func newCounter(st service.Store, env *service.Env, scope string, rate ratelimit.Rate) ratelimit.Counter {
	if shared, ok := st.(sharedCounters); ok {
		return shared.Counter(scope, rate)
	}
	return ratelimit.Memory(rate, env.Now)
}

// sharedCounters is a Store that keeps counters every server on it shares.
type sharedCounters interface {
	Counter(scope string, rate ratelimit.Rate) ratelimit.Counter
}
