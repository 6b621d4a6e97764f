package commands

import (
	"slices"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

func testCatalog() *client.Catalog {
	return &client.Catalog{Categories: []client.Category{
		{Id: "reports", Name: "Reports", Scopes: []client.Scope{
			{Id: "reports.read", Method: "GET"}, {Id: "reports.export", Method: "POST"},
		}},
		{Id: "apitokens", Name: "API tokens", Scopes: []client.Scope{
			{Id: "apitokens.read", Method: "GET"}, {Id: "apitokens.write", Method: "PUT"}, {Id: "apitokens.reveal", Method: "GET"},
		}},
		{Id: "account", Name: "Account", Scopes: []client.Scope{
			{Id: "account.read", Method: "GET"},
		}},
	}}
}

func TestExpandScopes(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  []string
		// errHas, when set, is a part of the expected usage error.
		errHas []string
		// errLacks must not appear in the error.
		errLacks string
	}{
		{name: "nothing", names: nil, want: nil},
		{name: "one scope", names: []string{"account.read"}, want: []string{"account.read"}},
		{name: "a category", names: []string{"reports.*"}, want: []string{"reports.read", "reports.export"}},
		{name: "order kept", names: []string{"apitokens.reveal", "account.read"}, want: []string{"apitokens.reveal", "account.read"}},
		{name: "scope then its category, deduplicated", names: []string{"reports.export", "reports.*"}, want: []string{"reports.export", "reports.read"}},
		{name: "repeated scope", names: []string{"account.read", "account.read"}, want: []string{"account.read"}},
		{name: "repeated category", names: []string{"account.*", "account.*"}, want: []string{"account.read"}},
		{name: "two categories", names: []string{"account.*", "reports.*"}, want: []string{"account.read", "reports.read", "reports.export"}},
		{name: "typo suggests the scope", names: []string{"reports.raed"},
			errHas: []string{`unknown scope "reports.raed"`, "did you mean reports.read"}},
		{name: "typo in a long name", names: []string{"apitokens.reaveal"},
			errHas: []string{"did you mean apitokens.reveal"}},
		{name: "category without .* suggests the category first", names: []string{"reports"},
			errHas: []string{"did you mean reports.*"}},
		{name: "unknown category", names: []string{"nosuch.*"},
			errHas: []string{`unknown scope "nosuch.*"`, "nothing changed"}},
		{name: "nothing close", names: []string{"zzzzzzzzzzzzzzzzzzzz"},
			errHas: []string{`unknown scope "zzzzzzzzzzzzzzzzzzzz"`}, errLacks: "did you mean"},
		{name: "unknown after a known one", names: []string{"account.read", "bogus.scope"},
			errHas: []string{`unknown scope "bogus.scope"`}},
		{name: "case matters", names: []string{"Account.Read"},
			errHas: []string{"did you mean account.read"}},
		{name: "a bare star is not a category", names: []string{"*"},
			errHas: []string{`unknown scope "*"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandScopes(testCatalog(), tt.names)
			if tt.errHas != nil {
				if !cmdutiltest.CheckExit(t, err, cmdutil.ExitUsage) {
					return
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if tt.errLacks != "" && strings.Contains(err.Error(), tt.errLacks) {
					t.Errorf("error %q contains %q", err, tt.errLacks)
				}
				if got != nil {
					t.Errorf("scopes %v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("expandScopes(%q): %v", tt.names, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("expandScopes(%q) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	known := []string{"reports.*", "reports.read", "reports.export", "apitokens.*", "apitokens.read", "apitokens.reveal"}
	tests := []struct {
		name       string
		s          string
		candidates []string
		n          int
		want       []string
	}{
		{"one typo, then its category", "reports.raed", known, 3, []string{"reports.read", "reports.*"}},
		{"nearest first", "apitokens.reed", known, 3, []string{"apitokens.read", "apitokens.reveal", "apitokens.*"}},
		{"only the nearest", "reports.raed", known, 1, []string{"reports.read"}},
		{"at most n", "a", []string{"a1", "a2", "a3", "a4"}, 2, []string{"a1", "a2"}},
		{"n of zero", "a", []string{"a1"}, 0, nil},
		{"nothing near", "zzzzzzzzzzzz", known, 3, nil},
		{"no candidates", "reports.read", nil, 3, nil},
		{"case-insensitive distance", "REPORTS.READ", known, 1, []string{"reports.read"}},
		{"a prefix of a candidate", "api", []string{"apitokens.reveal", "account.read"}, 3, []string{"apitokens.reveal"}},
		{"a name under a category", "reports.something-long", []string{"reports.*", "account.read"}, 3, []string{"reports.*"}},
		{"ties keep catalog order", "ab", []string{"xb", "ax", "ab2"}, 3, []string{"xb", "ax", "ab2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := closest(tt.s, tt.candidates, tt.n); !slices.Equal(got, tt.want) {
				t.Errorf("closest(%q, %q, %d) = %q, want %q", tt.s, tt.candidates, tt.n, got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"kitten", "sitting", 3},
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"same", "same", 0},
		{"a", "b", 1},
		{"ab", "ba", 2},
		{"flaw", "lawn", 2},
		{"gumbo", "gambol", 2},
		{"reports.read", "reports.raed", 2},
		{"saturday", "sunday", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}
