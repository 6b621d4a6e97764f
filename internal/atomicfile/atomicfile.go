// Package atomicfile writes files so that a reader, or a crash, sees the old
// content or the new, never a mix: the CLI's config and secret files and the
// server's ready file. WriteIn writes in a directory held open (an os.Root),
// for a directory that was checked on its descriptor.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Write writes data to path so that a crash leaves either the old
// file or the new one, never half of either: a temporary file in the same
// directory, created with perm, synced, then renamed over path, and the
// directory synced.
func Write(path string, data []byte, perm os.FileMode) error {
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer root.Close()
	return WriteIn(root, filepath.Base(path), data, perm)
}

// WriteIn is Write for the file name in root: every step is taken relative to
// root's descriptor, so the file lands in the directory root opened, whatever
// its path leads to since.
func WriteIn(root *os.Root, name string, data []byte, perm os.FileMode) (err error) {
	path := filepath.Join(root.Name(), name)
	tmp, tmpName, err := createTemp(root, filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp-"))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			root.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = root.Rename(tmpName, name); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, derr := root.Open("."); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// createTemp creates a new file in root, 0600, named prefix and a random suffix.
func createTemp(root *os.Root, prefix string) (*os.File, string, error) {
	for try := 0; ; try++ {
		name := prefix + strconv.FormatUint(rand.Uint64(), 36)
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, name, err
	}
}
