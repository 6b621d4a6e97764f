package iostreams

import (
	"os"

	"golang.org/x/term"
)

// terminalOut is standard output when it is a terminal. It reports the
// terminal's width, measured at each use so a resized window counts, and
// tables written to it fit that width (see output.Terminal).
type terminalOut struct{ *os.File }

// TerminalWidth is the terminal's width in cells, or 0 when unknown.
func (t terminalOut) TerminalWidth() int {
	w, _, err := term.GetSize(int(t.Fd()))
	if err != nil {
		return 0
	}
	return w
}
