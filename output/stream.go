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
// In a pipe each row is written at once, tab-separated, as Table writes
// it. On a terminal the first 1,000 rows settle the columns shown and their
// widths and are written together; each later row is written as it is
// added, fitted to those widths. A later cell wider than its column widens
// the column from that row on while the line still fits the terminal, and
// is cut with "…" past that.
type TableWriter struct {
	w       *bufio.Writer
	header  []string
	drop    []string
	pending [][]string // rows held until the widths settle
	cols    *layout    // nil until settled
	isTerm  bool
	paint   func(col int, cell string) string
	term    int // the terminal's width; 0 when unknown
	line    strings.Builder
	err     error
}

// NewTableWriter returns a TableWriter that writes to w under the given
// header, printed as given.
func NewTableWriter(w io.Writer, header ...string) *TableWriter {
	t := &TableWriter{w: bufio.NewWriter(w)}
	for _, h := range header {
		t.header = append(t.header, Sanitize(h))
	}
	t.isTerm, t.term = terminal(w)
	return t
}

// DropFirst names the columns, least useful first, that a terminal too
// narrow for the whole table leaves out before any other is cut.
func (t *TableWriter) DropFirst(headers ...string) *TableWriter {
	t.drop = headers
	return t
}

// Paint colours cells on a terminal: paint gets a cell's column (an index
// into the header) and its text as shown, and returns it with colour codes
// around it. Widths are measured without them; in a pipe paint is not
// called.
func (t *TableWriter) Paint(paint func(col int, cell string) string) *TableWriter {
	t.paint = paint
	return t
}

// Row adds one row; cells are sanitised, missing ones left empty and extra
// ones dropped when there is a header. It returns the first write error.
func (t *TableWriter) Row(cells ...string) error {
	row := cleanRow(len(t.header), cells)
	if !t.isTerm {
		if t.err == nil {
			t.err = writeTabbed(t.w, [][]string{row})
		}
		return t.err
	}
	if t.cols == nil {
		t.pending = append(t.pending, row)
		if len(t.pending) >= settleRows {
			t.settle()
		}
		return t.err
	}
	t.writeRow(t.cols.pick(row))
	return t.err
}

// Close writes the rows still held and flushes. A table without a header
// and without rows writes nothing.
func (t *TableWriter) Close() error {
	if t.isTerm && t.cols == nil {
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

// settle fixes the columns shown and their widths from the header and the
// rows held, as Table lays them out, and writes them.
func (t *TableWriter) settle() {
	header := make([]string, len(t.header))
	for i, h := range t.header {
		header[i] = strings.TrimSpace(h)
	}
	tbl := Table{header: header, rows: t.pending, drop: t.drop}
	natural := tbl.naturalWidths()
	l := layout{widths: natural, gap: 3}
	for i := range natural {
		l.show = append(l.show, i)
	}
	if t.term > 0 {
		l = fitColumns(natural, tbl.identColumns(), tbl.dropIndexes(), t.term)
	}
	// A column is as wide as its widest cut cell, which may be narrower
	// than the width fitted (a wide character does not fit its last cell).
	rows := make([][]string, 0, len(t.pending)+1)
	if len(header) > 0 {
		rows = append(rows, l.project(header))
	}
	for _, r := range t.pending {
		rows = append(rows, l.project(r))
	}
	for i := range l.widths {
		l.widths[i] = 0
		for _, r := range rows {
			l.widths[i] = max(l.widths[i], displayWidth(r[i]))
		}
	}
	t.cols = &l
	for _, r := range rows {
		t.writeRow(r)
	}
	t.pending = nil
}

// total is a line's width at the current column widths.
func (t *TableWriter) total() int { return t.cols.total() }

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
		widths := t.cols.widths
		if w > widths[i] {
			room := w - widths[i]
			if t.term > 0 {
				room = min(room, max(t.term-t.total(), 0))
			}
			widths[i] += room
			if w > widths[i] {
				c = Truncate(c, widths[i])
				w = displayWidth(c)
			}
		}
		if t.paint != nil {
			t.line.WriteString(t.paint(t.cols.show[i], c))
		} else {
			t.line.WriteString(c)
		}
		if i < len(row)-1 {
			t.line.WriteString(strings.Repeat(" ", widths[i]-w+t.cols.gap))
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
