package cmdutil

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxAge bounds an age: a century, far short of what a time.Duration holds, so
// a huge age is refused rather than wrapped into a negative one (which would
// select every token).
const MaxAge = 36500 * 24 * time.Hour

// ParseAge reads an age in days, weeks or hours: 90d, 2w, 36h. Minutes and
// months are refused: in an audit "3m" is too easily read as either.
func ParseAge(flag, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "h": time.Hour}
	if len(s) > 1 {
		if unit, ok := units[s[len(s)-1:]]; ok {
			if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n > 0 && n <= int(MaxAge/unit) {
				return time.Duration(n) * unit, nil
			}
		}
	}
	return 0, UsageErrorf("invalid %s %q: use a positive age in days, weeks or hours up to 36500d, such as 90d, 2w or 36h", flag, s)
}

// ParsePastTime reads a moment in the past as a date or time (as parseTime
// does) or as an age counted back from now: --created-after 30d means
// 30 days ago.
func ParsePastTime(flag, s string, now time.Time) (time.Time, error) {
	if t, err := ParseTime(flag, s); err == nil {
		return t, nil
	}
	if age, err := ParseAge(flag, s); err == nil {
		return now.Add(-age), nil
	}
	return time.Time{}, UsageErrorf("invalid %s %q: use a date (2026-01-31), an RFC 3339 time (2026-01-31T12:00:00Z) or an age such as 30d, 2w or 36h (that long ago)", flag, s)
}

// ParseTime reads a date (2006-01-02, as UTC midnight) or an RFC 3339 time.
func ParseTime(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, UsageErrorf("invalid %s %q: use a date (2026-01-31) or an RFC 3339 time (2026-01-31T12:00:00Z)", flag, s)
}

// ShortDate shows an API timestamp as its date, or "never" when empty.
func ShortDate(ts string) string {
	if ts == "" {
		return "never"
	}
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return ts
}

// Plural formats a count with its noun.
func Plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
