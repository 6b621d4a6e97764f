// Package scopepicker is the API Scopes page of impact.com's web app in a
// terminal: a token's scope catalog as categories with a toggle each and the
// scopes as checkboxes beneath. It only chooses a set of scopes; the caller
// plans, confirms and sends the change.
//
// The Model is a Bubble Tea (v2) model. Its Update is pure (key messages in,
// state out), so tests drive it without a terminal; Run puts it on one.
package scopepicker

import (
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
)

// Scope is one checkbox: an ID as the API names it, and its description.
type Scope struct {
	ID   string
	Name string
}

// Category is one toggle of the page, with its scopes in the catalog's order.
type Category struct {
	ID     string
	Name   string
	Scopes []Scope
}

// Options set up a Model. Every string in them may come from a server: the
// view sanitises each before it reaches the terminal.
type Options struct {
	// Title names what is being edited, e.g. the token's SID and name.
	Title string
	// Categories are the catalog's, in its order.
	Categories []Category
	// Checked are the scopes on at the start: the token's.
	Checked []string
	// Grantable reports whether a scope may change; false shows it as one
	// the caller lacks, which cannot be checked. Nil allows every scope.
	Grantable func(id string) bool
	// Color allows colour and bold text; off, the view holds no escape
	// sequence that styles text.
	Color bool
	// Width and Height are the terminal's size in cells until a
	// tea.WindowSizeMsg says otherwise; 0 is unknown (no limit).
	Width, Height int
}

// Outcome is how the page ended.
type Outcome int

const (
	// Open is a page still being edited.
	Open Outcome = iota
	// Done is enter: the checked scopes are the choice.
	Done
	// Cancelled is esc or q: nothing is to change.
	Cancelled
	// Interrupted is Ctrl-C.
	Interrupted
)

// keyMap holds the page's keys, each as the names Bubble Tea gives the
// keys that do it (tea.KeyPressMsg.String).
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End, Toggle, Category, Clear, Filter, Finish, Cancel, Interrupt []string
}

var keys = keyMap{
	Up:        []string{"up", "k"},
	Down:      []string{"down", "j"},
	PageUp:    []string{"pgup"},
	PageDown:  []string{"pgdown"},
	Home:      []string{"home"},
	End:       []string{"end"},
	Toggle:    []string{"space"},
	Category:  []string{"a"},
	Clear:     []string{"c"},
	Filter:    []string{"/"},
	Finish:    []string{"enter"},
	Cancel:    []string{"esc", "q"},
	Interrupt: []string{"ctrl+c"},
}

// is reports whether msg is one of the keys.
func is(msg tea.KeyPressMsg, keys []string) bool { return slices.Contains(keys, msg.String()) }

// maxFilter is the longest filter, in bytes.
const maxFilter = 64

// row is one line of the list: a category's toggle (scope < 0) or one of
// its scopes.
type row struct{ cat, scope int }

// Model is the page's state.
type Model struct {
	title     string
	cats      []Category
	on        map[string]bool
	grantable func(string) bool
	color     bool
	width     int
	height    int

	rows   []row // the rows the filter lets through, in order
	cursor int   // index into rows
	offset int   // first row shown when the list scrolls

	filter    string
	filtering bool // typed text goes to the filter
	notice    string
	outcome   Outcome
}

// New returns the page at its start: the cursor on the first row, the
// checked scopes on.
func New(o Options) Model {
	m := Model{
		title: o.Title, cats: o.Categories, on: map[string]bool{}, grantable: o.Grantable,
		color: o.Color, width: o.Width, height: o.Height,
	}
	if m.grantable == nil {
		m.grantable = func(string) bool { return true }
	}
	for _, id := range o.Checked {
		m.on[id] = true
	}
	m.refilter()
	return m
}

// Init starts nothing: the page waits for keys.
func (m Model) Init() tea.Cmd { return nil }

// Outcome says how the page ended, or Open.
func (m Model) Outcome() Outcome { return m.outcome }

// Selected returns the scopes that are on: the catalog's in its order, then
// any checked at the start that the catalog does not list, as they were.
func (m Model) Selected() []string {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range m.cats {
		for _, s := range c.Scopes {
			if m.on[s.ID] && !seen[s.ID] {
				out = append(out, s.ID)
			}
			seen[s.ID] = true
		}
	}
	var rest []string
	for id, on := range m.on {
		if on && !seen[id] {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Filter returns the filter's text ("" when none).
func (m Model) Filter() string { return m.filter }

// Filtering reports whether typed text goes to the filter.
func (m Model) Filtering() bool { return m.filtering }

// Cursor returns the category and scope under the cursor (scope is -1 on a
// category's toggle); ok is false when the filter lets no row through.
func (m Model) Cursor() (cat, scope int, ok bool) {
	if len(m.rows) == 0 {
		return 0, 0, false
	}
	r := m.rows[m.cursor]
	return r.cat, r.scope, true
}

// Update handles a key, a paste or a new terminal size.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.outcome != Open {
		// The page has ended: keys typed after the one that ended it (read
		// before the program stops) change nothing.
		switch msg.(type) {
		case tea.KeyPressMsg, tea.PasteMsg:
			return m, nil
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.scroll()
		return m, nil
	case tea.PasteMsg:
		// A paste is text, never keys: it goes into a filter being typed,
		// and is ignored otherwise.
		m.notice = ""
		if m.filtering {
			m.typeText(msg.Content)
		}
		return m, nil
	case tea.KeyPressMsg:
		// A new state never shares its checks with the one it came from.
		m.notice, m.on = "", maps.Clone(m.on)
		if is(msg, keys.Interrupt) {
			m.outcome = Interrupted
			return m, tea.Quit
		}
		if m.filtering {
			return m.filterKey(msg)
		}
		return m.listKey(msg)
	}
	return m, nil
}

// listKey handles a key while the list has the keys.
func (m Model) listKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case is(msg, keys.Up):
		m.move(-1)
	case is(msg, keys.Down):
		m.move(+1)
	case is(msg, keys.PageUp):
		m.move(-m.listHeight())
	case is(msg, keys.PageDown):
		m.move(m.listHeight())
	case is(msg, keys.Home):
		m.move(-len(m.rows))
	case is(msg, keys.End):
		m.move(len(m.rows))
	case is(msg, keys.Toggle):
		if cat, scope, ok := m.Cursor(); ok {
			if scope < 0 {
				m.toggleCategory(cat)
			} else {
				m.toggleScope(m.cats[cat].Scopes[scope].ID)
			}
		}
	case is(msg, keys.Category):
		if cat, _, ok := m.Cursor(); ok {
			m.toggleCategory(cat)
		}
	case is(msg, keys.Clear):
		m.clearAll()
	case is(msg, keys.Filter):
		m.filtering = true
	case is(msg, keys.Finish):
		m.outcome = Done
		return m, tea.Quit
	case msg.String() == "esc" && m.filter != "":
		// esc leaves a filter before it cancels the page.
		m.setFilter("")
	case is(msg, keys.Cancel):
		m.outcome = Cancelled
		return m, tea.Quit
	}
	return m, nil
}

// filterKey handles a key while typing a filter: text edits it, arrows
// still move, enter hands the keys back to the list keeping the filter,
// esc leaves the filter.
func (m Model) filterKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "esc":
		m.filtering = false
		m.setFilter("")
	case "enter":
		m.filtering = false
	case "up":
		m.move(-1)
	case "down":
		m.move(+1)
	case "backspace":
		if m.filter != "" {
			_, n := utf8.DecodeLastRuneInString(m.filter)
			m.setFilter(m.filter[:len(m.filter)-n])
		}
	default:
		// Text: a character, shifted or not, but no Ctrl, Alt or other
		// chord.
		if msg.Text != "" && msg.Mod&(tea.ModCtrl|tea.ModAlt|tea.ModMeta|tea.ModHyper|tea.ModSuper) == 0 {
			m.typeText(msg.Text)
		}
	}
	return m, nil
}

// typeText adds text to the filter, leaving out control characters, up to
// maxFilter bytes.
func (m *Model) typeText(text string) {
	f := m.filter
	for _, r := range text {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			continue
		}
		if len(f)+utf8.RuneLen(r) > maxFilter {
			break
		}
		f += string(r)
	}
	if f != m.filter {
		m.setFilter(f)
	}
}

func (m *Model) move(by int) {
	if len(m.rows) == 0 {
		return
	}
	m.cursor = max(0, min(len(m.rows)-1, m.cursor+by))
	m.scroll()
}

// toggleScope turns one scope on or off, unless the caller lacks it.
func (m *Model) toggleScope(id string) {
	if !m.grantable(id) {
		m.notice = "you lack " + id + ": only scopes you hold can be granted"
		return
	}
	m.on[id] = !m.on[id]
}

// toggleCategory is the web app's category toggle: every scope of the
// category the caller may change goes on, or off when all are on already.
// It acts on the whole category, whatever the filter shows.
func (m *Model) toggleCategory(cat int) {
	var mine []string
	allOn := true
	for _, s := range m.cats[cat].Scopes {
		if m.grantable(s.ID) {
			mine = append(mine, s.ID)
			allOn = allOn && m.on[s.ID]
		}
	}
	if len(mine) == 0 {
		m.notice = "you lack every scope of " + m.cats[cat].Name
		return
	}
	for _, id := range mine {
		m.on[id] = !allOn
	}
}

// clearAll is the web app's Clear All: every scope the caller may change
// goes off.
func (m *Model) clearAll() {
	for id := range m.on {
		if m.grantable(id) {
			m.on[id] = false
		}
	}
}

// setFilter changes the filter and keeps the cursor on the same row when
// the new filter still shows it.
func (m *Model) setFilter(f string) {
	var at row
	had := len(m.rows) > 0
	if had {
		at = m.rows[m.cursor]
	}
	m.filter = f
	m.refilter()
	m.cursor = 0
	if had {
		if i := slices.Index(m.rows, at); i >= 0 {
			m.cursor = i
		}
	}
	m.scroll()
}

// refilter lists the rows the filter lets through: a category whose name
// or ID matches shows every scope; otherwise the scopes whose ID or
// description matches, under their category's toggle.
func (m *Model) refilter() {
	f := strings.ToLower(m.filter)
	match := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(strings.ToLower(x), f) {
				return true
			}
		}
		return false
	}
	m.rows = nil
	for ci, c := range m.cats {
		whole := f == "" || match(c.ID, c.Name)
		var scopes []row
		for si, s := range c.Scopes {
			if whole || match(s.ID, s.Name) {
				scopes = append(scopes, row{ci, si})
			}
		}
		if len(scopes) == 0 && !whole {
			continue
		}
		m.rows = append(m.rows, row{ci, -1})
		m.rows = append(m.rows, scopes...)
	}
}

// scroll moves the window of shown rows so the cursor stays in it.
func (m *Model) scroll() {
	h := m.listHeight()
	if h <= 0 || len(m.rows) <= h {
		m.offset = 0
		return
	}
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-h))
}

// counts returns how many of a category's scopes are on, of how many.
func (m Model) counts(cat int) (on, total int) {
	for _, s := range m.cats[cat].Scopes {
		if m.on[s.ID] {
			on++
		}
	}
	return on, len(m.cats[cat].Scopes)
}
