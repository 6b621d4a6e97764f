//go:build !unix

package server

import "os"

// openNoFollow opens path. Without Unix modes and owners there is nothing to check on
// the descriptor; new files are still created with O_EXCL.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}

// checkFile only refuses what is not a regular file: file modes are Unix's.
func checkFile(f *os.File, path, what string, private bool) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &FileError{What: what, Path: path, Problem: "is not a regular file", Fix: "point the flag at a file"}
	}
	return nil
}

// checkDir has nothing to check without Unix modes.
func checkDir(dir, what string, creating bool) error { return nil }
