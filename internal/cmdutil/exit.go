package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

// Exit codes, as the README and `help exit-codes` document them.
const (
	ExitOK          = 0
	ExitUnexpected  = 1
	ExitUsage       = 2
	ExitConfirm     = 3
	ExitAuth        = 4
	ExitForbidden   = 5
	ExitNotFound    = 6
	ExitConflict    = 7
	ExitRateLimited = 8
	ExitUnavailable = 9
	ExitPartial     = 10
	ExitSecretCmd   = 11 // changed, but a new secret could not be handed to --secret-cmd
	ExitInterrupted = 130
)

// ExitError carries an explicit exit code with its message.
type ExitError struct {
	Code int
	Err  error
	// Kind is the CLI's error code in JSON modes ("secret_delivery");
	// empty derives it from the error and the exit code (see CLICode).
	Kind string
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageErrorf is bad usage or input: exit 2.
func UsageErrorf(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// ExitCoder is an error that knows its exit code: the packages the CLI runs
// (the server's file checks) say it without the CLI naming their types.
type ExitCoder interface {
	error
	ExitCode() int
}

// ExitCode maps any error a command returns to the documented exit codes.
// It is the one place that knows the mapping.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var qe *output.QueryError
	if errors.Is(err, client.ErrBrandNeedsAgency) || errors.As(err, &qe) {
		return ExitUsage
	}
	var pe *client.PagingError
	var ce *client.PageChainError
	if errors.As(err, &pe) || errors.As(err, &ce) {
		return ExitUnavailable
	}
	var coded ExitCoder
	if errors.As(err, &coded) {
		return coded.ExitCode() // e.g. the server's own files are unsafe: exit 2
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		return StatusExitCode(ae.StatusCode)
	}
	var ne *client.NetworkError
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return ExitUnavailable
	}
	return ExitUnexpected
}

// StatusExitCode maps an HTTP status the API answered to an exit code.
func StatusExitCode(status int) int {
	switch {
	case status == http.StatusBadRequest, status == http.StatusMethodNotAllowed,
		status == http.StatusRequestEntityTooLarge, status == http.StatusUnsupportedMediaType,
		status == http.StatusUnprocessableEntity:
		return ExitUsage
	case status == http.StatusUnauthorized:
		return ExitAuth
	case status == http.StatusForbidden:
		return ExitForbidden
	case status == http.StatusNotFound:
		return ExitNotFound
	case status == http.StatusConflict, status == http.StatusPreconditionFailed:
		return ExitConflict
	case status == http.StatusTooManyRequests:
		return ExitRateLimited
	case status >= 500:
		return ExitUnavailable
	}
	return ExitUnexpected
}

// AsAPIError finds an *client.APIError in err's chain.
func AsAPIError(err error) (*client.APIError, bool) {
	var ae *client.APIError
	ok := errors.As(err, &ae)
	return ae, ok
}
