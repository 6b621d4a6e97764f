package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxAge bounds an age: a century, far short of what a time.Duration holds, so
// a huge age is refused rather than wrapped into a negative one (which would
// select every token).
const maxAge = 36500 * 24 * time.Hour

// parseAge reads an age in days, weeks or hours: 90d, 2w, 36h. Minutes and
// months are refused: in an audit "3m" is too easily read as either.
func parseAge(flag, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "h": time.Hour}
	if len(s) > 1 {
		if unit, ok := units[s[len(s)-1:]]; ok {
			if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n > 0 && n <= int(maxAge/unit) {
				return time.Duration(n) * unit, nil
			}
		}
	}
	return 0, usageErrorf("invalid %s %q: use a positive age in days, weeks or hours up to 36500d, such as 90d, 2w or 36h", flag, s)
}

// parsePastTime reads a moment in the past as a date or time (as parseTime
// does) or as an age counted back from now: --created-after 30d means
// 30 days ago.
func parsePastTime(flag, s string, now time.Time) (time.Time, error) {
	if t, err := parseTime(flag, s); err == nil {
		return t, nil
	}
	if age, err := parseAge(flag, s); err == nil {
		return now.Add(-age), nil
	}
	return time.Time{}, usageErrorf("invalid %s %q: use a date (2026-01-31), an RFC 3339 time (2026-01-31T12:00:00Z) or an age such as 30d, 2w or 36h (that long ago)", flag, s)
}

// parseTime reads a date (2006-01-02, as UTC midnight) or an RFC 3339 time.
func parseTime(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, usageErrorf("invalid %s %q: use a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)", flag, s)
}

// shortDate shows an API timestamp as its date, or "never" when empty.
func shortDate(ts string) string {
	if ts == "" {
		return "never"
	}
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return ts
}

// plural formats a count with its noun.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
