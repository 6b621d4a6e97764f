package contract

import (
	"slices"
	"strings"
)

// Scope is one permission of the catalog: a checkbox of the web app's API Scopes
// screen, named after the impact.com operation it allows.
type Scope struct {
	Id     string `json:"Id"`
	Name   string `json:"Name"`
	Method string `json:"Method"`
}

// Category is a group of scopes: a toggle of the web app's API Scopes screen.
// "<Id>.*" names all of its scopes.
type Category struct {
	Id     string  `json:"Id"`
	Name   string  `json:"Name"`
	Scopes []Scope `json:"Scopes"`
}

// catalog is the reference server's whole catalog in display order; agencyOnly
// categories are not offered to brand tokens.
var catalog = []struct {
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

// Catalog returns the categories of the reference catalog a token can hold: an
// agency token's, or a brand token's (which lack the agency-only ones).
func Catalog(agency bool) []Category {
	var out []Category
	for _, c := range catalog {
		if c.agencyOnly && !agency {
			continue
		}
		out = append(out, c.Category)
	}
	return out
}

// WholeCategory reports whether name names a whole category ("reports.*"), and
// which.
func WholeCategory(name string) (string, bool) {
	return strings.CutSuffix(name, ".*")
}

// ExpandScopes resolves names against a catalog: a scope's Id, or "<category>.*"
// for every scope of a category. It answers the scopes once each, in the order
// named (a category's in catalog order); bad is the first name the catalog does
// not know.
func ExpandScopes(cats []Category, names []string) (scopes []string, bad string) {
	add := func(id string) {
		if !slices.Contains(scopes, id) {
			scopes = append(scopes, id)
		}
	}
	for _, n := range names {
		if id, ok := WholeCategory(n); ok {
			i := slices.IndexFunc(cats, func(c Category) bool { return c.Id == id })
			if i < 0 {
				return nil, n
			}
			for _, s := range cats[i].Scopes {
				add(s.Id)
			}
			continue
		}
		if !slices.ContainsFunc(cats, func(c Category) bool {
			return slices.ContainsFunc(c.Scopes, func(s Scope) bool { return s.Id == n })
		}) {
			return nil, n
		}
		add(n)
	}
	if scopes == nil {
		scopes = []string{}
	}
	return scopes, ""
}
