//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Modes reports whether files here have Unix owners and modes to check.
const Modes = true

// OpenNoFollow opens path without following a symbolic link at its last
// element: a link there fails with an error that is ErrIsLink. O_NONBLOCK keeps
// a planted FIFO from hanging the open; the caller checks what it opened
// (Check) on the descriptor.
func OpenNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
	if err != nil && errors.Is(err, unix.ELOOP) {
		return nil, &linkError{err}
	}
	return f, err
}

// Owner is the user ID that owns fi's file.
func Owner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}

// Me is the user files are checked against: the effective user ID.
func Me() int { return os.Geteuid() }
