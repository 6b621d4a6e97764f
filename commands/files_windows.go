//go:build windows

package commands

import (
	"os"
)

// openNoFollow opens path unless it is a symbolic link (errIsLink).
// Windows has no O_NOFOLLOW; the check before the open is the best it gets.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return nil, errIsLink
	}
	return os.OpenFile(path, flag, perm)
}

// fileOwner is unknown on Windows, where files are guarded by ACLs.
func fileOwner(os.FileInfo) (uid int, ok bool) { return 0, false }

// currentUser is unknown on Windows.
func currentUser() int { return -1 }
