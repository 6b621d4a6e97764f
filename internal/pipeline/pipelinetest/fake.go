// Package pipelinetest holds fakes for testing the change pipeline and the
// commands built on it: the Token API in memory and a clock that moves only
// when waited on.
package pipelinetest

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/impactcom/impactctl/client"
)

// FakeAPI is the Token API as the change pipeline sees it: tokens in
// memory, every call recorded.
type FakeAPI struct {
	mu    sync.Mutex
	ByID  map[string]*client.Token
	Order []string
	Acts  []string   // "Disable IR… If-Match key"
	Bulks [][]string // the SIDs of each bulk call
	// BulkAnswer, when set, answers a bulk call in place of the tokens.
	BulkAnswer func(sids []string) []client.BulkResult
	// BulkBudget, when set, gives bulk call n (from 0) the rate budget
	// its answer carries, and an error to answer with instead.
	BulkBudget func(n int) (client.RateLimit, error)
	BulkKeys   []string // the Idempotency-Key of each bulk call
	Writes     []string // "PATCH IR… If-Match", "SCOPES a,b IR… If-Match", …
	Rate       client.RateLimit
}

func NewFakeAPI(n int, state client.State) *FakeAPI {
	f := &FakeAPI{ByID: map[string]*client.Token{}}
	for i := range n {
		sid := fmt.Sprintf("IR%032d", i)
		f.ByID[sid] = &client.Token{AccountSid: sid, Name: fmt.Sprintf("token %d", i), State: state, ETag: `"1"`}
		f.Order = append(f.Order, sid)
	}
	return f
}

func (f *FakeAPI) Token(_ context.Context, sid string) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.ByID[sid]; ok {
		c := *t
		return &c, nil
	}
	return nil, &client.APIError{StatusCode: 404, Message: "not found"}
}

func (f *FakeAPI) Tokens(context.Context, client.TokenListOptions) iter.Seq2[*client.Token, error] {
	return func(yield func(*client.Token, error) bool) {
		for _, sid := range f.Order {
			t, _ := f.Token(context.Background(), sid)
			if !yield(t, nil) {
				return
			}
		}
	}
}

func (f *FakeAPI) Act(_ context.Context, a client.Action, sid string, w client.WriteOptions) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Acts = append(f.Acts, fmt.Sprintf("%s %s %s %s", a, sid, w.IfMatch, w.IdempotencyKey))
	t := f.ByID[sid]
	if st, ok := a.State(); ok {
		t.State = st
	}
	c := *t
	return &c, nil
}

func (f *FakeAPI) Bulk(_ context.Context, a client.Action, sids []string, w client.WriteOptions) ([]client.BulkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Bulks = append(f.Bulks, sids)
	f.BulkKeys = append(f.BulkKeys, w.IdempotencyKey)
	if f.BulkBudget != nil {
		rl, err := f.BulkBudget(len(f.Bulks) - 1)
		if w.RateLimit != nil {
			*w.RateLimit = rl
		}
		if err != nil {
			return nil, err
		}
	}
	if f.BulkAnswer != nil {
		return f.BulkAnswer(sids), nil
	}
	var out []client.BulkResult
	for _, sid := range sids {
		t := f.ByID[sid]
		if st, ok := a.State(); ok {
			t.State = st
		}
		c := *t
		out = append(out, client.BulkResult{AccountSid: sid, Status: "OK", StatusCode: 200, ApiToken: &c})
	}
	return out, nil
}

func (f *FakeAPI) LastRateLimit() client.RateLimit { return f.Rate }

func (f *FakeAPI) EndOverlap(_ context.Context, sid string, _ client.WriteOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Acts = append(f.Acts, "EndOverlap "+sid)
	return nil
}

// write records a write to one token ("PATCH IR… If-Match") and changes
// the token in memory; a token it does not hold is a 404.
func (f *FakeAPI) write(what, sid string, w client.WriteOptions, change func(*client.Token)) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Writes = append(f.Writes, fmt.Sprintf("%s %s %s", what, sid, w.IfMatch))
	t, ok := f.ByID[sid]
	if !ok {
		return nil, &client.APIError{StatusCode: 404, Message: "not found"}
	}
	change(t)
	c := *t
	return &c, nil
}

// add records a new token, as a create or a duplicate of from.
func (f *FakeAPI) add(what, from string, req client.TokenCreate) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Writes = append(f.Writes, fmt.Sprintf("%s %s %s", what, from, req.Name))
	sid := fmt.Sprintf("IR%032d", len(f.Order))
	t := &client.Token{AccountSid: sid, Name: req.Name, Description: req.Description, Scopes: req.Scopes,
		DeveloperEmails: req.DeveloperEmails, State: client.StateEnabled, ETag: `"1"`}
	f.ByID[sid] = t
	f.Order = append(f.Order, sid)
	c := *t
	return &c, nil
}

func (f *FakeAPI) CreateToken(_ context.Context, req client.TokenCreate, _ client.WriteOptions) (*client.Token, error) {
	return f.add("CREATE", "", req)
}

func (f *FakeAPI) DuplicateToken(_ context.Context, sid string, req client.TokenCreate, _ client.WriteOptions) (*client.Token, error) {
	return f.add("DUPLICATE", sid, req)
}

func (f *FakeAPI) UpdateToken(_ context.Context, sid string, u client.TokenUpdate, w client.WriteOptions) (*client.Token, error) {
	return f.write("PATCH", sid, w, func(t *client.Token) {
		if u.Name != nil {
			t.Name = *u.Name
		}
		if u.Description != nil {
			t.Description = *u.Description
		}
		if u.ApiVersion != nil {
			t.ApiVersion = *u.ApiVersion
		}
	})
}

func (f *FakeAPI) SetScopes(_ context.Context, sid string, scopes []string, w client.WriteOptions) (*client.Token, error) {
	return f.write("SCOPES "+strings.Join(scopes, ","), sid, w, func(t *client.Token) { t.Scopes = slices.Clone(scopes) })
}

func (f *FakeAPI) ClearScopes(_ context.Context, sid string, w client.WriteOptions) (*client.Token, error) {
	return f.write("CLEAR-SCOPES", sid, w, func(t *client.Token) { t.Scopes = nil })
}

func (f *FakeAPI) SetDeveloperEmails(_ context.Context, sid string, emails []string, w client.WriteOptions) (*client.Token, error) {
	return f.write("EMAILS "+strings.Join(emails, ","), sid, w, func(t *client.Token) { t.DeveloperEmails = slices.Clone(emails) })
}

// FakeClock is time that moves only when a wait asks it to: After records
// the wait, moves the clock past it and fires at once.
type FakeClock struct {
	mu    sync.Mutex
	now   time.Time
	Waits []time.Duration
}

func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Waits = append(c.Waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *FakeClock) Recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.Waits...)
}

// NewFakeClock returns a FakeClock standing at now.
func NewFakeClock(now time.Time) *FakeClock { return &FakeClock{now: now} }

// Advance moves the clock d forward without a wait.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
