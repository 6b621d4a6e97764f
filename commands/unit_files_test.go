package commands

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"
)

// TestRecoverDirChecked: admin recover writes its secret only in a directory
// of the user's own (or root's) that group and others cannot write, checked on
// the descriptor the file is then created in.
func TestRecoverDirChecked(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	_, _, err := openRecoverDir(filepath.Join(shared, "rec.secret"))
	cmdutiltest.WantUsage(t, err, "its directory "+shared+" is shared with other users (mode 1777)", "private directory", "nothing changed")

	for _, mode := range []os.FileMode{0o770, 0o707, 0o722} {
		if err := os.Chmod(shared, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := openRecoverDir(filepath.Join(shared, "rec.secret"))
		cmdutiltest.WantUsage(t, err, "is writable by group or others", "chmod go-w "+shared)
	}

	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	root, name, err := openRecoverDir(filepath.Join(shared, "rec.secret"))
	if err != nil || name != "rec.secret" {
		t.Fatalf("a private directory: %q, %v", name, err)
	}
	root.Close()
	for _, bad := range []string{shared + "/", shared + "/.", shared + "/.."} {
		if _, _, err := openRecoverDir(bad); err == nil {
			t.Errorf("%q was taken for a file", bad)
		}
	}
}

func TestRecoverDirOfAnotherUserRefused(t *testing.T) {
	cmdutiltest.NeedRoot(t)
	dir := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, cmdutiltest.Nobody, cmdutiltest.Nobody); err != nil {
		t.Fatal(err)
	}
	_, _, err := openRecoverDir(filepath.Join(dir, "rec.secret"))
	cmdutiltest.WantUsage(t, err, "its directory "+dir+" belongs to another user", "chown root "+dir, "nothing changed")
	// Once it is the user's own, it is accepted.
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	root, _, err := openRecoverDir(filepath.Join(dir, "rec.secret"))
	if err != nil {
		t.Fatalf("root's directory: %v", err)
	}
	root.Close()
}
