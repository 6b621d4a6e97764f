package scopepicker

import (
	"bytes"
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run shows the page on the terminal behind in and out until it ends, and
// returns its last state. The page is drawn in place, below what the
// terminal already shows, and stays within its height. When ctx ends the
// page closes and Run returns ctx's error.
//
// What it sends the terminal beyond the page: while it is open, raw mode on
// in, the cursor hidden, bracketed paste, and xterm's modifyOtherKeys and
// the kitty keyboard protocol (so esc and chords arrive unambiguous); all
// of it restored when it ends. It asks the terminal nothing: not its
// colours (colour is m's alone, Options.Color, so the colour profile is set
// here rather than detected) and not the modes Bubble Tea would query,
// which quiet leaves out. A terminal that answers nothing is never waited
// for, and no answer can arrive after the page has closed.
func Run(ctx context.Context, in io.Reader, out io.Writer, m Model) (Model, error) {
	profile := colorprofile.Ascii // bold, faint and reverse, no colour
	if m.color {
		profile = colorprofile.ANSI
	}
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(quiet(out)),
		tea.WithColorProfile(profile),
		// The command's own context carries SIGINT and SIGTERM.
		tea.WithoutSignalHandler()}
	if m.width > 0 && m.height > 0 {
		// The size when out is not a terminal that tells its own.
		opts = append(opts, tea.WithWindowSize(m.width, m.height))
	}
	p := tea.NewProgram(m, opts...)
	final, err := p.Run()
	if ctx.Err() != nil {
		return m, ctx.Err()
	}
	if err != nil {
		return m, err
	}
	fm, ok := final.(Model)
	if !ok {
		return m, errors.New("scope page: unexpected final state")
	}
	return fm, nil
}

// queries are the questions Bubble Tea asks a terminal by itself: whether
// it supports synchronized output and Unicode core (DECRQM 2026, 2027) and
// which kitty keyboard flags are on. The page needs no answer, and an
// answer arriving after it closed (Bubble Tea sends the first two as late
// as when the terminal is restored, when a key ends the page at once) would
// reach the next prompt or the shell as typed text.
var queries = [][]byte{[]byte("\x1b[?2026$p"), []byte("\x1b[?2027$p"), []byte("\x1b[?u")}

// tty is a terminal Bubble Tea puts in raw mode and asks for its size.
type tty interface {
	io.ReadWriteCloser
	Fd() uintptr
}

// quiet returns out less the queries, still a terminal when out is one.
func quiet(out io.Writer) io.Writer {
	if t, ok := out.(tty); ok {
		return quietTTY{t}
	}
	return quietWriter{out}
}

type quietTTY struct{ tty }

func (q quietTTY) Write(p []byte) (int, error) { return writeQuiet(q.tty, p) }

type quietWriter struct{ io.Writer }

func (q quietWriter) Write(p []byte) (int, error) { return writeQuiet(q.Writer, p) }

// writeQuiet writes p to w less the queries. Bubble Tea writes each
// sequence whole in one write.
func writeQuiet(w io.Writer, p []byte) (int, error) {
	q := p
	for _, seq := range queries {
		if bytes.Contains(q, seq) {
			q = bytes.ReplaceAll(q, seq, nil)
		}
	}
	if len(q) > 0 {
		if _, err := w.Write(q); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
