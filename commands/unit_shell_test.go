package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
)

// Every command a user runs has examples, and they can be pasted as they
// are: no "IR…" to fill in ($SID instead, set as the root's help shows).
func TestEveryCommandHasExamples(t *testing.T) {
	root := Tree("test")
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.Hidden && c.Name() != "help" && !c.HasSubCommands() {
			if strings.TrimSpace(c.Example) == "" {
				t.Errorf("%s has no examples", c.CommandPath())
			}
			if strings.Contains(c.Example, "…") {
				t.Errorf("%s has an example with a placeholder: %q", c.CommandPath(), c.Example)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestParseRelativePath(t *testing.T) {
	tests := []struct {
		in, path, query string
		ok              bool
	}{
		{"ApiTokens", "ApiTokens", "", true},
		{"/ApiTokens/Current", "ApiTokens/Current", "", true},
		{"ApiTokens?State=DISABLED&PageSize=5", "ApiTokens", "PageSize=5&State=DISABLED", true},
		{"Advertisers/1048291/ApiTokens", "Advertisers/1048291/ApiTokens", "", true},
		{"ApiTokens/IR%41bc", "ApiTokens/IR%41bc", "", true},
		{"ApiTokens/", "ApiTokens/", "", true},
		{"", "", "", false},
		{"/", "", "", false},
		{"https://evil.example/x", "", "", false},
		{"HTTP://evil.example", "", "", false},
		{"//evil.example/x", "", "", false},
		{"javascript:alert(1)", "", "", false},
		{"ApiTokens//Current", "", "", false},
		{"../Agencies/IRother", "", "", false},
		{"ApiTokens/..", "", "", false},
		{"ApiTokens/./Current", "", "", false},
		{"ApiTokens/%2e%2e/x", "", "", false},
		{"ApiTokens/%2E%2e/x", "", "", false},
		{"ApiTokens/.%2e/x", "", "", false},
		{"ApiTokens/%252e%252e/x", "", "", false},
		{"ApiTokens%2f..%2fx", "", "", false},
		{"ApiTokens/%5c..", "", "", false},
		{`ApiTokens\..\x`, "", "", false},
		{"ApiTokens/%zz", "", "", false},
		{"ApiTokens#frag", "", "", false},
		{"Api Tokens", "", "", false},
		{"ApiTokens\n", "", "", false},
		{"ApiTokens?a=%zz", "", "", false},
		// ";" and NUL in a segment, raw or encoded: "..;" and "..%00" are ".." to some proxies.
		{"..;/x", "", "", false},
		{"ApiTokens/..;/x", "", "", false},
		{"ApiTokens/..;a=b/x", "", "", false},
		{"a;b", "", "", false},
		{"ApiTokens;jsessionid=1", "", "", false},
		{"..%00/x", "", "", false},
		{"%2e%2e%00/x", "", "", false},
		{"ApiTokens/%2e%2e%3b/x", "", "", false},
		{"ApiTokens/..%3B/x", "", "", false},
		{"ApiTokens/..%253b/x", "", "", false},
		{"ApiTokens/..%2500/x", "", "", false},
		{"ApiTokens/a%00b", "", "", false},
		{"ApiTokens\x00", "", "", false},
		{"ApiTokens?Name=a%3Bb", "ApiTokens", "Name=a%3Bb", true}, // the query is not a segment
	}
	for _, tt := range tests {
		path, q, err := client.ParseRelativePath(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseRelativePath(%q): err = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (path != tt.path || q.Encode() != tt.query) {
			t.Errorf("ParseRelativePath(%q) = %q, %q; want %q, %q", tt.in, path, q.Encode(), tt.path, tt.query)
		}
	}
}

func TestAPIFields(t *testing.T) {
	env := cmdEnv{IO: iostreams.Streams(strings.NewReader("from stdin\n"), nil, nil)}
	opts := &APIOptions{
		RawFields:   []string{"Name=CI deploys", "Scopes[]=reports.read", "Scopes[]=account.read", "Count=3"},
		TypedFields: []string{"ApiVersion=3", "Ratio=-1.5e3", "On=true", "Off=false", "Description=null", "Note=plain", "Secret=@-"},
	}
	fields, err := parseAPIFields(env, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{}
	for _, fd := range fields {
		if fd.array {
			l, _ := obj[fd.name].([]any)
			obj[fd.name] = append(l, fd.value)
		} else {
			obj[fd.name] = fd.value
		}
	}
	b, _ := json.Marshal(obj)
	want := `{"ApiVersion":3,"Count":"3","Description":null,"Name":"CI deploys","Note":"plain","Off":false,"On":true,"Ratio":-1.5e3,"Scopes":["reports.read","account.read"],"Secret":"from stdin\n"}`
	if string(b) != want {
		t.Errorf("fields:\n got %s\nwant %s", b, want)
	}
	for _, bad := range []string{"NoEquals", "=value", "[]=x"} {
		if _, err := parseAPIFields(env, &APIOptions{RawFields: []string{bad}}); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("-f %q: err = %v, want a usage error", bad, err)
		}
	}
	q := addQueryFields(nil, fields[:3])
	if got := q.Encode(); got != "Name=CI+deploys&Scopes%5B%5D=reports.read&Scopes%5B%5D=account.read" {
		t.Errorf("query: %s", got)
	}
}

func TestAuthTokensFound(t *testing.T) {
	var doc any
	_ = json.Unmarshal([]byte(`{"Results":[{"ApiToken":{"AuthToken":"s1"}},{"ApiToken":{"AuthToken":"s2"}}],"AuthToken":"s1","AuthTokenHint":"x"}`), &doc)
	got := authTokens(doc)
	if strings.Join(got, ",") != "s1,s2" {
		t.Errorf("authTokens = %v", got)
	}
}

func TestNearest(t *testing.T) {
	names := []string{"state", "name", "unused-for", "not-reset-for", "limit", "page-size"}
	for typed, want := range map[string]string{"unused": "unused-for", "stat": "state", "nmae": "name", "limt": "limit"} {
		if got := nearest(typed, names); len(got) == 0 || got[0] != want {
			t.Errorf("nearest(%q) = %v, want %s first", typed, got, want)
		}
	}
	if got := nearest("zzzzzz", names); len(got) != 0 {
		t.Errorf("nearest(zzzzzz) = %v, want nothing", got)
	}
}
