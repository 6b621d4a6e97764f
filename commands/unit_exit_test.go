package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server"
)

// checkExit fails t unless err maps to exit code want; want 0 means err must
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

func TestExitCode(t *testing.T) {
	apiErr := func(status int) error { return &client.APIError{StatusCode: status, Message: "m"} }
	netErr := &client.NetworkError{Method: "GET", URL: "https://api.impact.com/x", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"exit error", &ExitError{Code: ExitConfirm, Err: errors.New("declined")}, ExitConfirm},
		{"usage error", UsageErrorf("bad %s", "flag"), ExitUsage},
		{"server settings differ from its database's", fmt.Errorf("starting the server: %w", &server.SettingsError{Setting: "mail"}), ExitUsage},
		{"wrapped exit error", fmt.Errorf("outer: %w", &ExitError{Code: ExitAuth, Err: errors.New("x")}), ExitAuth},
		{"exit error wins over the API error it wraps", &ExitError{Code: ExitConfirm, Err: apiErr(404)}, ExitConfirm},
		{"api 400", apiErr(400), ExitUsage},
		{"api 401", apiErr(401), ExitAuth},
		{"api 403", apiErr(403), ExitForbidden},
		{"api 404", apiErr(404), ExitNotFound},
		{"api 409", apiErr(409), ExitConflict},
		{"api 412", apiErr(412), ExitConflict},
		{"api 413", apiErr(413), ExitUsage},
		{"api 422", apiErr(422), ExitUsage},
		{"api 429", apiErr(429), ExitRateLimited},
		{"api 500", apiErr(500), ExitUnavailable},
		{"api 502", apiErr(502), ExitUnavailable},
		{"api 503", apiErr(503), ExitUnavailable},
		{"api 418 is unexpected", apiErr(418), ExitUnexpected},
		{"api 302 is unexpected", apiErr(302), ExitUnexpected},
		{"wrapped api error", fmt.Errorf("listing tokens: %w", apiErr(404)), ExitNotFound},
		{"network error", netErr, ExitUnavailable},
		{"wrapped network error", fmt.Errorf("reading: %w", netErr), ExitUnavailable},
		{"canceled", context.Canceled, ExitInterrupted},
		{"wrapped canceled", fmt.Errorf("listing: %w", context.Canceled), ExitInterrupted},
		{"canceled inside a network error", &client.NetworkError{Method: "GET", Err: context.Canceled}, ExitInterrupted},
		{"deadline exceeded", context.DeadlineExceeded, ExitUnavailable},
		{"wrapped deadline exceeded", fmt.Errorf("x: %w", context.DeadlineExceeded), ExitUnavailable},
		{"brand needs agency", client.ErrBrandNeedsAgency, ExitUsage},
		{"wrapped brand needs agency", fmt.Errorf("brand 1: %w", client.ErrBrandNeedsAgency), ExitUsage},
		{"plain error", errors.New("boom"), ExitUnexpected},
		{"page chain past @numpages", &client.PageChainError{Path: "/x", Announced: 2, Read: 3}, ExitUnavailable},
		{"paging loop", fmt.Errorf("listing: %w", &client.PageChainError{Path: "/x", Loops: true}), ExitUnavailable},
		{"the server's unsafe file", fmt.Errorf("start: %w", &server.FileError{What: "key file", Path: "/k", Problem: "is a symbolic link"}), ExitUsage},
		{"an error saying its exit code", fmt.Errorf("x: %w", codedError(ExitConflict)), ExitConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// codedError is an error that says its own exit code.
type codedError int

func (e codedError) Error() string { return "coded" }
func (e codedError) ExitCode() int { return int(e) }

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

// TestErrorHintDecidesOnCode: hints follow the server's Code and Scope, whatever its
// Message says.
func TestErrorHintDecidesOnCode(t *testing.T) {
	sid := "IR" + strings.Repeat("a", 32)
	f := &Factory{v: viper.New(), creds: &credentials{AccountSid: sid, Profile: "default"}, run: &runState{}}
	f.settings = globalSettings{opts: &f.opts, v: f.v}
	for _, tt := range []struct {
		name string
		err  *client.APIError
		want string
	}{
		{"disabled, reworded", &client.APIError{StatusCode: 403, Code: contract.CodeTokenDisabled, Message: "Nope"},
			"is disabled: another token can enable it with `impactctl tokens enable " + sid + "`"},
		{"wording without the code decides nothing", &client.APIError{StatusCode: 403, Message: "Forbidden: this API token is disabled"},
			"the token in use lacks a scope this needs"},
		{"missing scope named by Scope", &client.APIError{StatusCode: 403, Code: contract.CodeMissingScope, Scope: "users.read", Message: "Forbidden"},
			"lacks users.read: a token holding it can grant it with `impactctl scopes set " + sid + " --add users.read`"},
		{"a Scope unfit for a command line is not echoed", &client.APIError{StatusCode: 403, Code: contract.CodeMissingScope, Scope: "x; rm -rf ~", Message: "Forbidden"},
			"the token in use lacks a scope this needs"},
		{"escalation", &client.APIError{StatusCode: 403, Code: contract.CodeEscalation, Scope: "jobs.read", Message: "Forbidden: missing scope jobs.read"},
			"a token cannot grant a scope it lacks"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorHint(f, tt.err); !strings.Contains(got, tt.want) {
				t.Errorf("hint %q, want it to hold %q", got, tt.want)
			}
		})
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
