package commands

import (
	"bufio"
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

// ReadLine reads one line of input, without its line ending.
func (s *IOStreams) ReadLine() (string, error) {
	if s.lines == nil {
		s.lines = bufio.NewReader(s.In)
	}
	line, err := s.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// ReadSecret reads one line without echoing it when stdin is a terminal.
func (s *IOStreams) ReadSecret(prompt string) (string, error) {
	fmt.Fprint(s.ErrOut, prompt)
	if f, ok := s.In.(*os.File); ok && s.stdinTTY {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(s.ErrOut)
		return strings.TrimSpace(string(b)), err
	}
	line, err := s.ReadLine()
	return strings.TrimSpace(line), err
}
