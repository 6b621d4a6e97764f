package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTableGolden(t *testing.T) {
	b := &termBuffer{} // a terminal of unknown width: aligned, not fitted
	tb := NewTable(b, "SID", "NAME", "STATE", "HINT")
	tb.Row("IR1", "CI deploys", "ENABLED", Hint("1a2b"))
	tb.Row("IR22222", "a \x1b[31mred\x1b[0m \u202Eevil\u202C", "DISABLED", "")
	tb.Row("IR3", "two\nlines\tand tab", "ENABLED", Hint("zz"))
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"SID       NAME                STATE      HINT\n" +
		"IR1       CI deploys          ENABLED    ••••1a2b\n" +
		"IR22222   a red evil          DISABLED\n" +
		"IR3       two lines and tab   ENABLED    ••••zz\n"
	if got := b.String(); got != want {
		t.Errorf("table:\n got %q\nwant %q", got, want)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space in %q", line)
		}
	}
}

func TestTableHeaderOnly(t *testing.T) {
	b := &termBuffer{} // a terminal of unknown width: aligned, not fitted
	tb := NewTable(b, "SID", "NAME")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "SID   NAME\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTableKeepsCase(t *testing.T) {
	b := &termBuffer{} // a terminal of unknown width: aligned, not fitted
	tb := NewTable(b, "Id", "Name")
	tb.Row("reports.read", "Retrieve reports")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	want := "Id             Name\nreports.read   Retrieve reports\n"
	if got := b.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"plain":                           "plain",
		"\x1b[31mred\x1b[0m":              "red",
		"a\x1b]0;title\x07b":              "ab",
		"a\x1b]8;;http://x\x1b\\b":        "ab",
		"evil\u202Etxt.exe":               "eviltxt.exe",
		"\u2066x\u2069\u200E\u200F\u061C": "x",
		"tab\there":                       "tab here",
		"line\r\nbreak":                   "line  break",
		"del\x7f bell\x07":                "del bell",
		"c1\u0085\u009b31mx":              "c1 x",
		"bad\xffutf8":                     "bad\uFFFDutf8",
		"••••1a2b":                        "••••1a2b",
		"esc at end\x1b":                  "esc at end",
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHint(t *testing.T) {
	if got := Hint("1a2b"); got != "••••1a2b" {
		t.Errorf("Hint = %q", got)
	}
	if got := Hint(""); got != "" {
		t.Errorf("Hint(\"\") = %q", got)
	}
}

func TestKeyValues(t *testing.T) {
	var b bytes.Buffer
	err := KeyValues(&b, [][2]string{
		{"AccountSid", "IR1"},
		{"Name", "CI \x1b[1mdeploys"},
		{"Description", ""},
		{"AuthToken", Hint("1a2b")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"AccountSid:   IR1\n" +
		"Name:         CI deploys\n" +
		"Description:\n" +
		"AuthToken:    ••••1a2b\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

type item struct {
	Sid  string `json:"AccountSid"`
	Name string
	N    int `json:"ApiVersion"`
}

func TestObjectFormats(t *testing.T) {
	v := item{"IR1", "a<b", 2}
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Format: "json"}, "{\n  \"AccountSid\": \"IR1\",\n  \"Name\": \"a<b\",\n  \"ApiVersion\": 2\n}\n"},
		{Options{Format: "jsonl"}, "{\"AccountSid\":\"IR1\",\"Name\":\"a<b\",\"ApiVersion\":2}\n"},
		{Options{JQ: ".Name"}, "a<b\n"},
		{Options{JQ: ".ApiVersion, {x: .AccountSid}"}, "2\n{\"x\":\"IR1\"}\n"},
		{Options{Template: "{{.AccountSid}} v{{.ApiVersion}}\n"}, "IR1 v2\n"},
		{Options{Format: "jsonl", JQ: ".Name"}, "a<b\n"},
		{Options{Format: "jsonl", JQ: "keys | length"}, "3\n"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		p, err := New(&b, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if p.Table() {
			t.Errorf("%+v: Table() = true", c.o)
		}
		if err := p.Object(v); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%+v: got %q, want %q", c.o, b.String(), c.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{
		{Format: "yaml"},
		{JQ: ".["},
		{JQ: "$undefined"},
		{Template: "{{.Name"},
		{JQ: ".", Template: "x"},
	} {
		if _, err := New(&bytes.Buffer{}, o); err == nil {
			t.Errorf("New(%+v): no error", o)
		}
	}
	p, err := New(&bytes.Buffer{}, Options{})
	if err != nil || !p.Table() {
		t.Errorf("default: %v, table=%v", err, p != nil && p.Table())
	}
}

// recorder notes how many writes happened and what was written.
type recorder struct {
	bytes.Buffer
	writes int
}

func (r *recorder) Write(b []byte) (int, error) { r.writes++; return r.Buffer.Write(b) }

func TestListStreamsJSON(t *testing.T) {
	var r recorder
	p, err := New(&r, Options{Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	l := p.List()
	if err := l.Add(item{"IR1", "one", 2}); err != nil {
		t.Fatal(err)
	}
	if r.Len() == 0 || !strings.Contains(r.String(), `"IR1"`) {
		t.Fatalf("first item not written before Close: %q", r.String())
	}
	if err := l.Add(item{"IR2", "two", 3}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := "[\n" +
		"  {\n    \"AccountSid\": \"IR1\",\n    \"Name\": \"one\",\n    \"ApiVersion\": 2\n  },\n" +
		"  {\n    \"AccountSid\": \"IR2\",\n    \"Name\": \"two\",\n    \"ApiVersion\": 3\n  }\n" +
		"]\n"
	if r.String() != want {
		t.Errorf("got %q\nwant %q", r.String(), want)
	}
	var back []item
	if err := json.Unmarshal(r.Bytes(), &back); err != nil || len(back) != 2 {
		t.Errorf("not a valid JSON array: %v", err)
	}
}

func TestListEmpty(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Format: "json"}, "[]\n"},
		{Options{Format: "jsonl"}, ""},
		{Options{JQ: "length"}, "0\n"},
	} {
		var b bytes.Buffer
		p, _ := New(&b, c.o)
		l := p.List()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%+v: got %q, want %q", c.o, b.String(), c.want)
		}
	}
}

func TestListJSONLinesAndJQ(t *testing.T) {
	items := []item{{"IR1", "one", 2}, {"IR2", "two", 3}}
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Format: "jsonl"}, "{\"AccountSid\":\"IR1\",\"Name\":\"one\",\"ApiVersion\":2}\n{\"AccountSid\":\"IR2\",\"Name\":\"two\",\"ApiVersion\":3}\n"},
		{Options{JQ: ".[].AccountSid"}, "IR1\nIR2\n"},
		{Options{JQ: "map(.ApiVersion) | add"}, "5\n"},
		{Options{Format: "json", JQ: "length"}, "2\n"},
		{Options{Format: "jsonl", JQ: "length"}, "3\n3\n"},
		{Options{Format: "jsonl", JQ: ".AccountSid, .ApiVersion"}, "IR1\n2\nIR2\n3\n"},
		{Options{Format: "jsonl", JQ: "select(.Name == \"two\") | .AccountSid"}, "IR2\n"},
		{Options{Format: "jsonl", Template: "{{.Name}}"}, "one\ntwo\n"},
		{Options{Format: "jsonl", Template: "{{.Name}}\n"}, "one\ntwo\n"},
		{Options{Format: "jsonl", Template: "{{.AccountSid}}\n{{.Name}}"}, "IR1\none\nIR2\ntwo\n"},
		{Options{Format: "jsonl", Template: `{{if eq .Name "two"}}{{.AccountSid}}{{end}}`}, "IR2\n"},
		{Options{Template: "{{range .}}{{.Name}},{{end}}"}, "one,two,"},
		{Options{Template: "{{len .}} {{json (index . 0)}}"}, "2 {\"AccountSid\":\"IR1\",\"ApiVersion\":2,\"Name\":\"one\"}"},
	} {
		var b bytes.Buffer
		p, err := New(&b, c.o)
		if err != nil {
			t.Fatal(err)
		}
		l := p.List()
		for _, it := range items {
			if err := l.Add(it); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%+v: got %q, want %q", c.o, b.String(), c.want)
		}
	}
}

func TestJQRuntimeError(t *testing.T) {
	var b bytes.Buffer
	p, err := New(&b, Options{JQ: `.Name, error("boom")`})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Object(item{"IR1", "one", 2}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v", err)
	}
	if b.String() != "one\n" {
		t.Errorf("partial output %q", b.String())
	}
	var qe *QueryError
	if err := p.Object(item{"IR1", "one", 2}); !errors.As(err, &qe) || qe.Unwrap() == nil {
		t.Errorf("err %T is not a *QueryError", err)
	}
}

func TestListJSONLinesQueryStreams(t *testing.T) {
	for _, o := range []Options{
		{Format: "jsonl", JQ: ".AccountSid"},
		{Format: "jsonl", Template: "{{.AccountSid}}"},
	} {
		var r recorder
		p, err := New(&r, o)
		if err != nil {
			t.Fatal(err)
		}
		if p.Format() != FormatJSONL {
			t.Errorf("%+v: Format() = %q", o, p.Format())
		}
		l := p.List()
		if err := l.Add(item{"IR1", "one", 2}); err != nil {
			t.Fatal(err)
		}
		if r.String() != "IR1\n" {
			t.Errorf("%+v: after the first item %q", o, r.String())
		}
		if err := l.Add(item{"IR2", "two", 3}); err != nil {
			t.Fatal(err)
		}
		if r.String() != "IR1\nIR2\n" {
			t.Errorf("%+v: after the second item %q", o, r.String())
		}
		n := r.writes
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if r.writes != n || l.Len() != 2 {
			t.Errorf("%+v: Close wrote %q, Len %d", o, r.String(), l.Len())
		}
	}
}

func TestListJSONWritesNothingBeforeFirstAdd(t *testing.T) {
	for _, o := range []Options{{Format: "json"}, {JQ: "length"}, {Template: "{{len .}}"}, {Format: "jsonl"}} {
		var r recorder
		p, err := New(&r, o)
		if err != nil {
			t.Fatal(err)
		}
		_ = p.List()
		if r.writes != 0 || r.Len() != 0 {
			t.Errorf("%+v: %d writes (%q) before any item", o, r.writes, r.String())
		}
	}

	// A list abandoned part-way, without Close, is not valid JSON, so a
	// script cannot mistake it for a short list.
	var r recorder
	p, _ := New(&r, Options{Format: "json"})
	l := p.List()
	if err := l.Add(item{"IR1", "one", 2}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.String(), "[\n  {") || json.Valid(r.Bytes()) {
		t.Errorf("unterminated list %q", r.String())
	}
	// A query over the whole array writes nothing until Close.
	var q recorder
	p, _ = New(&q, Options{JQ: "length"})
	l = p.List()
	if err := l.Add(item{"IR1", "one", 2}); err != nil {
		t.Fatal(err)
	}
	if q.writes != 0 {
		t.Errorf("jq on the array wrote %q before Close", q.String())
	}
}

func TestQueryErrors(t *testing.T) {
	items := []item{{"IR1", "one", 2}, {"IR2", "two", 3}}
	cases := []struct {
		o      Options
		object bool
		want   string
	}{
		{Options{JQ: ".Name"}, false, "--jq: expected an object but got: array"},
		{Options{Format: "jsonl", JQ: ".[0]"}, false, "--jq: expected an array but got: object"},
		{Options{JQ: ".Name | keys"}, true, "--jq: keys cannot be applied to: string"},
		{Options{Template: "{{.Name.First}}"}, true, "--template: 1:7: at <.Name.First>: can't evaluate field First in type interface {}"},
		{Options{Format: "jsonl", Template: "{{.Name.First}}"}, false, "--template: 1:7: at <.Name.First>: can't evaluate field First in type interface {}"},
		{Options{Template: "{{range .}}{{.Name.First}}{{end}}"}, false, "--template: 1:18: at <.Name.First>: can't evaluate field First in type interface {}"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		p, err := New(&b, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if c.object {
			err = p.Object(items[0])
		} else {
			l := p.List()
			for _, it := range items {
				if err = l.Add(it); err != nil {
					break
				}
			}
			if err == nil {
				err = l.Close()
			}
		}
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%+v: err %T %v is not a *QueryError", c.o, err, err)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%+v: %q, want %q", c.o, err.Error(), c.want)
		}
		if strings.Contains(err.Error(), "one") {
			t.Errorf("%+v: the data leaks into %q", c.o, err.Error())
		}
	}
}

func TestWithoutPreviews(t *testing.T) {
	for in, want := range map[string]string{
		`expected an object but got: array ([{"a":1}])`:             "expected an object but got: array",
		`cannot add: string ("a) and (b") and number (1)`:           "cannot add: string and number",
		`cannot divide number (1) by: number (0)`:                   "cannot divide number by: number",
		`cannot iterate over: string ("secretsecretsecretsec ...")`: "cannot iterate over: string",
		`cannot iterate over: null`:                                 "cannot iterate over: null",
		`error: boom`:                                               "error: boom",
		`keys cannot be applied to: number (42)`:                    "keys cannot be applied to: number",
	} {
		if got := withoutPreviews(in); got != want {
			t.Errorf("withoutPreviews(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuery(t *testing.T) {
	for _, c := range []struct {
		o      Options
		query  bool
		format string
	}{
		{Options{}, false, FormatTable},
		{Options{Format: "json"}, false, FormatJSON},
		{Options{JQ: "."}, true, FormatJSON},
		{Options{Format: "table", Template: "x"}, true, FormatJSON},
		{Options{Format: "jsonl", JQ: "."}, true, FormatJSONL},
		{Options{Format: "json", Template: "x"}, true, FormatJSON},
	} {
		p, err := New(&bytes.Buffer{}, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if p.Query() != c.query || p.Format() != c.format {
			t.Errorf("%+v: Query() %v, Format() %q; want %v, %q", c.o, p.Query(), p.Format(), c.query, c.format)
		}
	}
}

// TestJQStopsWithItsContext: a runaway expression ends when the command's
// context does (Ctrl-C, --timeout), not when the expression does.
func TestJQStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	p, err := New(&out, Options{Format: FormatJSON, JQ: "last(range(1e12))", Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Object(map[string]any{"Name": "x"}) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled expression reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the expression ran on after its context ended")
	}
}
