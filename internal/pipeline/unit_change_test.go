package pipeline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline/pipelinetest"
	"github.com/impactcom/impactctl/output"
)

// newTestRun is a change's run over api, in a pipe, with --yes as given.
func newTestRun(t *testing.T, api TokenAPI, yes bool) (*Run, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	p, err := output.New(out, output.Options{Format: "table"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := iostreams.NewMessages(errOut, func() bool { return false }, false)
	io := iostreams.Streams(strings.NewReader(""), out, msgs.Writer(iostreams.LevelInfo))
	return &Run{IO: io, Msgs: msgs, Printer: p, Yes: yes, API: api, Clock: pipelinetest.NewFakeClock(time.Unix(1e9, 0)),
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
		var ua *UntrustedAnswer
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
	if err := r.ChangeStates(context.Background(), client.ActionDisable, Selection{SIDs: api.Order, Concurrency: 4}); err != nil {
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
	err := r.ChangeStates(context.Background(), client.ActionDelete, Selection{SIDs: api.Order, Concurrency: 4})
	if cmdutiltest.CheckExit(t, err, cmdutil.ExitConfirm); len(api.Bulks)+len(api.Acts) != 0 {
		t.Errorf("sent %q %q without confirmation", api.Acts, api.Bulks)
	}
}

func TestPrintResultsExitCode(t *testing.T) {
	ok := Result{AccountSid: "IR1", Status: "OK", Message: "disabled"}
	bad := ErrResult("IR2", "", &client.APIError{StatusCode: 403, Message: "forbidden"})
	for _, tt := range []struct {
		name    string
		results []Result
		code    int
	}{
		{"all succeed", []Result{ok, ok}, 0},
		{"one of two fails", []Result{ok, bad}, cmdutil.ExitPartial},
		{"the only one fails", []Result{bad}, cmdutil.ExitForbidden},
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
