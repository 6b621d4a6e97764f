package output

import (
	"io"
	"slices"
	"strings"
)

// Terminal is a writer that knows the width of the terminal it writes to.
// Tables written to one are aligned and fit that width; written anywhere
// else (a pipe, a file) they are gh's tab-separated rows: no header, no
// padding, every value whole, so `cut -f2` works.
type Terminal interface {
	io.Writer
	// TerminalWidth is the terminal's width in cells, or 0 when unknown.
	TerminalWidth() int
}

// terminal reports whether w is a terminal, and its width (0 when unknown).
func terminal(w io.Writer) (bool, int) {
	if t, ok := w.(Terminal); ok {
		return true, t.TerminalWidth()
	}
	return false, 0
}

// terminalWidth is w's width when w is a terminal, else 0.
func terminalWidth(w io.Writer) int {
	_, width := terminal(w)
	return width
}

// ellipsis marks text cut to fit.
const ellipsis = "…"

// Truncate shortens s to at most width terminal cells, ending it with "…"
// when something was cut. A width below 1 gives "".
func Truncate(s string, width int) string {
	if width < 1 {
		return ""
	}
	if displayWidth(s) <= width {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		w := displayWidth(string(r))
		if used+w > width-1 {
			break
		}
		b.WriteRune(r)
		used += w
	}
	b.WriteString(ellipsis)
	return b.String()
}

// minCut is the narrowest a cut column becomes: two characters and the
// ellipsis.
const minCut = 3

// comfortableCut is how narrow a text column is cut while the columns in
// the drop order are still shown: a name of twenty cells reads well.
const comfortableCut = 20

// readableCut is how narrow a text column is cut before columns beyond the
// drop order are left out: a name still reads at twelve cells.
const readableCut = 12

// layout is how a table shows on a terminal: which columns, in order, how
// wide each is, and the spaces between them.
type layout struct {
	show   []int // indexes of the columns shown
	widths []int // widths of the columns shown
	gap    int
}

// fitColumns lays out columns of the given natural widths on a terminal
// width cells wide. A table that fits is shown whole, three spaces apart.
// Otherwise the columns go two spaces apart and, until the table fits with
// no text column cut below comfortableCut, the columns in drop (least
// useful first) are left out one by one; then text columns may be cut to
// readableCut; then the other columns but the first text column are left
// out from the right; last, text columns are cut down to minCut. What is
// shown takes the whole width. Identifier columns (ident: the SIDs a user
// copies into the next command) are never cut: a table that cannot fit
// without cutting one is left wider than the terminal.
func fitColumns(natural []int, ident []bool, drop []int, width int) layout {
	show := make([]int, len(natural))
	for i := range show {
		show[i] = i
	}
	if l := cutColumns(natural, ident, show, width, 3, 0); slices.Equal(l.widths, natural) && l.fits(width) {
		return l
	}
	try := func(floor int) (layout, bool) {
		l := cutColumns(natural, ident, show, width, 2, floor)
		return l, l.fits(width)
	}
	leaveOut := func(c int) {
		if i := slices.Index(show, c); i >= 0 {
			show = slices.Delete(slices.Clone(show), i, i+1)
		}
	}
	if l, ok := try(comfortableCut); ok {
		return l
	}
	for _, d := range drop {
		if ident[d] || !slices.Contains(show, d) {
			continue
		}
		leaveOut(d)
		if l, ok := try(comfortableCut); ok {
			return l
		}
	}
	if l, ok := try(readableCut); ok {
		return l
	}
	first := slices.IndexFunc(show, func(c int) bool { return !ident[c] })
	for i := len(show) - 1; first >= 0 && i > first; i-- {
		if ident[show[i]] {
			continue
		}
		leaveOut(show[i])
		if l, ok := try(readableCut); ok {
			return l
		}
	}
	l, _ := try(minCut)
	return l
}

// cutColumns lays out the columns in show, gap cells apart, cutting the
// widest text column one cell at a time (so columns level down together,
// as gh's tables do) until the line fits width or every text column is
// down to floor.
func cutColumns(natural []int, ident []bool, show []int, width, gap, floor int) layout {
	l := layout{show: show, widths: make([]int, len(show)), gap: gap}
	for i, c := range show {
		l.widths[i] = natural[c]
	}
	for l.total() > width {
		best := -1
		for i, c := range show {
			if ident[c] || l.widths[i] <= max(floor, 1) {
				continue
			}
			if best < 0 || l.widths[i] > l.widths[best] {
				best = i
			}
		}
		if best < 0 {
			break
		}
		l.widths[best]--
	}
	return l
}

// total is a line's width under l.
func (l layout) total() int {
	t := l.gap * max(len(l.widths)-1, 0)
	for _, w := range l.widths {
		t += w
	}
	return t
}

func (l layout) fits(width int) bool { return l.total() <= width }

// project picks l's columns out of cells and cuts each to its width.
func (l layout) project(cells []string) []string {
	out := make([]string, len(l.show))
	for i, c := range l.show {
		if c < len(cells) {
			out[i] = Truncate(cells[c], l.widths[i])
		}
	}
	return out
}

// pick picks l's columns out of cells, uncut.
func (l layout) pick(cells []string) []string {
	out := make([]string, len(l.show))
	for i, c := range l.show {
		if c < len(cells) {
			out[i] = cells[c]
		}
	}
	return out
}

// writeTabbed writes rows as gh writes a table into a pipe: cells joined
// by tabs, one row a line, nothing padded or cut. Cells are sanitised
// already, so none holds a tab or a line break.
func writeTabbed(w io.Writer, rows [][]string) error {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
