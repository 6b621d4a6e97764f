package pipeline

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/output"
)

// FieldChange is one field's value before and after a change.
type FieldChange struct {
	Field  string `json:"Field"`
	Before any    `json:"Before"`
	After  any    `json:"After"`
}

// planAction names what a change does to a token. Its values are stable words
// that scripts read from a plan's "Action" in JSON (docs/scripting.md lists
// them); they are never renamed.
type planAction string

// The actions a plan names.
const (
	ActionCreate          planAction = "create"
	ActionDuplicate       planAction = "duplicate"
	ActionEdit            planAction = "edit"
	ActionScopes          planAction = "scopes"
	ActionDeveloperEmails planAction = "developer_emails"
	ActionReset           planAction = "reset"
	actionDisable         planAction = "disable"
	actionEnable          planAction = "enable"
	actionDelete          planAction = "delete"
	ActionEndOverlap      planAction = "end_overlap"
	ActionRotate          planAction = "rotate"
)

// phrase is how a plan printed for people says the action, before "token".
func (a planAction) phrase() string {
	switch a {
	case ActionScopes:
		return "set scopes of"
	case ActionDeveloperEmails:
		return "set developer e-mails of"
	case ActionEndOverlap:
		return "end the overlap of"
	case ActionDuplicate:
		return "duplicate"
	}
	return string(a)
}

// Change is what one command will do to one token.
type Change struct {
	AccountSid string     `json:"AccountSid"`
	Name       string     `json:"Name"`
	Action     planAction `json:"Action"`
	// From is the token a duplicate copies.
	From   string        `json:"From,omitempty"`
	Fields []FieldChange `json:"Fields,omitempty"`
	// Added and Removed spell out a list field's change (scopes, e-mails).
	Added   []string `json:"Added,omitempty"`
	Removed []string `json:"Removed,omitempty"`
	// Warning is set when the change needs --yes even on a terminal, such
	// as disabling the token in use.
	Warning string `json:"Warning,omitempty"`
}

// ChangeFlags are the flags every changing command takes.
type ChangeFlags struct {
	DryRun         bool
	IdempotencyKey string
}

// Plan is the set of changes a command is about to make.
type Plan struct {
	Changes   []Change `json:"Changes"`
	Unchanged []Change `json:"Unchanged,omitempty"`
	// Failed are the named tokens that could not be read.
	Failed []planFailure `json:"Failed,omitempty"`
}

// sanitized is p with every string made safe for a terminal, for stderr.
func (p Plan) sanitized() Plan {
	clean := func(cs []Change) []Change {
		out := make([]Change, len(cs))
		for i, c := range cs {
			c.Name, c.Warning = output.Sanitize(c.Name), output.Sanitize(c.Warning)
			c.Added, c.Removed = SanitizeAll(c.Added), SanitizeAll(c.Removed)
			c.Fields = slices.Clone(c.Fields)
			for j, fc := range c.Fields {
				c.Fields[j].Before, c.Fields[j].After = sanitizeValue(fc.Before), sanitizeValue(fc.After)
			}
			out[i] = c
		}
		return out
	}
	q := Plan{Changes: clean(p.Changes), Unchanged: clean(p.Unchanged)}
	for _, e := range p.Failed {
		q.Failed = append(q.Failed, planFailure{e.AccountSid, output.Sanitize(e.Message)})
	}
	return q
}

func SanitizeAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = output.Sanitize(s)
	}
	return out
}

func sanitizeValue(v any) any {
	switch v := v.(type) {
	case string:
		return output.Sanitize(v)
	case []string:
		return SanitizeAll(v)
	}
	return v
}

// planFailure is a named token the plan cannot include, and why.
type planFailure struct {
	AccountSid string `json:"AccountSid"`
	Message    string `json:"Message"`
}

func PlanFailures(failed []Result) []planFailure {
	var out []planFailure
	for _, r := range failed {
		if r.Status != "OK" {
			out = append(out, planFailure{r.AccountSid, r.Message})
		}
	}
	return out
}

// DryRunOutcome is how a command that stopped at confirm ends: with
// confirm's error, or after a dry run with the failure to read any named
// token (its own code for one token, else 10), as the real run would.
func DryRunOutcome(err error, failed []Result, total int) error {
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range failed {
		if r.Status != "OK" {
			errs = append(errs, r.Err)
		}
	}
	switch {
	case len(errs) == 0:
		return nil
	case total == 1:
		return errs[0]
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitPartial, Err: fmt.Errorf("%d of %s could not be read", len(errs), cmdutil.Plural(total, "token"))}
}

func writePlan(w io.Writer, changes []Change) {
	for _, c := range changes {
		creating := c.AccountSid == ""
		switch {
		case c.Action == ActionDuplicate:
			fmt.Fprintf(w, "duplicate token %s as %q\n", c.From, output.Sanitize(c.Name))
		case creating:
			fmt.Fprintf(w, "%s token %q\n", c.Action.phrase(), output.Sanitize(c.Name))
		default:
			fmt.Fprintf(w, "%s token %s (%s)\n", c.Action.phrase(), c.AccountSid, output.Sanitize(c.Name))
		}
		width := 0
		for _, fc := range c.Fields {
			width = max(width, len(fc.Field))
		}
		for _, fc := range c.Fields {
			if creating {
				fmt.Fprintf(w, "  %-*s  %s\n", width+1, fc.Field+":", showValue(fc.After))
				continue
			}
			fmt.Fprintf(w, "  %-*s  %s → %s\n", width+1, fc.Field+":", showValue(fc.Before), showValue(fc.After))
		}
		if len(c.Added) > 0 {
			fmt.Fprintf(w, "  + %s\n", showValue(c.Added))
		}
		if len(c.Removed) > 0 {
			fmt.Fprintf(w, "  - %s\n", showValue(c.Removed))
		}
		if c.Warning != "" {
			fmt.Fprintf(w, "  ! %s\n", c.Warning)
		}
	}
}

// showValue prints a plan value for people.
func showValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "(none)"
	case string:
		if v == "" {
			return `""`
		}
		return output.Sanitize(v)
	case []string:
		// Every item, however many: a person confirms what they can read.
		if len(v) == 0 {
			return "(none)"
		}
		return output.Sanitize(strings.Join(v, ", "))
	}
	return output.Sanitize(fmt.Sprint(v))
}
