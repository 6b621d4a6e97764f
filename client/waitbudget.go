package client

import (
	"sync"
	"time"
)

// WaitBudget is the time one command may spend, in all, waiting for a
// token's request budget to refill: each wait is short enough, but a long
// run could otherwise sleep through window after window. The requests of
// one command share it; the zero of a nil *WaitBudget is no bound.
type WaitBudget struct {
	mu   sync.Mutex
	left time.Duration
}

// NewWaitBudget returns a budget of total.
func NewWaitBudget(total time.Duration) *WaitBudget { return &WaitBudget{left: total} }

// Take spends d of the budget; it reports false, spending nothing, when
// less than d is left.
func (b *WaitBudget) Take(d time.Duration) bool {
	if b == nil || d <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if d > b.left {
		return false
	}
	b.left -= d
	return true
}
