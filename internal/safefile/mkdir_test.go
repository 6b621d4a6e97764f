package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestMkdirAll(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "c")
	must(t, MkdirAll(dir, 0o700))
	for _, p := range []string{filepath.Join(base, "a"), filepath.Join(base, "a", "b"), dir} {
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() || (Modes && fi.Mode().Perm() != 0o700) {
			t.Fatalf("%s: %v, %v", p, fi, err)
		}
	}
	// Made already: nothing to do.
	must(t, MkdirAll(dir, 0o700))
	// Relative, through "..".
	t.Chdir(filepath.Join(base, "a"))
	must(t, MkdirAll(filepath.Join("..", "rel", "x"), 0o700))
	if fi, err := os.Stat(filepath.Join(base, "rel", "x")); err != nil || !fi.IsDir() {
		t.Errorf("relative: %v", err)
	}
	// A file where a directory belongs.
	must(t, os.WriteFile(filepath.Join(base, "file"), nil, 0o600))
	if err := MkdirAll(filepath.Join(base, "file", "x"), 0o700); err == nil {
		t.Error("made a directory inside a file")
	}
}

// TestMkdirAllRefusesLink: a link where the directory was to be made (planted
// after it was found missing) is refused, not followed, as os.MkdirAll does.
func TestMkdirAllRefusesLink(t *testing.T) {
	base := t.TempDir()
	elsewhere := filepath.Join(base, "elsewhere")
	must(t, os.Mkdir(elsewhere, 0o777))
	link := filepath.Join(base, "secrets")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.MkdirAll(link, 0o700); err != nil {
		t.Fatalf("os.MkdirAll no longer follows the link (%v): this test shows nothing", err)
	}
	r, err := os.OpenRoot(base)
	must(t, err)
	err = mkdirIn(r, base, []string{"secrets"}, 0o700)
	if !errors.Is(err, ErrIsLink) {
		t.Errorf("last element a link: %v, want ErrIsLink", err)
	}
	// An element in the middle: nothing is made through it.
	r, err = os.OpenRoot(base)
	must(t, err)
	err = mkdirIn(r, base, []string{"secrets", "inner"}, 0o700)
	if !errors.Is(err, ErrIsLink) {
		t.Errorf("middle element a link: %v, want ErrIsLink", err)
	}
	if _, err := os.Lstat(filepath.Join(elsewhere, "inner")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a directory was made through the link: %v", err)
	}
	// A link found as the existing ancestor is the caller's own path.
	must(t, MkdirAll(filepath.Join(link, "mine"), 0o700))
	if _, err := os.Lstat(filepath.Join(elsewhere, "mine")); err != nil {
		t.Errorf("under an existing link: %v", err)
	}
}

// TestRootOf: a root is only had for the directory that was opened and
// checked; a path swapped since is refused.
func TestRootOf(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "dir")
	must(t, os.Mkdir(dir, 0o700))
	f, err := OpenNoFollow(dir, os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	r, err := RootOf(f)
	must(t, err)
	must(t, r.Close())

	must(t, os.Rename(dir, filepath.Join(base, "moved")))
	must(t, os.Mkdir(dir, 0o700))
	if r, err := RootOf(f); err == nil {
		r.Close()
		t.Fatal("a root for a directory put in the checked one's place")
	}
}
