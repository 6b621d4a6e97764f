package output

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestTableWriterWritesWhatTableWrites(t *testing.T) {
	words := []string{"", " ", "a", "IRabcdefghijklmnopqrstuvwxyz012345", "CI deploys", "日本語のトークン", "émoji 🚀",
		"  padded  ", "tab\there", "\x1b[31mred\x1b[0m", "ENABLED", "2026-01-02", "••••1a2b", "a much longer cell than the others"}
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		cols := 1 + r.IntN(5)
		var header []string
		if round%7 != 0 {
			for i := range cols {
				header = append(header, fmt.Sprintf("COL %d", i))
			}
		}
		// Half the rounds on a terminal, which both fit to its width.
		var a, b interface {
			Write([]byte) (int, error)
			String() string
		} = &bytes.Buffer{}, &bytes.Buffer{}
		if round%2 == 1 {
			width := 20 + r.IntN(100)
			a, b = &termBuf{width: width}, &termBuf{width: width}
		}
		tbl, tw := NewTable(a, header...), NewTableWriter(b, header...)
		for range r.IntN(30) {
			row := make([]string, cols)
			for i := range row {
				row[i] = words[r.IntN(len(words))]
			}
			tbl.Row(row...)
			if err := tw.Row(row...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tbl.Render(); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("round %d:\nTable:\n%s\nTableWriter:\n%s", round, a.String(), b.String())
		}
	}
}

// termBuf is a terminal of a given width.
type termBuf struct {
	bytes.Buffer
	width int
}

func (b *termBuf) TerminalWidth() int { return b.width }

func TestTableWriterAfterSettling(t *testing.T) {
	rows := func(w interface{ Write([]byte) (int, error) }) string {
		tw := NewTableWriter(w, "SID", "NAME", "STATE")
		for i := range settleRows {
			tw.Row(fmt.Sprintf("IR%d", i%10), "short", "ENABLED")
		}
		tw.Row("IR1", "a name longer than the first page's", "DISABLED")
		tw.Row("IR2", "short", "ENABLED")
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return ""
	}
	lines := func(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

	// In a pipe rows are tab-separated, whole, with no header.
	var pipe bytes.Buffer
	rows(&pipe)
	got := lines(pipe.String())
	if len(got) != settleRows+2 {
		t.Fatalf("%d lines", len(got))
	}
	want := []string{
		"IR0\tshort\tENABLED",
		"IR1\ta name longer than the first page's\tDISABLED",
		"IR2\tshort\tENABLED",
	}
	if g := []string{got[0], got[len(got)-2], got[len(got)-1]}; strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("pipe:\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}

	// On a terminal of unknown width a wider cell widens its column from
	// that row on.
	unknown := &termBuf{}
	rows(unknown)
	got = lines(unknown.String())
	want = []string{
		"SID   NAME    STATE",
		"IR0   short   ENABLED",
		"IR1   a name longer than the first page's   DISABLED",
		"IR2   short                                 ENABLED",
	}
	if g := []string{got[0], got[1], got[len(got)-2], got[len(got)-1]}; strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("terminal of unknown width:\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}

	// On a terminal it widens while the line fits, and is cut past that.
	term := &termBuf{width: 40}
	rows(term)
	got = lines(term.String())
	want = []string{
		"IR1   a name longer than the …   DISABL…",
		"IR2   short                      ENABLED",
	}
	if g := got[len(got)-2:]; strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("terminal:\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range got {
		if displayWidth(l) > 40 {
			t.Errorf("wider than the terminal: %q", l)
		}
	}
}

func TestTableWriterFitsTerminal(t *testing.T) {
	term := &termBuf{width: 70}
	tw := NewTableWriter(term, "ACCOUNT SID", "NAME", "STATE", "CREATED")
	tw.Row("IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "A rather long token name for reports", "ENABLED", "2026-01-02")
	tw.Row("IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "Short", "DISABLED", "2026-02-03")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	// As Table fits a terminal.
	want := "" +
		"ACCOUNT SID                         NAME          STATE     CREATED\n" +
		"IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  A rather lo…  ENABLED   2026-01-02\n" +
		"IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  Short         DISABLED  2026-02-03\n"
	if term.String() != want {
		t.Errorf("at 70 columns:\n%s\nwant\n%s", term.String(), want)
	}
}
