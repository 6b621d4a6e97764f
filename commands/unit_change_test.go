package commands

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/internal/pipeline/pipelinetest"
	"github.com/impactcom/impactctl/output"
)

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
	return &pipeline.Run{IO: io, Msgs: msgs, Printer: p, Yes: yes, API: api, Clock: pipelinetest.NewFakeClock(time.Unix(1e9, 0)),
		Now: func() (time.Time, error) { return time.Unix(1e9, 0), nil }}, out, errOut
}

func TestApplyOneTokenOnItsOwnEndpoint(t *testing.T) {
	api := pipelinetest.NewFakeAPI(1, client.StateEnabled)
	r, _, _ := newTestRun(t, api, true)
	tok, _ := api.Token(context.Background(), api.Order[0])
	got := r.Apply(context.Background(), client.ActionDisable, []*client.Token{tok}, "k", 4)
	if len(api.Bulks) != 0 || len(api.Acts) != 1 || api.Acts[0] != "Disable "+tok.AccountSid+` "1" k` {
		t.Errorf("acts %q, bulks %q: want one Disable with the ETag and the key", api.Acts, api.Bulks)
	}
	if len(got) != 1 || got[0].Status != "OK" || got[0].Message != "disabled" || got[0].AccountSid != tok.AccountSid {
		t.Errorf("results %+v", got)
	}
}

func TestApplyManyInBulkChunks(t *testing.T) {
	api := pipelinetest.NewFakeAPI(150, client.StateEnabled)
	r, _, _ := newTestRun(t, api, true)
	var toks []*client.Token
	for tok := range api.Tokens(context.Background(), client.TokenListOptions{}) {
		toks = append(toks, tok)
	}
	got := r.Apply(context.Background(), client.ActionReset, toks, "job", 2)
	if len(api.Acts) != 0 || len(api.Bulks) != 2 || len(api.Bulks[0])+len(api.Bulks[1]) != 150 || max(len(api.Bulks[0]), len(api.Bulks[1])) != 100 {
		t.Errorf("acts %d, bulk sizes %d: want bulk calls of 100 and 50", len(api.Acts), len(api.Bulks))
	}
	for i, res := range got {
		if res.AccountSid != toks[i].AccountSid || res.Status != "OK" || res.Message != "reset" {
			t.Fatalf("result %d = %+v: want %s reset, in the order named", i, res, toks[i].AccountSid)
		}
	}
}

func TestApplyBulkAnswerNamingOthers(t *testing.T) {
	api := pipelinetest.NewFakeAPI(3, client.StateEnabled)
	api.BulkAnswer = func(sids []string) []client.BulkResult {
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
	api := pipelinetest.NewFakeAPI(3, client.StateEnabled)
	api.ByID[api.Order[1]].State = client.StateDisabled
	r, out, errOut := newTestRun(t, api, true)
	r.InUse = api.Order[2]
	if err := r.ChangeStates(context.Background(), client.ActionDisable, pipeline.Selection{SIDs: api.Order, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	if len(api.Bulks) != 1 || strings.Join(api.Bulks[0], ",") != api.Order[0]+","+api.Order[2] {
		t.Errorf("bulk calls %q: want one with the two enabled tokens", api.Bulks)
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, want := range []string{api.Order[0] + " token 0 disabled", api.Order[1] + " token 1 already disabled", api.Order[2] + " token 2 disabled"} {
		// In a pipe: tab-separated rows, no header.
		if i >= len(rows) || strings.Join(strings.Fields(rows[i]), " ") != want {
			t.Errorf("row %d is not %q:\n%s", i+1, want, out)
		}
	}
	if strings.Count(errOut.String(), "token "+api.Order[2]+" is the one in use") != 1 {
		t.Errorf("no warning for the token in use:\n%s", errOut)
	}

	// Without --yes, in a pipe: exit 3, nothing sent.
	api = pipelinetest.NewFakeAPI(2, client.StateEnabled)
	r, _, _ = newTestRun(t, api, false)
	err := r.ChangeStates(context.Background(), client.ActionDelete, pipeline.Selection{SIDs: api.Order, Concurrency: 4})
	if checkExit(t, err, cmdutil.ExitConfirm); len(api.Bulks)+len(api.Acts) != 0 {
		t.Errorf("sent %q %q without confirmation", api.Acts, api.Bulks)
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
			r, _, _ := newTestRun(t, pipelinetest.NewFakeAPI(0, ""), true)
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
	api := pipelinetest.NewFakeAPI(2, client.StateEnabled)
	r, out, errOut := newTestRun(t, api, true)
	tok, _ := api.Token(ctx, api.Order[0])
	name := "renamed"
	ch := pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionEdit, Fields: []pipeline.FieldChange{{Field: "Name", Before: tok.Name, After: name}}}
	if err := r.ChangeOne(ctx, tokenEdit(r, tok, client.TokenUpdate{Name: &name}, ch)); err != nil {
		t.Fatal(err)
	}
	other, _ := api.Token(ctx, api.Order[1])
	if err := r.ChangeOne(ctx, scopesEdit(r, other, []string{"reports.read", "account.read"})); err != nil {
		t.Fatal(err)
	}
	want := []string{"PATCH " + tok.AccountSid + ` "1"`, "SCOPES account.read,reports.read " + other.AccountSid + ` "1"`}
	if !slices.Equal(api.Writes, want) {
		t.Errorf("writes %q, want %q", api.Writes, want)
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
	if len(api.Writes) != 2 {
		t.Errorf("writes %q: an unchanged set was sent", api.Writes)
	}
}
