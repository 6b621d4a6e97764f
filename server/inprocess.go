package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// InProcessURL is the URL of a server started with Config.InProcess: a name that
// never resolves, so nothing outside the process can mistake it for a server.
const InProcessURL = "http://in-process.invalid"

// inProcessPeer is the client address an in-process request comes from, as
// http.Request.RemoteAddr: the loopback, as for a client on the same machine.
const inProcessPeer = "127.0.0.1:0"

// ErrServerClosed is what an in-process request gets once Shutdown has begun,
// as a client gets a refused connection from a server that stopped listening.
var ErrServerClosed = errors.New("the in-process server is shut down")

// inProcessChunk is how much of an answer's body is held before it is passed on,
// as net/http's server buffers a response: an answer that fits is passed on whole,
// with its Content-Length, when the handler returns.
const inProcessChunk = 4 << 10

// Transport returns an http.RoundTripper that serves each request by calling the
// server's handler in this process: no listener, no connection. The request and
// its answer are what the handler would see and send over HTTP/1.1: the headers
// (X-Request-Id and the rest), the status, a body passed on as it is written (in
// chunks of 4 KiB, as net/http buffers it), Content-Length when the answer was
// complete before its first chunk, Date, and a Content-Type sniffed when the
// handler set none. The handler's context ends when the request's does, when the
// answer's body is closed before its end, and when the handler returns. A request
// made once Shutdown has begun fails with ErrServerClosed; Shutdown waits for the
// requests in flight.
func (i *Instance) Transport() http.RoundTripper { return inProcessTransport{i} }

type inProcessTransport struct{ i *Instance }

// begin counts a request in, unless Shutdown has begun.
func (i *Instance) begin() bool {
	i.flightMu.Lock()
	defer i.flightMu.Unlock()
	if i.closing {
		return false
	}
	i.flight.Add(1)
	return true
}

// closeFlights refuses new in-process requests and waits for those in flight,
// until ctx ends; then it ends their contexts and waits for them to return.
func (i *Instance) closeFlights(ctx context.Context) error {
	i.flightMu.Lock()
	i.closing = true
	i.flightMu.Unlock()
	done := make(chan struct{})
	go func() {
		i.flight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		i.abort()
		<-done
		return ctx.Err()
	}
}

func (t inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	i := t.i
	if err := req.Context().Err(); err != nil {
		closeRequestBody(req)
		return nil, context.Cause(req.Context())
	}
	if !i.begin() {
		closeRequestBody(req)
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), ErrServerClosed)
	}
	h := i.waitHandler()
	ctx, cancel := context.WithCancel(req.Context())
	pr, pw := io.Pipe()
	// A Shutdown out of time ends the handler and its writes.
	stopAbort := context.AfterFunc(i.aborted, func() {
		cancel()
		pr.CloseWithError(ErrServerClosed)
	})
	w := &inProcessWriter{
		req:    req,
		header: http.Header{},
		pw:     pw,
		answer: make(chan *http.Response, 1),
		head:   req.Method == http.MethodHead,
	}
	w.buf = bufio.NewWriterSize(chunkWriter{w}, inProcessChunk)
	body := &inProcessBody{pr: pr, cancel: cancel}
	w.body = body
	// The answer's body fails with the request's error once it is cancelled, as
	// net/http's does.
	stopCancel := context.AfterFunc(req.Context(), func() {
		pw.CloseWithError(context.Cause(req.Context()))
	})
	go func() {
		defer i.flight.Done()
		defer closeRequestBody(req)
		defer stopAbort()
		defer stopCancel()
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				// As net/http does with a panicking handler: the connection is
				// dropped, and the client sees an answer that ends early or none.
				w.fail(io.ErrUnexpectedEOF)
				if p != http.ErrAbortHandler && i.logger != nil {
					i.logger.Error("panic serving in process", "method", req.Method, "path", req.URL.Path, "panic", p)
				}
				return
			}
			w.finish()
		}()
		h.ServeHTTP(w, serverRequest(ctx, req))
	}()
	select {
	case res := <-w.answer:
		if res == nil {
			pr.Close()
			return nil, fmt.Errorf("%s %s: the in-process server ended the answer before its headers: %w", req.Method, req.URL.Redacted(), io.ErrUnexpectedEOF)
		}
		return res, nil
	case <-req.Context().Done():
		pr.CloseWithError(context.Cause(req.Context()))
		cancel()
		return nil, context.Cause(req.Context())
	}
}

// serverRequest is req as a server's handler receives it.
func serverRequest(ctx context.Context, req *http.Request) *http.Request {
	r := req.Clone(ctx)
	r.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	r.RequestURI = req.URL.RequestURI()
	r.Host = req.Host
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.RemoteAddr = inProcessPeer
	r.Close = false
	r.GetBody = nil
	if req.Body == nil || req.Body == http.NoBody {
		r.Body, r.ContentLength = http.NoBody, 0
	} else {
		// The body is the client's: its reads are the handler's. net/http's server
		// closes it after the handler; so does the transport, for the client.
		r.Body = io.NopCloser(req.Body)
		if req.ContentLength == 0 {
			r.ContentLength = -1
		}
	}
	if r.ContentLength > 0 && r.Header.Get("Content-Length") == "" {
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "Go-http-client/1.1")
	}
	return r
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// inProcessWriter is the handler's http.ResponseWriter: it holds the answer until
// the first chunk of its body is full or the handler returns, then hands the
// client its headers and passes the body on through a pipe.
type inProcessWriter struct {
	req    *http.Request
	header http.Header
	// sentHeader is header as it was at WriteHeader: what the client gets.
	sentHeader http.Header
	status     int // as written; 0 before WriteHeader or Write
	head       bool
	buf        *bufio.Writer
	pw         *io.PipeWriter
	body       *inProcessBody
	answer     chan *http.Response
	sent       bool // answer handed over
	// sniff is the start of the body, for a Content-Type the handler did not set.
	sniff   []byte
	written int64
	err     error // the pipe's, once it failed
}

func (w *inProcessWriter) Header() http.Header { return w.header }

func (w *inProcessWriter) WriteHeader(code int) {
	if w.status != 0 || w.sent {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 {
		return // informational: nothing an in-process client waits for
	}
	w.status = code
	// The headers are the ones set by now: later changes are not sent.
	w.sentHeader = w.header.Clone()
}

func (w *inProcessWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.head {
		w.written += int64(len(p))
		return len(p), nil
	}
	if len(w.sniff) < 512 {
		w.sniff = append(w.sniff, p[:min(len(p), 512-len(w.sniff))]...)
	}
	n, err := w.buf.Write(p)
	w.written += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush passes on what the body holds, headers first, as http.Flusher does.
func (w *inProcessWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.send(-1)
	if w.err == nil {
		if err := w.buf.Flush(); err != nil {
			w.err = err
		}
	}
}

// chunkWriter passes a full chunk on, headers first.
type chunkWriter struct{ w *inProcessWriter }

func (c chunkWriter) Write(p []byte) (int, error) {
	c.w.send(-1)
	return c.w.pw.Write(p)
}

// send hands the client the answer's headers, once; length is the body's
// length when the answer is complete, else -1.
func (w *inProcessWriter) send(length int64) {
	if w.sent {
		return
	}
	w.sent = true
	h, status := w.sentHeader, w.status
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if _, ok := h["Content-Type"]; !ok && len(w.sniff) > 0 && bodyAllowed(status) {
		h.Set("Content-Type", http.DetectContentType(w.sniff))
	}
	cl := int64(-1)
	switch {
	case !bodyAllowed(status):
		cl = 0
	case length >= 0 && h.Get("Transfer-Encoding") == "":
		if h.Get("Content-Length") == "" {
			h.Set("Content-Length", strconv.FormatInt(length, 10))
		}
		cl = length
	case h.Get("Content-Length") != "":
		if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
			cl = n
		}
	}
	var body io.ReadCloser = w.body
	if w.head || cl == 0 {
		// Nothing is read: a write past the length fails rather than waits.
		body = http.NoBody
		w.body.pr.Close()
	}
	w.answer <- &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          body,
		ContentLength: cl,
		Request:       w.req,
	}
}

// finish ends the answer once the handler returned: the headers if still held,
// with the length of a body that fitted, then the rest of the body.
func (w *inProcessWriter) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.sent {
		n := int64(w.buf.Buffered())
		if w.head {
			n = w.written
		}
		w.send(n)
	}
	err := w.err
	if err == nil {
		err = w.buf.Flush()
	}
	if err != nil {
		w.pw.CloseWithError(io.ErrUnexpectedEOF)
		return
	}
	w.pw.Close()
}

// fail ends the answer with err: no answer when the headers were still held.
func (w *inProcessWriter) fail(err error) {
	if !w.sent {
		w.sent = true
		w.answer <- nil
	}
	w.pw.CloseWithError(err)
}

func bodyAllowed(status int) bool {
	return (status < 100 || status >= 200) && status != http.StatusNoContent && status != http.StatusNotModified
}

// inProcessBody is the answer's body as the client reads it. Closing it before
// its end ends the handler's context and its writes, as a client that hangs up
// does.
type inProcessBody struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	once   sync.Once
}

func (b *inProcessBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *inProcessBody) Close() error {
	b.once.Do(func() {
		b.pr.Close()
		b.cancel()
	})
	return nil
}
