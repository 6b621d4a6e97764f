package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/store"
)

// The fuzz targets below send what a client may send to the real handler over a demo
// database, in-process. `go test` runs their seed corpora (testdata/fuzz/Fuzz…); a
// fuzzing run is
//
//	go test ./server -run '^$' -fuzz '^FuzzRequestBody$' -fuzztime 60s -parallel 1
//
// Each asserts properties that hold whatever the input: no 500 (a panic is answered
// 500 too), every refusal carries a Code and names the field it is about, a refused
// change changes nothing, and what an accepted change decoded is what the answer
// encodes.

// fuzzHarness is the handler over a fresh demo database, the admin token and the
// tokens the fuzzed requests address.
type fuzzHarness struct {
	t       testing.TB
	h       http.Handler
	admin   Credential
	target  string // an agency token the admin may change in every way
	brand   string // a managed brand's public ID, for the passthrough root
	created int
	tally   *tally
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	f.Helper()
	clock := &testClock{t: testEpoch}
	st, err := store.OpenStore(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), "", store.StoreOptions{Now: clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	withEnv(f, st, testRand(), clock.Now)
	if err := Seed(context.Background(), st, envOf(st), true); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	creds, err := DemoCredentials(context.Background(), st, envOf(st), "")
	if err != nil {
		f.Fatal(err)
	}
	fh := &fuzzHarness{t: f, h: httpapi.New(st, envOf(st), httpapi.Options{}), admin: creds["admin"], tally: newTally()}
	fh.brand = fh.managedBrand()
	fh.target = fh.newTarget()
	f.Cleanup(func() { fh.tally.log(f) })
	return fh
}

// do sends one request as the admin (unless headers say otherwise) and answers the
// recorded response.
func (fh *fuzzHarness) do(method, path string, body []byte, header http.Header) *response {
	req := httptest.NewRequest(method, "http://impactctl.test/", bytes.NewReader(body))
	req.URL.Path = path
	if u, err := url.Parse(path); err == nil {
		req.URL = u
	}
	req.RequestURI = req.URL.RequestURI()
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(fh.admin.AccountSid, fh.admin.AuthToken)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	fh.h.ServeHTTP(rec, req)
	return &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func (fh *fuzzHarness) root() string { return "/Agencies/" + fh.admin.AccountSid }

func (fh *fuzzHarness) managedBrand() string {
	res := fh.do("GET", fh.root()+"/Advertisers", nil, nil)
	var l struct{ Advertisers []httpapi.AdvertiserBody }
	if res.Status != 200 || json.Unmarshal(res.Body, &l) != nil || len(l.Advertisers) == 0 {
		fh.t.Fatalf("no managed brand: %d %s", res.Status, res.Body)
	}
	return l.Advertisers[0].Id
}

// newTarget creates a token for the fuzzed requests to address.
func (fh *fuzzHarness) newTarget() string {
	fh.created++
	body := fmt.Sprintf(`{"Name":"fuzz target %d","Scopes":["reports.read"],"DeveloperEmails":["fuzz@example.com"]}`, fh.created)
	res := fh.do("POST", fh.root()+"/ApiTokens", []byte(body), nil)
	var tok tokenJSON
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &tok) != nil {
		fh.t.Fatalf("creating a target: %d %s", res.Status, res.Body)
	}
	return tok.AccountSid
}

// state reads the target: its ETag and its body. A target a fuzzed request deleted
// is made anew.
func (fh *fuzzHarness) state() (etag, body string) {
	res := fh.do("GET", fh.root()+"/ApiTokens/"+fh.target, nil, nil)
	if res.Status == http.StatusNotFound {
		fh.target = fh.newTarget()
		res = fh.do("GET", fh.root()+"/ApiTokens/"+fh.target, nil, nil)
	}
	if res.Status != 200 {
		fh.t.Fatalf("reading the target: %d %s", res.Status, res.Body)
	}
	return res.Header.Get("ETag"), string(res.Body)
}

// etag is the target's state as one string, to tell whether anything changed.
func (fh *fuzzHarness) etag() string {
	tag, body := fh.state()
	return tag + " " + body
}

// writeEndpoint is a write of the contract and the body fields it reads.
type writeEndpoint struct {
	method, path string // path below the root; {tok} is the target
	fields       []string
}

var writeEndpoints = []writeEndpoint{
	{"POST", "ApiTokens", httpapi.CreateFields},
	{"POST", "ApiTokens/{tok}/Duplicate", httpapi.CreateFields},
	{"PATCH", "ApiTokens/{tok}", []string{"Name", "Description", "ApiVersion", "PrimaryContactId"}},
	{"POST", "ApiTokens/{tok}/Reset", nil},
	{"POST", "ApiTokens/{tok}/Disable", nil},
	{"POST", "ApiTokens/{tok}/Enable", nil},
	{"DELETE", "ApiTokens/{tok}", nil},
	{"PUT", "ApiTokens/{tok}/Scopes", []string{"Scopes"}},
	{"DELETE", "ApiTokens/{tok}/Scopes", nil},
	{"PUT", "ApiTokens/{tok}/DeveloperEmails", []string{"Emails"}},
	{"POST", "ApiTokens/Disable", []string{"Sids"}},
	{"POST", "ApiTokens/Enable", []string{"Sids"}},
	{"POST", "ApiTokens/Delete", []string{"Sids"}},
	{"POST", "ApiTokens/Reset", []string{"Sids"}},
}

// FuzzRequestBody sends any body to every write endpoint, on the agency root or the
// passthrough root. The body "$TARGET" inside is replaced by the target's SID, so
// the corpus can name it.
func FuzzRequestBody(f *testing.F) {
	fh := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, op uint8, passthrough bool, body []byte) {
		fh.t = t
		ep := writeEndpoints[int(op)%len(writeEndpoints)]
		root := fh.root()
		if passthrough {
			root += "/Advertisers/" + fh.brand // the target is not the brand's: 404, after the body checks
		}
		before := fh.etag()
		body = bytes.ReplaceAll(body, []byte("$TARGET"), []byte(fh.target))
		path := root + "/" + strings.ReplaceAll(ep.path, "{tok}", fh.target)
		res := fh.do(ep.method, path, body, nil)
		fh.tally.add(ep.method+" "+ep.path, res)
		checkAnswer(t, res)
		if res.Status >= 400 {
			checkRefusalField(t, res, body, ep.fields)
			if after := fh.etag(); after != before {
				t.Fatalf("%s %s refused with %d, yet the target changed:\n%s\n%s", ep.method, ep.path, res.Status, before, after)
			}
			return
		}
		checkEcho(t, ep, body, res)
	})
}

// checkAnswer holds for every answer: no 500, JSON in the API's shapes, and a refusal
// with a Code and a named field.
func checkAnswer(t *testing.T, res *response) {
	t.Helper()
	if res.Status >= 500 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	if res.Status == http.StatusNoContent {
		return
	}
	if !json.Valid(res.Body) {
		t.Fatalf("status %d with a body that is not JSON: %q", res.Status, res.Body)
	}
	if res.Status < 400 {
		return
	}
	var e httpapi.ErrorBody
	if err := json.Unmarshal(res.Body, &e); err != nil || e.Status != "ERROR" || e.Code == "" || e.Message == "" {
		t.Fatalf("refusal %d not in the error shape: %s", res.Status, res.Body)
	}
	if len(e.Errors) == 0 || e.Errors[0].Field == "" {
		t.Fatalf("refusal %d names no field: %s", res.Status, res.Body)
	}
}

// checkRefusalField holds for a 400: the field it names is the body, one of the
// endpoint's fields, or a field the body sent (an unknown one).
func checkRefusalField(t *testing.T, res *response, body []byte, fields []string) {
	t.Helper()
	if res.Status != http.StatusBadRequest {
		return
	}
	var e httpapi.ErrorBody
	json.Unmarshal(res.Body, &e)
	field := e.Errors[0].Field
	if field == "Body" || slices.Contains(fields, field) {
		return
	}
	var sent map[string]json.RawMessage
	if json.Unmarshal(body, &sent) == nil {
		if _, ok := sent[field]; ok {
			return
		}
	}
	t.Fatalf("400 names %q, which is neither the body, an endpoint field (%v) nor a sent one: %s", field, fields, res.Body)
}

// checkEcho holds for an accepted change: each field the server decoded is what its
// answer encodes.
func checkEcho(t *testing.T, ep writeEndpoint, body []byte, res *response) {
	t.Helper()
	if res.Status == http.StatusNoContent || !slices.Contains(ep.fields, "Name") && !slices.Contains(ep.fields, "Emails") {
		return
	}
	var sent map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &sent) != nil {
		return
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("answer: %v: %s", err, res.Body)
	}
	same := func(field, answer string) {
		v, ok := sent[field]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return
		}
		var a, b any
		json.Unmarshal(v, &a)
		json.Unmarshal(got[answer], &b)
		if !jsonEqual(a, b) {
			t.Fatalf("sent %s %s, the answer says %s: %s", field, v, got[answer], res.Body)
		}
	}
	same("Name", "Name")
	same("Description", "Description")
	same("ApiVersion", "ApiVersion")
	same("DeveloperEmails", "DeveloperEmails")
	same("Emails", "DeveloperEmails")
	if v, ok := sent["Description"]; ok && bytes.Equal(bytes.TrimSpace(v), []byte("null")) && string(got["Description"]) != `""` {
		t.Fatalf("Description null left %s", got["Description"])
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// listFilters are the query parameters of GET ApiTokens besides paging.
var listFilters = []string{"State", "Name", "CreatedAfter", "CreatedBefore", "LastUsedBefore", "ResetBefore", "ExpiresBefore"}

// FuzzListQuery sends any query to the three lists. A refusal names a parameter the
// list reads; a page answers what was asked, and its @nextpageuri keeps the filters.
func FuzzListQuery(f *testing.F) {
	fh := newFuzzHarness(f)
	lists := []string{"ApiTokens", "Users", "Advertisers"}
	f.Fuzz(func(t *testing.T, which uint8, rawQuery string) {
		fh.t = t
		if !validRequestTarget(rawQuery) {
			return // a server's request line parser refuses these before any handler
		}
		key := lists[int(which)%len(lists)]
		path := fh.root() + "/" + key
		res := fh.do("GET", path+"?"+rawQuery, nil, nil)
		fh.tally.add("GET "+key, res)
		checkAnswer(t, res)
		q, _ := url.ParseQuery(rawQuery)
		if res.Status >= 400 {
			if res.Status != http.StatusBadRequest {
				t.Fatalf("a list refused with %d: %s", res.Status, res.Body)
			}
			params := []string{"Page", "PageSize"}
			if key == "ApiTokens" {
				params = append(params, listFilters...)
			}
			var e httpapi.ErrorBody
			json.Unmarshal(res.Body, &e)
			if !slices.Contains(params, e.Errors[0].Field) {
				t.Fatalf("400 names %q, not a parameter of %s: %s", e.Errors[0].Field, key, res.Body)
			}
			return
		}
		var env struct {
			Page, PageSize, NumPages, Total, Next string
			Items                                 []json.RawMessage
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(res.Body, &raw); err != nil {
			t.Fatal(err)
		}
		for name, to := range map[string]*string{"@page": &env.Page, "@pagesize": &env.PageSize, "@numpages": &env.NumPages, "@total": &env.Total, "@nextpageuri": &env.Next} {
			if err := json.Unmarshal(raw[name], to); err != nil {
				t.Fatalf("%s: %v: %s", name, err, res.Body)
			}
		}
		if err := json.Unmarshal(raw[key], &env.Items); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		wantPage, wantSize := "1", "100"
		if v := q.Get("Page"); v != "" {
			wantPage = strings.TrimLeft(strings.TrimPrefix(v, "+"), "0")
		}
		if v := q.Get("PageSize"); v != "" {
			wantSize = strings.TrimLeft(strings.TrimPrefix(v, "+"), "0")
		}
		if env.Page != wantPage || env.PageSize != wantSize {
			t.Fatalf("asked Page %q PageSize %q, answered @page %s @pagesize %s", q.Get("Page"), q.Get("PageSize"), env.Page, env.PageSize)
		}
		if env.Next == "" {
			return
		}
		next, err := url.Parse(env.Next)
		if err != nil || next.Path != path || next.Host != "" {
			t.Fatalf("@nextpageuri %q does not stay on %s", env.Next, path)
		}
		nq := next.Query()
		for _, k := range listFilters {
			if nq.Get(k) != q.Get(k) {
				t.Fatalf("@nextpageuri %q loses %s=%q", env.Next, k, q.Get(k))
			}
		}
		res = fh.do("GET", env.Next, nil, nil)
		if res.Status != 200 {
			t.Fatalf("following @nextpageuri %q: %d %s", env.Next, res.Status, res.Body)
		}
	})
}

// validRequestTarget reports whether s can follow "?" in an HTTP request line.
func validRequestTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can be sent as a header value at all.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

// FuzzHeaders sends an edit with any Authorization, Content-Type, If-Match and
// Idempotency-Key. Each header is refused with its own status and field, and only a
// request every header allows changes anything.
func FuzzHeaders(f *testing.F) {
	fh := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, authMode uint8, auth, contentType, ifMatch, idemKey string) {
		fh.t = t
		for _, v := range []string{auth, contentType, ifMatch, idemKey} {
			if !validHeaderValue(v) {
				return
			}
		}
		etag, body0 := fh.state()
		before := etag + " " + body0
		h := http.Header{}
		goodAuth := true
		switch authMode % 4 {
		case 1:
			h.Set("Authorization", auth)
			goodAuth = false
		case 2:
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(fh.admin.AccountSid+":"+auth)))
			goodAuth = auth == fh.admin.AuthToken
		case 3:
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth+":"+fh.admin.AuthToken)))
			goodAuth = auth == fh.admin.AccountSid
		}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		if ifMatch != "" {
			h.Set("If-Match", ifMatch)
		}
		method, path, body := "PATCH", "/ApiTokens/"+fh.target, []byte(`{"Description":"edited under fuzzed headers"}`)
		if idemKey != "" {
			// Keys matter on POSTs: a disable, whose retry is a no-op.
			h.Set("Idempotency-Key", idemKey)
			method, path, body = "POST", "/ApiTokens/"+fh.target+"/Disable", []byte(`{}`)
		}
		res := fh.do(method, fh.root()+path, body, h)
		fh.tally.add("headers", res)
		checkAnswer(t, res)
		var e httpapi.ErrorBody
		json.Unmarshal(res.Body, &e)
		field := ""
		if len(e.Errors) > 0 {
			field = e.Errors[0].Field
		}
		switch {
		case !goodAuth:
			if res.Status != http.StatusUnauthorized || field != "Authorization" {
				t.Fatalf("bad credentials answered %d (%s): %s", res.Status, field, res.Body)
			}
		case contentType != "" && !httpapi.IsJSONMediaType(contentType):
			if res.Status != http.StatusUnsupportedMediaType || field != "Content-Type" {
				t.Fatalf("Content-Type %q answered %d: %s", contentType, res.Status, res.Body)
			}
		case idemKey != "" && (len(idemKey) > 255 || !httpapi.PrintableASCII(idemKey)):
			if res.Status != http.StatusBadRequest || field != "Idempotency-Key" {
				t.Fatalf("Idempotency-Key %q answered %d: %s", idemKey, res.Status, res.Body)
			}
		case res.Status == http.StatusPreconditionFailed:
			if field != "If-Match" || ifMatchAllows(ifMatch, etag) {
				t.Fatalf("If-Match %q against %s answered 412 naming %q", ifMatch, etag, field)
			}
		case res.Status == http.StatusOK:
			if !ifMatchAllows(ifMatch, etag) && res.Header.Get("Idempotent-Replayed") == "" {
				t.Fatalf("If-Match %q against %s was let through", ifMatch, etag)
			}
			return
		default:
			t.Fatalf("status %d naming %q: %s", res.Status, field, res.Body)
		}
		if after := fh.etag(); after != before {
			t.Fatalf("refused with %d, yet the target changed", res.Status)
		}
	})
}

// ifMatchAllows is the rule an If-Match follows: none, "*", or a list holding the
// current tag (weak or strong).
func ifMatchAllows(im, etag string) bool {
	im = strings.TrimSpace(im)
	if im == "" || im == "*" {
		return true
	}
	for _, tag := range strings.Split(im, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}

// tally counts answers by endpoint, status and Code, for the figures in
// docs/RELIABILITY.md: `go test ./server -run 'Fuzz' -v` prints them for the seeds.
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func newTally() *tally { return &tally{n: map[string]int{}} }

func (tl *tally) add(what string, res *response) {
	var e httpapi.ErrorBody
	json.Unmarshal(res.Body, &e)
	key := fmt.Sprintf("%d", res.Status)
	if e.Code != "" {
		key += " " + string(e.Code)
		if len(e.Errors) > 0 {
			key += " (" + e.Errors[0].Field + ")"
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.n[what+" → "+key]++
}

func (tl *tally) log(t testing.TB) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	keys := make([]string, 0, len(tl.n))
	total := 0
	for k, n := range tl.n {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%5d  %s", tl.n[k], k)
	}
	t.Logf("%5d  inputs in all", total)
}
