package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// Confirm shows the plan and decides whether to go ahead: with --dry-run it
// prints the plan to stdout and stops; otherwise it prints the plan to
// stderr and proceeds with --yes, asks [y/N] on a terminal, and refuses
// (exit 3, nothing changed) where it cannot ask. A change that carries a
// warning needs --yes even on a terminal. It returns false when the command
// must stop without error.
func (r *Run) Confirm(ctx context.Context, p Plan, question string) (bool, error) {
	if r.DryRun {
		if !r.Printer.Table() {
			return false, r.Printer.Object(p)
		}
		writePlan(r.IO.Out, p.Changes)
		for _, c := range p.Unchanged {
			fmt.Fprintf(r.IO.Out, "%s token %s (%s): nothing to change\n", c.Action.phrase(), c.AccountSid, output.Sanitize(c.Name))
		}
		for _, e := range p.Failed {
			fmt.Fprintf(r.IO.Out, "token %s: cannot be read: %s\n", e.AccountSid, e.Message)
		}
		fmt.Fprintln(r.IO.Out, "dry run: nothing changed")
		return false, nil
	}
	r.showPlan(p)
	var warnings []string
	for _, c := range p.Changes {
		if c.Warning != "" {
			warnings = append(warnings, c.Warning)
		}
	}
	if r.Yes {
		// A table plan already shows each warning ("! …"); in JSON modes
		// it also gets a line of its own at the warning level.
		if !r.Printer.Table() {
			for _, w := range warnings {
				iostreams.Warnf(r.IO.ErrOut, "%s", w)
			}
		}
		return true, nil
	}
	if len(warnings) > 0 {
		return false, &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: fmt.Errorf("%s: pass --yes to confirm; nothing changed", warnings[0])}
	}
	if !r.IO.CanPrompt() {
		return false, &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: fmt.Errorf("confirmation needed and not running interactively: pass --yes to proceed; nothing changed")}
	}
	fmt.Fprintf(r.IO.ErrOut, "%s [y/N] ", question)
	answer, err := r.IO.ReadLine(ctx)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil && answer == "" {
		return false, &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: fmt.Errorf("no answer: nothing changed")}
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: fmt.Errorf("declined: nothing changed")}
}

// showPlan writes the plan to stderr before a change: as text, or in JSON
// modes as one {"Level":"plan",…} object, as --dry-run -o json shows it.
func (r *Run) showPlan(p Plan) {
	if !r.Printer.Table() {
		r.Msgs.WriteObject(iostreams.LevelPlan, p.sanitized())
		return
	}
	writePlan(r.IO.ErrOut, p.Changes)
	for _, e := range p.Failed {
		iostreams.Infof(r.IO.ErrOut, "token %s: cannot be read: %s", e.AccountSid, e.Message)
	}
}

// NothingNamed reports a many-token command that selected no token: exit
// 0, and in JSON modes an empty list, so a script's parser sees one.
func (r *Run) NothingNamed(all bool) error {
	what := "no tokens named"
	if all {
		what = "no tokens matched"
	}
	iostreams.Infof(r.IO.ErrOut, "nothing to change: %s", what)
	if r.Printer.Table() {
		return nil
	}
	return r.Printer.List().Close()
}

// nothingToChange reports a change to nothing: exit 0, no question asked.
// In JSON modes the current state is printed as the command's answer.
func (r *Run) nothingToChange(what string, current any) error {
	iostreams.Infof(r.IO.ErrOut, "nothing to change: %s", what)
	if !r.Printer.Table() && current != nil {
		return r.Printer.Object(current)
	}
	return nil
}
