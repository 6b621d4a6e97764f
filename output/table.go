package output

import (
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table collects rows and renders them as plain, borderless columns in the
// style of gh and kubectl: a header line as given, cells left-aligned,
// columns separated by spaces and no trailing spaces on any line.
//
// Written to a Terminal, a table wider than the terminal fits it: columns
// are two spaces apart instead of three and the widest columns are cut with
// "…", identifier columns (a header of ID or ending in SID, or Account SIDs
// under no header) last.
type Table struct {
	w      io.Writer
	header []string
	rows   [][]string
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

// Row appends one row. Every cell is passed through Sanitize; missing cells
// are left empty and extra cells are dropped when a header was given.
func (t *Table) Row(cells ...string) {
	n := len(cells)
	if len(t.header) > 0 {
		n = len(t.header)
	}
	row := make([]string, n)
	for i := 0; i < n && i < len(cells); i++ {
		// Trimmed as tablewriter trims them, before a terminal's widths
		// are measured.
		row[i] = strings.TrimSpace(Sanitize(cells[i]))
	}
	t.rows = append(t.rows, row)
}

// Render writes the table. A table without a header and without rows
// writes nothing.
func (t *Table) Render() error {
	if len(t.header) == 0 && len(t.rows) == 0 {
		return nil
	}
	header, rows, gap := t.header, t.rows, "   "
	if width := terminalWidth(t.w); width > 0 {
		header, rows, gap = t.fit(width)
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

// fit returns the header and rows cut to fit width cells, and the gap
// between columns; a table that fits already is returned as it is.
func (t *Table) fit(width int) ([]string, [][]string, string) {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	natural := make([]int, n)
	measure := func(cells []string) {
		for i, c := range cells {
			natural[i] = max(natural[i], displayWidth(c))
		}
	}
	measure(t.header)
	for _, r := range t.rows {
		measure(r)
	}
	total := 3 * (n - 1)
	for _, w := range natural {
		total += w
	}
	if total <= width {
		return t.header, t.rows, "   "
	}
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = t.identifiers(i)
	}
	widths := fitWidths(natural, keep, width, 2)
	cut := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = Truncate(c, widths[i])
		}
		return out
	}
	rows := make([][]string, len(t.rows))
	for i, r := range t.rows {
		rows[i] = cut(r)
	}
	return cut(t.header), rows, "  "
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
