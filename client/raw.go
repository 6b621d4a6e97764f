package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// RawRequest is one request to any endpoint under the caller's root, or
// under the managed brand's passthrough root when the Client has a brand:
// how a user reaches an endpoint no typed method covers.
type RawRequest struct {
	// Method is an HTTP method in upper case.
	Method string
	// Path is relative to the root ("ApiTokens/Current"), escaped as it
	// goes on the wire, without a query. It must pass ParseRelativePath.
	Path string
	// Query is sent as the request's query; nil sends none.
	Query url.Values
	// Body is sent as JSON when not nil.
	Body []byte
	// IdempotencyKey goes with a POST; empty makes one up, so every POST
	// carries one and may be retried.
	IdempotencyKey string
	// Header holds extra request headers. Those the client sets itself
	// (see ReservedHeader) are refused.
	Header http.Header
}

// RawResponse is the server's answer, whatever its status.
type RawResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// URL is where the answer came from: the base for its @nextpageuri.
	URL *url.URL
}

// Raw sends r and returns the answer. A status of 300 or more comes back as
// an *APIError together with the answer, so its body can be shown; a
// transport failure as a *NetworkError and no answer. It is retried as the
// typed calls are: GET, PUT, DELETE and keyed POSTs.
func (c *Client) Raw(ctx context.Context, r RawRequest) (*RawResponse, error) {
	if _, _, err := ParseRelativePath(r.Path); err != nil {
		return nil, err
	}
	for name := range r.Header {
		if ReservedHeader(name) {
			return nil, fmt.Errorf("the %s header is the client's own", http.CanonicalHeaderKey(name))
		}
	}
	root, err := c.root(ctx)
	if err != nil {
		return nil, err
	}
	req := &request{method: r.Method, path: root + "/" + strings.TrimPrefix(r.Path, "/"), query: r.Query, header: r.Header}
	return c.rawDo(ctx, req, r)
}

// RawNext follows a list answer's @nextpageuri with a GET, on the same
// scheme and host only (a *PagingError otherwise), with r's headers.
func (c *Client) RawNext(ctx context.Context, prev *RawResponse, link string, r RawRequest) (*RawResponse, error) {
	if prev == nil || prev.URL == nil {
		return nil, errors.New("client: no page to follow")
	}
	u, err := c.nextURL(prev.URL, link, nil)
	if err != nil {
		return nil, err
	}
	return c.rawDo(ctx, &request{method: http.MethodGet, u: u, header: r.Header}, RawRequest{Method: http.MethodGet})
}

// ReservedHeader reports whether a request header is one the client sets
// itself (credentials, framing, the idempotency key), which a raw
// request may not set or replace.
func ReservedHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization", "Cookie", "Host", "Content-Length", "Transfer-Encoding",
		"Connection", "Upgrade", "Te", "Trailer", "Keep-Alive", "Expect", "Idempotency-Key":
		return true
	}
	return false
}

func (c *Client) rawDo(ctx context.Context, req *request, r RawRequest) (*RawResponse, error) {
	if r.Body != nil {
		req.body = r.Body
	}
	if r.Method == http.MethodPost {
		req.idemKey = r.IdempotencyKey
		if req.idemKey == "" {
			req.idemKey = NewIdempotencyKey()
		}
	}
	res, err := c.do(ctx, req)
	if res == nil {
		return nil, err
	}
	u := req.u
	if u == nil {
		u = c.url(req)
	}
	return &RawResponse{StatusCode: res.status, Header: res.header, Body: res.body, URL: u}, err
}

// ParseRelativePath checks a path given relative to the token root and
// splits off its query. One leading "/" is allowed. Refused, so that the
// credentials never leave their root: a scheme or host ("https://…",
// "//host/…"), an empty segment ("a//b"), a dot-segment ("." or "..") in
// any encoding, however often percent-encoded, a segment holding ";" or NUL
// (raw or encoded: "..;" and "..%00" are ".." to some proxies), an encoded
// "/" or "\", a backslash, a fragment, spaces and control characters.
func ParseRelativePath(raw string) (string, url.Values, error) {
	refuse := func(why string) (string, url.Values, error) {
		return "", nil, fmt.Errorf("invalid path %q: %s", raw, why)
	}
	if raw == "" {
		return refuse("give an endpoint under the token's root, such as ApiTokens")
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return refuse("it holds a space or a control character; percent-encode it")
		}
	}
	switch {
	case strings.HasPrefix(raw, "//") || strings.Contains(raw, "://") || hasScheme(raw):
		return refuse("it names a scheme or host; give a path under the token's root, such as ApiTokens/Current")
	case strings.Contains(raw, "\\"):
		return refuse(`it holds a backslash`)
	case strings.Contains(raw, "#"):
		return refuse("it holds a fragment (#)")
	}
	path, rawQuery, _ := strings.Cut(strings.TrimPrefix(raw, "/"), "?")
	if path == "" {
		return refuse("give an endpoint under the token's root, such as ApiTokens")
	}
	if strings.Contains(path, "//") {
		return refuse("it holds an empty segment (//)")
	}
	for _, s := range strings.Split(path, "/") {
		if err := checkSegment(s); err != nil {
			return refuse(err.Error())
		}
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return refuse("its query does not parse: " + causeOf(err).Error())
	}
	if rawQuery == "" {
		q = nil
	}
	return path, q, nil
}

// checkSegment refuses a dot-segment, an encoded separator, and ";" or NUL
// (raw or encoded), decoding again and again, as a server or proxy that
// decodes twice would see it.
func checkSegment(s string) error {
	for range 4 {
		if s == "." || s == ".." {
			return errors.New(`it holds a "." or ".." segment, which could leave the token's root`)
		}
		if strings.ContainsAny(s, ";\x00") {
			// Proxies that take ";" as a parameter (Tomcat) or stop at NUL
			// read "..;" and "..%00" as "..".
			return errors.New(`a segment holds ";" or NUL, which some servers read as the end of the segment ("..;" as "..")`)
		}
		dec, err := url.PathUnescape(s)
		if err != nil {
			return errors.New("it holds an invalid percent-encoding")
		}
		if strings.ContainsAny(dec, "/\\") {
			return errors.New(`it holds an encoded "/" or "\"`)
		}
		if dec == s {
			return nil
		}
		s = dec
	}
	return errors.New("it is percent-encoded too many times")
}

// hasScheme reports whether s starts like "scheme:", as "https:x" or
// "mailto:x" do.
func hasScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		case i > 0 && r == ':':
			return true
		default:
			return false
		}
	}
	return false
}
