package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		// old is the file's content before, nil when there is none.
		old     []byte
		oldPerm os.FileMode
		perm    os.FileMode
	}{
		{name: "creates with 0600", perm: 0o600},
		{name: "creates with 0640", perm: 0o640},
		{name: "replaces a 0644 file and its mode", old: []byte("old content that is longer\n"), oldPerm: 0o644, perm: 0o600},
		{name: "replaces a 0600 file", old: []byte("x"), oldPerm: 0o600, perm: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			if tt.old != nil {
				if err := os.WriteFile(path, tt.old, tt.oldPerm); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.oldPerm); err != nil {
					t.Fatal(err)
				}
			}
			data := []byte("profiles: {}\n")
			if err := Write(path, data, tt.perm); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("content %q, want %q", got, data)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.perm {
				t.Errorf("mode %04o, want %04o", st.Mode().Perm(), tt.perm)
			}
			if names := dirNames(t, dir); len(names) != 1 || names[0] != "config.yaml" {
				t.Errorf("directory holds %q, want only config.yaml", names)
			}
		})
	}
}

func TestWriteFails(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "nope", "config.yaml")
		err := Write(path, []byte("x"), 0o600)
		if err == nil {
			t.Fatal("no error writing into a missing directory")
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name %s", err, path)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("left %q behind", names)
		}
	})
	t.Run("target is a directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.yaml")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, []byte("x"), 0o600); err == nil {
			t.Fatal("no error replacing a directory")
		}
		if names := dirNames(t, dir); len(names) != 1 || names[0] != "config.yaml" {
			t.Errorf("directory holds %q: a temporary file was left behind", names)
		}
	})
}

// TestWriteInStaysInTheRoot: a file written in a root lands in the directory
// the root opened, even when its path now leads elsewhere.
func TestWriteInStaysInTheRoot(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "secrets")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	elsewhere := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, filepath.Join(base, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := WriteIn(root, "s", []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(base, "moved", "s")); err != nil || string(got) != "secret\n" {
		t.Errorf("in the directory opened: %q, %v", got, err)
	}
	if names := dirNames(t, elsewhere); len(names) != 0 {
		t.Errorf("written where the path leads now: %q", names)
	}
	if names := dirNames(t, filepath.Join(base, "moved")); len(names) != 1 {
		t.Errorf("left behind: %q", names)
	}
}
