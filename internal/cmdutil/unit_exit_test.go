package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
)

func TestExitErrorUnwraps(t *testing.T) {
	inner := errors.New("inner")
	err := &ExitError{Code: ExitUsage, Err: inner}
	if !errors.Is(err, inner) {
		t.Error("errors.Is does not reach the wrapped error")
	}
	if err.Error() != "inner" {
		t.Errorf("Error() = %q, want the wrapped message", err.Error())
	}
}

func TestCLICode(t *testing.T) {
	stalled := &client.NetworkError{Method: "GET", Err: &client.StallError{Idle: time.Second}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"usage", UsageErrorf("bad"), "usage"},
		{"confirmation", &ExitError{Code: ExitConfirm, Err: errors.New("pass --yes")}, "confirmation_required"},
		{"network", &client.NetworkError{Method: "GET", Err: errors.New("connection refused")}, "network"},
		{"stalled body", stalled, "timeout"},
		{"deadline", fmt.Errorf("GET /x: %w", context.DeadlineExceeded), "timeout"},
		{"page chain", &client.PageChainError{Loops: true}, "invalid_answer"},
		{"budget refused", &ExitError{Code: ExitRateLimited, Err: errors.New("refills at")}, "rate_limited"},
		{"explicit kind", &ExitError{Code: ExitUnexpected, Err: errors.New("x"), Kind: "secret_delivery"}, "secret_delivery"},
		{"interrupted", context.Canceled, "interrupted"},
		{"plain", errors.New("boom"), "unexpected"},
	}
	for _, tt := range tests {
		if got := CLICode(tt.err, ExitCode(tt.err)); got != tt.want {
			t.Errorf("%s: cliCode = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// be nil. It reports whether err had the wanted code.
func checkExit(t *testing.T, err error, want int) bool {
	t.Helper()
	if want == ExitOK {
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
	var ee *ExitError
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
