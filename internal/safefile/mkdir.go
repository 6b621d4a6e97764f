package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// MkdirAll makes directory dir, and any parents it lacks, with perm (before the
// umask), as os.MkdirAll does, but never through a symbolic link: each missing
// element is made inside its parent's descriptor (an os.Root) and entered only when
// what is there is a directory, not a link; a link planted meanwhile, the last
// element included, is an error that is ErrIsLink. The existing ancestor it starts
// from is the caller's path, taken as it is. It checks no owner or mode: open what
// it made with OpenNoFollow and Check it, as anything found there.
func MkdirAll(dir string, perm fs.FileMode) error {
	base := filepath.Clean(dir)
	var missing []string
	for {
		_, err := os.Lstat(base)
		if err == nil {
			break
		}
		parent := filepath.Dir(base)
		if !errors.Is(err, fs.ErrNotExist) || parent == base {
			return err
		}
		missing = append([]string{filepath.Base(base)}, missing...)
		base = parent
	}
	if len(missing) == 0 {
		return nil // it exists: the caller's open and checks decide on it
	}
	r, err := os.OpenRoot(base)
	if err != nil {
		return err
	}
	return mkdirIn(r, base, missing, perm)
}

// mkdirIn makes the directories names, each inside the one before, starting in r
// (at path base), which it closes.
func mkdirIn(r *os.Root, base string, names []string, perm fs.FileMode) error {
	defer func() { r.Close() }()
	path := base
	for i, name := range names {
		path = filepath.Join(path, name)
		if err := r.Mkdir(name, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := r.Lstat(name)
		switch {
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return &fs.PathError{Op: "mkdir", Path: path, Err: ErrIsLink}
		case !fi.IsDir():
			return &fs.PathError{Op: "mkdir", Path: path, Err: errNotDir}
		case i == len(names)-1:
			return nil
		}
		next, err := r.OpenRoot(name)
		if err != nil {
			return err
		}
		// What was entered is what was found there: not a link swapped in since.
		if nfi, err := next.Stat("."); err != nil || !os.SameFile(fi, nfi) {
			next.Close()
			return &fs.PathError{Op: "mkdir", Path: path, Err: errReplaced}
		}
		r.Close()
		r = next
	}
	return nil
}

// RootOf opens the directory f is open on as an os.Root, so that files are made in
// the directory that was checked on f's descriptor (see Check), never in whatever
// its path leads to later. It refuses when the path no longer leads to f's
// directory. f stays open; the caller closes both.
func RootOf(f *os.File) (*os.Root, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(f.Name())
	if err != nil {
		return nil, err
	}
	if rfi, err := r.Stat("."); err != nil || !os.SameFile(fi, rfi) {
		r.Close()
		return nil, &fs.PathError{Op: "open", Path: f.Name(), Err: errReplaced}
	}
	return r, nil
}

var (
	errNotDir   = errors.New("not a directory")
	errReplaced = errors.New("it was replaced while it was opened")
)
