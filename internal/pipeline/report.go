package pipeline

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/output"
)

// Result is the outcome for one token, the bulk endpoints' shape.
type Result struct {
	AccountSid string        `json:"AccountSid"`
	Status     string        `json:"Status"`
	StatusCode int           `json:"StatusCode,omitempty"`
	Message    string        `json:"Message,omitempty"`
	ApiToken   *client.Token `json:"ApiToken,omitempty"`

	// Name and Err are for the table and the exit code, not the JSON.
	Name string `json:"-"`
	Err  error  `json:"-"`
}

func okResult(tok *client.Token, msg string) Result {
	return Result{AccountSid: tok.AccountSid, Status: "OK", StatusCode: 200, Message: msg, ApiToken: tok, Name: tok.Name}
}

func ErrResult(sid, name string, err error) Result {
	r := Result{AccountSid: sid, Status: "ERROR", Message: err.Error(), Name: name, Err: err}
	if ae, ok := cmdutil.AsAPIError(err); ok {
		r.StatusCode = ae.StatusCode
	}
	return r
}

// Failures counts the failed results.
func Failures(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Status != "OK" {
			n++
		}
	}
	return n
}

// pastTense is what a token is once action is done: "disabled", "reset".
func pastTense(action client.Action) string {
	switch action {
	case client.ActionReset:
		return "reset"
	case client.ActionDelete:
		return "deleted"
	}
	return strings.ToLower(string(action)) + "d"
}

// PrintResults writes one result per token and returns the error the run
// ends with: nil when all succeeded, the single failure's own error when
// there was one token, else exit 10.
func (r *Run) PrintResults(results []Result) error {
	return r.printResultsTo(r.IO.Out, results)
}

// printResultsTo is PrintResults writing a table to w (stdout, or stderr
// when stdout carries the new secrets); JSON always goes to stdout.
func (r *Run) printResultsTo(w io.Writer, results []Result) error {
	failed := 0
	var last error
	for _, res := range results {
		if res.Status != "OK" {
			failed++
			last = res.Err
		}
	}
	if len(results) == 1 && failed == 1 {
		return last
	}
	p := r.Printer
	if p.Table() {
		t := output.NewTable(w, "ACCOUNT SID", "NAME", "RESULT")
		for _, res := range results {
			msg := res.Message
			if res.Status != "OK" {
				msg = "error: " + msg
			}
			t.Row(res.AccountSid, res.Name, msg)
		}
		if err := t.Render(); err != nil {
			return err
		}
	} else {
		// Held and written 64 KB at a time: a bulk command of 1,000
		// made a write for each result.
		lw := p.List()
		for _, res := range results {
			if err := lw.Hold(res); err != nil {
				_ = lw.Flush() // the results before it; its error is the one to report
				return err
			}
		}
		if err := lw.Close(); err != nil {
			return err
		}
	}
	if failed > 0 {
		msg := fmt.Sprintf("%d of %s failed", failed, cmdutil.Plural(len(results), "token"))
		if failed < len(results) {
			msg += "; the others finished"
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitPartial, Err: errors.New(msg)}
	}
	return nil
}
