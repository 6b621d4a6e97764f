package commands

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
)

func newScopesCmd(f *Factory) *cobra.Command {
	return newGroupCmd("scopes", "The API scope catalog, and a token's scopes",
		newScopesListCmd(f), newScopesSetCmd(f), newScopesClearCmd(f))
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
