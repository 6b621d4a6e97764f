package commands

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

func TestEventCommandFlags(t *testing.T) {
	const sid = "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	runFlagCases(t, "audit list", newAuditListCmd, []flagCase[AuditListOptions]{
		{argv: "--sid " + sid + " --actor " + sid + " --type reset --since 7d --until 2026-06-01 --limit 5",
			check: func(t *testing.T, o *AuditListOptions) {
				eo, err := o.options()
				if err != nil {
					t.Fatal(err)
				}
				if o.Sid != sid || o.Actor != sid || !eo.sidSet || !eo.actorSet || eo.Type != "reset" || eo.Limit != 5 ||
					!eo.Until.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) || eo.Since.IsZero() {
					t.Errorf("%+v %+v", o, eo)
				}
			}},
		{argv: "", check: func(t *testing.T, o *AuditListOptions) {
			eo, err := o.options()
			if err != nil || eo.sidSet || eo.actorSet || eo.Type != "" || !eo.Since.IsZero() {
				t.Errorf("%+v %v", eo, err)
			}
		}},
		{argv: "extra", wantErr: "no arguments"},
	})
	for _, argv := range []string{"--type ''", "--type renamed", "--since ''", "--since soon", "--until 3mo", "--limit -1", "--sid ''"} {
		o, err := parseFlags(t, newAuditListCmd, argv)
		if err == nil {
			_, err = o.options()
		}
		if err == nil || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
			t.Errorf("%s: err %v, want a usage error", argv, err)
		}
	}
	runFlagCases(t, "tokens history", newTokensHistoryCmd, []flagCase[TokensHistoryOptions]{
		{argv: sid + " --type revealed", check: func(t *testing.T, o *TokensHistoryOptions) {
			eo, err := o.options()
			if o.SID != sid || err != nil || eo.Type != "revealed" {
				t.Errorf("%+v %+v %v", o, eo, err)
			}
		}},
		{argv: "", wantErr: "one token: its Account SID or name"},
	})
}

func TestEventLabels(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	e := &client.Event{Type: "edited", Changes: []client.EventChange{
		{Field: "Name", Before: raw(`"a"`), After: raw(`"b"`)},
		{Field: "PrimaryContact", Before: raw(`null`), After: raw(`{"Id":"U1","Name":"Ada Byron","Email":"ada@example.com"}`)},
		{Field: "ApiVersion", Before: raw(`2`), After: raw(`3`)},
		{Field: "Scopes", Added: []string{"x"}, Removed: []string{"y", "z"}},
	}}
	if got, want := changesLabel(e), `Name: "a" → "b"; PrimaryContact: none → Ada Byron; ApiVersion: 2 → 3; Scopes: +x -y -z`; got != want {
		t.Errorf("changesLabel = %q\nwant %q", got, want)
	}
	reset := &client.Event{Type: "reset", PreviousAuthTokenExpiresAt: raw(`null`)}
	if got := changesLabel(reset); got != "previous Auth Token stopped at once" {
		t.Errorf("reset: %q", got)
	}
	warn := &client.Event{Type: "expiry_warning", ExpiresAt: "2026-12-31T00:00:00Z"}
	if got := changesLabel(warn); got != "expires at 2026-12-31T00:00:00Z" {
		t.Errorf("expiry_warning: %q", got)
	}
	ran := &client.Event{Type: "overlap_ended", PreviousAuthTokenExpiresAt: raw(`"2026-06-01T13:00:00Z"`)}
	if got := changesLabel(ran); got != "previous Auth Token ran out at 2026-06-01T13:00:00Z" {
		t.Errorf("overlap_ended: %q", got)
	}
	dup := &client.Event{Type: "duplicated", From: "IRx"}
	if got := changesLabel(dup); got != "from IRx" {
		t.Errorf("duplicated: %q", got)
	}
	same := []client.EventNotification{{Email: "a@x.example", State: "OFF"}, {Email: "b@x.example", State: "OFF"}}
	if got := toldLabel(same); got != "a@x.example, b@x.example (OFF)" {
		t.Errorf("toldLabel = %q", got)
	}
	mixed := []client.EventNotification{{Email: "a@x.example", State: "SENT"}, {Email: "b@x.example", State: "FAILED"}}
	if got := toldLabel(mixed); got != "a@x.example (SENT), b@x.example (FAILED)" {
		t.Errorf("toldLabel = %q", got)
	}
	if actorLabel(nil) != "server" {
		t.Error("a null actor is the server")
	}
	now := time.Date(2026, 6, 8, 12, 0, 0, 0, time.UTC)
	if got, err := whenFlag("--since", "7d", now); err != nil || !got.Equal(now.Add(-7*24*time.Hour)) {
		t.Errorf("7d: %v %v", got, err)
	}
	if got, err := whenFlag("--since", "2026-06-01T10:00:00Z", now); err != nil || got.Hour() != 10 {
		t.Errorf("a time: %v %v", got, err)
	}
}
