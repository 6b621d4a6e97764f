package scopepicker

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/impactcom/impactctl/output"
)

// The page's fixed lines: the title, two lines of keys and a blank line
// above the list; the filter or a notice, and the count, below it; and one
// spare line, so a page as tall as the terminal never scrolls it.
const (
	headerLines = 4
	footerLines = 2
	spareLines  = 1
	// maxIDWidth caps the scope ID column, so descriptions keep room.
	maxIDWidth = 24
)

// help is the keys, in two lines that fit a 60-column terminal.
var help = [2]string{
	"↑↓ or j/k move  space toggle  a category  c clear all",
	"/ filter  enter done  esc or q cancel",
}

// Styles, used only when colour is allowed.
const (
	sgrBold    = "\x1b[1m"
	sgrFaint   = "\x1b[2m"
	sgrReverse = "\x1b[7m"
	sgrGreen   = "\x1b[32m"
	sgrReset   = "\x1b[0m"
)

// listHeight is how many rows of the list fit; 0 is no limit.
func (m Model) listHeight() int {
	if m.height <= 0 {
		return 0
	}
	return max(1, m.height-headerLines-footerLines-spareLines)
}

// View draws the page: plain text, below what the terminal shows (not on
// the alternate screen), with no mouse, title or colour requests. Every
// server string is sanitised and every line cut to the terminal's width.
func (m Model) View() tea.View {
	return tea.NewView(m.content())
}

// content is the page's text.
func (m Model) content() string {
	switch m.outcome {
	case Done:
		on := len(m.Selected())
		return m.line(fmt.Sprintf("%d of %d scopes chosen", on, m.total()), "") + "\n"
	case Cancelled, Interrupted:
		return ""
	}
	var b strings.Builder
	b.WriteString(m.line(output.Sanitize(m.title), sgrBold) + "\n")
	b.WriteString(m.line(help[0], sgrFaint) + "\n")
	b.WriteString(m.line(help[1], sgrFaint) + "\n")
	b.WriteString("\n")

	first, last := 0, len(m.rows)
	if h := m.listHeight(); h > 0 && len(m.rows) > h {
		first, last = m.offset, m.offset+h
	}
	idw := m.idWidth()
	for i := first; i < last; i++ {
		b.WriteString(m.rowLine(i, idw) + "\n")
	}
	switch {
	case len(m.rows) > 0:
	case m.filter != "":
		b.WriteString(m.line("  no scope matches the filter", sgrFaint) + "\n")
	default:
		b.WriteString(m.line("  the catalog lists no scopes", sgrFaint) + "\n")
	}

	switch {
	case m.notice != "":
		b.WriteString(m.line("! "+output.Sanitize(m.notice), sgrBold) + "\n")
	case m.filtering:
		b.WriteString(m.line("filter: "+output.Sanitize(m.filter)+"_  (enter keeps it, esc leaves it)", "") + "\n")
	case m.filter != "":
		b.WriteString(m.line("filter: "+output.Sanitize(m.filter)+"  (/ to change, esc leaves it)", "") + "\n")
	default:
		b.WriteString("\n")
	}
	status := fmt.Sprintf("%d of %d scopes on", m.onCount(), m.total())
	if first > 0 || last < len(m.rows) {
		status += fmt.Sprintf("  ↑%d more  ↓%d more", first, len(m.rows)-last)
	}
	b.WriteString(m.line(status, sgrFaint))
	return b.String()
}

// rowLine draws list row i.
func (m Model) rowLine(i, idw int) string {
	r := m.rows[i]
	cursor := "  "
	if i == m.cursor {
		cursor = "> "
	}
	c := m.cats[r.cat]
	if r.scope < 0 {
		on, total := m.counts(r.cat)
		box := "[ ]"
		switch {
		case on == total && total > 0:
			box = "[x]"
		case on > 0:
			box = "[-]"
		}
		style := sgrBold
		if i == m.cursor {
			style += sgrReverse
		}
		return m.line(fmt.Sprintf("%s%s %s  %d of %d on", cursor, box, output.Sanitize(c.Name), on, total), style)
	}
	s := c.Scopes[r.scope]
	box := "[ ]"
	if m.on[s.ID] {
		box = "[x]"
	}
	id := output.Sanitize(s.ID)
	if pad := idw - ansi.StringWidth(id); pad > 0 {
		id += strings.Repeat(" ", pad)
	}
	desc := output.Sanitize(s.Name)
	style := ""
	if !m.grantable(s.ID) {
		desc = "(you lack it) " + desc
		style = sgrFaint
	} else if m.on[s.ID] {
		style = sgrGreen
	}
	if i == m.cursor {
		style += sgrReverse
	}
	return m.line(fmt.Sprintf("%s    %s %s  %s", cursor, box, id, desc), style)
}

// line cuts text to the terminal's width and styles it when colour is
// allowed.
func (m Model) line(text, style string) string {
	if m.width > 0 && ansi.StringWidth(text) > m.width {
		text = ansi.Truncate(text, m.width, "…")
	}
	if !m.color || style == "" || text == "" {
		return text
	}
	return style + text + sgrReset
}

// idWidth is the width of the scope ID column: the widest ID, capped.
func (m Model) idWidth() int {
	w := 0
	for _, c := range m.cats {
		for _, s := range c.Scopes {
			w = max(w, ansi.StringWidth(output.Sanitize(s.ID)))
		}
	}
	return min(w, maxIDWidth)
}

func (m Model) onCount() int {
	n := 0
	for _, c := range m.cats {
		for _, s := range c.Scopes {
			if m.on[s.ID] {
				n++
			}
		}
	}
	return n
}

func (m Model) total() int {
	n := 0
	for _, c := range m.cats {
		n += len(c.Scopes)
	}
	return n
}
