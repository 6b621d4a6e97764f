package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxy reads a --trusted-proxy value: a CIDR such as 10.0.0.0/8 or
// fd00::/8, or a single address (a /32 or /128).
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an IP address", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an IP address", s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped range: write it as IPv4", s)
	}
	return p.Masked(), nil
}

// clientOf finds the address a request came from, for the failed-authentication
// count and the log: the connection's peer, unless the peer is a trusted proxy. Then
// every X-Forwarded-For line is joined in order and the hops are walked from the
// right, skipping trusted ones: the first hop that is not trusted is the client, and
// whatever lies left of it is ignored (the client wrote it). A hop that does not
// parse, met before the client, makes the nearest trusted proxy (the hop right of it,
// or the peer) the client: that proxy wrote it. Every hop trusted: the peer.
// IPv4-mapped IPv6 addresses are unmapped first. Forwarding headers from anyone else
// are ignored.
func clientOf(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	peer, ok := peerAddr(remoteAddr)
	if !ok || !isTrusted(peer, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(forwardedFor, ","), ",")
	if len(forwardedFor) == 0 {
		hops = nil
	}
	nearest := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil || a.Zone() != "" {
			return nearest
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a
		}
		nearest = a
	}
	return peer
}

// peerAddr reads the connection's peer from http.Request.RemoteAddr.
func peerAddr(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is what failed authentications are counted against: an IPv4 address, or
// an IPv6 client's /64, since one host is given a whole /64 and could otherwise take
// a fresh address for every attempt.
func clientKey(a netip.Addr, remoteAddr string) string {
	switch {
	case !a.IsValid():
		return remoteAddr
	case a.Is6():
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// client resolves r's client address and counting key once per request.
func (h *handler) client(r *http.Request) (addr, key string) {
	a := clientOf(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), h.trusted)
	if !a.IsValid() {
		return r.RemoteAddr, r.RemoteAddr
	}
	return a.String(), clientKey(a, r.RemoteAddr)
}
