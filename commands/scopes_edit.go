package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/internal/scopepicker"
	"github.com/impactcom/impactctl/output"
)

// ScopesEditOptions are `scopes edit`'s inputs.
type ScopesEditOptions struct {
	Env cmdEnv
	SID string
	pipeline.ChangeFlags
}

func newScopesEditCmd(f *Factory, runF func(*ScopesEditOptions) error) *cobra.Command {
	opts := &ScopesEditOptions{}
	cmd := &cobra.Command{
		Use:   "edit SID",
		Short: "Choose a token's scopes on a page of checkboxes (the web app's API Scopes page)",
		Long: `Open the web app's API Scopes page in the terminal: the catalog's categories in
order, each with a toggle and how many of its scopes are on, and its scopes as
checkboxes beneath, the token's own checked. Scopes your token lacks are shown
as "(you lack it)" and cannot be checked; a token that holds one of them cannot
be edited with yours at all (exit 5, nothing opened).

Keys:
  ↑ ↓ or j k   move (PgUp, PgDn, Home, End too)
  space        toggle the scope, or the category, under the cursor
  a            toggle the whole category under the cursor
  c            clear all
  /            filter: type to narrow the list by ID, description or
               category; enter keeps the filter and returns to the list,
               esc leaves it
  enter        done: show the change and ask to confirm
  esc or q     cancel: nothing changes (exit 3); esc first leaves a filter

Then, as every change, the plan (scopes before → after, added and removed)
and a [y/N] question, or --yes; --dry-run shows the plan and changes nothing.
The change is sent only if the token has not changed since it was read.

It needs a person at a terminal: without one on stdin and stdout, or with
--no-input, IMPACTCTL_NO_PROMPT=1 or CI=true, it exits 2; scripts use
impactctl scopes set. NO_COLOR turns colour off.`,
		Example: `  impactctl scopes edit "$SID"
  impactctl scopes edit "$SID" --dry-run`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return scopesEditRun(cmd.Context(), opts)
		},
	}
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func scopesEditRun(ctx context.Context, opts *ScopesEditOptions) error {
	if err := pipeline.CheckTokenArg(opts.SID); err != nil {
		return err
	}
	if !opts.Env.IO.CanPrompt() {
		return cmdutil.UsageErrorf("scopes edit is a page for a person at a terminal (stdin and stdout), with prompting allowed (no --no-input, IMPACTCTL_NO_PROMPT or CI=true); "+
			"in scripts use: impactctl scopes set %s SCOPE... (or --add S, --remove S); nothing changed", pipeline.ArgWord(opts.SID))
	}
	r, c, err := opts.Env.begin(ctx, opts.ChangeFlags)
	if err != nil {
		return err
	}
	caller, err := c.Current(ctx)
	if err != nil {
		return err
	}
	cat, err := c.Scopes(ctx)
	if err != nil {
		return err
	}
	tok, err := pipeline.ReadNamed(ctx, c, opts.SID)
	if err != nil {
		return err
	}
	if lacking := missingScopes(tok.Scopes, caller.Scopes); len(lacking) > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitForbidden, Kind: string(contract.CodeEscalation), Err: fmt.Errorf(
			"token %s holds %s, which the token in use (%s) lacks: it may not change this token's scopes; nothing changed",
			output.Sanitize(tok.AccountSid), strings.Join(pipeline.SanitizeAll(lacking), ", "), output.Sanitize(caller.AccountSid))}
	}
	held := map[string]bool{}
	for _, s := range caller.Scopes {
		held[s] = true
	}
	// The first frame is drawn at the terminal's size, not taller.
	width, height := 0, 0
	if t, ok := opts.Env.IO.Out.(interface{ Fd() uintptr }); ok {
		width, height, _ = term.GetSize(int(t.Fd()))
	}
	page := scopepicker.New(scopepicker.Options{
		Title:      fmt.Sprintf("API scopes of token %s (%s)", tok.AccountSid, tok.Name),
		Categories: pickerCategories(cat, tok.Scopes),
		Checked:    tok.Scopes,
		Grantable:  func(id string) bool { return held[id] },
		Color:      opts.Env.Getenv("NO_COLOR") == "" && opts.Env.Getenv("TERM") != "dumb",
		Width:      width,
		Height:     height,
	})
	page, err = scopepicker.Run(ctx, opts.Env.IO.In, opts.Env.IO.Out, page)
	if err != nil {
		return err
	}
	switch page.Outcome() {
	case scopepicker.Done:
	case scopepicker.Interrupted:
		return context.Canceled
	default:
		return &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: fmt.Errorf("cancelled: nothing changed")}
	}
	return r.ChangeOne(ctx, scopesEdit(r, tok, page.Selected()))
}

// pickerCategories are the catalog's categories for the page, and the
// token's scopes the catalog does not list under a last one of their own,
// so nothing the token holds is hidden or dropped unseen.
func pickerCategories(cat *client.Catalog, tokenScopes []string) []scopepicker.Category {
	var out []scopepicker.Category
	listed := map[string]bool{}
	for _, c := range cat.Categories {
		pc := scopepicker.Category{ID: c.Id, Name: c.Name}
		for _, s := range c.Scopes {
			pc.Scopes = append(pc.Scopes, scopepicker.Scope{ID: s.Id, Name: s.Name})
			listed[s.Id] = true
		}
		out = append(out, pc)
	}
	other := scopepicker.Category{ID: "other", Name: "Not in the catalog"}
	for _, s := range sortedCopy(tokenScopes) {
		if !listed[s] {
			other.Scopes = append(other.Scopes, scopepicker.Scope{ID: s})
		}
	}
	if len(other.Scopes) > 0 {
		out = append(out, other)
	}
	return out
}

// missingScopes are the scopes of have that held lacks, sorted.
func missingScopes(have, held []string) []string {
	var out []string
	for _, s := range sortedCopy(have) {
		if !slices.Contains(held, s) {
			out = append(out, s)
		}
	}
	return out
}
