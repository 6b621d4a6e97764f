package store

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzDecodeList holds decodeList's direct split to encoding/json: the same list or
// the same refusal, whatever is stored.
func FuzzDecodeList(f *testing.F) {
	for _, s := range []string{
		`[]`, ``, `["a"]`, `["apitokens.read","apitokens.write"]`, `["a", "b"]`, `["a","b",]`,
		`["a\"b"]`, `["a","",""]`, `[""]`, `["é"]`, "[\"\xff\"]", "[\"a\tb\"]", `["\u003c"]`,
		`["a"]x`, `["a""b"]`, `["a","b"`, `"a"`, `["a",1]`, `null`, `["a"] `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DecodeList(s)
		var want []string
		werr := json.Unmarshal([]byte(s), &want)
		if s == "" {
			want, werr = []string{}, nil // an empty column reads as no list
		}
		if want == nil && werr == nil {
			want = []string{}
		}
		if (err != nil) != (werr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", s, err, werr)
		}
		if err == nil && !slices.Equal(got, want) {
			t.Fatalf("%q: %q, encoding/json %q", s, got, want)
		}
		if err == nil && got == nil {
			t.Fatalf("%q: nil list", s)
		}
	})
}

func TestDecodeListRoundTrip(t *testing.T) {
	for _, v := range [][]string{
		{}, {"apitokens.read"}, {"apitokens.read", "apitokens.write", "account.read"},
		{"ops@example.com", "a+b@example.org"}, {`q"uote@example.com`}, {"<x>&@example.com"}, {""}, {"", ""},
	} {
		s, err := encodeList(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeList(s)
		if err != nil || !slices.Equal(got, v) {
			t.Fatalf("%q → %s → %q, %v", v, s, got, err)
		}
	}
}
