package commands

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// nobody is the user files are given to when a test needs another owner.
const nobody = 65534

// needRoot skips a test that must chown files to another user.
func needRoot(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root on a Unix system")
	}
}

// needUnix skips a test of Unix owners and modes.
func needUnix(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows guards files with ACLs, not modes")
	}
}

// wantUsage fails unless err is exit 2 with a message holding each of want.
func wantUsage(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want exit 2 saying %q", want)
	}
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
		t.Errorf("exit %d (%v), want %d", code, err, cmdutil.ExitUsage)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestRecoverDirChecked: admin recover writes its secret only in a directory
// of the user's own (or root's) that group and others cannot write, checked on
// the descriptor the file is then created in.
func TestRecoverDirChecked(t *testing.T) {
	needUnix(t)
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	_, _, err := openRecoverDir(filepath.Join(shared, "rec.secret"))
	wantUsage(t, err, "its directory "+shared+" is shared with other users (mode 1777)", "private directory", "nothing changed")

	for _, mode := range []os.FileMode{0o770, 0o707, 0o722} {
		if err := os.Chmod(shared, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := openRecoverDir(filepath.Join(shared, "rec.secret"))
		wantUsage(t, err, "is writable by group or others", "chmod go-w "+shared)
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
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, _, err := openRecoverDir(filepath.Join(dir, "rec.secret"))
	wantUsage(t, err, "its directory "+dir+" belongs to another user", "chown root "+dir, "nothing changed")
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
