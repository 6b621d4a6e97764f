//go:build unix

package server

import (
	"fmt"
	"io/fs"
	"os"
	osuser "os/user"
	"strconv"
	"syscall"
)

// openNoFollow opens path without following a symbolic link in its last element.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
}

// checkFile checks an open file: a regular file owned by this user, not writable by
// group or others, and, when private, not readable by them either.
func checkFile(f *os.File, path, what string, private bool) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if !fi.Mode().IsRegular() {
		return &FileError{What: what, Path: path, Problem: "is not a regular file", Fix: "point the flag at a file"}
	}
	if uid := ownerOf(fi); uid != os.Geteuid() {
		return &FileError{What: what, Path: path, Problem: "is owned by another user (" + userName(uid) + ")",
			Fix: "make sure it is yours to use, then run `chown " + userName(os.Geteuid()) + " " + shellQuote(path) + "`"}
	}
	perm := fi.Mode().Perm()
	if private && perm&0o077 != 0 {
		return &FileError{What: what, Path: path, Problem: fmt.Sprintf("is open to group or others (mode %04o)", perm),
			Fix: "run `chmod 600 " + shellQuote(path) + "`"}
	}
	if perm&0o022 != 0 {
		return &FileError{What: what, Path: path, Problem: fmt.Sprintf("is writable by group or others (mode %04o)", perm),
			Fix: "run `chmod go-w " + shellQuote(path) + "`"}
	}
	return nil
}

// checkDir refuses a directory others may write to, sticky (shared, like /tmp) or
// not; to create a file in it, the directory must also be this user's (or root's).
func checkDir(dir, what string, creating bool) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	mode := fi.Mode()
	if mode&0o002 != 0 {
		if mode&fs.ModeSticky != 0 {
			return &FileError{What: what, Path: dir, Problem: fmt.Sprintf("is shared with other users (mode %s)", modeString(mode)),
				Fix: "keep the server's files in a private directory, e.g. `mkdir -m 700 ~/impactctl`"}
		}
		return &FileError{What: what, Path: dir, Problem: fmt.Sprintf("is writable by others (mode %s)", modeString(mode)),
			Fix: "run `chmod o-w " + shellQuote(dir) + "`"}
	}
	if uid := ownerOf(fi); creating && uid != os.Geteuid() && uid != 0 {
		return &FileError{What: what, Path: dir, Problem: "belongs to another user (" + userName(uid) + ")",
			Fix: "keep the server's files in a directory of your own"}
	}
	return nil
}

func ownerOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

func modeString(m fs.FileMode) string {
	n := m.Perm()
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", uint32(n))
}

// userName names a user for a message: the login name, else the number.
func userName(uid int) string {
	if u, err := osuser.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}
