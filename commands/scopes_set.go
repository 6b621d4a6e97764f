package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

// ScopesSetOptions are `scopes set`'s inputs.
type ScopesSetOptions struct {
	SID    string
	Scopes []string
	Add    []string
	Remove []string
	changeFlags
}

func newScopesSetCmd(f *Factory) *cobra.Command {
	opts := &ScopesSetOptions{}
	cmd := &cobra.Command{
		Use:   "set SID [SCOPE...]",
		Short: "Replace a token's scopes, or add and remove some",
		Long: `Replace a token's scopes with the ones named, or change them with --add and
--remove. A name such as reports.* is a whole category (the web app's toggle).
See the catalog with: impactctl scopes list`,
		Example: `  impactctl scopes set "$SID" 'reports.*' account.read
  impactctl scopes set "$SID" --add apitokens.read --remove reports.export`,
		Args: minArgs(1, "an Account SID and the scopes"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SID, opts.Scopes = args[0], args[1:]
			return scopesSetRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Add, "add", nil, "add a scope or category (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Remove, "remove", nil, "remove a scope or category (repeatable)")
	opts.changeFlags.register(cmd)
	return cmd
}

func scopesSetRun(ctx context.Context, f *Factory, opts *ScopesSetOptions) error {
	if err := validSID(opts.SID); err != nil {
		return err
	}
	if len(opts.Scopes) == 0 && len(opts.Add) == 0 && len(opts.Remove) == 0 {
		return usageErrorf("name the scopes, or give --add or --remove (to remove them all: impactctl scopes clear %s)", opts.SID)
	}
	if len(opts.Scopes) > 0 && (len(opts.Add) > 0 || len(opts.Remove) > 0) {
		return usageErrorf("either name the whole set of scopes, or change it with --add/--remove, not both")
	}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	cat, err := c.Scopes(ctx)
	if err != nil {
		return err
	}
	named, err := expandScopes(cat, opts.Scopes)
	if err != nil {
		return err
	}
	add, err := expandScopes(cat, opts.Add)
	if err != nil {
		return err
	}
	remove, err := expandScopes(cat, opts.Remove)
	if err != nil {
		return err
	}
	_, tok, err := f.readToken(ctx, opts.SID)
	if err != nil {
		return err
	}
	next := named
	if len(opts.Scopes) == 0 {
		next = union(tok.Scopes, add)
		next = slices.DeleteFunc(next, func(s string) bool { return slices.Contains(remove, s) })
	}
	return f.applyScopes(ctx, c, tok, next, opts.changeFlags)
}

// applyScopes confirms and makes a token's scopes exactly next.
func (f *Factory) applyScopes(ctx context.Context, c *client.Client, tok *client.Token, next []string, flags changeFlags) error {
	before := sortedCopy(tok.Scopes)
	next = sortedCopy(next)
	if slices.Equal(before, next) {
		what := "already has exactly these scopes"
		if len(next) == 0 {
			what = "has no scopes"
		}
		return f.nothingToChange(fmt.Sprintf("token %s %s", tok.AccountSid, what), tok)
	}
	added := slices.DeleteFunc(slices.Clone(next), func(s string) bool { return slices.Contains(before, s) })
	removed := slices.DeleteFunc(slices.Clone(before), func(s string) bool { return slices.Contains(next, s) })
	ch := change{AccountSid: tok.AccountSid, Name: tok.Name, Action: "set scopes of",
		Fields: []fieldChange{{"Scopes", before, next}}, Added: added, Removed: removed}
	if len(removed) > 0 {
		if f.isTokenInUse(ctx, tok.AccountSid) {
			ch.Warning = fmt.Sprintf("token %s is the one in use: without %s, this and later commands with it may be refused", tok.AccountSid, strings.Join(removed, ", "))
		}
	}
	ok, err := f.confirm(ctx, flags, plan{Changes: []change{ch}}, "Change this token's scopes?")
	if !ok {
		return err
	}
	var updated *client.Token
	w := client.WriteOptions{IfMatch: tok.ETag}
	if len(next) == 0 {
		updated, err = c.ClearScopes(ctx, tok.AccountSid, w)
	} else {
		updated, err = c.SetScopes(ctx, tok.AccountSid, next, w)
	}
	if err != nil {
		return staleHint(err, tok.AccountSid)
	}
	fmt.Fprintf(f.IO.ErrOut, "token %s now has %s\n", updated.AccountSid, plural(len(updated.Scopes), "scope"))
	if !f.Printer().Table() {
		return f.Printer().Object(updated)
	}
	return output.KeyValues(f.IO.Out, [][2]string{{"Account SID", updated.AccountSid}, {"Scopes", strings.Join(updated.Scopes, ", ")}})
}

// isTokenInUse reports whether sid is the token the command runs with.
func (f *Factory) isTokenInUse(ctx context.Context, sid string) bool {
	creds, err := f.Credentials(ctx)
	return err == nil && f.opts.Brand == "" && creds.AccountSid == sid
}
