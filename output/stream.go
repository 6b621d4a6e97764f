package output

import (
	"bufio"
	"io"
	"strings"
)

// settleRows is how many rows a TableWriter holds to settle its column
// widths: a full page of the largest size the API sends.
const settleRows = 1000

// TableWriter writes a table as its rows come, for lists too long to hold
// in memory; it writes what Table writes for the same rows as long as they
// number no more than settleRows (1,000).
//
// The first 1,000 rows settle the column widths and are written together;
// each later row is written as it is added, fitted to those widths. A later
// cell wider than its column widens the column from that row on, so no text
// is lost in a pipe; written to a Terminal it widens only while the line
// still fits the terminal, and is cut with "…" past that.
type TableWriter struct {
	w       *bufio.Writer
	header  []string
	pending [][]string // rows held until the widths settle
	widths  []int      // nil until settled
	gap     int        // spaces between columns
	term    int        // the terminal's width; 0 in a pipe
	line    strings.Builder
	err     error
}

// NewTableWriter returns a TableWriter that writes to w under the given
// header, printed as given.
func NewTableWriter(w io.Writer, header ...string) *TableWriter {
	t := &TableWriter{w: bufio.NewWriter(w), gap: 3}
	for _, h := range header {
		t.header = append(t.header, Sanitize(h))
	}
	t.term = terminalWidth(w)
	return t
}

// Row adds one row; cells are sanitised, missing ones left empty and extra
// ones dropped when there is a header. It returns the first write error.
func (t *TableWriter) Row(cells ...string) error {
	n := len(cells)
	if len(t.header) > 0 {
		n = len(t.header)
	}
	row := make([]string, n)
	for i := 0; i < n && i < len(cells); i++ {
		row[i] = strings.TrimSpace(Sanitize(cells[i]))
	}
	if t.widths == nil {
		t.pending = append(t.pending, row)
		if len(t.pending) >= settleRows {
			t.settle()
		}
		return t.err
	}
	t.writeRow(row)
	return t.err
}

// Close writes the rows still held and flushes. A table without a header
// and without rows writes nothing.
func (t *TableWriter) Close() error {
	if t.widths == nil {
		if len(t.header) == 0 && len(t.pending) == 0 {
			return t.err
		}
		t.settle()
	}
	if t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

// settle fixes the column widths from the header and the rows held, and
// writes them.
func (t *TableWriter) settle() {
	n := len(t.header)
	for _, r := range t.pending {
		n = max(n, len(r))
	}
	t.widths = make([]int, n)
	measure := func(cells []string) {
		for i, c := range cells {
			t.widths[i] = max(t.widths[i], displayWidth(c))
		}
	}
	header := make([]string, len(t.header))
	for i, h := range t.header {
		header[i] = strings.TrimSpace(h)
	}
	measure(header)
	for _, r := range t.pending {
		measure(r)
	}
	if t.term > 0 && t.total() > t.term {
		t.fitTerminal(header)
	}
	if len(header) > 0 {
		t.writeRow(header)
	}
	for _, r := range t.pending {
		t.writeRow(r)
	}
	t.pending = nil
}

// total is a line's width at the current column widths.
func (t *TableWriter) total() int {
	sum := t.gap * (len(t.widths) - 1)
	for _, w := range t.widths {
		sum += w
	}
	return sum
}

// fitTerminal narrows the columns to the terminal's width, two spaces
// apart, as Table does.
func (t *TableWriter) fitTerminal(header []string) {
	t.gap = 2
	tbl := Table{header: header, rows: t.pending}
	keep := make([]bool, len(t.widths))
	for i := range keep {
		keep[i] = tbl.identifiers(i)
	}
	fitted := fitWidths(t.widths, keep, t.term, t.gap)
	// The rows held are cut now, and a column is as wide as its widest cut
	// cell, which may be narrower than the width fitted (a wide character
	// does not fit its last cell).
	t.widths = make([]int, len(fitted))
	for _, r := range append([][]string{header}, t.pending...) {
		for i, c := range r {
			r[i] = Truncate(c, fitted[i])
			t.widths[i] = max(t.widths[i], displayWidth(r[i]))
		}
	}
}

// writeRow writes one line: cells left-aligned and padded to their
// columns, no trailing spaces; a line with nothing in it is left out, as
// Table leaves it out.
func (t *TableWriter) writeRow(row []string) {
	if t.err != nil {
		return
	}
	t.line.Reset()
	for i, c := range row {
		w := displayWidth(c)
		if w > t.widths[i] {
			room := w - t.widths[i]
			if t.term > 0 {
				room = min(room, max(t.term-t.total(), 0))
			}
			t.widths[i] += room
			if w > t.widths[i] {
				c = Truncate(c, t.widths[i])
				w = displayWidth(c)
			}
		}
		t.line.WriteString(c)
		if i < len(row)-1 {
			t.line.WriteString(strings.Repeat(" ", t.widths[i]-w+t.gap))
		}
	}
	line := strings.TrimRight(t.line.String(), " ")
	if line == "" {
		return
	}
	if _, err := t.w.WriteString(line); err != nil {
		t.err = err
		return
	}
	t.err = t.w.WriteByte('\n')
}
