package server

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
)

func TestParseTrustedProxy(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8":     "10.0.0.0/8",
		"10.1.2.3/8":     "10.0.0.0/8",
		"192.0.2.7":      "192.0.2.7/32",
		"::ffff:1.2.3.4": "1.2.3.4/32",
		"2001:db8::/32":  "2001:db8::/32",
		"2001:db8::1":    "2001:db8::1/128",
		" 127.0.0.1/32 ": "127.0.0.1/32",
	} {
		p, err := httpapi.ParseTrustedProxy(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "proxy.example", "10.0.0.0/33", "::ffff:10.0.0.0/104", "fe80::1%eth0", "10.0.0.0/8/8"} {
		if p, err := httpapi.ParseTrustedProxy(in); err == nil {
			t.Errorf("ParseTrustedProxy(%q) = %v, want an error", in, p)
		}
	}
}

// TestAuthFailLimitBehindProxy: behind a trusted proxy, one client's failures lock
// out that client only; a client that is not a proxy cannot dodge its count with a
// forged X-Forwarded-For.
func TestAuthFailLimitBehindProxy(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) {
		o.AuthFailLimit = Rate{N: 2, Per: time.Minute}
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	admin := ts.cred("admin")
	bad := admin
	bad.AuthToken = strings.Repeat("a", 32)
	for range 2 {
		ts.get(bad, "/ApiTokens/Current", "X-Forwarded-For", "198.51.100.1").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	}
	ts.get(admin, "/ApiTokens/Current", "X-Forwarded-For", "198.51.100.1").wantCode(t, http.StatusTooManyRequests, contract.CodeAuthFailLimited)
	ts.get(admin, "/ApiTokens/Current", "X-Forwarded-For", "198.51.100.2").want(t, http.StatusOK)
	ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK) // the proxy itself
	// A junk entry left of the client hides neither it nor locks out the proxy.
	for range 2 {
		ts.get(bad, "/ApiTokens/Current", "X-Forwarded-For", "junk, 203.0.113.5").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	}
	ts.get(admin, "/ApiTokens/Current", "X-Forwarded-For", "203.0.113.5").wantCode(t, http.StatusTooManyRequests, contract.CodeAuthFailLimited)
	ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK)

	// Not a trusted peer: the header changes nothing.
	direct := newTestServer(t, func(o *httpapi.Options) { o.AuthFailLimit = Rate{N: 2, Per: time.Minute} })
	admin, bad = direct.cred("admin"), direct.cred("admin")
	bad.AuthToken = strings.Repeat("a", 32)
	for i := range 2 {
		direct.get(bad, "/ApiTokens/Current", "X-Forwarded-For", "198.51.100."+strconvI(i)).wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	}
	direct.get(admin, "/ApiTokens/Current", "X-Forwarded-For", "198.51.100.9").wantCode(t, http.StatusTooManyRequests, contract.CodeAuthFailLimited)
}
