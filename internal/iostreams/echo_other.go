//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package iostreams

import "errors"

// echoOff is not available here: ReadSecret falls back to term.ReadPassword.
func echoOff(fd int) (restore func(), err error) {
	return nil, errors.New("no termios")
}
