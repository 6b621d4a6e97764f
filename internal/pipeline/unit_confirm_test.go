package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

const confirmSID = "IRconfConfConfConfConfConfConf0000"

func editPlan() Plan {
	return Plan{Changes: []Change{{
		AccountSid: confirmSID,
		Name:       "reporting",
		Action:     "rename",
		Fields:     []FieldChange{{Field: "Name", Before: "reporting", After: "reports"}},
	}}}
}

// confirmSetup is what newConfirmRun builds a change's run from.
type confirmSetup struct {
	answer    string
	format    string
	yes       bool
	stdinTTY  bool
	stdoutTTY bool
	noPrompt  bool
}

// readCounter counts the reads of standard input.
type readCounter struct {
	r     *strings.Reader
	reads int
}

func (c *readCounter) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// newConfirmRun is a change's run over c.answer as standard input, with the
// terminal facts and --yes of c, its streams wired as Main wires them.
func newConfirmRun(t *testing.T, c confirmSetup, flags ChangeFlags) (r *Run, in *readCounter, out, errOut *bytes.Buffer) {
	t.Helper()
	in = &readCounter{r: strings.NewReader(c.answer)}
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	format := c.format
	if format == "" {
		format = "table"
	}
	p, err := output.New(out, output.Options{Format: format})
	if err != nil {
		t.Fatal(err)
	}
	// stderr as a run has it: through the messages, JSON lines when the
	// printer is not a table.
	io := iostreams.Streams(in, out, errOut)
	msgs := iostreams.NewMessages(errOut, func() bool { return !p.Table() }, false)
	io.ErrOut = msgs.Writer(iostreams.LevelInfo)
	io.SetStdinTTY(c.stdinTTY)
	io.SetStdoutTTY(c.stdoutTTY)
	io.SetNeverPrompt(c.noPrompt)
	r = &Run{IO: io, Msgs: msgs, Printer: p, Yes: c.yes, ChangeFlags: flags}
	return r, in, out, errOut
}

func TestConfirm(t *testing.T) {
	terminal := confirmSetup{stdinTTY: true, stdoutTTY: true}
	on := func(answer string) confirmSetup { c := terminal; c.answer = answer; return c }
	warned := editPlan()
	warned.Changes[0].Warning = "token " + confirmSID + " is the one in use"

	tests := []struct {
		name  string
		setup confirmSetup
		plan  Plan
		// proceed is confirm's answer; code the exit code of its error (0: none).
		proceed bool
		code    int
		errHas  string
		// asked says the question is printed and a line read.
		asked bool
	}{
		{name: "--yes proceeds without reading", setup: confirmSetup{answer: "n\n", yes: true}, plan: editPlan(), proceed: true},
		{name: "--yes on a terminal does not ask", setup: confirmSetup{answer: "n\n", yes: true, stdinTTY: true, stdoutTTY: true}, plan: editPlan(), proceed: true},
		{name: "no terminal", setup: confirmSetup{answer: "y\n"}, plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "pass --yes"},
		{name: "stdin a terminal, stdout a pipe", setup: confirmSetup{answer: "y\n", stdinTTY: true}, plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "pass --yes"},
		{name: "stdout a terminal, stdin a pipe", setup: confirmSetup{answer: "y\n", stdoutTTY: true}, plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "pass --yes"},
		{name: "prompting switched off", setup: confirmSetup{answer: "y\n", stdinTTY: true, stdoutTTY: true, noPrompt: true}, plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "pass --yes"},
		{name: "y", setup: on("y\n"), plan: editPlan(), proceed: true, asked: true},
		{name: "yes", setup: on("yes\n"), plan: editPlan(), proceed: true, asked: true},
		{name: "Y", setup: on("Y\n"), plan: editPlan(), proceed: true, asked: true},
		{name: "YES with spaces and CRLF", setup: on("  YES \r\n"), plan: editPlan(), proceed: true, asked: true},
		{name: "y at end of input", setup: on("y"), plan: editPlan(), proceed: true, asked: true},
		{name: "n", setup: on("n\n"), plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "declined: nothing changed", asked: true},
		{name: "empty line", setup: on("\n"), plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "declined: nothing changed", asked: true},
		{name: "yess", setup: on("yess\n"), plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "declined", asked: true},
		{name: "EOF", setup: on(""), plan: editPlan(), code: cmdutil.ExitConfirm, errHas: "nothing changed", asked: true},
		{name: "warning on a terminal needs --yes", setup: on("y\n"), plan: warned, code: cmdutil.ExitConfirm, errHas: "is the one in use: pass --yes"},
		{name: "warning with --yes", setup: confirmSetup{answer: "n\n", yes: true}, plan: warned, proceed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, in, out, errOut := newConfirmRun(t, tt.setup, ChangeFlags{})
			proceed, err := r.Confirm(context.Background(), tt.plan, "Rename this token?")
			if proceed != tt.proceed {
				t.Errorf("proceed = %v, want %v", proceed, tt.proceed)
			}
			if cmdutiltest.CheckExit(t, err, tt.code) && tt.code != 0 && !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
			read := in.reads > 0
			if read != tt.asked {
				t.Errorf("input read: %v, want %v", read, tt.asked)
			}
			if asked := strings.Contains(errOut.String(), "Rename this token? [y/N] "); asked != tt.asked {
				t.Errorf("question asked: %v, want %v; stderr:\n%s", asked, tt.asked, errOut)
			}
			if out.Len() != 0 {
				t.Errorf("stdout is not empty:\n%s", out)
			}
			if !strings.Contains(errOut.String(), "rename token "+confirmSID+" (reporting)") {
				t.Errorf("stderr lacks the plan:\n%s", errOut)
			}
			// A warning shows in the plan; --yes goes ahead without saying
			// it again, and a refusal names it.
			for _, c := range tt.plan.Changes {
				if c.Warning == "" {
					continue
				}
				if n := strings.Count(errOut.String(), c.Warning); n != 1 {
					t.Errorf("the warning shows %d times on stderr, want once (in the plan):\n%s", n, errOut)
				}
				if err != nil && !strings.Contains(err.Error(), c.Warning) {
					t.Errorf("the refusal does not name the warning: %v", err)
				}
			}
		})
	}
}

func TestConfirmPlanText(t *testing.T) {
	tests := []struct {
		name string
		p    Plan
		has  []string
		// lacks must not appear on stderr.
		lacks []string
	}{
		{
			name: "an edit shows before → after",
			p:    editPlan(),
			has:  []string{"rename token " + confirmSID + " (reporting)\n", "  Name:  reporting → reports\n"},
		},
		{
			name: "fields line up",
			p: Plan{Changes: []Change{{AccountSid: confirmSID, Name: "n", Action: "edit", Fields: []FieldChange{
				{Field: "Name", Before: "a", After: "b"},
				{Field: "ExpiresAt", Before: nil, After: "2026-12-31"},
			}}}},
			has: []string{"  Name:       a → b\n", "  ExpiresAt:  (none) → 2026-12-31\n"},
		},
		{
			name: "a new token shows only the after value",
			p: Plan{Changes: []Change{{Name: "fresh", Action: "create", Fields: []FieldChange{
				{Field: "Scopes", After: []string{"account.read", "reports.read"}},
			}}}},
			has:   []string{`create token "fresh"` + "\n", "  Scopes:  account.read, reports.read\n"},
			lacks: []string{"→"},
		},
		{
			name: "added and removed",
			p: Plan{Changes: []Change{{AccountSid: confirmSID, Name: "n", Action: ActionScopes,
				Added: []string{"a.x", "a.y"}, Removed: []string{"b.z"}}}},
			has: []string{"  + a.x, a.y\n", "  - b.z\n"},
		},
		{
			name: "empty values are visible",
			p: Plan{Changes: []Change{{AccountSid: confirmSID, Name: "n", Action: "edit", Fields: []FieldChange{
				{Field: "Description", Before: "old", After: ""},
				{Field: "Emails", Before: []string{}, After: []string{"a@b.c"}},
			}}}},
			has: []string{`old → ""`, "(none) → a@b.c"},
		},
		{
			name:  "server text is sanitized",
			p:     Plan{Changes: []Change{{AccountSid: confirmSID, Name: "evil\x1b[2J\x1b]0;title\x07name", Action: "rename", Fields: []FieldChange{{Field: "Name", Before: "x\x1b[31m", After: "y"}}}}},
			has:   []string{"(evilname)", "x → y"},
			lacks: []string{"\x1b", "\x07"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, out, errOut := newConfirmRun(t, confirmSetup{yes: true}, ChangeFlags{})
			proceed, err := r.Confirm(context.Background(), tt.p, "Go?")
			if !proceed || err != nil {
				t.Fatalf("confirm = %v, %v; want true, nil", proceed, err)
			}
			if out.Len() != 0 {
				t.Errorf("the plan went to stdout:\n%s", out)
			}
			for _, s := range tt.has {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(errOut.String(), s) {
					t.Errorf("stderr has %q:\n%q", s, errOut)
				}
			}
		})
	}
}

func TestConfirmDryRun(t *testing.T) {
	unchanged := Change{AccountSid: "IRsameSameSameSameSameSameSame0000", Name: "same", Action: "rename"}
	p := editPlan()
	p.Unchanged = []Change{unchanged}
	tests := []struct {
		name  string
		setup confirmSetup
	}{
		{"table in a pipe", confirmSetup{answer: "y\n"}},
		{"table with --yes", confirmSetup{answer: "y\n", yes: true}},
		{"table on a terminal", confirmSetup{answer: "y\n", stdinTTY: true, stdoutTTY: true}},
		{"json", confirmSetup{answer: "y\n", format: "json"}},
		{"json with --yes", confirmSetup{answer: "y\n", format: "json", yes: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, in, out, errOut := newConfirmRun(t, tt.setup, ChangeFlags{DryRun: true})
			proceed, err := r.Confirm(context.Background(), p, "Rename?")
			if proceed || err != nil {
				t.Fatalf("confirm = %v, %v; want false, nil", proceed, err)
			}
			if in.reads > 0 {
				t.Error("a dry run read the input")
			}
			if errOut.Len() != 0 {
				t.Errorf("a dry run wrote to stderr:\n%s", errOut)
			}
			if tt.setup.format == "json" {
				var got struct {
					Changes   []Change
					Unchanged []Change
				}
				if err := json.Unmarshal(out.Bytes(), &got); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, out)
				}
				if len(got.Changes) != 1 || got.Changes[0].AccountSid != confirmSID || got.Changes[0].Fields[0].After != "reports" {
					t.Errorf("Changes = %+v", got.Changes)
				}
				if len(got.Unchanged) != 1 || got.Unchanged[0].AccountSid != unchanged.AccountSid {
					t.Errorf("Unchanged = %+v", got.Unchanged)
				}
				if !strings.HasPrefix(strings.TrimSpace(out.String()), `{`) || !strings.Contains(out.String(), `"Changes"`) {
					t.Errorf("stdout:\n%s", out)
				}
				return
			}
			want := "rename token " + confirmSID + " (reporting)\n" +
				"  Name:  reporting → reports\n" +
				"rename token " + unchanged.AccountSid + " (same): nothing to change\n" +
				"dry run: nothing changed\n"
			if out.String() != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}

func TestConfirmDryRunEmptyJSON(t *testing.T) {
	r, _, out, _ := newConfirmRun(t, confirmSetup{format: "json"}, ChangeFlags{DryRun: true})
	if _, err := r.Confirm(context.Background(), Plan{}, "Go?"); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if _, ok := got["Changes"]; !ok {
		t.Errorf("no Changes key in %s", out)
	}
	if _, ok := got["Unchanged"]; ok {
		t.Errorf("an empty Unchanged is shown in %s", out)
	}
}
