package commands

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
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

// TestEditAndScopesThroughTheFake: an edit (a PATCH) and a scopes change run
// through the pipeline on the TokenAPI, each carrying the token's ETag, and
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
