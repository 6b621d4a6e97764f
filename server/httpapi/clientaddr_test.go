package httpapi

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientOf(t *testing.T) {
	trusted := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.0.2.1/32"),
	}
	for _, tc := range []struct {
		name   string
		peer   string
		xff    []string
		trust  []netip.Prefix
		client string
		key    string
	}{
		{"no proxies configured: the header is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, nil, "203.0.113.9", "203.0.113.9"},
		{"untrusted peer: the header is ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, trusted, "203.0.113.9", "203.0.113.9"},
		{"trusted peer, one hop", "10.0.0.5:443", []string{"198.51.100.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"trusted peer without the header", "10.0.0.5:443", nil, trusted, "10.0.0.5", "10.0.0.5"},
		{"the right-most untrusted hop wins over a forged left one", "10.0.0.5:443", []string{"6.6.6.6, 198.51.100.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"trusted hops on the right are skipped", "10.0.0.5:443", []string{"198.51.100.1, 10.9.9.9, 192.0.2.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"lines are joined in order", "10.0.0.5:443", []string{"6.6.6.6", "198.51.100.1, 10.1.1.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"a later line is further right", "10.0.0.5:443", []string{"198.51.100.1", "6.6.6.6"}, trusted, "6.6.6.6", "6.6.6.6"},
		{"every hop trusted: the peer", "10.0.0.5:443", []string{"10.1.1.1, 192.0.2.1"}, trusted, "10.0.0.5", "10.0.0.5"},
		{"an unparsable hop: the peer", "10.0.0.5:443", []string{"198.51.100.1, unknown"}, trusted, "10.0.0.5", "10.0.0.5"},
		{"junk left of the client is ignored", "10.0.0.5:443", []string{"junk, 203.0.113.5"}, trusted, "203.0.113.5", "203.0.113.5"},
		{"an unparsable hop left of the client is ignored", "10.0.0.5:443", []string{"garbage, 198.51.100.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"junk on a line left of the client is ignored", "10.0.0.5:443", []string{"junk", "203.0.113.5, 10.1.1.1"}, trusted, "203.0.113.5", "203.0.113.5"},
		{"an unparsable hop right of the client: the proxy that wrote it", "10.0.0.5:443", []string{"198.51.100.1, junk, 10.1.1.1"}, trusted, "10.1.1.1", "10.1.1.1"},
		{"a hop with a port does not parse", "10.0.0.5:443", []string{"198.51.100.1:1234"}, trusted, "10.0.0.5", "10.0.0.5"},
		{"an empty hop does not parse: the proxy right of it", "10.0.0.5:443", []string{"198.51.100.1,,10.1.1.1"}, trusted, "10.1.1.1", "10.1.1.1"},
		{"an empty last hop: the peer", "10.0.0.5:443", []string{"198.51.100.1", ""}, trusted, "10.0.0.5", "10.0.0.5"},
		{"an empty line does not parse", "10.0.0.5:443", []string{""}, trusted, "10.0.0.5", "10.0.0.5"},
		{"a zoned hop does not parse", "10.0.0.5:443", []string{"fe80::1%eth0"}, trusted, "10.0.0.5", "10.0.0.5"},
		{"spaces around hops are fine", "10.0.0.5:443", []string{"  198.51.100.1 ,10.1.1.1  "}, trusted, "198.51.100.1", "198.51.100.1"},
		{"an IPv4-mapped hop is unmapped, then trusted", "10.0.0.5:443", []string{"198.51.100.1, ::ffff:10.1.1.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"an IPv4-mapped client is unmapped", "10.0.0.5:443", []string{"::ffff:198.51.100.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"an IPv4-mapped peer is unmapped, then trusted", "[::ffff:10.0.0.5]:443", []string{"198.51.100.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"an IPv4-mapped untrusted peer is unmapped", "[::ffff:203.0.113.9]:443", nil, nil, "203.0.113.9", "203.0.113.9"},
		{"IPv6 peer counted per /64", "[2001:db8:1:2:3:4:5:6]:443", nil, nil, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"IPv6 client behind an IPv6 proxy", "[fd00::1]:443", []string{"2001:db8:a:b::99"}, trusted, "2001:db8:a:b::99", "2001:db8:a:b::/64"},
		{"IPv6 client behind an IPv4 proxy", "10.0.0.5:443", []string{"2001:db8:a:b:c::1"}, trusted, "2001:db8:a:b:c::1", "2001:db8:a:b::/64"},
		{"an IPv6 peer's zone is dropped", "[fe80::1%lo]:443", nil, nil, "fe80::1", "fe80::/64"},
		{"a trusted bare address", "192.0.2.1:443", []string{"198.51.100.1"}, trusted, "198.51.100.1", "198.51.100.1"},
		{"next to the trusted bare address is not trusted", "192.0.2.2:443", []string{"198.51.100.1"}, trusted, "192.0.2.2", "192.0.2.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &handler{trusted: tc.trust}
			r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			client, key := h.client(r)
			if client != tc.client || key != tc.key {
				t.Fatalf("client %q key %q, want %q %q", client, key, tc.client, tc.key)
			}
		})
	}
}
