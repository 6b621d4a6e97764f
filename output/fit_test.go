package output

import (
	"bytes"
	"slices"
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

func TestTablePipedIsTabSeparated(t *testing.T) {
	var pipe bytes.Buffer
	if err := tokenTable(&pipe).Render(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\tA rather long token name for reports\tENABLED\t2026-01-02\n" +
		"IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\tShort\tDISABLED\t2026-02-03\n"
	if pipe.String() != want {
		t.Errorf("in a pipe:\n%q\nwant\n%q", pipe.String(), want)
	}
	// A cell's own tab or line break never splits a field.
	var b bytes.Buffer
	tb := NewTable(&b, "ACCOUNT SID", "NAME")
	tb.Row("IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a\tb\nc")
	tb.Render()
	if got := b.String(); got != "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ta b c\n" {
		t.Errorf("cell with a tab: %q", got)
	}
	// An empty table writes nothing in a pipe, header or not.
	b.Reset()
	NewTable(&b, "ACCOUNT SID").Render()
	if b.Len() != 0 {
		t.Errorf("empty table in a pipe wrote %q", b.String())
	}
}

func TestTableFitsTerminal(t *testing.T) {
	wide := &termBuffer{width: 200}
	if err := tokenTable(wide).Render(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ACCOUNT SID                          NAME                                   STATE      CREATED\n" +
		"IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   A rather long token name for reports   ENABLED    2026-01-02\n" +
		"IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb   Short                                  DISABLED   2026-02-03\n"
	if wide.String() != want {
		t.Errorf("a table that fits:\n%s\nwant\n%s", wide.String(), want)
	}

	narrow := &termBuffer{width: 70}
	if err := tokenTable(narrow).Render(); err != nil {
		t.Fatal(err)
	}
	want = "" +
		"ACCOUNT SID                         NAME          STATE     CREATED\n" +
		"IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  A rather lo…  ENABLED   2026-01-02\n" +
		"IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  Short         DISABLED  2026-02-03\n"
	if narrow.String() != want {
		t.Errorf("at 70 columns:\n%s\nwant\n%s", narrow.String(), want)
	}

	// Columns in the drop order go first: the name stays readable.
	dropped := &termBuffer{width: 70}
	if err := tokenTable(dropped).DropFirst("CREATED").Render(); err != nil {
		t.Fatal(err)
	}
	want = "" +
		"ACCOUNT SID                         NAME                      STATE\n" +
		"IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  A rather long token nam…  ENABLED\n" +
		"IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  Short                     DISABLED\n"
	if dropped.String() != want {
		t.Errorf("at 70 columns, CREATED dropped first:\n%s\nwant\n%s", dropped.String(), want)
	}

	// Narrower than the SID and a readable name: the other columns go,
	// and the SID is never cut, even where it cannot fit.
	for _, width := range []int{50, 30} {
		tiny := &termBuffer{width: width}
		if err := tokenTable(tiny).Render(); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(tiny.String()), "\n") {
			if !strings.HasPrefix(line, "ACCOUNT SID") && !strings.HasPrefix(line, "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") && !strings.HasPrefix(line, "IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") {
				t.Errorf("at %d columns, a SID was cut: %q", width, line)
			}
			if width == 50 && displayWidth(line) > 50 {
				t.Errorf("line wider than 50: %q", line)
			}
		}
	}
}

func TestFitColumns(t *testing.T) {
	ident := []bool{true, false, false, false, false, false}
	natural := []int{34, 24, 8, 3, 10, 10} // SID, NAME, STATE, API, CREATED, LAST USED
	for _, tt := range []struct {
		width  int
		drop   []int
		show   []int
		widths []int
	}{
		// Fits: everything, three spaces apart.
		{200, nil, []int{0, 1, 2, 3, 4, 5}, []int{34, 24, 8, 3, 10, 10}},
		// A little narrower: the name is cut, nothing dropped.
		{95, []int{3, 4}, []int{0, 1, 2, 3, 4, 5}, []int{34, 20, 8, 3, 10, 10}},
		// Narrower: API and CREATED go, in that order, before the name is cut short.
		{80, []int{3, 4}, []int{0, 1, 2, 5}, []int{34, 22, 8, 10}},
		// Narrower still: the columns beyond the drop order go from the right.
		{60, []int{3, 4}, []int{0, 1, 2}, []int{34, 14, 8}},
		// Narrower than the SID: shown whole all the same.
		{20, []int{3, 4}, []int{0, 1}, []int{34, 3}},
	} {
		l := fitColumns(natural, ident, tt.drop, tt.width)
		if !slices.Equal(l.show, tt.show) || !slices.Equal(l.widths, tt.widths) {
			t.Errorf("at %d: show %v widths %v; want %v %v", tt.width, l.show, l.widths, tt.show, tt.widths)
		}
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
			"IR1\tCI deploys\tabout 3 days ago\nIR22\tNightly reconciliation\tnever\n"},
		{`{{range .}}{{tablerow .AccountSid .State}}{{end}}{{tablerender}}end`, Options{},
			"IR1\tENABLED\nIR22\tDISABLED\nend"},
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

// tablerow aligns its rows on a terminal, as every table does.
func TestTableRowOnTerminal(t *testing.T) {
	term := &termBuffer{width: 200}
	p, err := New(term, Options{Template: `{{range .}}{{tablerow .AccountSid .State}}{{end}}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Object([]map[string]any{{"AccountSid": "IR1", "State": "ENABLED"}, {"AccountSid": "IR22", "State": "DISABLED"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := term.String(), "IR1    ENABLED\nIR22   DISABLED\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
