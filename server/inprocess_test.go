package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// inProcessOnly is an Instance serving h through Transport alone, as Start
// builds one with Config.InProcess.
func inProcessOnly(h http.Handler) *Instance {
	i := &Instance{handler: h, handlerReady: make(chan struct{})}
	close(i.handlerReady)
	i.aborted, i.abort = context.WithCancel(context.Background())
	return i
}

// TestInProcessAnswers compares what a client gets through Transport with
// what it gets over loopback from the same server: status, headers and body,
// for a list, an error and a request refused before authentication.
func TestInProcessAnswers(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{t: testEpoch}
	inst, err := Start(ctx, Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "t.db"), Demo: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Shutdown(ctx)
	admin := inst.Admin
	over := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	in := &http.Client{Transport: inst.Transport()}
	root := "/Agencies/" + admin.AccountSid
	for _, c := range []struct {
		name, method, path string
		secret             string
		body               string
		status             int
	}{
		{"list", http.MethodGet, root + "/ApiTokens?PageSize=3", admin.AuthToken, "", http.StatusOK},
		{"long list", http.MethodGet, root + "/ApiTokens?PageSize=1000", admin.AuthToken, "", http.StatusOK},
		{"unknown token", http.MethodGet, root + "/ApiTokens/IR0000", admin.AuthToken, "", http.StatusNotFound},
		{"wrong secret", http.MethodGet, root + "/ApiTokens", wrongSecret(admin.AuthToken), "", http.StatusUnauthorized},
		{"bad body", http.MethodPost, root + "/ApiTokens", admin.AuthToken, `{"Name":`, http.StatusBadRequest},
		{"method", http.MethodDelete, root + "/ApiTokens", admin.AuthToken, "", http.StatusMethodNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			do := func(cl *http.Client, base string) (*http.Response, []byte) {
				t.Helper()
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, body)
				if err != nil {
					t.Fatal(err)
				}
				req.SetBasicAuth(admin.AccountSid, c.secret)
				if c.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := cl.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return res, b
			}
			want, wantBody := do(over, inst.URL)
			got, gotBody := do(in, InProcessURL)
			if got.StatusCode != c.status || want.StatusCode != c.status {
				t.Fatalf("status %s in process, %s over loopback; want %d", got.Status, want.Status, c.status)
			}
			if got.Status != want.Status || got.Proto != want.Proto {
				t.Errorf("status line %q %q, over loopback %q %q", got.Proto, got.Status, want.Proto, want.Status)
			}
			if !bytes.Equal(gotBody, wantBody) {
				t.Errorf("body in process:\n%s\nover loopback:\n%s", gotBody, wantBody)
			}
			if got.ContentLength != want.ContentLength {
				t.Errorf("ContentLength %d, over loopback %d", got.ContentLength, want.ContentLength)
			}
			for k := range want.Header {
				if k == "Date" || k == "X-Request-Id" {
					if got.Header.Get(k) == "" {
						t.Errorf("no %s in process", k)
					}
					continue
				}
				if g, w := strings.Join(got.Header.Values(k), ", "), strings.Join(want.Header.Values(k), ", "); g != w {
					t.Errorf("%s: %q in process, %q over loopback", k, g, w)
				}
			}
			for k := range got.Header {
				if _, ok := want.Header[k]; !ok {
					t.Errorf("%s in process only", k)
				}
			}
			if id := got.Header.Get("X-Request-Id"); !strings.HasPrefix(id, "RQ") || id == want.Header.Get("X-Request-Id") {
				t.Errorf("X-Request-Id %q in process, %q over loopback: want a request's own", id, want.Header.Get("X-Request-Id"))
			}
		})
	}
}

// TestInProcessStream: an answer longer than a chunk reaches the client while
// the handler is still writing it, headers first, with no Content-Length.
func TestInProcessStream(t *testing.T) {
	firstRead := make(chan struct{})
	inst := inProcessOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "RQ1")
		w.Write(bytes.Repeat([]byte("a"), 2*inProcessChunk))
		select {
		case <-firstRead:
		case <-time.After(10 * time.Second):
			panic("the client read nothing before the handler returned")
		}
		w.Header().Set("X-Late", "1") // after the headers went: not sent
		w.Write([]byte("end"))
	}))
	res, err := (&http.Client{Transport: inst.Transport()}).Get(InProcessURL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ContentLength != -1 || res.Header.Get("Content-Length") != "" {
		t.Errorf("ContentLength %d (%q) of an answer still being written", res.ContentLength, res.Header.Get("Content-Length"))
	}
	if res.Header.Get("X-Request-Id") != "RQ1" || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("headers %v", res.Header)
	}
	first := make([]byte, inProcessChunk)
	if _, err := io.ReadFull(res.Body, first); err != nil {
		t.Fatal(err)
	}
	close(firstRead)
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(first) + len(rest); n != 2*inProcessChunk+3 || !bytes.HasSuffix(rest, []byte("end")) {
		t.Errorf("body of %d bytes ending %q", n, rest[max(0, len(rest)-3):])
	}
	if res.Header.Get("X-Late") != "" {
		t.Error("a header set after the answer began was sent")
	}
	if err := inst.closeFlights(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestInProcessCancel: a request cancelled while the handler works ends the
// handler's context and the client's wait; a body closed before its end ends
// the handler's context and its writes.
func TestInProcessCancel(t *testing.T) {
	ended := make(chan error, 2)
	inst := inProcessOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Write(bytes.Repeat([]byte("a"), inProcessChunk+1))
			var err error
			for err == nil && r.Context().Err() == nil {
				_, err = w.Write(bytes.Repeat([]byte("b"), inProcessChunk))
			}
			<-r.Context().Done()
			ended <- r.Context().Err()
			return
		}
		<-r.Context().Done()
		ended <- r.Context().Err()
	}))
	cl := &http.Client{Transport: inst.Transport()}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, InProcessURL+"/wait", nil)
	if _, err := cl.Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v, want context.Canceled", err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler's context: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's context did not end")
	}

	res, err := cl.Get(InProcessURL + "/body")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(res.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler's context after the body was closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the body did not end the handler")
	}
	if err := inst.closeFlights(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestInProcessShutdown: Shutdown waits for the request in flight, whose answer
// arrives whole, and refuses requests made after it began.
func TestInProcessShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	inst := inProcessOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Write([]byte("done"))
	}))
	cl := &http.Client{Transport: inst.Transport()}
	var wg sync.WaitGroup
	var body []byte
	var getErr error
	wg.Go(func() {
		res, err := cl.Get(InProcessURL + "/slow")
		if err != nil {
			getErr = err
			return
		}
		defer res.Body.Close()
		body, getErr = io.ReadAll(res.Body)
	})
	<-started
	closed := make(chan error, 1)
	go func() { closed <- inst.closeFlights(context.Background()) }()
	select {
	case <-closed:
		t.Fatal("Shutdown did not wait for the request in flight")
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := cl.Get(InProcessURL + "/late"); !errors.Is(err, ErrServerClosed) {
		t.Errorf("request after Shutdown began: %v, want ErrServerClosed", err)
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if getErr != nil || string(body) != "done" {
		t.Errorf("answer in flight: %q, %v", body, getErr)
	}
}

// TestInProcessPanic: a handler that panics before answering gives the client an
// error, as a dropped connection does, not an answer.
func TestInProcessPanic(t *testing.T) {
	inst := inProcessOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	if res, err := (&http.Client{Transport: inst.Transport()}).Get(InProcessURL + "/"); err == nil {
		res.Body.Close()
		t.Fatalf("answer %s from a handler that panicked", res.Status)
	}
}
