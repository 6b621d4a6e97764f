package client

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

var validJSONSeeds = []string{
	``, ` `, `{}`, `[]`, `[ ]`, `{ }`, `""`, `"a"`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e5`, `1E+5`, `1e-`, `1.5e3x`,
	`true`, `false`, `null`, `nul`, `truex`, `tru`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{1:2}`,
	`{"a":[1,{"b":null}],"c":"\u00e9\n"}`, `"\u12g4"`, `"\x"`, "\"\x01\"", "\"\xff\"", `"\"`, `"\\"`,
	`[1] [2]`, ` [1] `, `{"a":1}}`, `[[[]]]`, `[[[]]`, `]`, `}`, `{"@page":"1","ApiTokens":[{"AccountSid":"IR1"}]}`,
	"\t\r\n[\t1\r\n]", `[1 2]`, `{"a":1 "b":2}`, `"\/\b\f\n\r\t"`, `[-1.0e+01,0.5,-0]`, `[+1]`, `[.5]`, `"\u00"`,
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat("[", maxDepth) + "[]" + strings.Repeat("]", maxDepth),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":`, maxDepth) + "{}" + strings.Repeat("}", maxDepth),
}

func TestValidJSONAsEncodingJSON(t *testing.T) {
	for _, s := range validJSONSeeds {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

var bulkSeeds = []string{
	`{"Results":[{"AccountSid":"IR1","Status":"OK","StatusCode":200,"Message":"disabled","ApiToken":{"AccountSid":"IR1","Name":"a","State":"DISABLED","Scopes":[],"DeveloperEmails":["d@example.com"]}},` +
		`{"AccountSid":"IR2","Status":"ERROR","StatusCode":"404","Code":"not_found","Message":"no such token","Errors":[{"Field":"Sids","Message":"x"}]},null]}`,
	`{"Results":[]}`, `{"Results":null}`, `{}`, `[]`, `{"results":[{"Status":"OK"}]}`, `{"Results":[{"StatusCode":"x"}]}`,
	`{"Results":[1]}`, `{"Results":[{"Status":"a"}],"Results":[{"Status":"b"}]}`, `{"Results":[{"Status":"a"}],"RESULTS":[]}`,
	`{"R\u0065sults":[{"Status":"OK"}]}`, `{"Re\u017fults":[{"Status":"OK"}]}`, `{"Results":[{"ApiToken":{"Scopes":"x"}}]}`,
	` {"Other":1, "Results" : [ {"AccountSid" : "IR3"} ] } `, `{"Results":{}}`, `{"Results":"x"}`,
}

// splitBulk answers what decoding the whole answer gives, whenever it answers.
func checkSplitBulk(t *testing.T, body []byte) {
	got, ok := splitBulk(body)
	if !ok {
		return
	}
	var want struct{ Results []BulkResult }
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("splitBulk(%q) read what decoding refuses: %v", body, err)
	}
	if !reflect.DeepEqual(got, want.Results) {
		t.Fatalf("splitBulk(%q):\n got %+v\nwant %+v", body, got, want.Results)
	}
}

func TestSplitBulkAsDecoding(t *testing.T) {
	for _, s := range bulkSeeds {
		checkSplitBulk(t, []byte(s))
	}
	if _, ok := splitBulk([]byte(bulkSeeds[0])); !ok {
		t.Error("the usual answer is not split")
	}
}

func FuzzSplitBulk(f *testing.F) {
	for _, s := range bulkSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkSplitBulk(t, b) })
}

// mutated yields n variations of the seeds: bytes replaced, inserted, deleted
// or repeated, from JSON's own alphabet and beyond.
func mutated(seeds []string, n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[]\":,\\ \t\r\n0123456789-+.eEtrufalsnbx/\x00\x1f\x7f\xc3\xa9\xff")
	out := make([][]byte, 0, n)
	for range n {
		b := []byte(seeds[r.IntN(len(seeds))])
		for range 1 + r.IntN(4) {
			i := 0
			if len(b) > 0 {
				i = r.IntN(len(b) + 1)
			}
			c := alphabet[r.IntN(len(alphabet))]
			switch op := r.IntN(4); {
			case op == 0 && i < len(b):
				b[i] = c
			case op == 1:
				b = append(b[:i], append([]byte{c}, b[i:]...)...)
			case op == 2 && i < len(b):
				b = append(b[:i], b[i+1:]...)
			default:
				j := min(len(b), i+r.IntN(8))
				b = append(b[:j], append(append([]byte{}, b[i:j]...), b[j:]...)...)
			}
		}
		out = append(out, b)
	}
	return out
}

func TestValidJSONMutated(t *testing.T) {
	for _, b := range mutated(append(validJSONSeeds[:len(validJSONSeeds)-5:len(validJSONSeeds)-5], bulkSeeds...), 200000) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	}
}

func TestSplitBulkMutated(t *testing.T) {
	for _, b := range mutated(bulkSeeds, 50000) {
		checkSplitBulk(t, b)
	}
}

// stringEndByBytes is stringEnd as it was written first, a byte at a time.
func stringEndByBytes(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func TestStringEndAsByBytes(t *testing.T) {
	seeds := []string{`""`, `"a"`, `"\""`, `"\\"`, `"\\\""`, `"a\\\\"b"`, `"\`, `"abc`, `"\\\`, `"x\"y\\"z"`}
	for _, b := range append(mutated(seeds, 50000), []byte(`"`)) {
		if len(b) == 0 || b[0] != '"' {
			continue
		}
		if got, want := stringEnd(b, 0), stringEndByBytes(b, 0); got != want {
			t.Fatalf("stringEnd(%q) = %d, want %d", b, got, want)
		}
	}
}

// plainEnd stops where a byte-by-byte look stops, at any offset.
func TestPlainEnd(t *testing.T) {
	special := []byte{'"', '\\', 0, 0x1f, 0x80, 0xff, 0xc3}
	plain := []byte("abcdefghijklmnopqrstuvwxyz0123456789 ~/{}[]:,")
	for n := 0; n <= 40; n++ {
		for at := 0; at <= n; at++ {
			for _, c := range special {
				b := make([]byte, n)
				for k := range b {
					b[k] = plain[(k*7+n)%len(plain)]
				}
				want := n
				if at < n {
					b[at] = c
					want = at
				}
				for from := 0; from <= min(at, n); from++ {
					if got := plainEnd(b, from); got != want {
						t.Fatalf("%q from %d: %d, want %d", b, from, got, want)
					}
				}
			}
		}
	}
}
