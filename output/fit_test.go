package output

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// termBuffer is a terminal of a given width.
type termBuffer struct {
	bytes.Buffer
	width int
}

func (b *termBuffer) TerminalWidth() int { return b.width }

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"Reporting export", 20, "Reporting export"},
		{"Reporting export", 16, "Reporting export"},
		{"Reporting export", 10, "Reporting…"},
		{"日本語のトークン", 7, "日本語…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	} {
		if got := Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if got := Truncate(tt.in, tt.n); displayWidth(got) > tt.n {
			t.Errorf("Truncate(%q, %d) is %d cells wide", tt.in, tt.n, displayWidth(got))
		}
	}
}

func tokenTable(w interface{ Write([]byte) (int, error) }) *Table {
	tb := NewTable(w, "ACCOUNT SID", "NAME", "STATE", "CREATED")
	tb.Row("IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "A rather long token name for reports", "ENABLED", "2026-01-02")
	tb.Row("IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "Short", "DISABLED", "2026-02-03")
	return tb
}

func TestTableFitsTerminal(t *testing.T) {
	var pipe bytes.Buffer
	if err := tokenTable(&pipe).Render(); err != nil {
		t.Fatal(err)
	}
	wide := &termBuffer{width: 200}
	if err := tokenTable(wide).Render(); err != nil {
		t.Fatal(err)
	}
	if wide.String() != pipe.String() {
		t.Errorf("a table that fits changed on a terminal:\n%s\nvs\n%s", wide.String(), pipe.String())
	}

	narrow := &termBuffer{width: 70}
	if err := tokenTable(narrow).Render(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ACCOUNT SID                         NAME          STATE     CREATED\n" +
		"IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  A rather lo…  ENABLED   2026-01-02\n" +
		"IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  Short         DISABLED  2026-02-03\n"
	if narrow.String() != want {
		t.Errorf("at 70 columns:\n%s\nwant\n%s", narrow.String(), want)
	}

	// Narrower than the identifiers and minimal columns: even the SID is
	// cut, and no line is wider than the terminal.
	tiny := &termBuffer{width: 30}
	if err := tokenTable(tiny).Render(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(tiny.String()), "\n") {
		if displayWidth(line) > 30 {
			t.Errorf("line wider than 30: %q", line)
		}
	}
}

func TestFitWidths(t *testing.T) {
	// The widest columns level down first; kept columns last.
	got := fitWidths([]int{34, 30, 8, 10}, []bool{true, false, false, false}, 70, 2)
	if got[0] != 34 || got[1] != 12 || got[2] != 8 || got[3] != 10 {
		t.Errorf("fitWidths = %v", got)
	}
	got = fitWidths([]int{34, 30, 10, 10}, []bool{true, false, false, false}, 50, 2)
	if got[0] != 34 || got[1]+got[2]+got[3] != 10 {
		t.Errorf("fitWidths = %v", got)
	}
}

func TestTemplateFuncs(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	run := func(tpl string, v any, o Options) string {
		t.Helper()
		var b bytes.Buffer
		o.Template, o.Now = tpl, func() time.Time { return now }
		p, err := New(&b, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Object(v); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	tokens := []map[string]any{
		{"AccountSid": "IR1", "Name": "CI deploys", "DateLastUsed": "2026-05-29T12:00:00Z", "State": "ENABLED"},
		{"AccountSid": "IR22", "Name": "Nightly reconciliation", "DateLastUsed": nil, "State": "DISABLED"},
	}
	for _, tt := range []struct {
		tpl  string
		o    Options
		want string
	}{
		{`{{range .}}{{tablerow .AccountSid .Name (timeago .DateLastUsed)}}{{end}}`, Options{},
			"IR1    CI deploys               about 3 days ago\nIR22   Nightly reconciliation   never\n"},
		{`{{range .}}{{tablerow .AccountSid .State}}{{end}}{{tablerender}}end`, Options{},
			"IR1    ENABLED\nIR22   DISABLED\nend"},
		{`{{join "," (pluck "AccountSid" .)}}`, Options{}, "IR1,IR22"},
		{`{{range .}}{{truncate 8 .Name}};{{end}}`, Options{}, "CI depl…;Nightly…;"},
		{`{{range .}}{{timefmt "2006-01-02" .DateLastUsed}};{{end}}`, Options{}, "2026-05-29;;"},
		{`{{color "red+b" "x"}}`, Options{}, "\x1b[31;1mx\x1b[0m"},
		{`{{color "white+h:blue" "x"}}`, Options{}, "\x1b[97;44mx\x1b[0m"},
		{`{{color "red" "x"}}`, Options{NoColor: true}, "x"},
		{`{{autocolor "red" "x"}}`, Options{}, "x"},
		{`{{autocolor "green" "x"}}`, Options{Color: true}, "\x1b[32mx\x1b[0m"},
		{`{{json (index . 0).Name}}`, Options{}, `"CI deploys"`},
	} {
		if got := run(tt.tpl, tokens, tt.o); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.tpl, got, tt.want)
		}
	}
	var b bytes.Buffer
	p, _ := New(&b, Options{Template: `{{color "purple" "x"}}`})
	if err := p.Object(1); err == nil || !strings.Contains(err.Error(), `unknown colour "purple"`) {
		t.Errorf("unknown colour: err = %v", err)
	}
}

func TestFuzzyAgo(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		30 * time.Second:     "less than a minute ago",
		time.Minute:          "about 1 minute ago",
		5 * time.Hour:        "about 5 hours ago",
		3 * 24 * time.Hour:   "about 3 days ago",
		90 * 24 * time.Hour:  "about 3 months ago",
		800 * 24 * time.Hour: "about 2 years ago",
		-1 * time.Hour:       "in the future",
	} {
		if got := fuzzyAgo(now, now.Add(-d)); got != want {
			t.Errorf("fuzzyAgo(%s) = %q, want %q", d, got, want)
		}
	}
}
