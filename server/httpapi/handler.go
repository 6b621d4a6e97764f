// Package httpapi is the Token API over HTTP: routes under the three roots, the
// authentication order, body checks, wire shapes, error answers, the client address
// behind trusted proxies, the handlers (they decode, call the token service and
// encode; they hold no rule), the request log and X-Request-Id.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
)

// MaxBody is the largest request body accepted; more is 413.
const MaxBody = 1 << 20

// Options tunes the handler New builds.
type Options struct {
	// RateLimit is each token's request budget; N == 0 turns limits off.
	RateLimit ratelimit.Rate
	// AuthFailLimit is each client address's budget of failed authentications; past it
	// every request from that address gets 429 until the window ends. N == 0 turns it off.
	AuthFailLimit ratelimit.Rate
	// TrustedProxies are the proxies whose X-Forwarded-For names the client; a
	// request from anywhere else is counted against its TCP peer.
	TrustedProxies []netip.Prefix
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Mail says the server sends updates by mail: the notifications events write are
	// PENDING, for the mail sender to take; without it they are OFF.
	Mail bool
}

// handler is the Token API over the token service: it decodes, calls, encodes.
type handler struct {
	svc      service.TokenService
	log      *slog.Logger
	rate     ratelimit.Counter
	authFail ratelimit.Counter
	trusted  []netip.Prefix
	mux      *http.ServeMux
}

// New returns the Token API served from store, with env's keys, random source and
// clock: the agency, brand and passthrough roots with every endpoint,
// authentication, scopes, rate limits and request logging.
func New(st service.Store, env *service.Env, opts Options) http.Handler {
	svc := service.NewRules(st, env)
	svc.Mail = opts.Mail
	h := &handler{
		svc:      svc,
		log:      opts.Logger,
		rate:     newCounter(st, env, ratelimit.ScopeTokenBudget, opts.RateLimit),
		authFail: newCounter(st, env, ratelimit.ScopeAuthFailures, opts.AuthFailLimit),
		trusted:  slices.Clone(opts.TrustedProxies),
		mux:      http.NewServeMux(),
	}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h.routes()
	if opts.Mail {
		h.unsubscribeRoutes(st, env)
	}
	return h
}

type infoKey struct{}

// requestInfo collects what the request log line reports beyond the status.
type requestInfo struct {
	requestID string // X-Request-Id: made here, never taken from the client
	caller    string
	client    string // the client's address, for the log
	clientKey string // what failed authentications count against
}

func infoOf(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusWriter remembers the status written, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP applies what every request shares (the client-address block, the body
// limit (checked after authentication), impact.com-shaped 404 and 405, panics as 500, the log line) and dispatches.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{requestID: newRequestID()}
	w.Header().Set("X-Request-Id", info.requestID)
	info.client, info.clientKey = h.client(r)
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			if sw.status == 0 {
				writeError(sw, service.InternalError())
			}
		}
		// Attributes, not alternating keys and values: nothing to box or pair up
		// on a line every request writes.
		h.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("caller", info.caller),
			slog.String("remote", info.client),
			slog.String("request_id", info.requestID))
	}()

	if h.authFail.Enabled() {
		b, blocked, err := h.authFail.Exhausted(r.Context(), info.clientKey)
		if err != nil {
			h.log.Error("read failed authentications", "error", err)
			writeError(sw, service.InternalError())
			return
		}
		if blocked {
			writeError(sw, service.AuthFailLimited(ratelimit.Seconds(b.Reset)))
			return
		}
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(sw, r.Body, MaxBody)
	}
	next, pattern := h.mux.Handler(r)
	if pattern == "" {
		// ServeMux's own 404 and 405 are plain text; answer them in the API's shape.
		c := &captureWriter{header: http.Header{}}
		next.ServeHTTP(c, r)
		switch c.status {
		case http.StatusMethodNotAllowed:
			writeError(sw, service.MethodNotAllowed(r.Method, c.header.Get("Allow")))
		case http.StatusNotFound, 0:
			writeError(sw, service.NotFound())
		default:
			for k, v := range c.header {
				sw.Header()[k] = v
			}
			sw.WriteHeader(c.status)
		}
		return
	}
	h.mux.ServeHTTP(sw, r) // sets the path values Handler does not
}

// newRequestID makes a request's id: "RQ" and 128 random bits in hexadecimal. The
// prefix keeps it from ever looking like an Auth Token (32 characters), so no secret
// scanner or masking mistakes one for the other.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "RQ" + hex.EncodeToString(b[:])
}

// captureWriter records what ServeMux's fallback handlers would answer.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}

func setRateHeaders(w http.ResponseWriter, b ratelimit.Budget) {
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(b.Limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(b.Remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.Itoa(ratelimit.Seconds(b.Reset)))
}
