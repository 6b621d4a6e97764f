package commands

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
	noPrompt  bool
	lines     *bufio.Reader
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
	}
}

// Streams returns IOStreams over arbitrary readers and writers, as a pipe:
// no terminal, so never a prompt.
func Streams(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

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
// When ctx ends first, the terminal gets its echo back before it returns.
func (s *IOStreams) ReadSecret(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(s.ErrOut, prompt)
	f, ok := s.In.(*os.File)
	if !ok || !s.stdinTTY {
		line, err := s.ReadLine(ctx)
		return strings.TrimSpace(line), err
	}
	fd := int(f.Fd())
	saved, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	type answer struct {
		b   []byte
		err error
	}
	got := make(chan answer, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		got <- answer{b, err}
	}()
	select {
	case <-ctx.Done():
		term.Restore(fd, saved)
		fmt.Fprintln(s.ErrOut)
		return "", ctx.Err()
	case a := <-got:
		fmt.Fprintln(s.ErrOut)
		return strings.TrimSpace(string(a.b)), a.err
	}
}
