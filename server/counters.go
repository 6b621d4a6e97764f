package server

import (
	"github.com/impactcom/impactctl/server/ratelimit"
)

// Rate is a request budget per window; N == 0 means unlimited.
type Rate = ratelimit.Rate

// ParseRate reads "N", "N/h", "N/m", "N/s" or "N/DURATION" with any positive Go
// duration ("100/10s", "5/1m30s"). A bare number is a budget per hour; "0" turns
// the limit off.
func ParseRate(s string) (Rate, error) { return ratelimit.ParseRate(s) }
