package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/server"
)

func TestExitCode(t *testing.T) {
	apiErr := func(status int) error { return &client.APIError{StatusCode: status, Message: "m"} }
	netErr := &client.NetworkError{Method: "GET", URL: "https://api.impact.com/x", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, cmdutil.ExitOK},
		{"exit error", &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: errors.New("declined")}, cmdutil.ExitConfirm},
		{"usage error", cmdutil.UsageErrorf("bad %s", "flag"), cmdutil.ExitUsage},
		{"server settings differ from its database's", fmt.Errorf("starting the server: %w", &server.SettingsError{Setting: "mail"}), cmdutil.ExitUsage},
		{"wrapped exit error", fmt.Errorf("outer: %w", &cmdutil.ExitError{Code: cmdutil.ExitAuth, Err: errors.New("x")}), cmdutil.ExitAuth},
		{"exit error wins over the API error it wraps", &cmdutil.ExitError{Code: cmdutil.ExitConfirm, Err: apiErr(404)}, cmdutil.ExitConfirm},
		{"api 400", apiErr(400), cmdutil.ExitUsage},
		{"api 401", apiErr(401), cmdutil.ExitAuth},
		{"api 403", apiErr(403), cmdutil.ExitForbidden},
		{"api 404", apiErr(404), cmdutil.ExitNotFound},
		{"api 409", apiErr(409), cmdutil.ExitConflict},
		{"api 412", apiErr(412), cmdutil.ExitConflict},
		{"api 413", apiErr(413), cmdutil.ExitUsage},
		{"api 422", apiErr(422), cmdutil.ExitUsage},
		{"api 429", apiErr(429), cmdutil.ExitRateLimited},
		{"api 500", apiErr(500), cmdutil.ExitUnavailable},
		{"api 502", apiErr(502), cmdutil.ExitUnavailable},
		{"api 503", apiErr(503), cmdutil.ExitUnavailable},
		{"api 418 is unexpected", apiErr(418), cmdutil.ExitUnexpected},
		{"api 302 is unexpected", apiErr(302), cmdutil.ExitUnexpected},
		{"wrapped api error", fmt.Errorf("listing tokens: %w", apiErr(404)), cmdutil.ExitNotFound},
		{"network error", netErr, cmdutil.ExitUnavailable},
		{"wrapped network error", fmt.Errorf("reading: %w", netErr), cmdutil.ExitUnavailable},
		{"canceled", context.Canceled, cmdutil.ExitInterrupted},
		{"wrapped canceled", fmt.Errorf("listing: %w", context.Canceled), cmdutil.ExitInterrupted},
		{"canceled inside a network error", &client.NetworkError{Method: "GET", Err: context.Canceled}, cmdutil.ExitInterrupted},
		{"deadline exceeded", context.DeadlineExceeded, cmdutil.ExitUnavailable},
		{"wrapped deadline exceeded", fmt.Errorf("x: %w", context.DeadlineExceeded), cmdutil.ExitUnavailable},
		{"brand needs agency", client.ErrBrandNeedsAgency, cmdutil.ExitUsage},
		{"wrapped brand needs agency", fmt.Errorf("brand 1: %w", client.ErrBrandNeedsAgency), cmdutil.ExitUsage},
		{"plain error", errors.New("boom"), cmdutil.ExitUnexpected},
		{"page chain past @numpages", &client.PageChainError{Path: "/x", Announced: 2, Read: 3}, cmdutil.ExitUnavailable},
		{"paging loop", fmt.Errorf("listing: %w", &client.PageChainError{Path: "/x", Loops: true}), cmdutil.ExitUnavailable},
		{"the server's unsafe file", fmt.Errorf("start: %w", &server.FileError{What: "key file", Path: "/k", Problem: "is a symbolic link"}), cmdutil.ExitUsage},
		{"an error saying its exit code", fmt.Errorf("x: %w", codedError(cmdutil.ExitConflict)), cmdutil.ExitConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cmdutil.ExitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// codedError is an error that says its own exit code.
type codedError int

func (e codedError) Error() string { return "coded" }
func (e codedError) ExitCode() int { return int(e) }

// TestErrorHintDecidesOnCode: hints follow the server's Code and Scope, whatever its
// Message says.
func TestErrorHintDecidesOnCode(t *testing.T) {
	sid := "IR" + strings.Repeat("a", 32)
	f := &Factory{v: viper.New(), creds: &config.Credentials{AccountSid: sid, Profile: "default"}, run: &runState{}}
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
