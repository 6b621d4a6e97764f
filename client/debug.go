package client

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// debugf writes one debug line. Lines from concurrent calls never mix.
func (c *Client) debugf(format string, args ...any) {
	if c.opts.Debug == nil {
		return
	}
	line := c.redact(fmt.Sprintf(format, args...))
	line = strings.ReplaceAll(line, "\n", " ")
	c.st.debugMu.Lock()
	defer c.st.debugMu.Unlock()
	fmt.Fprintln(c.opts.Debug, line)
}

// debugRequest logs a request line. Authorization is only named, never shown.
func (c *Client) debugRequest(r *request, u *url.URL, attempt int) {
	if c.opts.Debug == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--> %s %s", r.method, u.String())
	if attempt > 1 {
		fmt.Fprintf(&b, " (attempt %d)", attempt)
	}
	b.WriteString(" Authorization: Basic [redacted]")
	if r.ifMatch != "" {
		fmt.Fprintf(&b, " If-Match: %s", r.ifMatch)
	}
	if r.idemKey != "" {
		fmt.Fprintf(&b, " Idempotency-Key: %s", r.idemKey)
	}
	if r.body != nil {
		b.WriteString(" (body not shown)")
	}
	c.debugf("%s", b.String())
}

// debugHeaders are the answer headers worth seeing.
var debugHeaders = []string{"ETag", "Location", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Allow", "Cache-Control", "X-Request-Id"}

// debugResponse logs an answer line: status, duration and selected headers.
func (c *Client) debugResponse(r *request, u *url.URL, res *response, elapsed time.Duration) {
	if c.opts.Debug == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<-- %d %s %s %s in %s", res.status, http.StatusText(res.status), r.method, u.String(), elapsed)
	for _, h := range debugHeaders {
		if v := res.header.Get(h); v != "" {
			fmt.Fprintf(&b, " %s: %s", h, v)
		}
	}
	c.debugf("%s", b.String())
}
