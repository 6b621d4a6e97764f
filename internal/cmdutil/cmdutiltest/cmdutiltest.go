// Package cmdutiltest holds the test helpers the CLI's packages share: exit codes
// checked through cmdutil, and skips for tests of Unix owners and modes.
package cmdutiltest

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// Nobody is the user files are given to when a test needs another owner.
const Nobody = 65534

// NeedRoot skips a test that must chown files to another user.
func NeedRoot(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root on a Unix system")
	}
}

// NeedUnix skips a test of Unix owners and modes.
func NeedUnix(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows guards files with ACLs, not modes")
	}
}

// WantUsage fails unless err is exit 2 with a message holding each of want.
func WantUsage(t testing.TB, err error, want ...string) {
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

// CheckExit fails t unless err maps to exit code want; want 0 means err must
// be nil. It reports whether err had the wanted code.
func CheckExit(t testing.TB, err error, want int) bool {
	t.Helper()
	if want == cmdutil.ExitOK {
		if err != nil {
			t.Errorf("err = %v, want none", err)
			return false
		}
		return true
	}
	if err == nil {
		t.Errorf("err = nil, want exit code %d", want)
		return false
	}
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("err = %v (%T), want an *ExitError with code %d", err, err, want)
		return false
	}
	if ee.Code != want {
		t.Errorf("exit code %d, want %d (err: %v)", ee.Code, want, err)
		return false
	}
	return true
}
