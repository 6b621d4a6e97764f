package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets below feed the list parser what a server may send. `go test`
// runs their seed corpora (testdata/fuzz/Fuzz…); a fuzzing run is
//
//	go test ./client -run '^$' -fuzz '^FuzzDecodePage$' -fuzztime 60s -parallel 1

// FuzzDecodePage: any answer body either parses into an envelope and items or is
// refused; what parses encodes back to a body that parses the same.
func FuzzDecodePage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		if key == "" {
			key = "ApiTokens"
		}
		if !utf8.ValidString(key) {
			return // the key is the client's own literal, never a server's text
		}
		env, items, err := decodePage(body, key)
		if err != nil {
			if env != nil || items != nil {
				t.Fatalf("refused (%v), yet answered an envelope or items", err)
			}
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(body, &fields) != nil {
			t.Fatalf("a body that is not a JSON object parsed: %q", body)
		}
		if int(env.NumPages) < 0 && !strings.Contains(string(fields["@numpages"]), "-") {
			t.Fatalf("@numpages %s read as %d", fields["@numpages"], env.NumPages)
		}
		// Round trip: the envelope and items, encoded again, read the same.
		again, err := json.Marshal(map[string]any{
			"@page": env.Page, "@numpages": env.NumPages, "@pagesize": env.PageSize, "@total": env.Total,
			"@nextpageuri": env.Next, key: items,
		})
		if err != nil {
			t.Fatalf("encoding what was read: %v", err)
		}
		env2, items2, err := decodePage(again, key)
		if err != nil {
			t.Fatalf("what was read does not read again: %v: %s", err, again)
		}
		if *env2 != *env {
			t.Fatalf("envelope %+v read back as %+v", *env, *env2)
		}
		if len(items2) != len(items) {
			t.Fatalf("%d items read back as %d", len(items), len(items2))
		}
		for i := range items {
			if !jsonSame(items[i], items2[i]) {
				t.Fatalf("item %d %s read back as %s", i, items[i], items2[i])
			}
		}
	})
}

// jsonSame compares two JSON texts by value.
func jsonSame(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	p, _ := json.Marshal(x)
	q, _ := json.Marshal(y)
	return bytes.Equal(p, q)
}

// FuzzNextURL: whatever @nextpageuri a server sends, the next request goes to the
// API's own scheme and host, never with user info, and a refusal never echoes the
// link's query or password.
func FuzzNextURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, base, link string) {
		if base == "" {
			base = "https://api.impact.com"
		}
		c, err := New(Options{BaseURL: base, AccountSid: "IR" + strings.Repeat("a", 32), AuthToken: "secret"})
		if err != nil {
			return
		}
		cur := c.base.ResolveReference(&url.URL{Path: c.prefix + "/Agencies/IRx/ApiTokens", RawQuery: "PageSize=1000&State=ENABLED"})
		q := url.Values{"PageSize": {"1000"}, "State": {"ENABLED"}}
		u, err := c.nextURL(cur, link, q)
		if err != nil {
			var pe *PagingError
			if errors.As(err, &pe) {
				ref, _ := url.Parse(strings.TrimSpace(link))
				if ref != nil && ref.RawQuery != "" && strings.Contains(pe.Error(), "?"+ref.RawQuery) {
					t.Fatalf("refusal echoes the link's query: %v", err)
				}
				if p, ok := ref.User.Password(); ok && p != "" && strings.Contains(pe.Error(), ":"+p+"@") {
					t.Fatalf("refusal echoes the link's password: %v", err)
				}
			}
			return
		}
		if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
			t.Fatalf("base %s, link %q: the next page is asked of %s://%s", base, link, u.Scheme, u.Host)
		}
		if u.User != nil {
			t.Fatalf("link %q: the next page carries user info %v", link, u.User)
		}
		if c.prefix != "" && !strings.HasPrefix(u.Path, c.prefix) && strings.HasPrefix(link, "/") {
			t.Fatalf("link %q leaves the base path %s: %s", link, c.prefix, u.Path)
		}
		ref, _ := url.Parse(strings.TrimSpace(link))
		if _, named := ref.Query()["State"]; !named && u.Query().Get("State") != "ENABLED" {
			t.Fatalf("link %q: the next page lost the filter State", link)
		}
	})
}

// FuzzMembersSplit: a member split while its end is found has the value and
// the elements that finding its end and then splitting it give.
func FuzzMembersSplit(f *testing.F) {
	for _, s := range []string{
		`{"ApiTokens":[{"a":"]"},[1,[]],"x\"]",null],"@page":1}`,
		`{ "ApiTokens" : [ ] , "ApiTokens":[1 , 2 ] }`, `{"ApiTokens":null}`, `{"ApiTokens":{"a":[1]}}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		start := skipSpace(body, 0)
		if start == len(body) || body[start] != '{' || !validJSON(body) {
			return
		}
		var plain []member
		for m := range members(body[start:], "") {
			plain = append(plain, m)
		}
		i := 0
		for m := range members(body[start:], "ApiTokens") {
			if i >= len(plain) || !bytes.Equal(m.value, plain[i].value) || m.name != plain[i].name {
				t.Fatalf("member %d: %q, want %q", i, m.value, plain[i].value)
			}
			want := []json.RawMessage(nil)
			if m.name == "ApiTokens" && m.value[0] == '[' {
				want = elements(m.value)
			}
			if len(m.items) != len(want) {
				t.Fatalf("member %d: %d items, want %d", i, len(m.items), len(want))
			}
			for k := range want {
				if !bytes.Equal(m.items[k], want[k]) {
					t.Fatalf("member %d item %d: %q, want %q", i, k, m.items[k], want[k])
				}
			}
			i++
		}
		if i != len(plain) {
			t.Fatalf("%d members, want %d", i, len(plain))
		}
	})
}
