//go:build unix

package commands

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openNoFollow opens path without following a symbolic link at its last
// element: a link there fails with errIsLink. O_NONBLOCK keeps a planted FIFO
// from hanging the open; the caller checks the descriptor is a regular file.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
	if err != nil && errors.Is(err, unix.ELOOP) {
		return nil, errIsLink
	}
	return f, err
}

// fileOwner is the user ID that owns fi's file.
func fileOwner(fi os.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// currentUser is the user ID files are checked against.
func currentUser() int { return os.Geteuid() }
