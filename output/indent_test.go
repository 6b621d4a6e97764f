package output

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func checkIndent(t *testing.T, in []byte) {
	t.Helper()
	if !json.Valid(in) {
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, in); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
		t.Fatal(err)
	}
	got, err := appendIndented([]byte("x"), compact.Bytes(), "  ", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "x"+want.String() {
		t.Fatalf("%q indented:\n%s\nwant\n%s", compact.Bytes(), got[1:], want.Bytes())
	}
}

var indentSeeds = []string{
	`{"a":[1,2,{"b":{}},[]],"c":"x\"y:{,}[]\\","d":null,"e":{"f":[{}]}}`,
	`[]`, `{}`, `"s"`, `1`, `[[[]]]`, `{"":""}`,
}

func TestAppendIndented(t *testing.T) {
	for _, s := range indentSeeds {
		checkIndent(t, []byte(s))
	}
	// Not compact: json.Indent's answer, errors included.
	for _, s := range []string{`{ "a" : 1 }`, `{"a":`, `{"a":1}}`} {
		var want bytes.Buffer
		werr := json.Indent(&want, []byte(s), "  ", "  ")
		got, err := appendIndented(nil, []byte(s), "  ", "  ")
		if (err == nil) != (werr == nil) || err == nil && string(got) != want.String() {
			t.Errorf("%q: %q, %v; want %q, %v", s, got, err, want.String(), werr)
		}
	}
}

func FuzzAppendIndented(f *testing.F) {
	for _, s := range indentSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkIndent)
}

func TestAddJSONWritesWhatAddWrites(t *testing.T) {
	type contact struct{ Id, Name string }
	type item struct {
		Sid     string
		N       int
		Big     int64
		Tags    []string
		Empty   []string
		Contact *contact
		None    *contact
		Text    string `json:",omitempty"`
	}
	items := []item{
		{Sid: "IR1", N: 2, Big: 1 << 60, Tags: []string{"a", "<b>"}, Empty: []string{}, Contact: &contact{"U1", "Ada é ☃"}},
		{Sid: "IR2", Text: "line\nbreak \u2028 \"q\" \\"},
	}
	for _, o := range []Options{
		{Format: "json"}, {Format: "jsonl"},
		{JQ: ".[].Big"}, {Format: "jsonl", JQ: ".Contact.Name"},
		{Template: "{{range .}}{{.Sid}} {{.Big}};{{end}}"}, {Format: "jsonl", Template: "{{.N}}"},
	} {
		// Each way of adding an item writes the list; every one must write
		// what Add does.
		ways := []struct {
			name string
			add  func(*ListWriter, item) error
		}{
			{"Add", func(l *ListWriter, it item) error { return l.Add(it) }},
			{"AddJSON", func(l *ListWriter, it item) error {
				b, err := marshal(it, "", "")
				if err != nil {
					return err
				}
				return l.AddJSON(b)
			}},
			{"Hold", func(l *ListWriter, it item) error { return l.Hold(it) }},
		}
		var want string
		for _, w := range ways {
			var out bytes.Buffer
			p, err := New(&out, o)
			if err != nil {
				t.Fatal(err)
			}
			l := p.List()
			for _, it := range items {
				if err := w.add(l, it); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if l.Len() != len(items) {
				t.Errorf("%+v, %s: Len %d", o, w.name, l.Len())
			}
			if w.name == "Add" {
				want = out.String()
			} else if out.String() != want {
				t.Errorf("%+v: %s wrote\n %q\nwant %q", o, w.name, out.String(), want)
			}
		}
	}
}

func TestAddJSONHoldsItsWrites(t *testing.T) {
	type item struct {
		Sid  string
		Name string
	}
	for _, format := range []string{"json", "jsonl"} {
		var want bytes.Buffer
		var got recorder
		pw, _ := New(&want, Options{Format: format})
		pg, err := New(&got, Options{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		lw, lg := pw.List(), pg.List()
		const n = 2000
		for i := range n {
			it := item{Sid: "IR" + strconv.Itoa(i), Name: strings.Repeat("x", i%50)}
			if err := lw.Add(it); err != nil {
				t.Fatal(err)
			}
			b, _ := marshal(it, "", "")
			if err := lg.AddJSON(b); err != nil {
				t.Fatal(err)
			}
			if len(lg.buf) >= listHold {
				t.Fatalf("%s: %d bytes held after an add", format, len(lg.buf))
			}
		}
		// A caller stopping on an error flushes: what was added is out.
		if err := lg.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%s: flushed %d bytes, want the %d written by Add", format, got.Len(), want.Len())
		}
		// An item added by value after one added as JSON and still held
		// comes after it.
		held, last := item{Sid: "IRheld"}, item{Sid: "IRlast"}
		_ = lw.Add(held)
		_ = lw.Add(last)
		b, _ := marshal(held, "", "")
		if err := lg.AddJSON(b); err != nil {
			t.Fatal(err)
		}
		if err := lg.Add(last); err != nil {
			t.Fatal(err)
		}
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := lg.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: output differs from Add's", format)
		}
		if max := want.Len()/listHold + 4; got.writes > max {
			t.Errorf("%s: %d writes for %d items (%d bytes), want at most %d", format, got.writes, n, want.Len(), max)
		}
	}
}
