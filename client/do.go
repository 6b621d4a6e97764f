package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/impactcom/impactctl/contract"
)

// request is one API call, however many attempts it takes.
type request struct {
	method  string
	path    string     // absolute API path, without the base URL's prefix
	query   url.Values // may be nil
	u       *url.URL   // full URL; overrides path and query (next pages)
	body    any        // nil: no body; []byte is sent as is, anything else as JSON
	ifMatch string
	idemKey string
	// header holds a raw request's extra headers; checked by the caller.
	header http.Header
	// paced returns a 429 at once: the caller waits for the budget itself.
	paced bool
	// rate, when not nil, receives the budget the last answer carried.
	rate *RateLimit
}

// response is the final HTTP answer to a request.
type response struct {
	status int
	header http.Header
	body   []byte
	// ambiguous is set when an earlier attempt may have reached the server
	// and been applied although its answer was lost (a broken connection
	// after sending, or a 502/504 from a gateway).
	ambiguous bool
}

// url builds the full URL of a request.
func (c *Client) url(r *request) *url.URL {
	if r.u != nil {
		return r.u
	}
	u := *c.base
	u.Path = c.prefix + r.path
	u.RawPath = ""
	if strings.Contains(r.path, "%") {
		u.RawPath = c.prefix + r.path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		} else {
			u.RawPath = ""
		}
	}
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	return &u
}

// retryable reports whether a request may be sent again when its outcome
// is unknown or the server asked to try later.
func (r *request) retryable() bool {
	switch r.method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	case http.MethodPost:
		return r.idemKey != ""
	case http.MethodPatch:
		return r.ifMatch != ""
	}
	return false
}

// retryStatus reports whether an answer with this status is worth another try.
func (r *request) retryStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusInternalServerError:
		return r.method == http.MethodGet || r.method == http.MethodHead
	}
	return false
}

// do sends r, retrying what is safe to retry, and returns the answer. A
// status of 300 or more comes back as an *APIError together with the
// response; a transport failure as a *NetworkError; a cancelled or expired
// ctx as an error wrapping ctx.Err().
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	u := c.url(r)
	path := u.Path
	logURL := *u
	noQuery := logURL
	noQuery.RawQuery = ""
	body, err := encodeBody(r, path)
	if err != nil {
		return nil, err
	}
	if r.rate != nil {
		*r.rate = RateLimit{}
	}
	st := &attempts{max: 1, path: path, noQuery: noQuery.String()}
	if r.retryable() {
		st.max += c.opts.MaxRetries
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, path, err)
		}
		req := c.newAttempt(ctx, r, body)
		c.debugRequest(r, &logURL, attempt)
		start := time.Now()
		res, err := req.Execute(r.method, u.String())
		if err == nil && res != nil && res.RawResponse != nil {
			err = readAnswer(res)
		}
		elapsed := time.Since(start)

		var (
			last    *response
			lastErr error
			wait    time.Duration
			again   bool
		)
		if err != nil || res == nil || res.RawResponse == nil {
			wait, lastErr, again = c.afterFailure(ctx, r, err, elapsed, attempt, st)
		} else {
			last, wait, lastErr, again = c.afterAnswer(r, res, elapsed, attempt, st, &noQuery)
		}
		if !again {
			return last, lastErr
		}
		if stop, err := c.pause(ctx, r, st, last, wait); err != nil {
			return nil, err
		} else if stop {
			return last, lastErr
		}
	}
}

// attempts is what the retry rules remember of one request's attempts.
type attempts struct {
	max int
	// ambiguous is set once an attempt may have reached the server.
	ambiguous bool
	// silent counts the attempts that timed out before any answer began.
	silent        int
	path, noQuery string
}

// encodeBody is the request's body: the bytes given, or its JSON.
func encodeBody(r *request, path string) ([]byte, error) {
	if r.body == nil {
		return nil, nil
	}
	if b, ok := r.body.([]byte); ok {
		return b, nil
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", r.method, path, err)
	}
	return b, nil
}

// newAttempt builds one attempt of r with its headers and body.
func (c *Client) newAttempt(ctx context.Context, r *request, body []byte) *resty.Request {
	// The answer's body is read by readAnswer, not by resty.
	req := c.http.R().SetContext(ctx).SetDoNotParseResponse(true)
	for name, values := range r.header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	if body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	if r.ifMatch != "" {
		req.SetHeader("If-Match", r.ifMatch)
	}
	if r.idemKey != "" {
		req.SetHeader("Idempotency-Key", r.idemKey)
	}
	return req
}

// maxPrealloc is the largest announced body readAnswer sets aside room for up
// front: several list pages of the largest size.
const maxPrealloc = 8 << 20

// readAnswer reads an answer's whole body into res, in one buffer the size
// its Content-Length announces (resty's reading grows its buffer as it goes:
// about twice the body allocated, zeroed and copied, for a list page of
// half a megabyte), and closes it. The body's own reader bounds it (idleBody).
func readAnswer(res *resty.Response) error {
	rc := res.RawBody()
	defer rc.Close()
	n := res.RawResponse.ContentLength
	if n <= 0 || n > maxPrealloc {
		// Unannounced, or more than a page: read as it comes, so a header alone
		// (from a hostile or broken server) never has the client set aside
		// memory for a body that may not follow; idleBody still bounds it.
		b, err := io.ReadAll(rc)
		res.SetBody(b)
		return err
	}
	b := make([]byte, 0, n)
	var probe [512]byte // the end of a body that filled b, or more of it
	for {
		var (
			m   int
			err error
		)
		if len(b) < cap(b) {
			m, err = rc.Read(b[len(b):cap(b)])
			b = b[:len(b)+m]
		} else {
			// A body longer than announced grows b as it comes.
			m, err = rc.Read(probe[:])
			b = append(b, probe[:m]...)
		}
		if err != nil {
			res.SetBody(b)
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// afterFailure decides, after an attempt that got no answer, whether to
// try again and after how long; without again, err is what do returns.
func (c *Client) afterFailure(ctx context.Context, r *request, err error, elapsed time.Duration, attempt int, st *attempts) (wait time.Duration, lastErr error, again bool) {
	if ctx.Err() != nil {
		c.debugf("<-- %s %s canceled after %s", r.method, st.noQuery, round(elapsed))
		return 0, fmt.Errorf("%s %s: %w", r.method, st.path, ctx.Err()), false
	}
	if err == nil {
		err = errors.New("no answer")
	}
	c.debugf("<-- %s %s failed after %s: %s", r.method, st.noQuery, round(elapsed), c.redact(causeOf(err).Error()))
	lastErr = &NetworkError{Method: r.method, Path: st.path, URL: st.noQuery, Err: err}
	if mayHaveArrived(err) {
		st.ambiguous = true
	}
	if neverBegan(err) {
		st.silent++
	}
	if attempt >= st.max || !retryableNetErr(err) || st.silent > 1 {
		return 0, lastErr, false
	}
	return c.backoff(attempt), lastErr, true
}

// afterAnswer reads an attempt's answer and decides whether to try again
// and after how long; without again, last and lastErr are what do returns.
func (c *Client) afterAnswer(r *request, res *resty.Response, elapsed time.Duration, attempt int, st *attempts, noQuery *url.URL) (last *response, wait time.Duration, lastErr error, again bool) {
	last = &response{status: res.StatusCode(), header: res.Header(), body: res.Body()}
	rl := c.noteRateLimit(last.header)
	if r.rate != nil {
		*r.rate = rl
	}
	c.debugResponse(r, noQuery, last, round(elapsed))
	if last.status < 300 {
		last.ambiguous = st.ambiguous
		return last, 0, nil, false
	}
	apiErr := c.apiError(r.method, st.path, last)
	if last.status == http.StatusBadGateway || last.status == http.StatusGatewayTimeout {
		st.ambiguous = true
	}
	last.ambiguous = st.ambiguous
	// A keyed POST whose earlier attempt may still be running on the
	// server can meet 409 until that attempt finishes and its answer
	// is stored; another try then gets that answer.
	inFlight := st.ambiguous && r.idemKey != "" && last.status == http.StatusConflict
	if attempt >= st.max || !(r.retryStatus(last.status) || inFlight) {
		return last, 0, apiErr, false
	}
	if r.paced && last.status == http.StatusTooManyRequests {
		return last, 0, apiErr, false
	}
	wait = c.backoff(attempt)
	if apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > c.opts.RetryMaxWait {
			// The budget refills later than we would wait: trying
			// again sooner only spends requests on more 429s.
			return last, 0, apiErr, false
		}
		wait = apiErr.RetryAfter
	}
	return last, wait, apiErr, true
}

// pause waits before the next attempt. stop says to return the last
// answer instead: waiting would outlive the context's deadline, or the
// command already waited its fill of refills; err is set when the context
// ended during the wait.
func (c *Client) pause(ctx context.Context, r *request, st *attempts, last *response, wait time.Duration) (stop bool, err error) {
	wait = min(wait, c.opts.RetryMaxWait)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		// Waiting would outlive the budget: report what happened
		// rather than a timeout.
		return true, nil
	}
	if last != nil && last.status == http.StatusTooManyRequests && !c.opts.WaitBudget.Take(wait) {
		// The command already waited its fill of refills.
		return true, nil
	}
	if wait > 0 {
		c.debugf("... retrying %s %s in %s", r.method, st.noQuery, round(wait))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false, fmt.Errorf("%s %s: %w", r.method, st.path, ctx.Err())
		}
	}
	return false, nil
}

// backoff is the wait before retry number attempt (1-based): RetryWait
// doubled per attempt, with jitter in [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.RetryWait
	if d <= 0 {
		return 0
	}
	for i := 1; i < attempt && d < c.opts.RetryMaxWait; i++ {
		d *= 2
	}
	d = min(d, c.opts.RetryMaxWait)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// causeOf strips the *url.Error around a transport error; its text repeats
// the URL.
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryableNetErr reports whether a transport error may go away on retry.
// Certificate and protocol errors will not.
func retryableNetErr(err error) bool {
	var (
		unknownAuth  x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		certInvalid  x509.CertificateInvalidError
		verifyErr    *tls.CertificateVerificationError
		recordHeader tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certInvalid),
		errors.As(err, &verifyErr), errors.As(err, &recordHeader):
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return false
	}
	return true
}

// mayHaveArrived reports whether a failed attempt may have reached the
// server. A connection that was never made cannot have.
func mayHaveArrived(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	return true
}

// apiError turns a non-success answer into an *APIError.
func (c *Client) apiError(method, path string, res *response) *APIError {
	e := &APIError{StatusCode: res.status, Method: method, Path: path}
	var body struct {
		Code    string
		Scope   string
		Message string
		Errors  []FieldError
	}
	if json.Unmarshal(res.body, &body) == nil {
		e.Code = contract.ErrorCode(c.redact(body.Code))
		e.Scope = c.redact(body.Scope)
		e.Message = c.redact(body.Message)
		for _, fe := range body.Errors {
			e.Errors = append(e.Errors, FieldError{Field: c.redact(fe.Field), Message: c.redact(fe.Message)})
		}
	}
	e.RetryAfter = retryAfter(res.header.Get("Retry-After"))
	if id := res.header.Get("X-Request-Id"); validRequestID(id) {
		e.RequestID = c.redact(id)
	}
	return e
}

// validRequestID reports whether a server's X-Request-Id is fit to show: 1
// to 100 letters, digits, '-', '_' or '.'.
func validRequestID(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// redact removes the caller's secret from text that came from elsewhere.
func (c *Client) redact(s string) string {
	if c.opts.AuthToken == "" || !strings.Contains(s, c.opts.AuthToken) {
		return s
	}
	return strings.ReplaceAll(s, c.opts.AuthToken, "[redacted]")
}

// noteRateLimit records the X-RateLimit-* headers of an answer and returns
// them, the zero RateLimit when there were none.
func (c *Client) noteRateLimit(h http.Header) RateLimit {
	lim, rem, rst := h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset")
	if lim == "" && rem == "" && rst == "" {
		return RateLimit{}
	}
	rl := RateLimit{At: time.Now()}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(lim))
	rl.Remaining, _ = strconv.Atoi(strings.TrimSpace(rem))
	if f, err := strconv.ParseFloat(strings.TrimSpace(rst), 64); err == nil {
		n := int64(f)
		if n > 1e9 {
			n -= time.Now().Unix()
		}
		rl.Reset = int(max(n, 0))
	}
	c.st.mu.Lock()
	c.st.rate = rl
	c.st.mu.Unlock()
	return rl
}

// decode reads a JSON answer into v.
func decode(res *response, v any) error {
	if err := json.Unmarshal(res.body, v); err != nil {
		return fmt.Errorf("reading the server's answer: %w", err)
	}
	return nil
}

// isStatus reports whether err is an *APIError with the given status.
func isStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == status
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
