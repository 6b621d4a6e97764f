package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// eventTypes are the values of an event's Type, offered to --type.
var eventTypes = []string{"created", "duplicated", "edited", "scopes_changed", "developer_emails_changed", "reset",
	"overlap_ended", "disabled", "enabled", "deleted", "revealed", "recovered", "expiry_warning", "expired"}

// eventFlags are the filters `tokens history` and `audit list` share.
type eventFlags struct {
	Type  string
	Since string
	Until string
	Limit int
}

func (e *eventFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&e.Type, "type", "", "only events of this type (created, edited, scopes_changed, reset, deleted, revealed, …)")
	fl.StringVar(&e.Since, "since", "", "only events at or after a time: an age (7d, 36h) or a date or time")
	fl.StringVar(&e.Until, "until", "", "only events before a time: an age (7d, 36h) or a date or time")
	fl.IntVar(&e.Limit, "limit", 0, "at most N events, newest first (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("type", fixed(eventTypes...))
	_ = cmd.RegisterFlagCompletionFunc("since", fixed("1d", "7d", "30d", "90d"))
	_ = cmd.RegisterFlagCompletionFunc("until", fixed("1d", "7d", "30d", "90d"))
}

// options turns the flags into the client's listing options, refusing bad or
// empty values before any request: an unset variable must never widen a listing.
func (e *eventFlags) options(cmd *cobra.Command, now time.Time) (client.EventListOptions, error) {
	var o client.EventListOptions
	for _, name := range []string{"type", "since", "until"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed && strings.TrimSpace(fl.Value.String()) == "" {
			return o, cmdutil.UsageErrorf("--%s is empty: leave it out to not filter", name)
		}
	}
	if e.Type != "" {
		if !slices.Contains(eventTypes, e.Type) {
			return o, cmdutil.UsageErrorf("invalid --type %q: use one of %s", e.Type, strings.Join(eventTypes, ", "))
		}
		o.Type = e.Type
	}
	var err error
	if e.Since != "" {
		if o.Since, err = whenFlag("--since", e.Since, now); err != nil {
			return o, err
		}
	}
	if e.Until != "" {
		if o.Until, err = whenFlag("--until", e.Until, now); err != nil {
			return o, err
		}
	}
	if e.Limit < 0 {
		return o, cmdutil.UsageErrorf("invalid --limit %d: must be 0 (all) or more", e.Limit)
	}
	o.Limit = e.Limit
	return o, nil
}

// whenFlag reads an age before now (7d, 2w, 36h) or a date or RFC 3339 time.
func whenFlag(flag, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.ContainsAny(s[len(s)-1:], "dwh") && !strings.Contains(s, "-") {
		age, err := cmdutil.ParseAge(flag, s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-age), nil
	}
	t, err := cmdutil.ParseTime(flag, s)
	if err != nil {
		return time.Time{}, cmdutil.UsageErrorf("invalid %s %q: use an age (7d, 2w, 36h), a date (2026-01-31) or an RFC 3339 time", flag, s)
	}
	return t, nil
}

// tokenFlag checks, before any request, that a flag's value can name a
// token: an Account SID or a token name.
func tokenFlag(flag, v string) error {
	if pipeline.CheckTokenArg(v) != nil {
		return cmdutil.UsageErrorf("invalid %s %q: use a token's Account SID (IR and 32 letters or digits) or its name", flag, v)
	}
	return nil
}

// printEvents writes events: a table for people (date, type, token, actor, what
// changed, who was told), or the events as the API sent them with -o json|jsonl.
func printEvents(ctx context.Context, e cmdEnv, c *client.Client, o client.EventListOptions) error {
	p := e.Printer
	if !p.Table() {
		lw := p.List()
		for raw, err := range c.EventsJSON(ctx, o) {
			if err != nil {
				// Not closed: a list that fails part-way stays invalid JSON.
				_ = lw.Flush() // the items before it; the listing's error is the one to report
				return err
			}
			if err := lw.AddJSON(raw); err != nil {
				_ = lw.Flush()
				return err
			}
		}
		return lw.Close()
	}
	return printList(e, c.Events(ctx, o), eventColumns, eventRow)
}

// eventColumns: a narrow terminal loses who was told, then the actor, before it cuts
// anything; the token's SID is never cut.
var eventColumns = columns{Header: []string{"DATE", "TYPE", "TOKEN", "ACTOR", "CHANGES", "TOLD"},
	DropFirst: []string{"TOLD", "ACTOR"}}

func eventRow(e *client.Event) []string {
	return []string{e.Date, e.Type, e.AccountSid, actorLabel(e.Actor), changesLabel(e), toldLabel(e.Notifications)}
}

func actorLabel(a *client.EventActor) string {
	if a == nil {
		return "server"
	}
	return a.Name
}

// changesLabel says what changed in a line: "Name: "a" → "b"; Scopes: +x -y".
func changesLabel(e *client.Event) string {
	var parts []string
	for _, c := range e.Changes {
		if c.Added != nil || c.Removed != nil {
			var items []string
			for _, a := range c.Added {
				items = append(items, "+"+a)
			}
			for _, r := range c.Removed {
				items = append(items, "-"+r)
			}
			parts = append(parts, c.Field+": "+strings.Join(items, " "))
			continue
		}
		parts = append(parts, c.Field+": "+valueLabel(c.Before)+" → "+valueLabel(c.After))
	}
	if e.From != "" {
		parts = append(parts, "from "+e.From)
	}
	if e.ExpiresAt != "" && (e.Type == "expiry_warning" || e.Type == "expired") {
		parts = append(parts, "expires at "+e.ExpiresAt)
	}
	if e.Type == "overlap_ended" && len(e.PreviousAuthTokenExpiresAt) > 0 {
		var at *string
		if json.Unmarshal(e.PreviousAuthTokenExpiresAt, &at) == nil && at != nil {
			parts = append(parts, "previous Auth Token ran out at "+*at)
		}
	}
	if e.Type == "reset" {
		var until *string
		_ = json.Unmarshal(e.PreviousAuthTokenExpiresAt, &until)
		if until == nil {
			parts = append(parts, "previous Auth Token stopped at once")
		} else {
			parts = append(parts, "previous Auth Token works until "+*until)
		}
	}
	return strings.Join(parts, "; ")
}

// valueLabel shows a Before or After: text quoted, a user by name, none as "none".
func valueLabel(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == nil {
		return "none"
	}
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case map[string]any:
		if name, ok := x["Name"].(string); ok {
			return name
		}
	}
	return string(raw)
}

// toldLabel lists who was told: "a@x, b@y (OFF)" when all share a state.
func toldLabel(ns []client.EventNotification) string {
	if len(ns) == 0 {
		return ""
	}
	same := true
	for _, n := range ns {
		same = same && n.State == ns[0].State
	}
	var parts []string
	for _, n := range ns {
		if same {
			parts = append(parts, n.Email)
		} else {
			parts = append(parts, n.Email+" ("+n.State+")")
		}
	}
	s := strings.Join(parts, ", ")
	if same {
		s += " (" + ns[0].State + ")"
	}
	return s
}
