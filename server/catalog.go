package server

import (
	"slices"
	"sort"
	"strings"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// Category is a group of scopes as the catalog answers it.
type Category = contract.Category

// Scopes the server itself enforces.
const (
	scopeAccountRead     = "account.read"
	scopeUsersRead       = "users.read"
	scopeAdvertisersRead = "advertisers.read"
	scopeTokensRead      = "apitokens.read"
	scopeTokensWrite     = "apitokens.write"
	scopeTokensReveal    = "apitokens.reveal"
)

// catalogFor returns the categories a token of the given kind can hold.
func catalogFor(kind string) []Category { return contract.Catalog(kind == service.KindAgency) }

// allScopes lists every scope id a token of kind can hold, in catalog order.
func allScopes(kind string) []string {
	var out []string
	for _, c := range catalogFor(kind) {
		for _, s := range c.Scopes {
			out = append(out, s.Id)
		}
	}
	return out
}

// expandScopes resolves requested ids ("reports.read", or "reports.*" for a whole
// category; spaces around them ignored) against kind's catalog, answering them
// deduplicated in catalog order. The first unknown id is returned as bad.
func expandScopes(kind string, requested []string) (scopes []string, bad string) {
	trimmed := make([]string, len(requested))
	for i, r := range requested {
		trimmed[i] = strings.TrimSpace(r)
	}
	scopes, bad = contract.ExpandScopes(catalogFor(kind), trimmed)
	if bad != "" {
		return nil, requested[slices.Index(trimmed, bad)]
	}
	sortScopes(kind, scopes)
	return scopes, ""
}

func sortScopes(kind string, ids []string) {
	order := map[string]int{}
	for i, s := range allScopes(kind) {
		order[s] = i
	}
	sort.SliceStable(ids, func(i, j int) bool { return order[ids[i]] < order[ids[j]] })
}
