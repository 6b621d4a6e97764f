package config

import (
	"errors"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// checkExit fails t unless err maps to exit code want; want 0 means err must
// be nil. It reports whether err had the wanted code.
func checkExit(t *testing.T, err error, want int) bool {
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
