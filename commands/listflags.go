package commands

import (
	"strings"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

// ListFlags are the list filters, shared by `tokens list` and the bulk
// commands' --all.
type ListFlags struct {
	State         string
	Name          string
	CreatedAfter  string
	CreatedBefore string
	UnusedFor     string
	NotResetFor   string
	ExpiringIn    string
	Limit         int
	PageSize      int
	// PageSizeSet reports whether --page-size was given.
	PageSizeSet func() bool
	// Given reports whether the flag name was Given.
	Given func(name string) bool
}

// textFilters are the list filters given as text: none may be given empty.
var textFilters = []string{"state", "name", "created-after", "created-before", "unused-for", "not-reset-for", "expiring-within"}

// Options turns the flags into the client's list Options, refusing bad
// values before any request.
func (l *ListFlags) Options(now time.Time) (client.TokenListOptions, error) {
	var o client.TokenListOptions
	// An empty filter (an unset variable: --name "$UNSET") would select every
	// token; it is refused rather than taken as no filter.
	values := map[string]string{"state": l.State, "name": l.Name, "created-after": l.CreatedAfter,
		"created-before": l.CreatedBefore, "unused-for": l.UnusedFor, "not-reset-for": l.NotResetFor,
		"expiring-within": l.ExpiringIn}
	for _, name := range textFilters {
		if l.Given != nil && l.Given(name) && values[name] == "" {
			return o, cmdutil.UsageErrorf("invalid --%s \"\": an empty filter would select every token; leave the flag out for no filter", name)
		}
	}
	switch strings.ToLower(l.State) {
	case "":
	case "enabled", "disabled":
		o.State = client.State(strings.ToUpper(l.State))
	default:
		return o, cmdutil.UsageErrorf("invalid --state %q: use enabled or disabled", l.State)
	}
	o.Name = l.Name
	var err error
	if l.CreatedAfter != "" {
		if o.CreatedAfter, err = cmdutil.ParsePastTime("--created-after", l.CreatedAfter, now); err != nil {
			return o, err
		}
	}
	if l.CreatedBefore != "" {
		if o.CreatedBefore, err = cmdutil.ParsePastTime("--created-before", l.CreatedBefore, now); err != nil {
			return o, err
		}
	}
	if l.UnusedFor != "" {
		age, err := cmdutil.ParseAge("--unused-for", l.UnusedFor)
		if err != nil {
			return o, err
		}
		// Unused for D: not used in the last D (never used counts) and
		// created more than D ago, so a token made today is never "unused
		// for 90 days".
		cutoff := now.Add(-age)
		o.LastUsedBefore = cutoff
		if o.CreatedBefore.IsZero() || cutoff.Before(o.CreatedBefore) {
			o.CreatedBefore = cutoff
		}
	}
	if l.NotResetFor != "" {
		age, err := cmdutil.ParseAge("--not-reset-for", l.NotResetFor)
		if err != nil {
			return o, err
		}
		o.ResetBefore = now.Add(-age)
	}
	if l.ExpiringIn != "" {
		age, err := cmdutil.ParseAge("--expiring-within", l.ExpiringIn)
		if err != nil {
			return o, err
		}
		o.ExpiresBefore = now.Add(age)
	}
	if l.Limit < 0 {
		return o, cmdutil.UsageErrorf("invalid --limit %d: must be 0 (all) or more", l.Limit)
	}
	if l.PageSizeSet() && (l.PageSize < 1 || l.PageSize > contract.MaxPageSize) {
		return o, cmdutil.UsageErrorf("invalid --page-size %d: must be 1 to %d", l.PageSize, contract.MaxPageSize)
	}
	o.Limit, o.PageSize = l.Limit, l.PageSize
	return o, nil
}
