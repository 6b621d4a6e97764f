package scopepicker

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func catalog() []Category {
	return []Category{
		{ID: "account", Name: "Account", Scopes: []Scope{{"account.read", "Retrieve company information"}, {"account.write", "Update company information"}}},
		{ID: "reports", Name: "Reports", Scopes: []Scope{{"reports.read", "List and retrieve reports"}, {"reports.export", "Export reports"}, {"reports.schedule", "Schedule report exports"}}},
		{ID: "jobs", Name: "Jobs", Scopes: []Scope{{"jobs.read", "Retrieve job status"}, {"jobs.replay", "Replay jobs"}}},
	}
}

func newPage(checked ...string) Model {
	return New(Options{Title: "API scopes of token IR1 (Test)", Categories: catalog(), Checked: checked})
}

// press sends keys, as Bubble Tea reads them from a terminal: "up",
// "down", "space", "enter", "esc", "backspace", "ctrl+c", "pgdown", or
// text typed a character at a time.
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		if _, named := namedKeys[k]; named {
			m = update(m, keyMsg(k))
			continue
		}
		for _, r := range k {
			m = update(m, keyMsg(string(r)))
		}
	}
	return m
}

var namedKeys = map[string]tea.KeyPressMsg{
	"up":        {Code: tea.KeyUp},
	"down":      {Code: tea.KeyDown},
	"pgdown":    {Code: tea.KeyPgDown},
	"space":     {Code: tea.KeySpace, Text: " "},
	"enter":     {Code: tea.KeyEnter},
	"esc":       {Code: tea.KeyEscape},
	"backspace": {Code: tea.KeyBackspace},
	"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
}

// keyMsg is one key: a named one, or a character.
func keyMsg(k string) tea.KeyPressMsg {
	if msg, ok := namedKeys[k]; ok {
		return msg
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}

func update(m Model, msg tea.Msg) Model {
	next, _ := m.Update(msg)
	return next.(Model)
}

func TestStartsWithTheTokensScopes(t *testing.T) {
	m := newPage("reports.read", "account.read")
	if got, want := m.Selected(), []string{"account.read", "reports.read"}; !slices.Equal(got, want) {
		t.Fatalf("selected %v, want %v (the catalog's order)", got, want)
	}
	if cat, scope, ok := m.Cursor(); !ok || cat != 0 || scope != -1 {
		t.Fatalf("cursor at %d/%d, want the first category's toggle", cat, scope)
	}
	if m.Outcome() != Open {
		t.Fatalf("outcome %v, want Open", m.Outcome())
	}
}

func TestMoveAndToggle(t *testing.T) {
	m := newPage("reports.read")
	// j, j: account.read, account.write; down: Reports' toggle; k back up.
	m = press(t, m, "j", "j", "down", "k")
	if cat, scope, _ := m.Cursor(); cat != 0 || scope != 1 {
		t.Fatalf("cursor at %d/%d, want account.write", cat, scope)
	}
	m = press(t, m, "space")
	if got := m.Selected(); !slices.Equal(got, []string{"account.write", "reports.read"}) {
		t.Fatalf("after space: %v", got)
	}
	m = press(t, m, "space")
	if got := m.Selected(); !slices.Equal(got, []string{"reports.read"}) {
		t.Fatalf("space twice: %v", got)
	}
	// The cursor stops at either end.
	m = press(t, m, "up", "up", "up", "up", "up")
	if cat, scope, _ := m.Cursor(); cat != 0 || scope != -1 {
		t.Fatalf("cursor at %d/%d, want the top", cat, scope)
	}
	m = press(t, m, strings.Repeat("j", 50))
	if cat, scope, _ := m.Cursor(); cat != 2 || scope != 1 {
		t.Fatalf("cursor at %d/%d, want the last scope", cat, scope)
	}
}

func TestCategoryToggle(t *testing.T) {
	m := newPage("reports.read")
	// On Reports' toggle, a turns every scope of it on; again, off.
	m = press(t, m, "jjj")
	if cat, scope, _ := m.Cursor(); cat != 1 || scope != -1 {
		t.Fatalf("cursor at %d/%d, want Reports' toggle", cat, scope)
	}
	m = press(t, m, "a")
	if got := m.Selected(); !slices.Equal(got, []string{"reports.read", "reports.export", "reports.schedule"}) {
		t.Fatalf("a on a partial category: %v", got)
	}
	m = press(t, m, "a")
	if got := m.Selected(); len(got) != 0 {
		t.Fatalf("a on a full category: %v", got)
	}
	// a on one of the category's scopes acts on the whole category, and
	// space on the toggle does what a does.
	m = press(t, m, "j", "a")
	if got := m.Selected(); len(got) != 3 {
		t.Fatalf("a on a scope: %v", got)
	}
	m = press(t, m, "k", "space")
	if got := m.Selected(); len(got) != 0 {
		t.Fatalf("space on the toggle: %v", got)
	}
}

func TestClearAll(t *testing.T) {
	m := press(t, newPage("reports.read", "jobs.replay", "account.write"), "c")
	if got := m.Selected(); len(got) != 0 {
		t.Fatalf("c left %v", got)
	}
}

func TestScopesTheCallerLacks(t *testing.T) {
	lacks := map[string]bool{"reports.export": true, "jobs.read": true, "jobs.replay": true}
	m := New(Options{Categories: catalog(), Checked: []string{"reports.read"}, Grantable: func(id string) bool { return !lacks[id] }})
	// reports.export cannot be checked.
	m = press(t, m, "jjjj", "j", "space")
	if cat, scope, _ := m.Cursor(); cat != 1 || scope != 1 {
		t.Fatalf("cursor at %d/%d, want reports.export", cat, scope)
	}
	if got := m.Selected(); !slices.Equal(got, []string{"reports.read"}) {
		t.Fatalf("a scope the caller lacks was checked: %v", got)
	}
	if v := m.View().Content; !strings.Contains(v, "you lack reports.export") || !strings.Contains(v, "[ ] reports.export    (you lack it) Export reports") {
		t.Fatalf("the page does not say why:\n%s", v)
	}
	// The category toggle turns on only the scopes the caller holds.
	m = press(t, m, "a")
	if got := m.Selected(); !slices.Equal(got, []string{"reports.read", "reports.schedule"}) {
		t.Fatalf("a: %v", got)
	}
	m = press(t, m, "a")
	if got := m.Selected(); len(got) != 0 {
		t.Fatalf("a again: %v", got)
	}
	// A category the caller lacks wholly: nothing changes, and it says so.
	m = press(t, m, "jjjj", "a")
	if got := m.Selected(); len(got) != 0 || !strings.Contains(m.View().Content, "you lack every scope of Jobs") {
		t.Fatalf("a on Jobs: %v\n%s", got, m.View().Content)
	}
	// Clear All leaves a scope the caller lacks as it was.
	m = New(Options{Categories: catalog(), Checked: []string{"jobs.read", "account.read"}, Grantable: func(id string) bool { return !lacks[id] }})
	if got := press(t, m, "c").Selected(); !slices.Equal(got, []string{"jobs.read"}) {
		t.Fatalf("c: %v", got)
	}
}

func TestFilter(t *testing.T) {
	m := newPage()
	m = press(t, m, "/", "export")
	if !m.Filtering() || m.Filter() != "export" {
		t.Fatalf("filtering %v %q", m.Filtering(), m.Filter())
	}
	// Typed keys are text: j, a, c and q do not move, toggle or cancel.
	if len(m.Selected()) != 0 || m.Outcome() != Open {
		t.Fatal("typed text acted as keys")
	}
	v := m.View().Content
	for _, want := range []string{"Reports", "reports.export", "filter: export_"} {
		if !strings.Contains(v, want) {
			t.Errorf("filtered page lacks %q:\n%s", want, v)
		}
	}
	for _, gone := range []string{"account.read", "reports.read", "Jobs"} {
		if strings.Contains(v, gone) {
			t.Errorf("filtered page still shows %q:\n%s", gone, v)
		}
	}
	// Arrows move while typing; enter keeps the filter and gives the keys
	// back to the list.
	m = press(t, m, "down", "enter", "space")
	if m.Filtering() || m.Filter() != "export" {
		t.Fatalf("after enter: filtering %v %q", m.Filtering(), m.Filter())
	}
	if got := m.Selected(); !slices.Equal(got, []string{"reports.export"}) {
		t.Fatalf("space on the filtered list: %v", got)
	}
	// esc leaves the filter first (the page stays open), with the cursor
	// still on the same scope; a second esc cancels.
	m = press(t, m, "esc")
	if m.Outcome() != Open || m.Filter() != "" {
		t.Fatalf("esc with a filter: outcome %v filter %q", m.Outcome(), m.Filter())
	}
	if cat, scope, _ := m.Cursor(); cat != 1 || scope != 1 {
		t.Fatalf("cursor at %d/%d after leaving the filter, want reports.export", cat, scope)
	}
	// A category's name shows all its scopes; backspace edits; esc while
	// typing leaves the filter too.
	m = press(t, m, "/", "jobx", "backspace")
	if v := m.View().Content; !strings.Contains(v, "jobs.read") || !strings.Contains(v, "jobs.replay") || strings.Contains(v, "reports") {
		t.Fatalf("filter jobs:\n%s", v)
	}
	m = press(t, m, "esc")
	if m.Filtering() || m.Filter() != "" || m.Outcome() != Open {
		t.Fatalf("esc while typing: filtering %v %q %v", m.Filtering(), m.Filter(), m.Outcome())
	}
	// Nothing matches: the page says so, and keys do nothing.
	m = press(t, m, "/", "zzz", "enter", "space", "a")
	if !strings.Contains(m.View().Content, "no scope matches the filter") || len(m.Selected()) != 1 {
		t.Fatalf("no match:\n%s", m.View().Content)
	}
}

func TestFinishCancelInterrupt(t *testing.T) {
	for _, c := range []struct {
		keys []string
		want Outcome
	}{
		{[]string{"enter"}, Done},
		{[]string{"esc"}, Cancelled},
		{[]string{"q"}, Cancelled},
		{[]string{"ctrl+c"}, Interrupted},
		{[]string{"/", "ab", "ctrl+c"}, Interrupted},
	} {
		m := newPage()
		var cmd tea.Cmd
		for _, k := range c.keys[:len(c.keys)-1] {
			m = press(t, m, k)
		}
		var next tea.Model
		next, cmd = m.Update(keyMsg(c.keys[len(c.keys)-1]))
		m = next.(Model)
		if m.Outcome() != c.want || cmd == nil {
			t.Errorf("%v: outcome %v (cmd %v), want %v", c.keys, m.Outcome(), cmd != nil, c.want)
			continue
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%v: the page does not quit", c.keys)
		}
	}
}

// A long list scrolls within the terminal's height, keeping the cursor
// in view, and says how many rows are above and below.
func TestScrolls(t *testing.T) {
	var cats []Category
	for i := range 10 {
		c := Category{ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("Category %d", i)}
		for j := range 5 {
			c.Scopes = append(c.Scopes, Scope{fmt.Sprintf("c%d.s%d", i, j), "a scope"})
		}
		cats = append(cats, c)
	}
	m := New(Options{Categories: cats})
	m = update(m, tea.WindowSizeMsg{Width: 80, Height: 17})
	lines := strings.Split(m.View().Content, "\n")
	if len(lines) > 17-spareLines {
		t.Fatalf("%d lines for a 17-line terminal:\n%s", len(lines), m.View().Content)
	}
	if !strings.Contains(m.View().Content, "↑0 more  ↓50 more") {
		t.Fatalf("no scroll position:\n%s", m.View().Content)
	}
	m = press(t, m, strings.Repeat("j", 25))
	v := m.View().Content
	if !strings.Contains(v, "> ") || !strings.Contains(v, "c4.s0") || strings.Contains(v, "c0.s0") {
		t.Fatalf("cursor out of view after scrolling:\n%s", v)
	}
	if n := len(strings.Split(v, "\n")); n > 17-spareLines {
		t.Fatalf("%d lines after scrolling", n)
	}
	m = press(t, m, "pgdown", "pgdown", "pgdown", "pgdown", "pgdown")
	if !strings.Contains(m.View().Content, "c9.s4") || !strings.Contains(m.View().Content, "↓0 more") {
		t.Fatalf("pgdown to the end:\n%s", m.View().Content)
	}
}

// Every line fits the terminal's width, down to narrow ones.
func TestFitsTheWidth(t *testing.T) {
	for _, w := range []int{80, 60, 40} {
		m := New(Options{Title: "API scopes of token IR2TS9C0t0iPoNltazFQTTqsivgpyXgl7O (A rather long token name here)",
			Categories: catalog(), Checked: []string{"reports.read"}, Color: true,
			Grantable: func(id string) bool { return id != "jobs.replay" }})
		m = update(m, tea.WindowSizeMsg{Width: w, Height: 40})
		m = press(t, m, "/", "re")
		for _, line := range strings.Split(m.View().Content, "\n") {
			if ansi.StringWidth(line) > w {
				t.Errorf("width %d: line of %d cells: %q", w, ansi.StringWidth(line), line)
			}
		}
	}
}

// Server strings never reach the terminal raw, and without colour the
// page holds no escape sequence at all.
func TestSanitisedAndNoColor(t *testing.T) {
	hostile := []Category{{ID: "x", Name: "Evil\x1b[31m\u202eName", Scopes: []Scope{{"x.\x1b]0;title\x07read", "Reads\r\nfake line"}}}}
	for _, color := range []bool{false, true} {
		m := New(Options{Title: "token \x1b[2J(name)", Categories: hostile, Checked: []string{"x.\x1b]0;title\x07read"}, Color: color})
		m = update(m, tea.WindowSizeMsg{Width: 80, Height: 20})
		v := m.View().Content
		for _, bad := range []string{"\x1b[31m", "\x1b[2J", "\x1b]0", "\x07", "\u202e", "\r"} {
			if strings.Contains(v, bad) {
				t.Errorf("color %v: the view holds %q:\n%q", color, bad, v)
			}
		}
		if !color && strings.Contains(v, "\x1b") {
			t.Errorf("without colour the view holds an escape:\n%q", v)
		}
		if color && !strings.Contains(v, "\x1b[1m") {
			t.Errorf("with colour the view has no style:\n%q", v)
		}
		// The raw ID is still what is chosen.
		if got := m.Selected(); !slices.Equal(got, []string{"x.\x1b]0;title\x07read"}) {
			t.Errorf("selected %q", got)
		}
	}
}

// Scopes the token holds that the catalog does not list stay chosen.
func TestSelectedKeepsUnlisted(t *testing.T) {
	m := newPage("reports.read", "legacy.thing")
	if got := m.Selected(); !slices.Equal(got, []string{"reports.read", "legacy.thing"}) {
		t.Fatalf("selected %v", got)
	}
}

// A state never changes the one it came from.
func TestUpdateLeavesThePreviousState(t *testing.T) {
	before := newPage("reports.read")
	after := press(t, before, "c", "/", "rep")
	if got := before.Selected(); !slices.Equal(got, []string{"reports.read"}) || before.Filter() != "" {
		t.Fatalf("the earlier state changed: %v %q", got, before.Filter())
	}
	if len(after.Selected()) != 0 {
		t.Fatalf("after: %v", after.Selected())
	}
}

func TestEmptyCatalog(t *testing.T) {
	m := press(t, New(Options{}), "j", "space", "a", "c")
	if !strings.Contains(m.View().Content, "the catalog lists no scopes") || len(m.Selected()) != 0 {
		t.Fatalf("empty catalog:\n%s", m.View().Content)
	}
	if m = press(t, m, "enter"); m.Outcome() != Done {
		t.Fatalf("enter: %v", m.Outcome())
	}
}

// Keys that arrive after the one that ended the page change nothing: q then
// enter is still a cancel.
func TestKeysAfterTheEndChangeNothing(t *testing.T) {
	var m tea.Model = newPage()
	for _, k := range []tea.KeyPressMsg{{Code: 'j', Text: "j"}, {Code: 'q', Text: "q"}, {Code: 'j', Text: "j"}, {Code: tea.KeySpace, Text: " "}, {Code: tea.KeyEnter}} {
		m, _ = m.Update(k)
	}
	if got := m.(Model); got.Outcome() != Cancelled || len(got.Selected()) != 0 {
		t.Fatalf("outcome %v selected %v after q then more keys, want a cancel with nothing", got.Outcome(), got.Selected())
	}
}
