package output

import (
	"io"
	"strings"
)

// Terminal is a writer that knows the width of the terminal it writes to.
// Tables written to one fit that width; written anywhere else (a pipe, a
// file) they keep their natural width, so scripts see the same columns
// whatever the terminal was.
type Terminal interface {
	io.Writer
	// TerminalWidth is the terminal's width in cells, or 0 when unknown.
	TerminalWidth() int
}

// terminalWidth is w's width when w is a terminal, else 0.
func terminalWidth(w io.Writer) int {
	if t, ok := w.(Terminal); ok {
		return t.TerminalWidth()
	}
	return 0
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

// minCut is the narrowest a cut column becomes before identifier columns
// are cut too: two characters and the ellipsis.
const minCut = 3

// fitWidths returns column widths that fit width cells with gap cells
// between columns. It cuts the widest columns first, one cell at a time,
// so columns level down together as gh's tables do; columns marked keep
// (identifiers a user copies into the next command) are cut only when
// every other column is down to minCut. Widths never go below 1.
func fitWidths(natural []int, keep []bool, width, gap int) []int {
	widths := append([]int(nil), natural...)
	total := func() int {
		t := gap * (len(widths) - 1)
		for _, w := range widths {
			t += w
		}
		return t
	}
	widest := func(allowKept bool, floor int) int {
		best := -1
		for i, w := range widths {
			if (keep[i] && !allowKept) || w <= floor {
				continue
			}
			if best < 0 || w > widths[best] {
				best = i
			}
		}
		return best
	}
	for total() > width {
		i := widest(false, minCut)
		if i < 0 {
			i = widest(true, minCut)
		}
		if i < 0 {
			i = widest(true, 1)
		}
		if i < 0 {
			break
		}
		widths[i]--
	}
	return widths
}
