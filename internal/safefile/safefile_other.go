//go:build !unix

package safefile

import (
	"io/fs"
	"os"
)

// Modes reports whether files here have Unix owners and modes to check.
const Modes = false

// OpenNoFollow opens path unless it is a symbolic link (an error that is
// ErrIsLink). Without O_NOFOLLOW the check before the open is the best there is.
func OpenNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrIsLink}
	}
	return os.OpenFile(path, flag, perm)
}

// Owner is unknown here: files are guarded by ACLs.
func Owner(fs.FileInfo) (uid int, ok bool) { return -1, false }

// Me is unknown here.
func Me() int { return -1 }
