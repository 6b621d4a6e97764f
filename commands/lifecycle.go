package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// expiryFlags set a token's expiry: --expires-in D (from now) or
// --expires-at DATE (00:00:00Z that day), and, when editing, --no-expiry.
type expiryFlags struct {
	In   string
	At   string
	None bool
	set  func(name string) bool
}

func (e *expiryFlags) register(cmd *cobra.Command, editing bool) {
	fl := cmd.Flags()
	fl.StringVar(&e.In, "expires-in", "", "the token stops working after an age such as 90d, 2w or 36h from now")
	fl.StringVar(&e.At, "expires-at", "", "the token stops working on a date (2026-12-31 means 00:00:00Z that day)")
	if editing {
		fl.BoolVar(&e.None, "no-expiry", false, "the token never expires")
	}
	e.set = func(name string) bool { return fl.Changed(name) }
}

// given reports whether any expiry flag was given.
func (e *expiryFlags) given() bool {
	return e.set("expires-in") || e.set("expires-at") || e.set("no-expiry")
}

// resolve reads the flags at now: the new expiry, or never (clear), or
// nothing asked (ok false). The expiry must lie in the future.
func (e *expiryFlags) resolve(now time.Time) (at time.Time, clear, ok bool, err error) {
	n := 0
	for _, name := range []string{"expires-in", "expires-at", "no-expiry"} {
		if e.set(name) {
			n++
		}
	}
	switch {
	case n == 0:
		return time.Time{}, false, false, nil
	case n > 1:
		return time.Time{}, false, false, cmdutil.UsageErrorf("give one of --expires-in, --expires-at and --no-expiry")
	case e.set("no-expiry"):
		if !e.None {
			return time.Time{}, false, false, cmdutil.UsageErrorf("--no-expiry takes no value")
		}
		return time.Time{}, true, true, nil
	case e.set("expires-in"):
		age, err := cmdutil.ParseAge("--expires-in", e.In)
		if err != nil {
			return time.Time{}, false, false, err
		}
		return now.Add(age).UTC().Truncate(time.Second), false, true, nil
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(e.At))
	if err != nil {
		return time.Time{}, false, false, cmdutil.UsageErrorf("invalid --expires-at %q: use a date such as 2026-12-31 (it means 00:00:00Z that day); --expires-in takes an age", e.At)
	}
	if !t.After(now) {
		return time.Time{}, false, false, cmdutil.UsageErrorf("invalid --expires-at %s: %s is not in the future", e.At, pipeline.WireTime(t))
	}
	return t, false, true, nil
}

// maxOverlap is the longest overlap a reset may keep: 7 days.
const maxOverlap = 7 * 24 * time.Hour

// parseOverlap reads an overlap: 0 (none), or 1s to 7d written as 90s, 30m,
// 1h, 1d or a combination Go reads (1h30m).
func parseOverlap(flag, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil && len(s) > 1 && (s[len(s)-1] == 'd' || s[len(s)-1] == 'w') {
		var n int
		if n, err = strconv.Atoi(s[:len(s)-1]); err == nil {
			unit := 24 * time.Hour
			if s[len(s)-1] == 'w' {
				unit *= 7
			}
			if n > 0 && n <= int(maxOverlap/unit) {
				d = time.Duration(n) * unit
			} else {
				err = fmt.Errorf("out of range")
			}
		}
	}
	if err != nil || d < time.Second || d > maxOverlap || d%time.Second != 0 {
		return 0, cmdutil.UsageErrorf("invalid %s %q: use 0 (none) or whole seconds up to 7d, such as 90s, 30m, 1h or 2d", flag, s)
	}
	return d, nil
}

// expiresLabel sums up an expiry for a table: "never", "expired", "in 12d".
func expiresLabel(expiresAt *string, now time.Time) string {
	if expiresAt == nil || *expiresAt == "" {
		return "never"
	}
	t, err := time.Parse(time.RFC3339, *expiresAt)
	if err != nil {
		return *expiresAt
	}
	left := t.Sub(now)
	switch {
	case left <= 0:
		return "expired"
	case left >= 24*time.Hour:
		return fmt.Sprintf("in %dd", int(left/(24*time.Hour)))
	case left >= time.Hour:
		return fmt.Sprintf("in %dh", int(left/time.Hour))
	case left >= time.Minute:
		return fmt.Sprintf("in %dm", int(left/time.Minute))
	}
	return fmt.Sprintf("in %ds", int(left/time.Second))
}
