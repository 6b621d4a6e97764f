package output

import (
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table collects rows and renders them in the style of gh and kubectl.
//
// Written to a Terminal the table is plain, borderless columns: a header
// line as given, cells left-aligned, columns separated by spaces and no
// trailing spaces on any line. A table wider than the terminal fits it:
// it leaves out the columns named by DropFirst, then cuts its widest text
// columns with "…"; identifier columns (a header of ID or ending in SID,
// or Account SIDs under no header) are never cut.
//
// Written anywhere else (a pipe, a file) it is gh's tab-separated rows:
// no header, no padding, every value whole.
type Table struct {
	w      io.Writer
	header []string
	rows   [][]string
	drop   []string
}

// NewTable returns a table that renders to w under the given header. The
// header is printed exactly as given, so callers pass upper-case titles.
func NewTable(w io.Writer, header ...string) *Table {
	h := make([]string, len(header))
	for i, s := range header {
		h[i] = Sanitize(s)
	}
	return &Table{w: w, header: h}
}

// DropFirst names the columns, least useful first, that a terminal too
// narrow for the whole table leaves out before any other is cut.
func (t *Table) DropFirst(headers ...string) *Table {
	t.drop = headers
	return t
}

// Row appends one row. Every cell is passed through Sanitize; missing cells
// are left empty and extra cells are dropped when a header was given.
func (t *Table) Row(cells ...string) {
	t.rows = append(t.rows, cleanRow(len(t.header), cells))
}

// cleanRow sanitises and trims cells, to n of them when n > 0.
func cleanRow(n int, cells []string) []string {
	if n == 0 {
		n = len(cells)
	}
	row := make([]string, n)
	for i := 0; i < n && i < len(cells); i++ {
		// Trimmed as tablewriter trims them, before a terminal's widths
		// are measured.
		row[i] = strings.TrimSpace(Sanitize(cells[i]))
	}
	return row
}

// Render writes the table. A table without a header and without rows
// writes nothing; in a pipe, a table without rows writes nothing.
func (t *Table) Render() error {
	isTerm, width := terminal(t.w)
	if !isTerm {
		return writeTabbed(t.w, t.rows)
	}
	if len(t.header) == 0 && len(t.rows) == 0 {
		return nil
	}
	header, rows, gap := t.header, t.rows, "   "
	if width > 0 {
		l := fitColumns(t.naturalWidths(), t.identColumns(), t.dropIndexes(), width)
		header = l.project(t.header)
		rows = make([][]string, len(t.rows))
		for i, r := range t.rows {
			rows[i] = l.project(r)
		}
		gap = strings.Repeat(" ", l.gap)
		if len(t.header) == 0 {
			header = nil
		}
	}
	var buf bytes.Buffer
	tbl := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.SeparatorsNone,
				Lines:      tw.LinesNone,
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: gap, Overwrite: true}},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: gap, Overwrite: true}},
			},
			Behavior: tw.Behavior{TrimSpace: tw.On},
		}),
	)
	if len(header) > 0 {
		tbl.Header(anySlice(header)...)
	}
	for _, r := range rows {
		if err := tbl.Append(anySlice(r)...); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	return writeTrimmed(t.w, buf.Bytes())
}

// naturalWidths is each column's width uncut: its widest cell or header.
func (t *Table) naturalWidths() []int {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	natural := make([]int, n)
	for _, cells := range append([][]string{t.header}, t.rows...) {
		for i, c := range cells {
			natural[i] = max(natural[i], displayWidth(c))
		}
	}
	return natural
}

// identColumns marks the identifier columns, which are never cut.
func (t *Table) identColumns() []bool {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	ident := make([]bool, n)
	for i := range ident {
		ident[i] = t.identifiers(i)
	}
	return ident
}

// dropIndexes is DropFirst's columns as indexes, in its order.
func (t *Table) dropIndexes() []int {
	var out []int
	for _, name := range t.drop {
		for i, h := range t.header {
			if strings.EqualFold(strings.TrimSpace(h), name) {
				out = append(out, i)
			}
		}
	}
	return out
}

// identifiers reports whether column i holds identifiers a user copies
// into the next command: its header is ID or ends in SID, or, without a
// header, every cell is an Account SID.
func (t *Table) identifiers(i int) bool {
	if i < len(t.header) {
		h := strings.ToUpper(strings.TrimSpace(t.header[i]))
		return h == "ID" || strings.HasSuffix(h, "SID")
	}
	for _, r := range t.rows {
		if i >= len(r) || !looksLikeSID(r[i]) {
			return false
		}
	}
	return len(t.rows) > 0
}

// looksLikeSID reports whether s has an Account SID's shape: IR and 32
// letters or digits.
func looksLikeSID(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "IR") {
		return false
	}
	for _, r := range s[2:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// writeTrimmed writes b with trailing spaces removed from every line and
// blank lines dropped.
func writeTrimmed(w io.Writer, b []byte) error {
	var out strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" {
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}
