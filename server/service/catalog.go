package service

import (
	"slices"
	"sort"
	"strings"

	"github.com/impactcom/impactctl/contract"
)

// Category is a group of scopes as the catalog answers it.
type Category = contract.Category

// Scopes the server itself enforces.
const (
	ScopeAccountRead     = "account.read"
	ScopeUsersRead       = "users.read"
	ScopeAdvertisersRead = "advertisers.read"
	ScopeTokensRead      = "apitokens.read"
	ScopeTokensWrite     = "apitokens.write"
	ScopeTokensReveal    = "apitokens.reveal"
)

// CatalogFor returns the categories a token of the given kind can hold.
func CatalogFor(kind string) []Category { return contract.Catalog(kind == KindAgency) }

// AllScopes lists every scope id a token of kind can hold, in catalog order.
func AllScopes(kind string) []string {
	var out []string
	for _, c := range CatalogFor(kind) {
		for _, s := range c.Scopes {
			out = append(out, s.Id)
		}
	}
	return out
}

// ExpandScopes resolves requested ids ("reports.read", or "reports.*" for a whole
// category; spaces around them ignored) against kind's catalog, answering them
// deduplicated in catalog order. The first unknown id is returned as bad.
func ExpandScopes(kind string, requested []string) (scopes []string, bad string) {
	trimmed := make([]string, len(requested))
	for i, r := range requested {
		trimmed[i] = strings.TrimSpace(r)
	}
	scopes, bad = contract.ExpandScopes(CatalogFor(kind), trimmed)
	if bad != "" {
		return nil, requested[slices.Index(trimmed, bad)]
	}
	sortScopes(kind, scopes)
	return scopes, ""
}

func sortScopes(kind string, ids []string) {
	order := map[string]int{}
	for i, s := range AllScopes(kind) {
		order[s] = i
	}
	sort.SliceStable(ids, func(i, j int) bool { return order[ids[i]] < order[ids[j]] })
}
