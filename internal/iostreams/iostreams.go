package iostreams

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams carries the three standard streams and what is known about them.
// Commands never touch os.Stdin, os.Stdout or os.Stderr directly.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noPrompt  bool
	lines     *bufio.Reader
}

// System returns the process's standard streams.
func System() *IOStreams {
	s := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
	}
	if s.stdoutTTY {
		s.Out = terminalOut{os.Stdout}
	}
	if s.stderrTTY {
		// A table written to stderr (bulk results while stdout carries
		// new secrets) fits the terminal too.
		s.ErrOut = terminalOut{os.Stderr}
	}
	return s
}

// Streams returns IOStreams over arbitrary readers and writers, as a pipe:
// no terminal, so never a prompt.
func Streams(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// CanPrompt reports whether a question may be asked: stdin and stdout are
// terminals and prompting was not switched off (--no-input,
// IMPACTCTL_NO_PROMPT=1, CI=true).
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY && !s.noPrompt }

// ReadLine reads one line of input, without its line ending. It gives up
// when ctx ends (Ctrl-C at a prompt), leaving the read behind.
func (s *IOStreams) ReadLine(ctx context.Context) (string, error) {
	if s.lines == nil {
		s.lines = bufio.NewReader(s.In)
	}
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := s.lines.ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case a := <-got:
		if a.err != nil && !(errors.Is(a.err, io.EOF) && a.line != "") {
			return "", a.err
		}
		return strings.TrimRight(a.line, "\r\n"), nil
	}
}

// ReadSecret reads one line without echoing it when stdin is a terminal.
// Echo goes off before the prompt is shown and comes back however the read
// ends, Ctrl-C included.
func (s *IOStreams) ReadSecret(ctx context.Context, prompt string) (string, error) {
	f, ok := s.In.(*os.File)
	if !ok || !s.stdinTTY {
		fmt.Fprint(s.ErrOut, prompt)
		line, err := s.ReadLine(ctx)
		return strings.TrimSpace(line), err
	}
	fd := int(f.Fd())
	restore, err := echoOff(fd)
	if err != nil {
		// No termios here (Windows): the x/term way.
		fmt.Fprint(s.ErrOut, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(s.ErrOut)
		return strings.TrimSpace(string(b)), err
	}
	defer restore()
	fmt.Fprint(s.ErrOut, prompt)
	line, err := s.ReadLine(ctx)
	fmt.Fprintln(s.ErrOut)
	return strings.TrimSpace(line), err
}

// SetStdinTTY says whether standard input is a terminal (tests).
func (s *IOStreams) SetStdinTTY(tty bool) { s.stdinTTY = tty }

// SetStdoutTTY says whether standard output is a terminal (tests).
func (s *IOStreams) SetStdoutTTY(tty bool) { s.stdoutTTY = tty }

// SetStderrTTY says whether standard error is a terminal (tests).
func (s *IOStreams) SetStderrTTY(tty bool) { s.stderrTTY = tty }

// SetNeverPrompt switches questions off (--no-input, IMPACTCTL_NO_PROMPT=1, CI=true).
func (s *IOStreams) SetNeverPrompt(never bool) { s.noPrompt = never }
