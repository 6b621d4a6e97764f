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

	"github.com/go-resty/resty/v2"
)

// Default bounds of one attempt, so that a server that takes a request and
// never answers cannot hold a command (a CI job) forever.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultHeaderTimeout   = 60 * time.Second
	DefaultBodyIdleTimeout = 30 * time.Second
	// DefaultRequestTimeout bounds an attempt in all, from sending to the
	// body's last byte: a server that trickles a byte now and then never
	// trips the idle bound.
	DefaultRequestTimeout = 5 * time.Minute
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
// without a byte ends it with a *StallError. It also ends an attempt that
// lasts more than total in all, answer body included, with a
// *RequestTimeoutError.
type idleBodyTransport struct {
	next  http.RoundTripper
	idle  time.Duration
	total time.Duration
}

func (t *idleBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	var expired atomic.Bool
	deadline := time.AfterFunc(t.total, func() {
		expired.Store(true)
		cancel()
	})
	res, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		deadline.Stop()
		cancel()
		if expired.Load() && req.Context().Err() == nil {
			return nil, &RequestTimeoutError{Total: t.total}
		}
		return nil, err
	}
	b := &idleBody{rc: res.Body, idle: t.idle, total: t.total, cancel: cancel, deadline: deadline, expired: &expired}
	b.timer = time.AfterFunc(t.idle, func() {
		b.stalled.Store(true)
		cancel()
	})
	res.Body = b
	return res, nil
}

// idleBody is an answer body that gives up after idle without a byte, or
// when its attempt's total time runs out.
type idleBody struct {
	rc       io.ReadCloser
	idle     time.Duration
	total    time.Duration
	timer    *time.Timer
	deadline *time.Timer
	cancel   context.CancelFunc
	stalled  atomic.Bool
	expired  *atomic.Bool

	// The body is read up to idleChunk bytes at a time and handed out from
	// buf: its reader asks for 512 bytes a call, and a timer reset and a
	// read through every layer below for each 512 bytes was a tenth of a
	// listing's CPU. A reader asking for a chunk or more is given the
	// body's bytes directly.
	buf      []byte
	from, to int
	err      error // the read that filled buf ended with it
	read     int   // bytes read so far
}

const idleChunk = 32 << 10

// maxAnswer is the largest answer body read: past it the attempt fails
// with resty.ErrResponseBodyTooLarge. The limit is kept here rather than
// by resty, whose reading under a limit grows its buffer 512 bytes at a
// time (five times a page's size allocated and copied).
const maxAnswer = 64 << 20

func (b *idleBody) Read(p []byte) (int, error) {
	if b.from == b.to && b.err == nil {
		if len(p) >= idleChunk {
			return b.fill(p)
		}
		if b.buf == nil {
			b.buf = make([]byte, idleChunk)
		}
		b.from = 0
		b.to, b.err = b.fill(b.buf)
	}
	n := copy(p, b.buf[b.from:b.to])
	b.from += n
	if b.from < b.to || len(p) == 0 {
		return n, nil
	}
	return n, b.err
}

// fill reads what the body has, up to len(dst), into dst.
func (b *idleBody) fill(dst []byte) (int, error) {
	n, err := b.rc.Read(dst)
	if b.expired.Load() {
		return n, &RequestTimeoutError{Total: b.total, began: true}
	}
	if b.stalled.Load() {
		return n, &StallError{Idle: b.idle}
	}
	if b.read += n; b.read > maxAnswer {
		return n, resty.ErrResponseBodyTooLarge
	}
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	b.deadline.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// RequestTimeoutError is an attempt that ran out of its total time: the
// server was too slow in all, whatever it sent meanwhile.
type RequestTimeoutError struct {
	Total time.Duration
	// began is set when the answer had begun (its headers came).
	began bool
}

func (e *RequestTimeoutError) Error() string {
	return fmt.Sprintf("the answer took longer than %s in all", e.Total)
}

// Timeout reports true.
func (e *RequestTimeoutError) Timeout() bool { return true }

// Temporary reports true, for net.Error.
func (e *RequestTimeoutError) Temporary() bool { return true }

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
	var rte *RequestTimeoutError
	if errors.As(err, &rte) {
		return !rte.began
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
