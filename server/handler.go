package server

import (
	"net/http"
	"net/netip"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
)

// Options configures the handler New builds: rate limits, trusted proxies, mail,
// the request log.
type Options = httpapi.Options

// New returns the Token API served from st: the agency, brand and passthrough
// roots with every endpoint, authentication, scopes, rate limits and request logging.
// Start serves it; tests use it over a store directly, with the env OpenStore or
// Open answered.
func New(st service.Store, env *service.Env, opts Options) http.Handler {
	return httpapi.New(st, env, opts)
}

// ParseTrustedProxy reads a --trusted-proxy value: a CIDR such as 10.0.0.0/8 or
// fd00::/8, or a single address (a /32 or /128).
func ParseTrustedProxy(s string) (netip.Prefix, error) { return httpapi.ParseTrustedProxy(s) }
