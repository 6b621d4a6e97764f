package scopepicker

import (
	"context"
	"errors"
	"io"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the page on the terminal behind in and out until it ends, and
// returns its last state. The page is drawn in place, below what the
// terminal already shows, and stays within its height. When ctx ends the
// page closes and Run returns ctx's error.
func Run(ctx context.Context, in io.Reader, out io.Writer, m Model) (Model, error) {
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out),
		// The command's own context carries SIGINT and SIGTERM.
		tea.WithoutSignalHandler())
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
