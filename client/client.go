// Package client is a typed client for the impact.com Token API: HTTP Basic
// authentication, impact.com's paging envelope, typed errors, retries that
// are safe to make, and debug output that never holds a secret.
package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the API's address, for example "https://api.impact.com"
	// or "http://127.0.0.1:8787". A path is kept as a prefix.
	BaseURL string
	// AccountSid and AuthToken are the credentials, sent as HTTP Basic auth.
	AccountSid string
	AuthToken  string
	// Brand is empty or a managed brand's AdvertiserId; when set, the
	// token calls go through the agency's passthrough root
	// /Agencies/{AccountSid}/Advertisers/{Brand}.
	Brand string
	// UserAgent is sent as User-Agent; empty sends "impactctl".
	UserAgent string
	// MaxRetries is how many times a failed request that is safe to repeat
	// is tried again; 0 means no retries.
	MaxRetries int
	// RetryWait is the first backoff; later ones double, with jitter.
	RetryWait time.Duration
	// RetryMaxWait caps every wait, Retry-After included. Zero caps at
	// RetryWait.
	RetryMaxWait time.Duration
	// ConnectTimeout bounds making a connection (TCP and TLS) in each
	// attempt; zero means DefaultConnectTimeout. It applies when Transport
	// is nil.
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for an answer's headers once a request
	// is sent; zero means DefaultHeaderTimeout. It applies when Transport
	// is nil.
	HeaderTimeout time.Duration
	// BodyIdleTimeout bounds the wait for the next byte of an answer's body;
	// zero means DefaultBodyIdleTimeout.
	BodyIdleTimeout time.Duration
	// RequestTimeout bounds each attempt in all, from sending the request
	// to the answer body's last byte; zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// WaitBudget, when set, bounds the time the client waits in all for
	// the rate budget to refill (Retry-After of a 429); past it a 429 is
	// returned rather than waited out. The clients of one command share it.
	WaitBudget *WaitBudget
	// Debug, when set, receives one line per request and per answer:
	// method, URL, status, duration and selected headers. It never holds
	// a body, the Authorization header or a secret.
	Debug io.Writer
	// Transport carries the requests; nil uses a copy of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Kind is "agency" or "brand" when it is already known (a stored
	// profile remembers it), which spares the request that finds it out;
	// "" finds out on the first call.
	Kind string
	// KindFound, when set, is told the kind a Client found out with its
	// request, so a caller can remember it for the next Client.
	KindFound func(kind string)
}

// Client talks to one Token API server with one token. It is safe for
// concurrent use.
type Client struct {
	opts   Options
	base   *url.URL
	prefix string // base path without trailing slash
	http   *resty.Client
	brand  string
	st     *state
}

// state is shared by a Client and the copies WithBrand makes.
type state struct {
	mu       sync.Mutex
	kind     string // "", kindAgency or kindBrand
	rate     RateLimit
	discover sync.Mutex
	debugMu  sync.Mutex
}

const (
	kindAgency = "agency"
	kindBrand  = "brand"
)

// New returns a Client. The caller has already checked the URL's scheme
// and host policy; New only refuses what it cannot use.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(o.BaseURL))
	if err != nil {
		return nil, fmt.Errorf("invalid API URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid API URL %q: want http(s)://host", o.BaseURL)
	}
	if u.User != nil {
		return nil, errors.New("invalid API URL: it must not carry user info")
	}
	if o.AccountSid == "" || o.AuthToken == "" {
		return nil, errors.New("client: account SID and auth token are both required")
	}
	switch o.Kind {
	case "", kindAgency, kindBrand:
	default:
		return nil, fmt.Errorf("client: unknown token kind %q: want agency or brand", o.Kind)
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.RetryMaxWait <= 0 {
		o.RetryMaxWait = o.RetryWait
	}
	if o.UserAgent == "" {
		o.UserAgent = "impactctl"
	}
	u.RawQuery, u.Fragment = "", ""
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.BodyIdleTimeout <= 0 {
		o.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	tr := o.Transport
	if tr == nil {
		tr = newTransport(o.ConnectTimeout, o.HeaderTimeout)
	}
	hc := &http.Client{
		Transport: &idleBodyTransport{next: tr, idle: o.BodyIdleTimeout, total: o.RequestTimeout},
		// A redirect could carry the credentials elsewhere; the answer is
		// reported as it is instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	rc := resty.NewWithClient(hc).
		SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetRetryCount(0).
		SetResponseBodyLimit(0). // maxAnswer, counted by idleBody
		SetBasicAuth(o.AccountSid, o.AuthToken).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", o.UserAgent)
	c := &Client{
		opts:   o,
		base:   u,
		prefix: strings.TrimRight(u.Path, "/"),
		http:   rc,
		brand:  o.Brand,
		st:     &state{kind: o.Kind},
	}
	return c, nil
}

// WithBrand returns a Client for a managed brand's tokens (id empty: the
// caller's own). It shares the connection, the discovered token kind and
// the rate-limit view with c.
func (c *Client) WithBrand(id string) *Client {
	cc := *c
	cc.brand = id
	return &cc
}

// WaitBudget returns the bound of the rate-budget waits the client shares
// with its command, nil when there is none.
func (c *Client) WaitBudget() *WaitBudget { return c.opts.WaitBudget }

// Brand returns the managed brand this Client acts on, or "".
func (c *Client) Brand() string { return c.brand }

// IsAgency reports whether the caller's token is an agency token, finding
// out with one request the first time.
func (c *Client) IsAgency(ctx context.Context) (bool, error) {
	k, _, err := c.kind(ctx)
	return k == kindAgency, err
}

// Kind is "agency" or "brand": where the token lives, found out with one
// request the first time unless Options.Kind said.
func (c *Client) Kind(ctx context.Context) (string, error) {
	k, _, err := c.kind(ctx)
	return k, err
}

// kind finds out, once per Client, whether the token lives under
// /Agencies or /Advertisers. When this call made the discovery request and
// the token is an agency token, it also returns that answer.
func (c *Client) kind(ctx context.Context) (string, *CurrentToken, error) {
	c.st.mu.Lock()
	k := c.st.kind
	c.st.mu.Unlock()
	if k != "" {
		return k, nil, nil
	}
	c.st.discover.Lock()
	defer c.st.discover.Unlock()
	c.st.mu.Lock()
	k = c.st.kind
	c.st.mu.Unlock()
	if k != "" {
		return k, nil, nil
	}
	resp, err := c.do(ctx, &request{method: http.MethodGet, path: "/Agencies/" + seg(c.opts.AccountSid) + "/ApiTokens/Current"})
	var cur *CurrentToken
	switch {
	case err == nil:
		k = kindAgency
		cur = new(CurrentToken)
		if err := decode(resp, cur); err != nil {
			return "", nil, err
		}
		cur.ETag = resp.header.Get("ETag")
	case isStatus(err, http.StatusNotFound):
		k = kindBrand
	default:
		return "", nil, err
	}
	c.st.mu.Lock()
	c.st.kind = k
	c.st.mu.Unlock()
	if c.opts.KindFound != nil {
		c.opts.KindFound(k)
	}
	return k, cur, nil
}

// ownRoot is the root of the caller's own token.
func (c *Client) ownRoot(ctx context.Context) (string, *CurrentToken, error) {
	k, cur, err := c.kind(ctx)
	if err != nil {
		return "", nil, err
	}
	if k == kindBrand {
		return "/Advertisers/" + seg(c.opts.AccountSid), nil, nil
	}
	return "/Agencies/" + seg(c.opts.AccountSid), cur, nil
}

// root is where the token calls go: the caller's own root, or the
// passthrough root of the managed brand.
func (c *Client) root(ctx context.Context) (string, error) {
	r, _, err := c.ownRoot(ctx)
	if err != nil {
		return "", err
	}
	if c.brand == "" {
		return r, nil
	}
	if !strings.HasPrefix(r, "/Agencies/") {
		return "", ErrBrandNeedsAgency
	}
	return r + "/Advertisers/" + seg(c.brand), nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// LastRateLimit returns the budget from the most recent answer that
// carried X-RateLimit-* headers; Reset is in seconds from now. It is the
// zero value until such an answer arrives.
func (c *Client) LastRateLimit() RateLimit {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	return c.st.rate
}

// NewIdempotencyKey returns a random key shaped like a UUID (v4): the key
// the client sends with every POST that was given none, and the one a
// command makes for a change the user gave no key for.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// discardLogger silences resty.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
