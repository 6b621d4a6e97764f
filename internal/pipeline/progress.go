package pipeline

import (
	"fmt"
	"sync"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/iostreams"
)

// progress reports a change to many tokens while it runs. It is safe for
// concurrent use by the workers of one run.
type progress interface {
	// Add counts n more tokens finished, failed of them failed, and the
	// rate budget the last answer announced.
	Add(n, failed int, budget client.RateLimit)
	// Wait says the run pauses d for the rate budget to refill.
	Wait(d time.Duration)
	// Finish ends the report.
	Finish()
}

// NewProgress returns the report of a run acting on total tokens: a
// status line on stderr when stderr is a terminal (in JSON modes a
// {"Level":"progress",…} object per step), else only a line when the run
// pauses for the rate budget, since a silent pause in a CI log looks like a
// hang.
func NewProgress(io *iostreams.IOStreams, msgs *iostreams.Messages, action client.Action, total int) progress {
	if !io.IsStderrTTY() {
		return quietProgress{msgs}
	}
	return &termProgress{m: msgs, action: string(action), total: total}
}

// quietProgress is the report in a pipe.
type quietProgress struct{ m *iostreams.Messages }

func (quietProgress) Add(int, int, client.RateLimit) {}
func (quietProgress) Finish()                        {}

func (q quietProgress) Wait(d time.Duration) {
	iostreams.Infof(q.m.Writer(iostreams.LevelInfo), "the token's request budget is spent: waiting %s for it to refill (--timeout bounds the wait)", d)
}

// termProgress is the report on a terminal.
type termProgress struct {
	m      *iostreams.Messages
	action string

	mu           sync.Mutex
	total        int
	done, failed int
	budget       client.RateLimit
	waiting      time.Duration
	ended        bool
}

func (p *termProgress) Add(n, failed int, budget client.RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.failed += failed
	if budget.Limit > 0 {
		p.budget = budget
	}
	p.waiting = 0
	p.show()
}

func (p *termProgress) Wait(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting = d
	p.show()
}

func (p *termProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	if !p.m.JSON() {
		p.m.SetStatus("")
	}
}

// show draws the current state. The caller holds mu.
func (p *termProgress) show() {
	if p.ended {
		return
	}
	if p.m.JSON() {
		v := struct {
			Action      string
			Done, Total int
			Failed      int
			RateLimit   *client.RateLimit `json:",omitempty"`
			WaitSeconds int               `json:",omitempty"`
		}{Action: p.action, Done: p.done, Total: p.total, Failed: p.failed}
		if p.budget.Limit > 0 {
			v.RateLimit = &p.budget
		}
		if p.waiting > 0 {
			v.WaitSeconds = int(p.waiting.Round(time.Second) / time.Second)
		}
		p.m.WriteObject(iostreams.LevelProgress, v)
		return
	}
	line := fmt.Sprintf("%s: %d of %d done", p.action, p.done, p.total)
	if p.failed > 0 {
		line += fmt.Sprintf(", %d failed", p.failed)
	}
	if p.budget.Limit > 0 {
		line += fmt.Sprintf(" · rate budget %d of %d left", p.budget.Remaining, p.budget.Limit)
	}
	if p.waiting > 0 {
		line += fmt.Sprintf(" · waiting %s for it to refill", p.waiting.Round(time.Second))
	}
	p.m.SetStatus(line)
}
