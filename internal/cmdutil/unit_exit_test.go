package cmdutil_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

func TestExitErrorUnwraps(t *testing.T) {
	inner := errors.New("inner")
	err := &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: inner}
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
		{"usage", cmdutil.UsageErrorf("bad"), "usage"},
		{"confirmation", &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: errors.New("pass --yes")}, "confirmation_required"},
		{"network", &client.NetworkError{Method: "GET", Err: errors.New("connection refused")}, "network"},
		{"stalled body", stalled, "timeout"},
		{"deadline", fmt.Errorf("GET /x: %w", context.DeadlineExceeded), "timeout"},
		{"page chain", &client.PageChainError{Loops: true}, "invalid_answer"},
		{"budget refused", &cmdutil.ExitError{Code: cmdutil.ExitRateLimited, Err: errors.New("refills at")}, "rate_limited"},
		{"explicit kind", &cmdutil.ExitError{Code: cmdutil.ExitUnexpected, Err: errors.New("x"), Kind: "secret_delivery"}, "secret_delivery"},
		{"interrupted", context.Canceled, "interrupted"},
		{"plain", errors.New("boom"), "unexpected"},
	}
	for _, tt := range tests {
		if got := cmdutil.CLICode(tt.err, cmdutil.ExitCode(tt.err)); got != tt.want {
			t.Errorf("%s: cliCode = %q, want %q", tt.name, got, tt.want)
		}
	}
}
