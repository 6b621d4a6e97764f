package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Default bounds of one attempt, so that a server that takes a request and
// never answers cannot hold a command (a CI job) forever.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultHeaderTimeout   = 60 * time.Second
	DefaultBodyIdleTimeout = 30 * time.Second
)

// newTransport is http.DefaultTransport with the attempt's bounds: connect
// (TCP and TLS) within connect, answer headers within header.
func newTransport(connect, header time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = connect
	t.ResponseHeaderTimeout = header
	return t
}

// idleBodyTransport ends an attempt whose answer body stops arriving: idle
// without a byte ends it with a *StallError.
type idleBodyTransport struct {
	next http.RoundTripper
	idle time.Duration
}

func (t *idleBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	res, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	b := &idleBody{rc: res.Body, idle: t.idle, cancel: cancel}
	b.timer = time.AfterFunc(t.idle, func() {
		b.stalled.Store(true)
		cancel()
	})
	res.Body = b
	return res, nil
}

// idleBody is an answer body that gives up after idle without a byte.
type idleBody struct {
	rc      io.ReadCloser
	idle    time.Duration
	timer   *time.Timer
	cancel  context.CancelFunc
	stalled atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.stalled.Load() {
		return n, &StallError{Idle: b.idle}
	}
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// StallError is an answer whose body stopped arriving: no byte for Idle.
type StallError struct {
	Idle time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("the answer stalled: no data for %s", e.Idle)
}

// Timeout reports true: a stall is a kind of timeout.
func (e *StallError) Timeout() bool { return true }

// Temporary reports true, for net.Error.
func (e *StallError) Temporary() bool { return true }

// neverBegan reports whether a failed attempt timed out before any answer
// began: the connection or the answer's headers never came. Such an
// attempt is retried once only, so a silent server costs two attempts'
// bounds, not four.
func neverBegan(err error) bool {
	var se *StallError
	if errors.As(err, &se) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
