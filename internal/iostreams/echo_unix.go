//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package iostreams

import "golang.org/x/sys/unix"

// echoOff turns the terminal's echo off and returns what turns it back on.
// It is done before a secret's prompt is shown, so that nothing typed or
// pasted after the prompt appears is ever echoed.
func echoOff(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, ioctlSetTermios, old) }, nil
}
