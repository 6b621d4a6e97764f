package commands

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

func TestParseOverlap(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration // -1: an error
	}{
		{"0", 0},
		{"1s", time.Second},
		{"2s", 2 * time.Second},
		{"90s", 90 * time.Second},
		{"30m", 30 * time.Minute},
		{"1h", time.Hour},
		{"1h30m", 90 * time.Minute},
		{"2d", 48 * time.Hour},
		{"1w", 7 * 24 * time.Hour},
		{"7d", 7 * 24 * time.Hour},
		{"168h", 7 * 24 * time.Hour},
		{"8d", -1},
		{"169h", -1},
		{"2w", -1},
		{"0d", -1},
		{"1.5s", -1}, // whole seconds only
		{"500ms", -1},
		{"-1h", -1},
		{"0s", -1},
		{"", -1},
		{"soon", -1},
	} {
		got, err := parseOverlap("--overlap", c.in)
		switch {
		case c.want < 0 && err == nil:
			t.Errorf("%q: %s, want an error", c.in, got)
		case c.want >= 0 && (err != nil || got != c.want):
			t.Errorf("%q: %s %v, want %s", c.in, got, err, c.want)
		case err != nil && cmdutil.ExitCode(err) != cmdutil.ExitUsage:
			t.Errorf("%q: exit %d, want 2", c.in, cmdutil.ExitCode(err))
		}
	}
}

func TestExpiryFlags(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		args      []string
		want      string // RFC 3339, "never", "" (nothing asked) or "error"
		editing   bool
		usageOnly bool
	}{
		{nil, "", false, false},
		{[]string{"--expires-in", "90d"}, "2026-08-30T12:00:00Z", false, false},
		{[]string{"--expires-in", "36h"}, "2026-06-03T00:00:00Z", false, false},
		{[]string{"--expires-at", "2026-12-31"}, "2026-12-31T00:00:00Z", false, false},
		{[]string{"--expires-at", "2026-06-01"}, "error", false, false}, // midnight today has passed
		{[]string{"--expires-at", "2026-12-31T10:00:00Z"}, "error", false, false},
		{[]string{"--expires-in", "0d"}, "error", false, false},
		{[]string{"--expires-in", "90d", "--expires-at", "2026-12-31"}, "error", false, false},
		{[]string{"--no-expiry"}, "never", true, false},
		{[]string{"--no-expiry", "--expires-in", "1d"}, "error", true, false},
	} {
		var e expiryFlags
		cmd := &cobra.Command{Use: "x"}
		e.register(cmd, c.editing)
		if err := cmd.ParseFlags(c.args); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		at, clear, ok, err := e.resolve(now)
		got := ""
		switch {
		case err != nil:
			got = "error"
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("%v: exit %d, want 2", c.args, cmdutil.ExitCode(err))
			}
		case clear:
			got = "never"
		case ok:
			got = pipeline.WireTime(at)
		}
		if got != c.want {
			t.Errorf("%v: %s, want %s", c.args, got, c.want)
		}
	}
	// --no-expiry belongs to edit only.
	var e expiryFlags
	cmd := &cobra.Command{Use: "x"}
	e.register(cmd, false)
	if err := cmd.ParseFlags([]string{"--no-expiry"}); err == nil {
		t.Error("create took --no-expiry")
	}
}

func TestExpiresLabel(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *string { s := pipeline.WireTime(now.Add(d)); return &s }
	for _, c := range []struct {
		at   *string
		want string
	}{
		{nil, "never"},
		{at(0), "expired"},
		{at(-time.Hour), "expired"},
		{at(12*24*time.Hour + time.Hour), "in 12d"},
		{at(24 * time.Hour), "in 1d"},
		{at(5*time.Hour + 59*time.Minute), "in 5h"},
		{at(30 * time.Minute), "in 30m"},
		{at(30 * time.Second), "in 30s"},
	} {
		if got := expiresLabel(c.at, now); got != c.want {
			t.Errorf("%v: %q, want %q", cmdutil.Deref(c.at), got, c.want)
		}
	}
}

func TestRoundedExpiry(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 34, 56, 0, time.UTC)
	for _, c := range []struct {
		flag string
		want string
	}{
		{"30d", "2026-07-02T00:00:00Z"},
		{"2w", "2026-06-16T00:00:00Z"},
		{"36h", "2026-06-03T01:00:00Z"},
	} {
		age, err := cmdutil.ParseAge("--expires-in", c.flag)
		if err != nil {
			t.Fatal(err)
		}
		if got := pipeline.WireTime(roundedExpiry(now, c.flag, age)); got != c.want {
			t.Errorf("%s: %s, want %s", c.flag, got, c.want)
		}
		// The same day (or hour), the same expiry: a keyed re-run replays.
		later := now.Add(10 * time.Minute)
		if a, b := roundedExpiry(now, c.flag, age), roundedExpiry(later, c.flag, age); !a.Equal(b) {
			t.Errorf("%s: %s then %s ten minutes later", c.flag, a, b)
		}
	}
}

func TestRotationOutcome(t *testing.T) {
	ok := rotation{AccountSid: "IRa", Rotated: true, HandedOff: true, Verified: true, Status: "OK"}
	unproven := rotation{AccountSid: "IRb", Rotated: true, HandedOff: true, Status: "ERROR"}
	notHanded := rotation{AccountSid: "IRc", Rotated: true, Status: "ERROR"}
	notReset := rotation{AccountSid: "IRd", Status: "ERROR"}
	for _, c := range []struct {
		name string
		out  []rotation
		want int
	}{
		{"all rotated", []rotation{ok, ok}, cmdutil.ExitOK},
		{"a reset failed", []rotation{ok, notReset}, cmdutil.ExitPartial},
		{"a proof failed", []rotation{ok, unproven}, cmdutil.ExitSecretCmd},
		{"a hand-off failed", []rotation{notHanded}, cmdutil.ExitSecretCmd},
		{"11 wins over 10", []rotation{notReset, notHanded}, cmdutil.ExitSecretCmd},
	} {
		err := rotationOutcome(c.out, "key-1", nil)
		if got := cmdutil.ExitCode(err); got != c.want {
			t.Errorf("%s: exit %d, want %d (%v)", c.name, got, c.want, err)
		}
		var ee *cmdutil.ExitError
		if c.want == cmdutil.ExitSecretCmd && (!errors.As(err, &ee) || !strings.Contains(ee.Error(), "--idempotency-key key-1")) {
			t.Errorf("%s: %v does not name the key", c.name, err)
		}
	}
}

// TestResetCarriesItsBody: every reset of a run (alone, in bulk, a replay)
// sends the run's body; other actions send none.
func TestResetCarriesItsBody(t *testing.T) {
	r := &pipeline.Run{Reset: &client.ResetOptions{PreviousValidFor: 3600}}
	if w := r.WriteOptions(client.ActionReset, client.WriteOptions{}); w.Reset == nil || w.Reset.PreviousValidFor != 3600 {
		t.Errorf("a reset without its body: %+v", w)
	}
	if w := r.WriteOptions(client.ActionDisable, client.WriteOptions{}); w.Reset != nil {
		t.Errorf("a disable with a reset body: %+v", w)
	}
}
