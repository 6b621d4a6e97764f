package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

func newScopesCmd(f *Factory) *cobra.Command {
	return newGroupCmd("scopes", "The API scope catalog, and a token's scopes",
		newScopesListCmd(f), newScopesSetCmd(f), newScopesClearCmd(f))
}

func newScopesListCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the API scopes a token can hold, by category",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			cat, err := c.Scopes(ctx)
			if err != nil {
				return err
			}
			if !f.Printer().Table() {
				return f.Printer().Object(cat)
			}
			t := output.NewTable(f.IO.Out, "CATEGORY", "SCOPE", "METHOD", "OPERATION")
			for _, category := range cat.Categories {
				label := fmt.Sprintf("%s (%s.*)", category.Name, category.Id)
				for _, s := range category.Scopes {
					t.Row(label, s.Id, s.Method, s.Name)
					label = ""
				}
			}
			return t.Render()
		},
	}
}

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
		Example: `  impactctl scopes set IR… 'reports.*' account.read
  impactctl scopes set IR… --add apitokens.read --remove reports.export`,
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

func newScopesClearCmd(f *Factory) *cobra.Command {
	var flags changeFlags
	cmd := &cobra.Command{
		Use:   "clear SID",
		Short: "Remove every scope from a token (the web app's Clear All)",
		Args:  exactArgs(1, "one Account SID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, tok, err := f.readToken(ctx, args[0])
			if err != nil {
				return err
			}
			return f.applyScopes(ctx, c, tok, nil, flags)
		},
	}
	flags.register(cmd)
	return cmd
}

// expandScopes checks names against the catalog and expands category.*
// into its scopes. An unknown name is a usage error suggesting the closest.
func expandScopes(cat *client.Catalog, names []string) ([]string, error) {
	var known []string
	byCategory := map[string][]string{}
	for _, c := range cat.Categories {
		known = append(known, c.Id+".*")
		for _, s := range c.Scopes {
			known = append(known, s.Id)
			byCategory[c.Id] = append(byCategory[c.Id], s.Id)
		}
	}
	var out []string
	for _, n := range names {
		if cid, ok := strings.CutSuffix(n, ".*"); ok && byCategory[cid] != nil {
			out = union(out, byCategory[cid])
			continue
		}
		if slices.Contains(known, n) {
			out = union(out, []string{n})
			continue
		}
		msg := fmt.Sprintf("unknown scope %q", n)
		if s := closest(n, known, 3); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, ", ") + "?"
		}
		return nil, usageErrorf("%s (see impactctl scopes list); nothing changed", msg)
	}
	return out, nil
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return out
}

// closest returns up to n candidates nearest to s by edit distance, only
// those near enough to be a plausible typo.
func closest(s string, candidates []string, n int) []string {
	type scored struct {
		c string
		d int
	}
	var near []scored
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d <= max(2, len(s)/3) || strings.HasPrefix(c, s) || strings.HasPrefix(s, strings.TrimSuffix(c, "*")) {
			near = append(near, scored{c, d})
		}
	}
	sort.SliceStable(near, func(i, j int) bool { return near[i].d < near[j].d })
	var out []string
	for i := 0; i < len(near) && i < n; i++ {
		out = append(out, near[i].c)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
