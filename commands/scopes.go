package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

func newScopesCmd(f *Factory) *cobra.Command {
	return newGroupCmd("scopes", "The API scope catalog, and a token's scopes",
		newScopesListCmd(f, nil), takesNames(newScopesSetCmd(f, nil)), takesNames(newScopesClearCmd(f, nil)), takesNames(newScopesEditCmd(f, nil)))
}

// expandScopes checks names against the catalog and expands category.*
// into its scopes. An unknown name is a usage error suggesting the closest.
func expandScopes(cat *client.Catalog, names []string) ([]string, error) {
	scopes, bad := contract.ExpandScopes(cat.Categories, names)
	if bad == "" {
		return scopes, nil
	}
	var known []string
	for _, c := range cat.Categories {
		known = append(known, c.Id+".*")
		for _, s := range c.Scopes {
			known = append(known, s.Id)
		}
	}
	msg := fmt.Sprintf("unknown scope %q", bad)
	if s := closest(bad, known, 3); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, ", ") + "?"
	}
	return nil, cmdutil.UsageErrorf("%s (see impactctl scopes list); nothing changed", msg)
}

// scopesEdit makes a token's scopes exactly next. Removing scopes from the
// token in use needs --yes: it may refuse this and later commands.
func scopesEdit(r *pipeline.Run, tok *client.Token, next []string) pipeline.Edit {
	before, next := sortedCopy(tok.Scopes), sortedCopy(next)
	what := "already has exactly these scopes"
	if len(next) == 0 {
		what = "has no scopes"
	}
	e := pipeline.Edit{Tok: tok, Question: "Change this token's scopes?", Unchanged: fmt.Sprintf("token %s %s", tok.AccountSid, what),
		Apply: func(ctx context.Context, w client.WriteOptions) (*client.Token, error) {
			if len(next) == 0 {
				return r.API.ClearScopes(ctx, tok.AccountSid, w)
			}
			return r.API.SetScopes(ctx, tok.AccountSid, next, w)
		},
		Report: func(t *client.Token) (string, [][2]string) {
			return fmt.Sprintf("token %s now has %s", t.AccountSid, cmdutil.Plural(len(t.Scopes), "scope")),
				[][2]string{{"Account SID", t.AccountSid}, {"Scopes", strings.Join(t.Scopes, ", ")}}
		},
	}
	if slices.Equal(before, next) {
		return e
	}
	added := slices.DeleteFunc(slices.Clone(next), func(s string) bool { return slices.Contains(before, s) })
	removed := slices.DeleteFunc(slices.Clone(before), func(s string) bool { return slices.Contains(next, s) })
	e.Change = pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionScopes,
		Fields: []pipeline.FieldChange{{Field: "Scopes", Before: before, After: next}}, Added: added, Removed: removed}
	if len(removed) > 0 && r.IsInUse(tok.AccountSid) {
		e.Change.Warning = fmt.Sprintf("token %s is the one in use: without %s, this and later commands with it may be refused", tok.AccountSid, strings.Join(removed, ", "))
	}
	return e
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
