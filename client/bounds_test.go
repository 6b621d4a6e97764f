package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
)

// A server that takes the request and never answers: the attempt ends at
// the header bound, and an attempt whose answer never began is retried once,
// not up to MaxRetries times.
func TestSilentServerRetriedOnce(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		<-r.Context().Done()
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.HeaderTimeout = 50 * time.Millisecond })
	_, err := c.CompanyInformation(context.Background())
	var ne *NetworkError
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err %v, want a network timeout", err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
}

// An answer whose body stops arriving ends at the idle bound with a
// *StallError; the request is retried as any lost answer is.
func TestStalledBody(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		fmt.Fprint(w, `{"CompanyName":`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.BodyIdleTimeout = 50 * time.Millisecond })
	_, err := c.CompanyInformation(context.Background())
	var se *StallError
	var ne *NetworkError
	if !errors.As(err, &se) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err %v, want a stalled answer", err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("%d attempts, want 4 (MaxRetries 3)", got)
	}
}

// A body that keeps arriving, however slowly, is read to its end: the idle
// bound is between bytes, not for the whole body.
func TestSlowBodyIsNotStalled(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for _, part := range []string{`{"Company`, `Name"`, `:"Ac`, `me"`, `}`} {
			fmt.Fprint(w, part)
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.BodyIdleTimeout = 2 * time.Second; o.MaxRetries = 0 })
	info, err := c.CompanyInformation(context.Background())
	if err != nil || info["CompanyName"] != "Acme" {
		t.Fatalf("%v %v", info, err)
	}
}

// A body that trickles a byte more often than the idle bound never stalls,
// but the attempt ends at RequestTimeout in all with a *RequestTimeoutError,
// and is retried as any lost answer is (not as a silent server, once).
func TestTricklingBodyEndsAtRequestTimeout(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		fmt.Fprint(w, `{"CompanyName":"`)
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			fmt.Fprint(w, "a")
		}
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) {
		o.BodyIdleTimeout = time.Second
		o.RequestTimeout = 100 * time.Millisecond
		o.MaxRetries = 2
	})
	start := time.Now()
	_, err := c.CompanyInformation(context.Background())
	var rte *RequestTimeoutError
	var ne *NetworkError
	if !errors.As(err, &rte) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err %v, want a request timeout", err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("%d attempts, want 3 (MaxRetries 2)", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s, want about 3 × 100ms", d)
	}
}

// An answer whose headers never come within RequestTimeout (shorter than
// the header bound) ends then too, retried once as a silent server is.
func TestRequestTimeoutBeforeHeaders(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		<-r.Context().Done()
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.RequestTimeout = 50 * time.Millisecond })
	_, err := c.CompanyInformation(context.Background())
	var rte *RequestTimeoutError
	if !errors.As(err, &rte) {
		t.Fatalf("err %v, want a request timeout", err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
}

// A chain of distinct @nextpageuri links that runs past the first page's
// @numpages is followed for one page more, then refused.
func TestPageChainStopsPastNumPages(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("Page"))
		p = max(p, 1)
		writeJSON(w, 200, map[string]any{
			"@page": strconv.Itoa(p), "@numpages": "2",
			"@nextpageuri": fmt.Sprintf("/Agencies/%s/ApiTokens?Page=%d", testSid, p+1),
			"ApiTokens":    []any{tokenJSON(fmt.Sprintf("IR%d", p), "t")},
		})
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	toks, err := collect(t, c.Tokens(context.Background(), TokenListOptions{}))
	var ce *PageChainError
	if !errors.As(err, &ce) || ce.Loops || ce.Announced != 2 || ce.Read != 3 {
		t.Fatalf("err %#v, want a PageChainError after 3 pages", err)
	}
	if len(toks) != 3 || s.count("GET /Agencies/"+testSid+"/ApiTokens?") != 3 {
		t.Errorf("%d items from %d requests, want 3 from 3", len(toks), s.count("GET /Agencies/"+testSid+"/ApiTokens?"))
	}
}

func TestPageChainLoop(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"@numpages": "5",
			"@nextpageuri": "/Agencies/" + testSid + "/ApiTokens?PageSize=1000",
			"ApiTokens":    []any{tokenJSON("IR1", "t")}})
	})
	s := newStub(t, mux)
	_, err := collect(t, newClient(t, s).Tokens(context.Background(), TokenListOptions{}))
	var ce *PageChainError
	if !errors.As(err, &ce) || !ce.Loops {
		t.Fatalf("err %v, want a loop", err)
	}
}

// Lists ask for the largest page unless told otherwise, or for --limit when
// that is smaller: the fewest requests of the rate budget.
func TestListPageSize(t *testing.T) {
	for _, tc := range []struct {
		lo   ListOptions
		want string
	}{
		{ListOptions{}, "1000"},
		{ListOptions{Limit: 5}, "5"},
		{ListOptions{Limit: 5000}, "1000"},
		{ListOptions{PageSize: 7, Limit: 3}, "7"},
	} {
		mux := agencyMux()
		var got atomic.Value
		mux.HandleFunc("GET /Agencies/{sid}/Users", func(w http.ResponseWriter, r *http.Request) {
			got.Store(r.URL.Query().Get("PageSize"))
			writeJSON(w, 200, map[string]any{"@numpages": "1", "@nextpageuri": "", "Users": []any{}})
		})
		s := newStub(t, mux)
		if _, err := collect(t, newClient(t, s).Users(context.Background(), tc.lo)); err != nil {
			t.Fatal(err)
		}
		if got.Load() != tc.want {
			t.Errorf("%+v: PageSize=%v, want %s", tc.lo, got.Load(), tc.want)
		}
	}
}

// The waits for a 429's refill come out of the command's WaitBudget: once
// it is spent, a 429 is returned rather than waited out. Other retries do
// not spend it.
func TestWaitBudgetBoundsRateLimitWaits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		budget   *WaitBudget
		status   int
		attempts int32
	}{
		{"no bound", nil, 429, 4},
		{"an hour left", NewWaitBudget(time.Hour), 429, 4},
		{"spent", NewWaitBudget(0), 429, 1},
		{"spent, but a 503 is not a rate wait", NewWaitBudget(0), 503, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := agencyMux()
			var n atomic.Int32
			mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				writeJSON(w, tc.status, map[string]any{"Status": "ERROR", "Message": "later"})
			})
			s := newStub(t, mux)
			c := newClient(t, s, func(o *Options) { o.WaitBudget = tc.budget })
			_, err := c.CompanyInformation(context.Background())
			var ae *APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status {
				t.Fatalf("err %v, want %d", err, tc.status)
			}
			if got := n.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

// zeros is an endless body of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type bodyTransport struct{ body io.Reader }

func (t bodyTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(t.body), Header: http.Header{}}, nil
}

// An answer body is read whole up to maxAnswer bytes, in small reads or
// large, and fails past it.
func TestAnswerBodyLimit(t *testing.T) {
	for _, size := range []int64{maxAnswer, maxAnswer + 1} {
		for _, chunk := range []int{512, idleChunk, 1 << 20} {
			tr := &idleBodyTransport{next: bodyTransport{io.LimitReader(zeros{}, size)}, idle: time.Minute, total: time.Minute}
			req, _ := http.NewRequest(http.MethodGet, "http://example.invalid/", nil)
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{res.Body}, make([]byte, chunk))
			res.Body.Close()
			if size > maxAnswer {
				if !errors.Is(err, resty.ErrResponseBodyTooLarge) {
					t.Errorf("%d bytes read %d at a time: %d, %v; want ErrResponseBodyTooLarge", size, chunk, n, err)
				}
			} else if err != nil || n != size {
				t.Errorf("%d bytes read %d at a time: %d, %v", size, chunk, n, err)
			}
		}
	}
}

// An answer whose length is announced is read into one buffer of that size;
// one that is not, or is longer or shorter than announced, is read whole all
// the same (a short one with the error that ended it).
func TestReadAnswer(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	read := func(announced int64, b []byte) (*resty.Response, error) {
		res := &resty.Response{RawResponse: &http.Response{
			StatusCode: 200, ContentLength: announced,
			Body: io.NopCloser(struct{ io.Reader }{bytes.NewReader(b)}),
		}}
		return res, readAnswer(res)
	}
	for _, announced := range []int64{int64(len(body)), -1, 10, int64(len(body)) + 10} {
		res, err := read(announced, body)
		if err != nil || !bytes.Equal(res.Body(), body) {
			t.Errorf("announced %d: %d bytes, %v", announced, len(res.Body()), err)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := read(int64(len(body)), body); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(body))+64<<10 {
		t.Errorf("reading %d bytes allocated %d", len(body), got)
	}
	// A hostile header announcing far more than it sends sets nothing aside.
	runtime.ReadMemStats(&before)
	if _, err := read(maxAnswer-1, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("a 2-byte body announced as %d bytes allocated %d", maxAnswer-1, got)
	}
}
