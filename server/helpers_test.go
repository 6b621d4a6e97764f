package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/api"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// testClock is a settable clock shared by the store and the limiters.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testRand is the deterministic source every test server draws SIDs and secrets from.
func testRand() io.Reader { return rand.NewChaCha8([32]byte{'i', 'm', 'p', 'a', 'c', 't'}) }

type testServer struct {
	t      testing.TB
	url    string
	st     service.Store
	clock  *testClock
	creds  map[string]Credential
	client *http.Client
}

type serverOption func(*httpapi.Options)

// newTestServer runs the real handler over a fresh demo database on httptest: SQLite,
// or PostgreSQL when IMPACTCTL_TEST_STORE=postgres (then every server test runs there).
func newTestServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	clock := &testClock{t: testEpoch}
	st := openTestStore(t, clock.Now)
	if err := Seed(context.Background(), st, envOf(st), true); err != nil {
		t.Fatal(err)
	}
	o := httpapi.Options{}
	for _, f := range opts {
		f(&o)
	}
	srv := httptest.NewServer(httpapi.New(st, envOf(st), o))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	creds, err := DemoCredentials(context.Background(), st, envOf(st), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{t: t, url: srv.URL, st: st, clock: clock, creds: creds,
		client: &http.Client{Transport: testTransport(t)}}
}

// openTestStore opens the store the server tests run on, over a fresh database.
func openTestStore(t testing.TB, now func() time.Time) service.Store {
	t.Helper()
	var st service.Store
	var err error
	if os.Getenv("IMPACTCTL_TEST_STORE") == "postgres" {
		st, err = store.OpenPostgresStore(context.Background(), testPostgres(t), filepath.Join(t.TempDir(), "test.key"),
			store.StoreOptions{Now: now})
	} else {
		st, err = store.OpenStore(context.Background(), filepath.Join(t.TempDir(), "test.db"), "", store.StoreOptions{Now: now})
	}
	if err != nil {
		t.Fatal(err)
	}
	withEnv(t, st, testRand(), now)
	return st
}

// exec runs one statement on the test server's database directly, behind the
// server's back; it is written with ? placeholders (see db).
func (ts *testServer) exec(query string, args ...any) {
	ts.t.Helper()
	db, query := ts.db(query)
	if _, err := db.Exec(query, args...); err != nil {
		ts.t.Fatal(err)
	}
	if c, ok := ts.st.(interface{ Changed() }); ok {
		c.Changed()
	}
}

// queryRow reads one row from the test server's database directly (see db).
func (ts *testServer) queryRow(query string, args ...any) *sql.Row {
	ts.t.Helper()
	db, query := ts.db(query)
	return db.QueryRow(query, args...)
}

// db is the test server's database handle, and query with its ? placeholders
// numbered for PostgreSQL.
func (ts *testServer) db(query string) (*sql.DB, string) {
	ts.t.Helper()
	switch st := ts.st.(type) {
	case *store.SQLiteStore:
		return st.DB, query
	case *store.PostgresStore:
		n := 0
		return st.DB, regexp.MustCompile(`\?`).ReplaceAllStringFunc(query, func(string) string {
			n++
			return "$" + strconv.Itoa(n)
		})
	}
	ts.t.Fatalf("no direct access to a %T", ts.st)
	return nil, ""
}

// openapiValidator loads api/openapi.yaml once for every test.
var openapiValidator = sync.OnceValues(api.NewValidator)

// testTransport is the one place every test request goes through: each exchange is
// checked against the contract. Deliberately off-contract requests carry api.SkipHeader
// (see offContract).
func testTransport(t testing.TB) http.RoundTripper {
	v, err := openapiValidator()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	return v.Transport(http.DefaultTransport, t)
}

// offContract are the headers that mark a request as deliberately outside the contract
// (a malformed SID, an unknown route); its answer is still checked.
var offContract = []string{api.SkipHeader, "1"}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// cred returns the demo credential of role, failing the test when it does not exist.
func (ts *testServer) cred(role string) Credential {
	ts.t.Helper()
	c, ok := ts.creds[role]
	if !ok {
		ts.t.Fatalf("no demo role %q", role)
	}
	return c
}

// req sends one request; body is JSON-encoded unless it is a string or nil; headers
// come in name, value pairs.
func (ts *testServer) req(method, path string, c Credential, body any, headers ...string) *response {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.AccountSid != "" {
		req.SetBasicAuth(c.AccountSid, c.AuthToken)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := ts.client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// get is req for a GET under the credential's own agency root.
func (ts *testServer) get(c Credential, rel string, headers ...string) *response {
	ts.t.Helper()
	return ts.req("GET", "/Agencies/"+c.AccountSid+rel, c, nil, headers...)
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// want fails the test unless the status is status.
func (r *response) want(t testing.TB, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// wantError checks an error answer's status, shape, and that its text mentions each of mentions.
func (r *response) wantError(t testing.TB, status int, mentions ...string) httpapi.ErrorBody {
	t.Helper()
	r.want(t, status)
	var e httpapi.ErrorBody
	r.decode(t, &e)
	if e.Status != "ERROR" || e.Code == "" || e.Message == "" || e.Errors == nil {
		t.Fatalf("error shape: %s", r.Body)
	}
	for _, m := range mentions {
		if !bytes.Contains(r.Body, []byte(m)) {
			t.Fatalf("error %s does not mention %q", r.Body, m)
		}
	}
	return e
}

// wantCode checks an error answer's status and Code.
func (r *response) wantCode(t testing.TB, status int, code contract.ErrorCode) httpapi.ErrorBody {
	t.Helper()
	e := r.wantError(t, status)
	if e.Code != code {
		t.Fatalf("Code %q, want %q: %s", e.Code, code, r.Body)
	}
	return e
}

// tokenJSON is a token as a test reads it.
type tokenJSON struct {
	AccountSid         string
	AuthToken          string
	Name               string
	Description        string
	State              string
	ApiVersion         int
	LatestApiVersion   int
	AuthTokenHint      string
	PrimaryContact     *service.UserBody
	DeveloperEmails    []string
	Scopes             []string
	DateCreated        string
	DateUpdated        string
	DateLastUsed       *string
	DateAuthTokenReset string
	Uri                string
	RateLimit          *httpapi.RateBody
}

type tokenList struct {
	Page        string `json:"@page"`
	NumPages    string `json:"@numpages"`
	PageSize    string `json:"@pagesize"`
	Total       string `json:"@total"`
	NextPageUri string `json:"@nextpageuri"`
	ApiTokens   []tokenJSON
}

// testClient is an HTTP client over testTransport, for tests that run Start.
func testClient(t testing.TB) *http.Client { return &http.Client{Transport: testTransport(t)} }

// testEnvs is the Env each store a test opened runs with, as the composition root
// builds it: one per store, so the SIDs and secrets drawn for it come from one
// sequence.
var testEnvs sync.Map // service.Store → *service.Env

// withEnv builds and records st's Env: the key st checked at open, random (nil:
// crypto/rand) and now (nil: time.Now).
func withEnv(t testing.TB, st service.Store, random io.Reader, now func() time.Time) *service.Env {
	t.Helper()
	env, err := envOver(st.(interface{ Key() []byte }), StoreOptions{Rand: random, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	testEnvs.Store(st, env)
	return env
}

// envOf is the Env withEnv recorded for st.
func envOf(st service.Store) *service.Env {
	env, ok := testEnvs.Load(st)
	if !ok {
		panic("envOf: no Env recorded for this store (withEnv)")
	}
	return env.(*service.Env)
}

// wrongSecret is secret with its first character changed: the same length and
// alphabet, never the secret itself (a fixed first character would be the secret
// once in 64).
func wrongSecret(secret string) string {
	if secret[0] == 'x' {
		return "y" + secret[1:]
	}
	return "x" + secret[1:]
}
