package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	testSid    = "IRagency0000000000000000000000001"
	testSecret = "S3cr3t.Value_abcdefghijklmnopqrst"
	brandSid   = "IRbrand00000000000000000000000001"
)

// stub is a recording test server.
type stub struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD /path?query"
	hdrs []http.Header
}

func newStub(t *testing.T, mux *http.ServeMux) *stub {
	t.Helper()
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		line := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		s.reqs = append(s.reqs, line)
		s.hdrs = append(s.hdrs, r.Header.Clone())
		s.mu.Unlock()
		if u, p, ok := r.BasicAuth(); !ok || (u != testSid && u != brandSid) || p != testSecret {
			writeErr(w, 401, "Unknown credentials")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *stub) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

func (s *stub) count(prefix string) int {
	n := 0
	for _, r := range s.requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string, fields ...FieldError) {
	writeJSON(w, status, map[string]any{"Status": "ERROR", "Message": msg, "Errors": fields})
}

// agencyMux answers the discovery request as for an agency token.
func agencyMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/Current", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sid") != testSid {
			writeErr(w, 404, "Not found")
			return
		}
		w.Header().Set("ETag", `"7"`)
		writeJSON(w, 200, map[string]any{"AccountSid": testSid, "Name": "admin", "State": "ENABLED",
			"RateLimit": map[string]any{"Limit": "1000", "Remaining": 999, "Reset": 3600}})
	})
	return mux
}

func newClient(t *testing.T, s *stub, mod ...func(*Options)) *Client {
	t.Helper()
	o := Options{BaseURL: s.URL, AccountSid: testSid, AuthToken: testSecret, MaxRetries: 3, RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenJSON(sid, name string) map[string]any {
	return map[string]any{"AccountSid": sid, "Name": name, "State": "ENABLED", "ApiVersion": 2, "AuthTokenHint": "1a2b",
		"Scopes": []string{}, "DateLastUsed": nil, "Uri": "/Agencies/" + testSid + "/ApiTokens/" + sid}
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) ([]T, error) {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestPagingStringsAndNumbers(t *testing.T) {
	mux := agencyMux()
	var s *stub
	var itemsSeenBeforePage2 atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("State") != "ENABLED" || q.Get("Name") != "ci" || q.Get("CreatedAfter") != "2026-01-02T03:04:05Z" {
			writeErr(w, 400, "filters lost: "+r.URL.RawQuery)
			return
		}
		base := "/Agencies/" + testSid + "/ApiTokens"
		switch q.Get("Page") {
		case "", "1":
			writeJSON(w, 200, map[string]any{"@page": "1", "@numpages": "3", "@pagesize": "2", "@total": "5",
				"@nextpageuri": base + "?Page=2&PageSize=2&State=ENABLED&Name=ci&CreatedAfter=2026-01-02T03%3A04%3A05Z",
				"ApiTokens":    []any{tokenJSON("IR1", "a"), tokenJSON("IR2", "b")}})
		case "2":
			itemsSeenBeforePage2.Store(int32(s.count("GET /Agencies/" + testSid + "/ApiTokens?")))
			// numbers as numbers, and a link that leaves the filters out
			writeJSON(w, 200, map[string]any{"@page": 2, "@numpages": 3, "@pagesize": 2, "@total": 5,
				"@nextpageuri": base + "?Page=3&PageSize=2", "ApiTokens": []any{tokenJSON("IR3", "c"), tokenJSON("IR4", "d")}})
		case "3":
			writeJSON(w, 200, map[string]any{"@page": "3", "@numpages": "3", "@pagesize": "2", "@total": "5",
				"@nextpageuri": "", "ApiTokens": []any{tokenJSON("IR5", "e")}})
		}
	})
	s = newStub(t, mux)
	c := newClient(t, s)
	after := time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("x", 3600))
	var sids []string
	first := true
	for tok, err := range c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2}, State: "enabled", Name: "ci", CreatedAfter: after}) {
		if err != nil {
			t.Fatal(err)
		}
		if first {
			// The first item arrives before the third page is asked for:
			// the listing reads one page ahead, no more.
			if n := s.count("GET /Agencies/" + testSid + "/ApiTokens?"); n > 2 {
				t.Errorf("first item after %d page requests", n)
			}
			first = false
		}
		sids = append(sids, tok.AccountSid)
	}
	if got := strings.Join(sids, ","); got != "IR1,IR2,IR3,IR4,IR5" {
		t.Errorf("sids = %s", got)
	}
	if n := s.count("GET /Agencies/" + testSid + "/ApiTokens?"); n != 3 {
		t.Errorf("%d page requests, want 3: %v", n, s.requests())
	}
}

func TestPagingRefusesOtherHost(t *testing.T) {
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		writeJSON(w, 200, map[string]any{"ApiTokens": []any{}})
	}))
	defer evil.Close()
	for _, link := range []string{evil.URL + "/Agencies/" + testSid + "/ApiTokens?Page=2", "//" + strings.TrimPrefix(evil.URL, "http://") + "/x"} {
		mux := agencyMux()
		mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"@page": "1", "@nextpageuri": link, "ApiTokens": []any{tokenJSON("IR1", "a")}})
		})
		s := newStub(t, mux)
		c := newClient(t, s)
		got, err := collect(t, c.Tokens(context.Background(), TokenListOptions{}))
		var pe *PagingError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "refusing to follow @nextpageuri to another host: ") {
			t.Errorf("link %s: err = %T %v", link, err, err)
		}
		if pe != nil && (!strings.Contains(pe.URI, strings.TrimPrefix(evil.URL, "http://")) || strings.Contains(pe.URI, "Page=")) {
			t.Errorf("link %s: URI %q", link, pe.URI)
		}
		if len(got) != 1 {
			t.Errorf("items before the refusal: %d", len(got))
		}
	}
	if evilHits.Load() != 0 {
		t.Errorf("the other host was asked %d times", evilHits.Load())
	}
}

func TestPagingErrorURI(t *testing.T) {
	c, err := New(Options{BaseURL: "https://api.impact.com", AccountSid: testSid, AuthToken: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := url.Parse("https://api.impact.com/Agencies/" + testSid + "/ApiTokens")
	for link, want := range map[string]string{
		"//evil.example/Agencies/x?Page=2&token=s3cret":       "//evil.example/Agencies/x",
		"https://evil.example/x?Page=2#frag":                  "https://evil.example/x",
		"http://api.impact.com/Agencies/x":                    "http://api.impact.com/Agencies/x",
		"https://who:s3cret@api.impact.com/Agencies/x?Page=2": "https://who:xxxxx@api.impact.com/Agencies/x",
		"//api.impact.com/Agencies/x":                         "//api.impact.com/Agencies/x",
	} {
		_, err := c.nextURL(cur, link, nil)
		var pe *PagingError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v", link, err)
			continue
		}
		if pe.URI != want || err.Error() != "refusing to follow @nextpageuri to another host: "+want {
			t.Errorf("%s: URI %q, error %q", link, pe.URI, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: a secret in %q", link, err)
		}
	}
	if u, err := c.nextURL(cur, "https://API.impact.com/Agencies/x?Page=2", nil); err != nil || u.Host != "API.impact.com" {
		t.Errorf("same host: %v %v", u, err)
	}
}

func TestPagingSameHostAbsoluteAndLimit(t *testing.T) {
	mux := agencyMux()
	var s *stub
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("Page"))
		if p == 0 {
			p = 1
		}
		items := []any{tokenJSON(fmt.Sprintf("IR%da", p), "x"), tokenJSON(fmt.Sprintf("IR%db", p), "y")}
		writeJSON(w, 200, map[string]any{"@page": strconv.Itoa(p), "@nextpageuri": fmt.Sprintf("%s/Agencies/%s/ApiTokens?Page=%d&PageSize=2", s.URL, testSid, p+1), "ApiTokens": items})
	})
	s = newStub(t, mux)
	c := newClient(t, s)
	got, err := collect(t, c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2, Limit: 3}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].AccountSid != "IR2a" {
		t.Errorf("got %d items", len(got))
	}
	if n := s.count("GET /Agencies/" + testSid + "/ApiTokens?"); n != 2 {
		t.Errorf("%d page requests, want 2", n)
	}
	// Limit below the default page size asks for no more than needed.
	got, err = collect(t, c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{Limit: 1}}))
	if err != nil || len(got) != 1 {
		t.Fatalf("limit 1: %d, %v", len(got), err)
	}
	reqs := s.requests()
	if last := reqs[len(reqs)-1]; !strings.Contains(last, "PageSize=1") {
		t.Errorf("last request %s", last)
	}
}

func TestUsersAndAdvertisers(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/Users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"@page": "1", "@nextpageuri": "", "Users": []any{map[string]any{"Id": 100, "Name": "Ada", "Email": "ada@example.com"}}})
	})
	mux.HandleFunc("GET /Agencies/{sid}/Advertisers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"@page":"1","@nextpageuri":"","Advertisers":[{"Id":"1048291","Name":"Acme","State":"ACTIVE","Currency":"USD"}]}`)
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	users, err := collect(t, c.Users(context.Background(), ListOptions{}))
	if err != nil || len(users) != 1 || users[0].Id != "100" {
		t.Fatalf("users %+v %v", users, err)
	}
	ads, err := collect(t, c.Advertisers(context.Background(), ListOptions{}))
	if err != nil || len(ads) != 1 || ads[0].Id != "1048291" || ads[0].State != "ACTIVE" {
		t.Fatalf("advertisers %+v %v", ads, err)
	}
	b, _ := json.Marshal(ads[0])
	if string(b) != `{"Id":"1048291","Name":"Acme","State":"ACTIVE","Currency":"USD"}` {
		t.Errorf("advertiser JSON %s", b)
	}
}

func TestAPIErrors(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, 400, "Validation Failed", FieldError{"Name", "Must not be empty"}, FieldError{"ApiVersion", "must be 2 or 3"})
	})
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}/AuthToken", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, 403, "Missing scope apitokens.reveal")
	})
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, 404, "Not Found")
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	ctx := context.Background()

	_, err := c.CreateToken(ctx, TokenCreate{}, WriteOptions{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || len(ae.Errors) != 2 || ae.Errors[0].Field != "Name" {
		t.Fatalf("create: %#v", err)
	}
	if got := err.Error(); got != "400 bad request: validation failed: Name: must not be empty; ApiVersion: must be 2 or 3" {
		t.Errorf("400 text %q", got)
	}
	if ae.Method != "POST" || ae.Path != "/Agencies/"+testSid+"/ApiTokens" {
		t.Errorf("method/path %s %s", ae.Method, ae.Path)
	}
	if n := s.count("POST "); n != 1 {
		t.Errorf("a 400 was retried: %d", n)
	}

	_, err = c.AuthToken(ctx, "IRx")
	if !errors.As(err, &ae) || ae.StatusCode != 403 || err.Error() != "403 forbidden: missing scope apitokens.reveal" {
		t.Errorf("403: %v", err)
	}
	_, err = c.Token(ctx, "IRx")
	if !errors.As(err, &ae) || ae.StatusCode != 404 || err.Error() != "404 not found" {
		t.Errorf("404: %v", err)
	}

	bad := newClient(t, s, func(o *Options) { o.AuthToken = "wrong-secret" })
	_, err = bad.Token(ctx, "IRx")
	if !errors.As(err, &ae) || ae.StatusCode != 401 || err.Error() != "401 unauthorized: unknown credentials" {
		t.Errorf("401: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Error("secret in error")
	}
}

// TestAPIErrorText renders the reference server's refusals, each saying
// its facts once.
func TestAPIErrorText(t *testing.T) {
	cases := []struct {
		err  APIError
		want string
	}{
		{APIError{StatusCode: 403, Message: "Forbidden: missing scope users.read",
			Errors: []FieldError{{"Scopes", "this API token lacks the scope users.read"}}},
			"403 forbidden: missing scope users.read"},
		{APIError{StatusCode: 403, Message: "Forbidden: this API token is disabled",
			Errors: []FieldError{{"AccountSid", "this API token is disabled; enable it to use it again"}}},
			"403 forbidden: this API token is disabled; enable it to use it again"},
		{APIError{StatusCode: 403, Message: "Forbidden: missing scope account.read",
			Errors: []FieldError{{"Scopes", "the token holds account.read, which the calling token lacks"}}},
			"403 forbidden: missing scope account.read: Scopes: the token holds account.read, which the calling token lacks"},
		{APIError{StatusCode: 403, Message: "Forbidden: missing scope reports.read",
			Errors: []FieldError{{"Scopes", "cannot grant reports.read, which the calling token lacks"}}},
			"403 forbidden: missing scope reports.read: Scopes: cannot grant reports.read, which the calling token lacks"},
		{APIError{StatusCode: 403, Message: "FORBIDDEN:Missing scope apitokens.reveal"},
			"403 forbidden: missing scope apitokens.reveal"},
		{APIError{StatusCode: 401, Message: "Unauthorized",
			Errors: []FieldError{{"Authorization", "unknown account SID or auth token"}}},
			"401 unauthorized: Authorization: unknown account SID or auth token"},
		{APIError{StatusCode: 404, Message: "Not Found",
			Errors: []FieldError{{"Uri", "no such resource, or it is not yours"}}},
			"404 not found: Uri: no such resource, or it is not yours"},
		{APIError{StatusCode: 409, Message: "Conflict",
			Errors: []FieldError{{"AccountSid", "this is the account's last enabled token holding apitokens.write; enable or grant another first"}}},
			"409 conflict: AccountSid: this is the account's last enabled token holding apitokens.write; enable or grant another first"},
		{APIError{StatusCode: 412, Message: "Precondition Failed",
			Errors: []FieldError{{"If-Match", "the token changed since it was read; read it again"}}},
			"412 precondition failed: If-Match: the token changed since it was read; read it again"},
		{APIError{StatusCode: 422, Message: "Unprocessable Entity",
			Errors: []FieldError{{"Idempotency-Key", "this key was used with another request body"}}},
			"422 unprocessable entity: Idempotency-Key: this key was used with another request body"},
		{APIError{StatusCode: 400, Message: "Validation Failed",
			Errors: []FieldError{{"PrimaryContactId", `"U999" is not a user of this account; see Users`}}},
			`400 bad request: validation failed: PrimaryContactId: "U999" is not a user of this account; see Users`},
		{APIError{StatusCode: 403, Message: "disabled"}, "403 forbidden: disabled"},
		{APIError{StatusCode: 403, Message: "Forbidden"}, "403 forbidden"},
		{APIError{StatusCode: 403, Message: "Forbidden:"}, "403 forbidden"},
		{APIError{StatusCode: 403, Message: "Forbidden zone"}, "403 forbidden: forbidden zone"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%d %q:\n got %q\nwant %q", c.err.StatusCode, c.err.Message, got, c.want)
		}
	}
}

func TestRetry503ThenSuccess(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			writeErr(w, 503, "Try later")
			return
		}
		w.Header().Set("ETag", `"3"`)
		writeJSON(w, 200, tokenJSON(r.PathValue("tok"), "a"))
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	tok, err := c.Token(context.Background(), "IR1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.ETag != `"3"` || tok.AccountSid != "IR1" || n.Load() != 3 {
		t.Errorf("token %+v after %d tries", tok, n.Load())
	}
	// Without retries the 503 is the answer.
	n.Store(0)
	c0 := newClient(t, s, func(o *Options) { o.MaxRetries = 0 })
	_, err = c0.Token(context.Background(), "IR1")
	if !isStatus(err, 503) || n.Load() != 1 {
		t.Errorf("no retries: %v after %d", err, n.Load())
	}
}

func TestRetry500OnlyForGET(t *testing.T) {
	mux := agencyMux()
	var gets, puts atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		writeErr(w, 500, "Boom")
	})
	mux.HandleFunc("PUT /Agencies/{sid}/ApiTokens/{tok}/Scopes", func(w http.ResponseWriter, r *http.Request) {
		puts.Add(1)
		writeErr(w, 500, "Boom")
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	if _, err := c.Token(context.Background(), "IR1"); !isStatus(err, 500) || gets.Load() != 4 {
		t.Errorf("GET: %v after %d", err, gets.Load())
	}
	if _, err := c.SetScopes(context.Background(), "IR1", nil, WriteOptions{}); !isStatus(err, 500) || puts.Load() != 1 {
		t.Errorf("PUT: %v after %d", err, puts.Load())
	}
}

func TestRetry429(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	var always atomic.Bool
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "1000")
		if n.Add(1) == 1 || always.Load() {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Remaining", "0")
			writeErr(w, 429, "Rate limit exceeded")
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "998")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Unix()+120, 10))
		writeJSON(w, 200, map[string]any{"CompanyName": "Acme", "Id": 12345678901234567})
	})
	s := newStub(t, mux)

	// Retry-After within RetryMaxWait: waited for, then the retry succeeds.
	c := newClient(t, s, func(o *Options) { o.RetryMaxWait = 2 * time.Second })
	start := time.Now()
	info, err := c.CompanyInformation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("Retry-After not honoured: retried after %s", time.Since(start))
	}
	if info["CompanyName"] != "Acme" || fmt.Sprint(info["Id"]) != "12345678901234567" || n.Load() != 2 {
		t.Errorf("info %v after %d", info, n.Load())
	}
	rl := c.LastRateLimit()
	if rl.Limit != 1000 || rl.Remaining != 998 || rl.Reset < 110 || rl.Reset > 120 {
		t.Errorf("rate limit %+v", rl)
	}

	// Retry-After beyond RetryMaxWait: no retry that could only meet
	// another 429; the 429 comes back at once with its Retry-After.
	always.Store(true)
	n.Store(0)
	c = newClient(t, s)
	_, err = c.CompanyInformation(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != time.Second {
		t.Fatalf("beyond the cap: %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d attempts, want 1", n.Load())
	}
	if rl := c.LastRateLimit(); rl.Remaining != 0 {
		t.Errorf("rate limit after 429 %+v", rl)
	}
}

func TestPacedBulkReturnsA429AtOnce(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	var keys []string
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens/Disable", func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Reset", "1")
		if n.Add(1) == 1 {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("Retry-After", "1")
			writeErr(w, 429, "Rate limit exceeded")
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "9")
		writeJSON(w, 200, map[string]any{"Results": []map[string]any{{"AccountSid": "IR1", "Status": "OK"}}})
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.RetryMaxWait = 2 * time.Second })

	// Paced: the 429 comes back at once, with the budget it carried.
	var rl RateLimit
	_, err := c.Bulk(context.Background(), ActionDisable, []string{"IR1"}, WriteOptions{IdempotencyKey: "k", Paced: true, RateLimit: &rl})
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != time.Second || n.Load() != 1 {
		t.Fatalf("paced: %v after %d attempts, want the 429 at once", err, n.Load())
	}
	if rl.Limit != 10 || rl.Remaining != 0 || rl.Reset != 1 || rl.At.IsZero() {
		t.Errorf("budget of the 429: %+v", rl)
	}
	// Sent again with its key, the answer's budget replaces it.
	got, err := c.Bulk(context.Background(), ActionDisable, []string{"IR1"}, WriteOptions{IdempotencyKey: "k", Paced: true, RateLimit: &rl})
	if err != nil || len(got) != 1 || rl.Remaining != 9 {
		t.Errorf("again: %v %v, budget %+v", got, err, rl)
	}
	if strings.Join(keys, ",") != "k,k" {
		t.Errorf("keys %q", keys)
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("GET /Agencies/{sid}/CompanyInformation", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "30")
		writeErr(w, 429, "Rate limit exceeded")
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.RetryMaxWait = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.Current(ctx) // discovery outside the measured call
	start := time.Now()
	_, err := c.CompanyInformation(ctx)
	if !isStatus(err, 429) {
		t.Errorf("err = %v, want the 429", err)
	}
	if time.Since(start) > time.Second || n.Load() != 1 {
		t.Errorf("waited %s, %d attempts", time.Since(start), n.Load())
	}
}

func TestCancelStopsRetryWait(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		writeErr(w, 503, "Down for maintenance")
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.RetryMaxWait = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := c.Current(ctx); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Token(ctx, "IR1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %s", time.Since(start))
	}
}

// dropAnswer lets the server handle matching requests but loses the first
// answer (or the first n), as a broken connection would.
type dropAnswer struct {
	base   http.RoundTripper
	method string
	n      atomic.Int32
}

func (d *dropAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := d.base.RoundTrip(r)
	if err == nil && r.Method == d.method && d.n.Add(-1) >= 0 {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return res, err
}

func dropFirst(method string) *dropAnswer {
	d := &dropAnswer{base: http.DefaultTransport, method: method}
	d.n.Store(1)
	return d
}

func TestPOSTRetriedWithSameKey(t *testing.T) {
	mux := agencyMux()
	var mu sync.Mutex
	answers := map[string][]byte{}
	var keys []string
	var created atomic.Int32
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, key)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if b, ok := answers[key]; ok {
			w.WriteHeader(201)
			w.Write(b)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var tc TokenCreate
		if err := json.Unmarshal(body, &tc); err != nil || tc.Name != "CI" || len(tc.Scopes) != 1 {
			writeErr(w, 400, "bad body "+string(body))
			return
		}
		created.Add(1)
		tok := tokenJSON("IRnew", tc.Name)
		tok["AuthToken"] = "NewSecretNewSecretNewSecret12345"
		b, _ := json.Marshal(tok)
		answers[key] = b
		w.WriteHeader(201)
		w.Write(b)
	})
	s := newStub(t, mux)
	var dbg bytes.Buffer
	c := newClient(t, s, func(o *Options) { o.Transport = dropFirst("POST"); o.Debug = &dbg })
	tok, err := c.CreateToken(context.Background(), TokenCreate{Name: "CI", Scopes: []string{"reports.read"}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AuthToken != "NewSecretNewSecretNewSecret12345" || created.Load() != 1 {
		t.Errorf("token %+v, created %d", tok, created.Load())
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("keys %q", keys)
	}
	if len(keys[0]) != 36 {
		t.Errorf("generated key %q", keys[0])
	}
	if strings.Contains(dbg.String(), "NewSecret") {
		t.Error("new secret in debug output")
	}
	// A caller's key is used as given.
	keys = nil
	if _, err := c.CreateToken(context.Background(), TokenCreate{Name: "CI", Scopes: []string{"x"}}, WriteOptions{IdempotencyKey: "job-42"}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "job-42" {
		t.Errorf("keys %q", keys)
	}
}

func TestPATCHWithoutIfMatchNotRetried(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("PATCH /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 200, tokenJSON("IR1", "x"))
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.Transport = dropFirst("PATCH") })
	name := "x"
	_, err := c.UpdateToken(context.Background(), "IR1", TokenUpdate{Name: &name}, WriteOptions{})
	var ne *NetworkError
	if !errors.As(err, &ne) || ne.Method != "PATCH" || n.Load() != 1 {
		t.Errorf("err %v after %d", err, n.Load())
	}
}

func TestDeleteRetriedFindsItGone(t *testing.T) {
	mux := agencyMux()
	var mu sync.Mutex
	exists := map[string]bool{"IR1": true, "IR2": true}
	mux.HandleFunc("DELETE /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !exists[r.PathValue("tok")] {
			writeErr(w, 404, "Not found")
			return
		}
		delete(exists, r.PathValue("tok"))
		w.WriteHeader(204)
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.Transport = dropFirst("DELETE") })
	if err := c.DeleteToken(context.Background(), "IR1", WriteOptions{IfMatch: `"1"`}); err != nil {
		t.Fatalf("retried delete: %v", err)
	}
	if n := s.count("DELETE "); n != 2 {
		t.Errorf("%d deletes", n)
	}
	// A plain 404 is still not found, and a plain delete works.
	if err := c.DeleteToken(context.Background(), "IR9", WriteOptions{}); !isStatus(err, 404) {
		t.Errorf("unknown: %v", err)
	}
	if err := c.DeleteToken(context.Background(), "IR2", WriteOptions{}); err != nil {
		t.Errorf("delete: %v", err)
	}
}

// etagServer keeps one token with a version counter.
func etagServer(t *testing.T) (*http.ServeMux, *sync.Mutex, map[string]any, *int) {
	mux := agencyMux()
	var mu sync.Mutex
	tok := tokenJSON("IR1", "old")
	tok["Description"] = "d"
	tok["Scopes"] = []string{"reports.read"}
	tok["DeveloperEmails"] = []string{"a@example.com"}
	version := 1
	reply := func(w http.ResponseWriter) {
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, version))
		writeJSON(w, 200, tok)
	}
	checked := func(w http.ResponseWriter, r *http.Request) bool {
		if im := r.Header.Get("If-Match"); im != "" && im != fmt.Sprintf(`"%d"`, version) {
			writeErr(w, 412, "The token changed since it was read")
			return false
		}
		return true
	}
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/IR1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		reply(w)
	})
	mux.HandleFunc("PATCH /Agencies/{sid}/ApiTokens/IR1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !checked(w, r) {
			return
		}
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		for k, v := range m {
			if k == "Description" && v == nil {
				v = ""
			}
			tok[k] = v
		}
		version++
		reply(w)
	})
	mux.HandleFunc("PUT /Agencies/{sid}/ApiTokens/IR1/Scopes", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !checked(w, r) {
			return
		}
		var m struct{ Scopes []string }
		json.NewDecoder(r.Body).Decode(&m)
		var out []string
		for _, s := range m.Scopes {
			if s == "reports.*" {
				out = append(out, "reports.read", "reports.export")
			} else {
				out = append(out, s)
			}
		}
		tok["Scopes"] = out
		version++
		reply(w)
	})
	// The catalog, read to tell whether a lost PUT of "reports.*" was applied.
	mux.HandleFunc("GET /Agencies/{sid}/ApiScopes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"Categories": []map[string]any{
			{"Id": "reports", "Scopes": []map[string]string{{"Id": "reports.read"}, {"Id": "reports.export"}}},
			{"Id": "account", "Scopes": []map[string]string{{"Id": "account.read"}}},
		}})
	})
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens/IR1/Disable", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !checked(w, r) {
			return
		}
		tok["State"] = "DISABLED"
		version++
		reply(w)
	})
	return mux, &mu, tok, &version
}

func TestPATCHLostAnswerThen412(t *testing.T) {
	mux, mu, tok, version := etagServer(t)
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.Transport = dropFirst("PATCH") })
	name, v := "new", 3
	got, err := c.UpdateToken(context.Background(), "IR1", TokenUpdate{Name: &name, ApiVersion: &v, ClearDescription: true}, WriteOptions{IfMatch: `"1"`})
	if err != nil {
		t.Fatalf("lost answer: %v", err)
	}
	if got.Name != "new" || got.Description != "" || got.ETag != `"2"` {
		t.Errorf("token %+v", got)
	}
	if n := s.count("PATCH "); n != 2 {
		t.Errorf("%d patches", n)
	}

	// Someone else changed the name in between: the 412 stands.
	c = newClient(t, s, func(o *Options) { o.Transport = dropFirst("PATCH") })
	mu.Lock()
	cur := fmt.Sprintf(`"%d"`, *version)
	mu.Unlock()
	other := "other"
	s.Config.Handler.(http.HandlerFunc)(httptest.NewRecorder(), func() *http.Request {
		r := httptest.NewRequest("PATCH", "/Agencies/"+testSid+"/ApiTokens/IR1", strings.NewReader(`{"Name":"someone"}`))
		r.SetBasicAuth(testSid, testSecret)
		return r
	}())
	_, err = c.UpdateToken(context.Background(), "IR1", TokenUpdate{Name: &other}, WriteOptions{IfMatch: cur})
	// The first attempt was stale already and got 412 (its answer dropped
	// only if it succeeded); either way the caller sees 412.
	if !isStatus(err, 412) {
		t.Errorf("stale: %v (token %v)", err, tok["Name"])
	}

	// A plain stale If-Match is a 412 without a second look.
	c = newClient(t, s)
	before := s.count("GET /Agencies/" + testSid + "/ApiTokens/IR1")
	if _, err := c.UpdateToken(context.Background(), "IR1", TokenUpdate{Name: &name}, WriteOptions{IfMatch: `"1"`}); !isStatus(err, 412) {
		t.Errorf("stale: %v", err)
	}
	if after := s.count("GET /Agencies/" + testSid + "/ApiTokens/IR1"); after != before {
		t.Error("re-read after a plain 412")
	}
}

func TestPATCHLostAnswerOtherValues(t *testing.T) {
	mux, _, _, _ := etagServer(t)
	s := newStub(t, mux)
	// Both the first answer and the retry's are lost until the third try;
	// between them another writer sets a different name.
	d := &dropAnswer{base: http.DefaultTransport, method: "PATCH"}
	d.n.Store(1)
	var once sync.Once
	wrapped := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := d.RoundTrip(r)
		if err != nil {
			once.Do(func() {
				rr := httptest.NewRequest("PATCH", "/Agencies/"+testSid+"/ApiTokens/IR1", strings.NewReader(`{"Name":"someone else"}`))
				rr.SetBasicAuth(testSid, testSecret)
				s.Config.Handler.ServeHTTP(httptest.NewRecorder(), rr)
			})
		}
		return res, err
	})
	c := newClient(t, s, func(o *Options) { o.Transport = wrapped })
	name := "mine"
	_, err := c.UpdateToken(context.Background(), "IR1", TokenUpdate{Name: &name}, WriteOptions{IfMatch: `"1"`})
	if !isStatus(err, 412) {
		t.Errorf("err = %v, want 412", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPUTScopesAndDisableLostAnswer(t *testing.T) {
	mux, _, _, _ := etagServer(t)
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.Transport = dropFirst("PUT") })
	tok, err := c.SetScopes(context.Background(), "IR1", []string{"reports.*", "account.read"}, WriteOptions{IfMatch: `"1"`})
	if err != nil {
		t.Fatalf("scopes: %v", err)
	}
	if strings.Join(tok.Scopes, ",") != "reports.read,reports.export,account.read" {
		t.Errorf("scopes %v", tok.Scopes)
	}
	c = newClient(t, s, func(o *Options) { o.Transport = dropFirst("POST") })
	tok, err = c.DisableToken(context.Background(), "IR1", WriteOptions{IfMatch: tok.ETag})
	if err != nil || tok.State != "DISABLED" {
		t.Fatalf("disable: %+v %v", tok, err)
	}
}

func TestKindDiscovery(t *testing.T) {
	t.Run("agency", func(t *testing.T) {
		mux := agencyMux()
		mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, tokenJSON(r.PathValue("tok"), "a"))
		})
		s := newStub(t, mux)
		c := newClient(t, s)
		cur, err := c.Current(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cur.AccountSid != testSid || cur.RateLimit.Limit != 1000 || cur.RateLimit.Remaining != 999 || cur.ETag != `"7"` {
			t.Errorf("current %+v", cur)
		}
		for range 3 {
			if _, err := c.Token(context.Background(), "IR1"); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.count("GET /Agencies/" + testSid + "/ApiTokens/Current"); n != 1 {
			t.Errorf("%d discovery requests", n)
		}
		if ok, _ := c.IsAgency(context.Background()); !ok {
			t.Error("not an agency")
		}
		// JSON of the current token is the wire shape.
		b, _ := json.Marshal(cur)
		if !strings.Contains(string(b), `"RateLimit":{"Limit":1000,"Remaining":999,"Reset":3600}`) || !strings.Contains(string(b), `"AccountSid":"`+testSid) {
			t.Errorf("json %s", b)
		}
	})
	t.Run("brand", func(t *testing.T) {
		mux := agencyMux()
		mux.HandleFunc("GET /Advertisers/{sid}/ApiTokens/Current", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"AccountSid": brandSid, "RateLimit": map[string]any{"Limit": 1000, "Remaining": 1, "Reset": 5}})
		})
		mux.HandleFunc("GET /Advertisers/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"@nextpageuri": "", "ApiTokens": []any{tokenJSON("IRb1", "b")}})
		})
		s := newStub(t, mux)
		c := newClient(t, s, func(o *Options) { o.AccountSid = brandSid })
		toks, err := collect(t, c.Tokens(context.Background(), TokenListOptions{}))
		if err != nil || len(toks) != 1 {
			t.Fatalf("%v %v", toks, err)
		}
		cur, err := c.Current(context.Background())
		if err != nil || cur.AccountSid != brandSid {
			t.Fatalf("current %+v %v", cur, err)
		}
		want := []string{
			"GET /Agencies/" + brandSid + "/ApiTokens/Current",
			"GET /Advertisers/" + brandSid + "/ApiTokens?PageSize=1000",
			"GET /Advertisers/" + brandSid + "/ApiTokens/Current",
		}
		if got := s.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("requests:\n%s", strings.Join(got, "\n"))
		}
		if _, err := c.WithBrand("1048291").Token(context.Background(), "IR1"); !errors.Is(err, ErrBrandNeedsAgency) {
			t.Errorf("brand through a brand token: %v", err)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		s := newStub(t, agencyMux())
		c := newClient(t, s, func(o *Options) { o.AuthToken = "nope" })
		if _, err := c.Token(context.Background(), "IR1"); !isStatus(err, 401) {
			t.Errorf("err %v", err)
		}
	})
}

func TestBrandPassthrough(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("/Agencies/{sid}/Advertisers/{brand}/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ApiTokens") {
			writeJSON(w, 200, map[string]any{"@nextpageuri": "", "ApiTokens": []any{}})
			return
		}
		if strings.HasSuffix(r.URL.Path, "/Users") {
			writeJSON(w, 200, map[string]any{"@nextpageuri": "", "Users": []any{}})
			return
		}
		writeJSON(w, 200, tokenJSON("IRb", "b"))
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	b := c.WithBrand("1048291")
	ctx := context.Background()
	if _, err := b.Token(ctx, "IRb"); err != nil {
		t.Fatal(err)
	}
	if _, err := collect(t, b.Tokens(ctx, TokenListOptions{})); err != nil {
		t.Fatal(err)
	}
	if _, err := collect(t, b.Users(ctx, ListOptions{})); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetScopes(ctx, "IRb", []string{"reports.read"}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Current(ctx); err != nil {
		t.Fatal(err)
	}
	root := "/Agencies/" + testSid + "/Advertisers/1048291"
	want := []string{
		"GET /Agencies/" + testSid + "/ApiTokens/Current",
		"GET " + root + "/ApiTokens/IRb",
		"GET " + root + "/ApiTokens?PageSize=1000",
		"GET " + root + "/Users?PageSize=1000",
		"PUT " + root + "/ApiTokens/IRb/Scopes",
		"GET /Agencies/" + testSid + "/ApiTokens/Current",
	}
	if got := s.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s", strings.Join(got, "\n"))
	}
	if c.Brand() != "" || b.Brand() != "1048291" {
		t.Error("WithBrand changed the original")
	}
}

func TestDebugHoldsNoSecret(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens/{tok}/Reset", func(w http.ResponseWriter, r *http.Request) {
		tok := tokenJSON(r.PathValue("tok"), "a")
		tok["AuthToken"] = "FreshSecretFreshSecretFresh12345"
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, 200, tok)
	})
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}/AuthToken", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, Secret{AccountSid: testSid, AuthToken: testSecret})
	})
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		// A careless server echoing the secret must not leak it either.
		writeErr(w, 400, "bad token "+testSecret)
	})
	s := newStub(t, mux)
	var dbg bytes.Buffer
	c := newClient(t, s, func(o *Options) { o.Debug = &dbg })
	ctx := context.Background()
	if _, err := c.ResetToken(ctx, "IR1", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sec, err := c.AuthToken(ctx, "IR1")
	if err != nil || sec.AuthToken != testSecret {
		t.Fatal(err)
	}
	_, err = c.Token(ctx, "IR1")
	if err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error %v", err)
	}
	out := dbg.String()
	basic := base64.StdEncoding.EncodeToString([]byte(testSid + ":" + testSecret))
	for _, bad := range []string{testSecret, basic, "FreshSecret"} {
		if strings.Contains(out, bad) {
			t.Errorf("debug output holds %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"--> POST " + s.URL + "/Agencies/" + testSid + "/ApiTokens/IR1/Reset", "<-- 200 OK POST", "Cache-Control: no-store", "Idempotency-Key: ", "<-- 400 Bad Request GET"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
	if lines := strings.Count(out, "\n"); lines != 8 {
		t.Errorf("%d debug lines, want 8:\n%s", lines, out)
	}
}

func TestNetworkError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Options{BaseURL: "http://" + addr, AccountSid: testSid, AuthToken: testSecret, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Token(context.Background(), "IR1")
	var ne *NetworkError
	if !errors.As(err, &ne) || ne.Method != "GET" || ne.Path != "/Agencies/"+testSid+"/ApiTokens/Current" {
		t.Fatalf("err %#v", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("not wrapping the cause: %v", err)
	}
	if !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), testSecret) {
		t.Errorf("text %q", err.Error())
	}
}

func TestResetAndDisconnectsMidAnswer(t *testing.T) {
	// A server that hangs up without answering GETs twice, then answers.
	var n atomic.Int32
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/Users", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		writeJSON(w, 200, map[string]any{"@nextpageuri": "", "Users": []any{map[string]any{"Id": "U1"}}})
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	users, err := collect(t, c.Users(context.Background(), ListOptions{}))
	if err != nil || len(users) != 1 || n.Load() != 3 {
		t.Errorf("users %v, %v after %d", users, err, n.Load())
	}
}

func TestBulk(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens/Disable", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Sids []string }
		json.NewDecoder(r.Body).Decode(&in)
		if r.Header.Get("Idempotency-Key") == "" {
			writeErr(w, 400, "no key")
			return
		}
		var out []any
		for _, s := range in.Sids {
			if s == "IRbad" {
				out = append(out, map[string]any{"AccountSid": s, "Status": "ERROR", "StatusCode": "404", "Message": "Not found"})
			} else {
				t := tokenJSON(s, "x")
				t["State"] = "DISABLED"
				out = append(out, map[string]any{"AccountSid": s, "Status": "OK", "StatusCode": 200, "ApiToken": t})
			}
		}
		writeJSON(w, 200, map[string]any{"Results": out})
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	res, err := c.Bulk(context.Background(), ActionDisable, []string{"IR1", "IRbad"}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].ApiToken == nil || res[0].ApiToken.State != "DISABLED" || res[1].StatusCode != 404 || res[1].Status != "ERROR" {
		t.Errorf("results %+v", res)
	}
	if _, err := c.Bulk(context.Background(), "Explode", nil, WriteOptions{}); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestTokenUpdateJSON(t *testing.T) {
	name, desc, v, pc := "n", "", 3, "U1"
	cases := []struct {
		u    TokenUpdate
		want string
	}{
		{TokenUpdate{}, `{}`},
		{TokenUpdate{Name: &name}, `{"Name":"n"}`},
		{TokenUpdate{Description: &desc, ApiVersion: &v}, `{"Description":"","ApiVersion":3}`},
		{TokenUpdate{ClearDescription: true, ClearPrimaryContact: true}, `{"Description":null,"PrimaryContactId":null}`},
		{TokenUpdate{PrimaryContactId: &pc}, `{"PrimaryContactId":"U1"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.u)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v: %s %v, want %s", c.u, b, err, c.want)
		}
	}
	if _, err := json.Marshal(TokenUpdate{Name: &name, Description: &desc, ClearDescription: true}); err == nil {
		t.Error("set and clear accepted")
	}
	if !(TokenUpdate{}).Empty() || (TokenUpdate{ClearDescription: true}).Empty() {
		t.Error("Empty")
	}
}

func TestTokenJSONRoundTrip(t *testing.T) {
	in := `{"AccountSid":"IR1","Name":"CI","Description":"","State":"ENABLED","ApiVersion":2,"LatestApiVersion":3,"AuthTokenHint":"1a2b","PrimaryContact":{"Id":"U100","Name":"Ada","Email":"ada@example.com"},"DeveloperEmails":[],"Scopes":["reports.read"],"DateCreated":"2026-01-02T03:04:05Z","DateUpdated":"2026-01-02T03:04:05Z","DateLastUsed":null,"DateAuthTokenReset":"2026-01-03T00:00:00Z","ExpiresAt":null,"PreviousAuthTokenExpiresAt":null,"PreviousAuthTokenLastUsed":null,"Uri":"/Agencies/IRa/ApiTokens/IR1"}`
	var tok Token
	if err := json.Unmarshal([]byte(in), &tok); err != nil {
		t.Fatal(err)
	}
	tok.ETag = `"1"`
	out, _ := json.Marshal(tok)
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
}

func TestSameSet(t *testing.T) {
	cases := []struct {
		a, b []string
		ok   bool
	}{
		{[]string{"reports.read", "reports.export"}, []string{"reports.export", "reports.read"}, true},
		{[]string{"reports.read"}, []string{"reports.read", "a.b"}, false},
		{[]string{"a.b"}, []string{"c.d"}, false},
		{[]string{}, nil, true},
	}
	for _, c := range cases {
		if got := sameSet(c.a, c.b); got != c.ok {
			t.Errorf("sameSet(%v, %v) = %v", c.a, c.b, got)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{
		{BaseURL: "ftp://x", AccountSid: "a", AuthToken: "b"},
		{BaseURL: "http://u:p@x", AccountSid: "a", AuthToken: "b"},
		{BaseURL: "http://x", AccountSid: "", AuthToken: "b"},
		{BaseURL: "://", AccountSid: "a", AuthToken: "b"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestBasePathPrefix(t *testing.T) {
	mux := http.NewServeMux()
	inner := agencyMux()
	inner.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Page") == "2" {
			writeJSON(w, 200, map[string]any{"@nextpageuri": "", "ApiTokens": []any{tokenJSON("IR2", "b")}})
			return
		}
		writeJSON(w, 200, map[string]any{"@nextpageuri": "/Agencies/" + testSid + "/ApiTokens?Page=2", "ApiTokens": []any{tokenJSON("IR1", "a")}})
	})
	mux.Handle("/api/", http.StripPrefix("/api", inner))
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.BaseURL = s.URL + "/api/" })
	toks, err := collect(t, c.Tokens(context.Background(), TokenListOptions{}))
	if err != nil || len(toks) != 2 {
		t.Fatalf("%v %v", toks, err)
	}
	if got := s.requests(); got[2] != "GET /api/Agencies/"+testSid+"/ApiTokens?Page=2&PageSize=1000" {
		t.Errorf("requests %v", got)
	}
}

func TestHeaders(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("PATCH /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, tokenJSON("IR1", "x"))
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.UserAgent = "impactctl/1.2.3" })
	name := "x"
	if _, err := c.UpdateToken(context.Background(), "IR1", TokenUpdate{Name: &name}, WriteOptions{IfMatch: `"4"`}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	h := s.hdrs[len(s.hdrs)-1]
	s.mu.Unlock()
	if h.Get("Accept") != "application/json" || h.Get("Content-Type") != "application/json" || h.Get("If-Match") != `"4"` ||
		h.Get("User-Agent") != "impactctl/1.2.3" || h.Get("Idempotency-Key") != "" {
		t.Errorf("headers %v", h)
	}
}

func TestSelfResetReplayWithPreviousSecret(t *testing.T) {
	// The server accepts the previous secret only to replay the reset that
	// replaced it, so discovery is refused and the client tries both roots.
	const key = "ci-rotation-1"
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		replay := r.Method == "POST" && r.Header.Get("Idempotency-Key") == key
		if !replay {
			writeErr(w, 401, "Unknown credentials")
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/Advertisers/"+brandSid+"/") {
			writeErr(w, 404, "Not found")
			return
		}
		tok := tokenJSON(brandSid, "self")
		tok["AuthToken"] = "ReplayedSecretReplayedSecret1234"
		switch {
		case strings.HasSuffix(r.URL.Path, "/ApiTokens/"+brandSid+"/Reset"):
			writeJSON(w, 200, tok)
		case strings.HasSuffix(r.URL.Path, "/ApiTokens/Reset"):
			writeJSON(w, 200, map[string]any{"Results": []any{map[string]any{"AccountSid": brandSid, "Status": "OK", "StatusCode": 200, "ApiToken": tok}}})
		default:
			writeErr(w, 404, "Not found")
		}
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, AccountSid: brandSid, AuthToken: "OldSecret", MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ResetToken(context.Background(), brandSid, WriteOptions{IdempotencyKey: key})
	if err != nil || tok.AuthToken != "ReplayedSecretReplayedSecret1234" {
		t.Fatalf("replay: %+v %v", tok, err)
	}
	want := []string{
		"GET /Agencies/" + brandSid + "/ApiTokens/Current",
		"POST /Agencies/" + brandSid + "/ApiTokens/" + brandSid + "/Reset",
		"POST /Advertisers/" + brandSid + "/ApiTokens/" + brandSid + "/Reset",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s", strings.Join(seen, "\n"))
	}
	res, err := c.Bulk(context.Background(), ActionReset, []string{brandSid}, WriteOptions{IdempotencyKey: key})
	if err != nil || len(res) != 1 || res[0].ApiToken.AuthToken == "" {
		t.Fatalf("bulk replay: %+v %v", res, err)
	}
	// Without a caller's key there is nothing to replay: the 401 stands.
	if _, err := c.ResetToken(context.Background(), brandSid, WriteOptions{}); !isStatus(err, 401) {
		t.Errorf("no key: %v", err)
	}
	if _, err := c.DisableToken(context.Background(), brandSid, WriteOptions{IdempotencyKey: key}); !isStatus(err, 401) {
		t.Errorf("disable: %v", err)
	}
}

func TestRestyStaysQuiet(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	func() {
		defer func() { os.Stderr = saved }()
		mux := agencyMux()
		mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/{tok}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{not json`)
		})
		s := newStub(t, mux)
		c := newClient(t, s) // created while stderr is the pipe
		if _, err := c.Token(context.Background(), "IR1"); err == nil {
			t.Error("bad JSON accepted")
		}
		if _, err := c.AuthToken(context.Background(), "IR1"); err == nil {
			t.Error("unknown route accepted")
		}
	}()
	w.Close()
	out, _ := io.ReadAll(r)
	if len(out) > 0 {
		t.Errorf("stderr: %s", out)
	}
}

func TestAdvertisersIgnoreBrand(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/Advertisers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"@nextpageuri": "", "Advertisers": []any{map[string]any{"Id": 1048291, "Name": "Acme"}}})
	})
	mux.HandleFunc("GET /Agencies/{sid}/Advertisers/{adv}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"Id": r.PathValue("adv"), "Name": "Acme"})
	})
	s := newStub(t, mux)
	c := newClient(t, s).WithBrand("1048291")
	ads, err := collect(t, c.Advertisers(context.Background(), ListOptions{}))
	if err != nil || len(ads) != 1 || ads[0].Id != "1048291" {
		t.Fatalf("%v %v", ads, err)
	}
	a, err := c.Advertiser(context.Background(), "1048291")
	if err != nil || a.Name != "Acme" {
		t.Fatalf("%v %v", a, err)
	}
}

func TestPOSTInFlightConflictRetried(t *testing.T) {
	mux := agencyMux()
	var n atomic.Int32
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens/{tok}/Enable", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1: // applied; the answer is lost on the way
			writeJSON(w, 200, tokenJSON("IR1", "a"))
		case 2: // the first is still being stored
			writeErr(w, 409, "A request with this Idempotency-Key is in progress")
		default:
			writeJSON(w, 200, tokenJSON("IR1", "a"))
		}
	})
	mux.HandleFunc("POST /Agencies/{sid}/ApiTokens/{tok}/Disable", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, 409, "This would leave the account without an enabled token holding apitokens.write")
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.Transport = dropFirst("POST") })
	if _, err := c.EnableToken(context.Background(), "IR1", WriteOptions{}); err != nil || n.Load() != 3 {
		t.Errorf("enable: %v after %d", err, n.Load())
	}
	// A plain conflict is not retried.
	c = newClient(t, s)
	if _, err := c.DisableToken(context.Background(), "IR1", WriteOptions{}); !isStatus(err, 409) || s.count("POST /Agencies/"+testSid+"/ApiTokens/IR1/Disable") != 1 {
		t.Errorf("disable: %v", err)
	}
}

// TestKnownKindSkipsDiscovery: with Options.Kind the first call goes
// straight to the token's root, with no ApiTokens/Current request.
func TestKnownKindSkipsDiscovery(t *testing.T) {
	mux := http.NewServeMux()
	var current atomic.Int32
	mux.HandleFunc("GET /Advertisers/{sid}/ApiTokens/Current", func(w http.ResponseWriter, r *http.Request) {
		current.Add(1)
		writeJSON(w, 200, map[string]any{"AccountSid": testSid})
	})
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens/Current", func(w http.ResponseWriter, r *http.Request) {
		current.Add(1)
		writeErr(w, 404, "Not Found")
	})
	mux.HandleFunc("GET /Advertisers/{sid}/ApiScopes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"Categories": []any{}})
	})
	s := newStub(t, mux)
	c := newClient(t, s, func(o *Options) { o.Kind = "brand" })
	if _, err := c.Scopes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := current.Load(); n != 0 {
		t.Errorf("%d discovery requests, want 0", n)
	}
	if k, err := c.Kind(context.Background()); err != nil || k != "brand" {
		t.Errorf("Kind = %q, %v", k, err)
	}
	if _, err := New(Options{BaseURL: s.URL, AccountSid: testSid, AuthToken: testSecret, Kind: "partner"}); err == nil {
		t.Error("an unknown kind was accepted")
	}
}
