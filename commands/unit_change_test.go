package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// fakeAPI is the Token API as the change pipeline sees it: tokens in
// memory, every call recorded.
type fakeAPI struct {
	mu     sync.Mutex
	tokens map[string]*client.Token
	order  []string
	acts   []string   // "Disable IR… If-Match key"
	bulks  [][]string // the SIDs of each bulk call
	// bulkAnswer, when set, answers a bulk call in place of the tokens.
	bulkAnswer func(sids []string) []client.BulkResult
	// bulkBudget, when set, gives bulk call n (from 0) the rate budget
	// its answer carries, and an error to answer with instead.
	bulkBudget func(n int) (client.RateLimit, error)
	bulkKeys   []string // the Idempotency-Key of each bulk call
	writes     []string // "PATCH IR… If-Match", "SCOPES a,b IR… If-Match", …
	rate       client.RateLimit
}

func newFakeAPI(n int, state client.State) *fakeAPI {
	f := &fakeAPI{tokens: map[string]*client.Token{}}
	for i := range n {
		sid := fmt.Sprintf("IR%032d", i)
		f.tokens[sid] = &client.Token{AccountSid: sid, Name: fmt.Sprintf("token %d", i), State: state, ETag: `"1"`}
		f.order = append(f.order, sid)
	}
	return f
}

func (f *fakeAPI) Token(_ context.Context, sid string) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tokens[sid]; ok {
		c := *t
		return &c, nil
	}
	return nil, &client.APIError{StatusCode: 404, Message: "not found"}
}

func (f *fakeAPI) Tokens(context.Context, client.TokenListOptions) iter.Seq2[*client.Token, error] {
	return func(yield func(*client.Token, error) bool) {
		for _, sid := range f.order {
			t, _ := f.Token(context.Background(), sid)
			if !yield(t, nil) {
				return
			}
		}
	}
}

func (f *fakeAPI) Act(_ context.Context, a client.Action, sid string, w client.WriteOptions) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, fmt.Sprintf("%s %s %s %s", a, sid, w.IfMatch, w.IdempotencyKey))
	t := f.tokens[sid]
	if st, ok := a.State(); ok {
		t.State = st
	}
	c := *t
	return &c, nil
}

func (f *fakeAPI) Bulk(_ context.Context, a client.Action, sids []string, w client.WriteOptions) ([]client.BulkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bulks = append(f.bulks, sids)
	f.bulkKeys = append(f.bulkKeys, w.IdempotencyKey)
	if f.bulkBudget != nil {
		rl, err := f.bulkBudget(len(f.bulks) - 1)
		if w.RateLimit != nil {
			*w.RateLimit = rl
		}
		if err != nil {
			return nil, err
		}
	}
	if f.bulkAnswer != nil {
		return f.bulkAnswer(sids), nil
	}
	var out []client.BulkResult
	for _, sid := range sids {
		t := f.tokens[sid]
		if st, ok := a.State(); ok {
			t.State = st
		}
		c := *t
		out = append(out, client.BulkResult{AccountSid: sid, Status: "OK", StatusCode: 200, ApiToken: &c})
	}
	return out, nil
}

func (f *fakeAPI) LastRateLimit() client.RateLimit { return f.rate }

func (f *fakeAPI) EndOverlap(_ context.Context, sid string, _ client.WriteOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, "EndOverlap "+sid)
	return nil
}

// write records a write to one token ("PATCH IR… If-Match") and changes
// the token in memory; a token it does not hold is a 404.
func (f *fakeAPI) write(what, sid string, w client.WriteOptions, change func(*client.Token)) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, fmt.Sprintf("%s %s %s", what, sid, w.IfMatch))
	t, ok := f.tokens[sid]
	if !ok {
		return nil, &client.APIError{StatusCode: 404, Message: "not found"}
	}
	change(t)
	c := *t
	return &c, nil
}

// add records a new token, as a create or a duplicate of from.
func (f *fakeAPI) add(what, from string, req client.TokenCreate) (*client.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, fmt.Sprintf("%s %s %s", what, from, req.Name))
	sid := fmt.Sprintf("IR%032d", len(f.order))
	t := &client.Token{AccountSid: sid, Name: req.Name, Description: req.Description, Scopes: req.Scopes,
		DeveloperEmails: req.DeveloperEmails, State: client.StateEnabled, ETag: `"1"`}
	f.tokens[sid] = t
	f.order = append(f.order, sid)
	c := *t
	return &c, nil
}

func (f *fakeAPI) CreateToken(_ context.Context, req client.TokenCreate, _ client.WriteOptions) (*client.Token, error) {
	return f.add("CREATE", "", req)
}

func (f *fakeAPI) DuplicateToken(_ context.Context, sid string, req client.TokenCreate, _ client.WriteOptions) (*client.Token, error) {
	return f.add("DUPLICATE", sid, req)
}

func (f *fakeAPI) UpdateToken(_ context.Context, sid string, u client.TokenUpdate, w client.WriteOptions) (*client.Token, error) {
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

func (f *fakeAPI) SetScopes(_ context.Context, sid string, scopes []string, w client.WriteOptions) (*client.Token, error) {
	return f.write("SCOPES "+strings.Join(scopes, ","), sid, w, func(t *client.Token) { t.Scopes = slices.Clone(scopes) })
}

func (f *fakeAPI) ClearScopes(_ context.Context, sid string, w client.WriteOptions) (*client.Token, error) {
	return f.write("CLEAR-SCOPES", sid, w, func(t *client.Token) { t.Scopes = nil })
}

func (f *fakeAPI) SetDeveloperEmails(_ context.Context, sid string, emails []string, w client.WriteOptions) (*client.Token, error) {
	return f.write("EMAILS "+strings.Join(emails, ","), sid, w, func(t *client.Token) { t.DeveloperEmails = slices.Clone(emails) })
}

// newTestRun is a change's run over api, in a pipe, with --yes as given.
func newTestRun(t *testing.T, api pipeline.TokenAPI, yes bool) (*pipeline.Run, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	p, err := output.New(out, output.Options{Format: "table"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := iostreams.NewMessages(errOut, func() bool { return false }, false)
	io := iostreams.Streams(strings.NewReader(""), out, msgs.Writer(iostreams.LevelInfo))
	return &pipeline.Run{IO: io, Msgs: msgs, Printer: p, Yes: yes, API: api, Clock: &fakeClock{now: time.Unix(1e9, 0)},
		Now: func() (time.Time, error) { return time.Unix(1e9, 0), nil }}, out, errOut
}

func TestApplyOneTokenOnItsOwnEndpoint(t *testing.T) {
	api := newFakeAPI(1, client.StateEnabled)
	r, _, _ := newTestRun(t, api, true)
	tok, _ := api.Token(context.Background(), api.order[0])
	got := r.Apply(context.Background(), client.ActionDisable, []*client.Token{tok}, "k", 4)
	if len(api.bulks) != 0 || len(api.acts) != 1 || api.acts[0] != "Disable "+tok.AccountSid+` "1" k` {
		t.Errorf("acts %q, bulks %q: want one Disable with the ETag and the key", api.acts, api.bulks)
	}
	if len(got) != 1 || got[0].Status != "OK" || got[0].Message != "disabled" || got[0].AccountSid != tok.AccountSid {
		t.Errorf("results %+v", got)
	}
}

func TestApplyManyInBulkChunks(t *testing.T) {
	api := newFakeAPI(150, client.StateEnabled)
	r, _, _ := newTestRun(t, api, true)
	var toks []*client.Token
	for tok := range api.Tokens(context.Background(), client.TokenListOptions{}) {
		toks = append(toks, tok)
	}
	got := r.Apply(context.Background(), client.ActionReset, toks, "job", 2)
	if len(api.acts) != 0 || len(api.bulks) != 2 || len(api.bulks[0])+len(api.bulks[1]) != 150 || max(len(api.bulks[0]), len(api.bulks[1])) != 100 {
		t.Errorf("acts %d, bulk sizes %d: want bulk calls of 100 and 50", len(api.acts), len(api.bulks))
	}
	for i, res := range got {
		if res.AccountSid != toks[i].AccountSid || res.Status != "OK" || res.Message != "reset" {
			t.Fatalf("result %d = %+v: want %s reset, in the order named", i, res, toks[i].AccountSid)
		}
	}
}

func TestApplyBulkAnswerNamingOthers(t *testing.T) {
	api := newFakeAPI(3, client.StateEnabled)
	api.bulkAnswer = func(sids []string) []client.BulkResult {
		return []client.BulkResult{{AccountSid: "IRstranger", Status: "OK"}}
	}
	r, _, _ := newTestRun(t, api, true)
	var toks []*client.Token
	for tok := range api.Tokens(context.Background(), client.TokenListOptions{}) {
		toks = append(toks, tok)
	}
	for _, res := range r.Apply(context.Background(), client.ActionDisable, toks, "", 4) {
		var ua *pipeline.UntrustedAnswer
		if res.Status != "ERROR" || !errors.As(res.Err, &ua) {
			t.Errorf("%+v: want every token failed by the untrusted answer", res)
		}
	}
}

func TestChangeStates(t *testing.T) {
	api := newFakeAPI(3, client.StateEnabled)
	api.tokens[api.order[1]].State = client.StateDisabled
	r, out, errOut := newTestRun(t, api, true)
	r.InUse = api.order[2]
	if err := r.ChangeStates(context.Background(), client.ActionDisable, pipeline.Selection{SIDs: api.order, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	if len(api.bulks) != 1 || strings.Join(api.bulks[0], ",") != api.order[0]+","+api.order[2] {
		t.Errorf("bulk calls %q: want one with the two enabled tokens", api.bulks)
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, want := range []string{api.order[0] + " token 0 disabled", api.order[1] + " token 1 already disabled", api.order[2] + " token 2 disabled"} {
		// In a pipe: tab-separated rows, no header.
		if i >= len(rows) || strings.Join(strings.Fields(rows[i]), " ") != want {
			t.Errorf("row %d is not %q:\n%s", i+1, want, out)
		}
	}
	if strings.Count(errOut.String(), "token "+api.order[2]+" is the one in use") != 1 {
		t.Errorf("no warning for the token in use:\n%s", errOut)
	}

	// Without --yes, in a pipe: exit 3, nothing sent.
	api = newFakeAPI(2, client.StateEnabled)
	r, _, _ = newTestRun(t, api, false)
	err := r.ChangeStates(context.Background(), client.ActionDelete, pipeline.Selection{SIDs: api.order, Concurrency: 4})
	if checkExit(t, err, cmdutil.ExitConfirm); len(api.bulks)+len(api.acts) != 0 {
		t.Errorf("sent %q %q without confirmation", api.acts, api.bulks)
	}
}

func TestPrintResultsExitCode(t *testing.T) {
	ok := pipeline.Result{AccountSid: "IR1", Status: "OK", Message: "disabled"}
	bad := pipeline.ErrResult("IR2", "", &client.APIError{StatusCode: 403, Message: "forbidden"})
	for _, tt := range []struct {
		name    string
		results []pipeline.Result
		code    int
	}{
		{"all succeed", []pipeline.Result{ok, ok}, 0},
		{"one of two fails", []pipeline.Result{ok, bad}, cmdutil.ExitPartial},
		{"the only one fails", []pipeline.Result{bad}, cmdutil.ExitForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := newTestRun(t, newFakeAPI(0, ""), true)
			err := r.PrintResults(tt.results)
			if got := cmdutil.ExitCode(err); (err == nil) != (tt.code == 0) || err != nil && got != tt.code {
				t.Errorf("err = %v (exit %d), want exit %d", err, got, tt.code)
			}
		})
	}
}

// TestEditAndScopesThroughTheFake: an edit (a PATCH) and a scopes change run
// through the pipeline on the tokenAPI, each carrying the token's ETag, and
// say what they did.
func TestEditAndScopesThroughTheFake(t *testing.T) {
	ctx := context.Background()
	api := newFakeAPI(2, client.StateEnabled)
	r, out, errOut := newTestRun(t, api, true)
	tok, _ := api.Token(ctx, api.order[0])
	name := "renamed"
	ch := pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionEdit, Fields: []pipeline.FieldChange{{Field: "Name", Before: tok.Name, After: name}}}
	if err := r.ChangeOne(ctx, tokenEdit(r, tok, client.TokenUpdate{Name: &name}, ch)); err != nil {
		t.Fatal(err)
	}
	other, _ := api.Token(ctx, api.order[1])
	if err := r.ChangeOne(ctx, scopesEdit(r, other, []string{"reports.read", "account.read"})); err != nil {
		t.Fatal(err)
	}
	want := []string{"PATCH " + tok.AccountSid + ` "1"`, "SCOPES account.read,reports.read " + other.AccountSid + ` "1"`}
	if !slices.Equal(api.writes, want) {
		t.Errorf("writes %q, want %q", api.writes, want)
	}
	if got, _ := api.Token(ctx, tok.AccountSid); got.Name != name {
		t.Errorf("name %q after the edit, want %q", got.Name, name)
	}
	if got, _ := api.Token(ctx, other.AccountSid); !slices.Equal(got.Scopes, []string{"account.read", "reports.read"}) {
		t.Errorf("scopes %q after the change", got.Scopes)
	}
	for _, line := range []string{"edited token " + tok.AccountSid + " (renamed)", "token " + other.AccountSid + " now has 2 scopes"} {
		if !strings.Contains(errOut.String(), line) {
			t.Errorf("stderr %q lacks %q", errOut.String(), line)
		}
	}
	if !strings.Contains(out.String(), "account.read, reports.read") {
		t.Errorf("stdout %q lacks the new scopes", out.String())
	}
	// Asked for what the token already has, nothing is sent.
	again, _ := api.Token(ctx, other.AccountSid)
	if err := r.ChangeOne(ctx, scopesEdit(r, again, []string{"reports.read", "account.read"})); err != nil {
		t.Fatal(err)
	}
	if len(api.writes) != 2 {
		t.Errorf("writes %q: an unchanged set was sent", api.writes)
	}
}
