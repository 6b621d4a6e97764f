package server

import (
	"sort"
	"strings"
)

// Scope is one permission of the catalog: a checkbox of the web app's API Scopes screen,
// named after the impact.com operation it allows.
type Scope struct {
	Id     string `json:"Id"`
	Name   string `json:"Name"`
	Method string `json:"Method"`
}

// Category is a group of scopes: a toggle of the web app's API Scopes screen.
type Category struct {
	Id     string  `json:"Id"`
	Name   string  `json:"Name"`
	Scopes []Scope `json:"Scopes"`
}

// Scopes the server itself enforces.
const (
	scopeAccountRead     = "account.read"
	scopeUsersRead       = "users.read"
	scopeAdvertisersRead = "advertisers.read"
	scopeTokensRead      = "apitokens.read"
	scopeTokensWrite     = "apitokens.write"
	scopeTokensReveal    = "apitokens.reveal"
)

// categories is the whole catalog in display order; agencyOnly categories are not
// offered to brand tokens.
var categories = []struct {
	Category
	agencyOnly bool
}{
	{Category: Category{Id: "account", Name: "Account", Scopes: []Scope{
		{"account.read", "Retrieve company information", "GET"},
		{"account.write", "Update company information", "PUT"},
	}}},
	{Category: Category{Id: "users", Name: "Users", Scopes: []Scope{
		{"users.read", "List and retrieve users", "GET"},
	}}},
	{agencyOnly: true, Category: Category{Id: "advertisers", Name: "Advertisers", Scopes: []Scope{
		{"advertisers.read", "List and retrieve managed advertisers", "GET"},
	}}},
	{Category: Category{Id: "apitokens", Name: "API Tokens", Scopes: []Scope{
		{"apitokens.read", "List and retrieve API tokens", "GET"},
		{"apitokens.write", "Create, edit, reset, disable and delete API tokens", "POST"},
		{"apitokens.reveal", "Reveal API token secrets", "GET"},
	}}},
	{Category: Category{Id: "reports", Name: "Reports", Scopes: []Scope{
		{"reports.read", "List and retrieve reports", "GET"},
		{"reports.metadata", "Retrieve report metadata", "GET"},
		{"reports.export", "Export reports", "GET"},
		{"reports.schedule", "Schedule report exports", "POST"},
	}}},
	{Category: Category{Id: "jobs", Name: "Jobs", Scopes: []Scope{
		{"jobs.read", "Retrieve job status", "GET"},
		{"jobs.download", "Download job results", "GET"},
		{"jobs.replay", "Replay jobs", "PUT"},
	}}},
	{Category: Category{Id: "compliance", Name: "Compliance", Scopes: []Scope{
		{"compliance.read", "List compliance issues", "GET"},
		{"compliance.write", "Resolve compliance issues", "PUT"},
	}}},
	{Category: Category{Id: "actions", Name: "Actions", Scopes: []Scope{
		{"actions.read", "List and retrieve actions", "GET"},
		{"actions.write", "Update actions", "PUT"},
		{"actions.reverse", "Reverse actions", "DELETE"},
		{"actions.inquiries", "Manage action inquiries", "POST"},
	}}},
	{Category: Category{Id: "campaigns", Name: "Campaigns", Scopes: []Scope{
		{"campaigns.read", "List and retrieve campaigns", "GET"},
		{"campaigns.ads", "List and retrieve ads", "GET"},
	}}},
	{Category: Category{Id: "partners", Name: "Partners", Scopes: []Scope{
		{"partners.read", "List and retrieve media partners", "GET"},
		{"partners.groups", "Manage media partner groups", "PUT"},
	}}},
	{Category: Category{Id: "promocodes", Name: "Promo Codes", Scopes: []Scope{
		{"promocodes.read", "List and retrieve promo codes", "GET"},
		{"promocodes.write", "Create and update promo codes", "POST"},
		{"promocodes.delete", "Delete promo codes", "DELETE"},
	}}},
	{Category: Category{Id: "clicks", Name: "Clicks", Scopes: []Scope{
		{"clicks.read", "List clicks", "GET"},
		{"clicks.export", "Export clicks", "GET"},
	}}},
	{Category: Category{Id: "catalogs", Name: "Catalogs", Scopes: []Scope{
		{"catalogs.read", "List and retrieve catalogs and items", "GET"},
		{"catalogs.write", "Create and update catalogs", "POST"},
		{"catalogs.items", "Upload catalog items", "PUT"},
	}}},
	{Category: Category{Id: "contracts", Name: "Contracts", Scopes: []Scope{
		{"contracts.read", "List and retrieve contracts", "GET"},
		{"contracts.write", "Propose and update contracts", "POST"},
	}}},
	{Category: Category{Id: "invoices", Name: "Invoices", Scopes: []Scope{
		{"invoices.read", "List and retrieve invoices", "GET"},
	}}},
}

// catalogFor returns the categories a token of the given kind can hold.
func catalogFor(kind string) []Category {
	var out []Category
	for _, c := range categories {
		if c.agencyOnly && kind != kindAgency {
			continue
		}
		out = append(out, c.Category)
	}
	return out
}

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
// category) against kind's catalog, answering them deduplicated in catalog order. The
// first unknown id is returned as bad.
func expandScopes(kind string, requested []string) (scopes []string, bad string) {
	cats := catalogFor(kind)
	want := map[string]bool{}
	for _, r := range requested {
		id := strings.TrimSpace(r)
		if cat, ok := strings.CutSuffix(id, ".*"); ok {
			found := false
			for _, c := range cats {
				if c.Id == cat {
					found = true
					for _, s := range c.Scopes {
						want[s.Id] = true
					}
				}
			}
			if !found {
				return nil, r
			}
			continue
		}
		if rank(kind, id) < 0 {
			return nil, r
		}
		want[id] = true
	}
	out := make([]string, 0, len(want))
	for id := range want {
		out = append(out, id)
	}
	sortScopes(kind, out)
	return out, ""
}

// rank is a scope's position in kind's catalog, -1 when it is not there.
func rank(kind, id string) int {
	for i, s := range allScopes(kind) {
		if s == id {
			return i
		}
	}
	return -1
}

func sortScopes(kind string, ids []string) {
	order := map[string]int{}
	for i, s := range allScopes(kind) {
		order[s] = i
	}
	sort.SliceStable(ids, func(i, j int) bool { return order[ids[i]] < order[ids[j]] })
}
