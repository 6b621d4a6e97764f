package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pagedMux serves n pages of two tokens each under the agency root.
func pagedMux(n int) *http.ServeMux {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("Page"))
		p = max(p, 1)
		next := ""
		if p < n {
			next = fmt.Sprintf("/Agencies/%s/ApiTokens?Page=%d&PageSize=2", testSid, p+1)
		}
		writeJSON(w, 200, map[string]any{"@page": strconv.Itoa(p), "@numpages": strconv.Itoa(n), "@nextpageuri": next,
			"ApiTokens": []any{tokenJSON(fmt.Sprintf("IR%da", p), "x"), tokenJSON(fmt.Sprintf("IR%db", p), "y")}})
	})
	return mux
}

// waitFor polls until cond holds, failing the test after a generous
// bound: it checks that something happens, never how fast.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func TestPagingPagesAhead(t *testing.T) {
	s := newStub(t, pagedMux(5))
	c := newClient(t, s)
	pages := func() int { return s.count("GET /Agencies/" + testSid + "/ApiTokens?") }
	n := 0
	for tok, err := range c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 1 {
			// While page 1 is being written, pages 2 and 3 are asked
			// for (the first page said there are five)...
			waitFor(t, "pages 2 and 3 asked for while page 1 is written", func() bool { return pages() == 1+pagesAhead })
			// ...and no page after them: the reader waits for the writer.
			time.Sleep(20 * time.Millisecond)
			if got := pages(); got != 1+pagesAhead {
				t.Errorf("%d pages asked for while the first is written, want %d", got, 1+pagesAhead)
			}
		}
		if tok.AccountSid == "" {
			t.Fatal("empty token")
		}
	}
	if n != 10 || pages() != 5 {
		t.Errorf("%d tokens from %d pages, want 10 from 5", n, pages())
	}
}

func TestPagingStopsEarly(t *testing.T) {
	s := newStub(t, pagedMux(5))
	c := newClient(t, s)
	pages := func() int { return s.count("GET /Agencies/" + testSid + "/ApiTokens?") }

	// A limit that a page fills asks for no page after it.
	got, err := collect(t, c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2, Limit: 4}}))
	if err != nil || len(got) != 4 {
		t.Fatalf("limit 4: %d tokens, %v", len(got), err)
	}
	if n := pages(); n != 2 {
		t.Errorf("limit 4 at 2 a page: %d page requests, want 2", n)
	}

	// A caller that stops leaves nothing running: the iterator returns
	// once the page read ahead is done or abandoned.
	before := pages()
	for range c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2}}) {
		break
	}
	time.Sleep(20 * time.Millisecond)
	if n := pages() - before; n > 1+pagesAhead {
		t.Errorf("stopping after one token: %d page requests, want at most %d", n, 1+pagesAhead)
	}
}

func TestTokensJSONSameAsEncoding(t *testing.T) {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Items as encoding/json writes a Token (passed through), and
		// items it would write otherwise (decoded and encoded).
		fmt.Fprint(w, `{"@page":"1","@nextpageuri":"","ApiTokens":[`+
			strings.Join([]string{canonicalToken, `{"Name":"unknown field first","AccountSid":"IR2","X":1}`,
				`{ "AccountSid" : "IR3" }`, `{"AccountSid":"IR4","Name":"caf\u00e9 \/ <b>"}`, `null`}, ",")+`]}`)
	})
	s := newStub(t, mux)
	c := newClient(t, s)
	var raws []string
	for b, err := range c.TokensJSON(context.Background(), TokenListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, string(b))
	}
	toks, err := collect(t, c.Tokens(context.Background(), TokenListOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) != 5 || len(toks) != 5 {
		t.Fatalf("%d and %d items", len(raws), len(toks))
	}
	for i, tok := range toks {
		want, err := encode(tok)
		if err != nil {
			t.Fatal(err)
		}
		if raws[i] != string(want) {
			t.Errorf("item %d:\n got %s\nwant %s", i, raws[i], want)
		}
	}
	if raws[0] != canonicalToken {
		t.Errorf("a token already in encoding/json's form changed: %s", raws[0])
	}
}

// canonicalToken is a Token as encoding/json writes it, unusual characters
// included.
const canonicalToken = `{"AccountSid":"IR1","Name":"A \"quoted\" <name> & é ☃ \\ \b\f\n\r\t\u0001\u001f\u2028\u2029","Description":"","State":"ENABLED",` +
	`"ApiVersion":-2,"LatestApiVersion":0,"AuthTokenHint":"1a2b","PrimaryContact":{"Id":"U1","Name":"Ada","Email":"a@example.com"},` +
	`"DeveloperEmails":null,"Scopes":[],"DateCreated":"2026-01-02T03:04:05Z","DateUpdated":"","DateLastUsed":null,` +
	`"DateAuthTokenReset":"2026-01-02T03:04:05Z","ExpiresAt":null,"PreviousAuthTokenExpiresAt":null,"PreviousAuthTokenLastUsed":null,"Uri":"/x","AuthToken":"s3cr3t"}`

func TestShapeEncodes(t *testing.T) {
	sh := shapeFor[*Token]()
	canonical := []string{
		canonicalToken,
		`null`,
		`{"AccountSid":"","Name":"","Description":"","State":"","ApiVersion":0,"LatestApiVersion":0,"AuthTokenHint":"","PrimaryContact":null,"DeveloperEmails":["a@b.c","d"],"Scopes":null,"DateCreated":"","DateUpdated":"","DateLastUsed":"2026-01-01T00:00:00Z","DateAuthTokenReset":null,"ExpiresAt":"2026-02-01T00:00:00Z","PreviousAuthTokenExpiresAt":null,"PreviousAuthTokenLastUsed":null,"Uri":""}`,
	}
	for _, c := range canonical {
		if !sh.encodes([]byte(c)) {
			t.Errorf("not vouched for: %s", c)
		}
	}
	replace := func(old, new string) string {
		if !strings.Contains(canonicalToken, old) {
			t.Fatalf("no %q in the token", old)
		}
		return strings.Replace(canonicalToken, old, new, 1)
	}
	others := []string{
		replace(`"Name":"A`, `"name":"A`),                         // a key in another case
		replace(`"State":"ENABLED",`, ``),                         // a field missing
		replace(`"State":"ENABLED",`, `"State":"ENABLED","X":1,`), // a field unknown
		replace(`"State":"ENABLED",`, `"Description":"d",`),       // a field twice
		replace(`,"AuthToken":"s3cr3t"`, `,"AuthToken":""`),       // an empty omitempty
		replace(`"ApiVersion":-2`, `"ApiVersion":2.0`),
		replace(`"ApiVersion":-2`, `"ApiVersion":-0`),
		replace(`"ApiVersion":-2`, `"ApiVersion":1e1`),
		replace(`"ApiVersion":-2`, `"ApiVersion":"2"`),
		replace(`"ApiVersion":-2`, `"ApiVersion":99999999999999999999`),
		replace(`"Description":""`, `"Description":null`),
		replace(`"Id":"U1"`, `"Id":1`),
		replace(`"Uri":"/x"`, `"Uri":"\/x"`),
		replace(`"Uri":"/x"`, `"Uri":"\u002fx"`),
		replace(`\u0001`, `\u0008`),
		replace(`\u001f`, `\u001F`),
		replace(`\u2028`, "\u2028"),
		replace(`é`, `\u00e9`),
		replace(`é`, "\xe9"),
		replace(`é`, `\ud800`),
		replace(`☃`, `\ufffd`),
		replace(`"Scopes":[]`, `"Scopes":[ ]`),
		replace(`"Scopes":[]`, `"Scopes":[1]`),
		replace(`{"AccountSid"`, `{ "AccountSid"`),
		replace(`"Name":"A`, `"Name" :"A`),
		canonicalToken + " ",
		`{}`,
		`[]`,
		`"x"`,
		``,
	}
	for _, o := range others {
		if sh.encodes([]byte(o)) {
			t.Errorf("vouched for: %s", o)
		}
		checkShape(t, sh, []byte(o))
	}
}

// checkShape fails when the shape vouches for b and encoding the *Token b
// decodes to writes anything but b.
func checkShape(t *testing.T, sh *shape, b []byte) {
	t.Helper()
	if !sh.encodes(b) {
		return
	}
	var tok *Token
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatalf("vouched for %q, which does not decode: %v", b, err)
	}
	got, err := encode(tok)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(b) {
		t.Fatalf("vouched for %q, which encodes as %q", b, got)
	}
}

func FuzzShapeEncodes(f *testing.F) {
	f.Add([]byte(canonicalToken))
	f.Add([]byte(`{"AccountSid":"IR1","Name":"x\u00e9\/"}`))
	f.Add([]byte(`null`))
	sh := shapeFor[*Token]()
	f.Fuzz(func(t *testing.T, b []byte) { checkShape(t, sh, b) })
}

func TestShapeOfUnknownTypes(t *testing.T) {
	if k := shapeOf(reflect.TypeFor[Advertiser]()).kind; k != kindNone {
		t.Errorf("Advertiser, which writes its own JSON: kind %d", k)
	}
	if k := shapeOf(reflect.TypeFor[CurrentToken]()).kind; k != kindNone {
		t.Errorf("CurrentToken, with an embedded struct and a RateLimit that reads its own JSON: kind %d", k)
	}
	if k := shapeOf(reflect.TypeFor[struct {
		N float64
	}]()).kind; k != kindNone {
		t.Errorf("a float: kind %d", k)
	}
}

// decodePageStd is decodePage as encoding/json alone would do it.
func decodePageStd(body []byte, key string) (*page, []json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, nil, err
	}
	var env page
	if err := json.Unmarshal(body, &env); err != nil {
		env = page{}
		if raw, ok := fields["@nextpageuri"]; ok {
			_ = json.Unmarshal(raw, &env.Next)
		}
	}
	raw, ok := fields[key]
	if !ok {
		var found []string
		for k, v := range fields {
			if !strings.HasPrefix(k, "@") && len(v) > 0 && v[0] == '[' {
				found = append(found, k)
			}
		}
		if len(found) != 1 {
			return nil, nil, fmt.Errorf("no %s in the answer", key)
		}
		raw = fields[found[0]]
	}
	var items []json.RawMessage
	if string(raw) != "null" {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, nil, err
		}
	}
	return &env, items, nil
}

func checkDecodePage(t *testing.T, body []byte) {
	t.Helper()
	env, items, err := decodePage(body, "ApiTokens")
	wenv, witems, werr := decodePageStd(body, "ApiTokens")
	if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
		t.Fatalf("%q: error %v, want %v", body, err, werr)
	}
	if err != nil {
		return
	}
	if *env != *wenv {
		t.Fatalf("%q: envelope %+v, want %+v", body, *env, *wenv)
	}
	if len(items) != len(witems) {
		t.Fatalf("%q: %d items, want %d", body, len(items), len(witems))
	}
	for i := range items {
		if string(items[i]) != string(witems[i]) {
			t.Fatalf("%q: item %d is %q, want %q", body, i, items[i], witems[i])
		}
	}
}

var pageBodies = []string{
	`{"@page":"1","@numpages":"3","@pagesize":"2","@total":"5","@nextpageuri":"/x?Page=2","ApiTokens":[{"AccountSid":"IR1"},{"AccountSid":"IR2"}]}`,
	` { "@page" : 2 , "@NextPageUri":"/y", "ApiTokens" : [ {"a":[1,{"b":"]}\"\\"}]} , "s]" , 1.5e3 , null , true , [] ] } `,
	`{"@page":"x","@nextpageuri":"/z","ApiTokens":[]}`,
	`{"@page":{},"ApiTokens":null}`,
	`{"Items":[{"x":1}],"@nextpageuri":""}`,
	`{"A":[1],"B":[2]}`,
	`{"ApiTokens":[1],"ApiTokens":[2,3]}`,
	`{"ApiTokens":{"x":1}}`,
	`{"Api\u0054okens":["\u00e9"],"\u0040nextpageuri":"/n"}`,
	`{"ApiTokens":[1,]}`,
	`{"ApiTokens":[1]`,
	`[]`,
	`null`,
	``,
	`{}`,
	"{\"ApiTokens\":[\"\xff\"],\"\xff\":1}",
}

func TestDecodePageAsEncodingJSON(t *testing.T) {
	for _, b := range pageBodies {
		checkDecodePage(t, []byte(b))
	}
}

func FuzzDecodePageAsEncodingJSON(f *testing.F) {
	for _, b := range pageBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(checkDecodePage)
}

func TestPagingReportsCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Page") == "2" {
			// Ctrl-C while page 2, read ahead, is on its way.
			cancel()
			<-r.Context().Done()
			return
		}
		writeJSON(w, 200, map[string]any{"@nextpageuri": "/Agencies/" + testSid + "/ApiTokens?Page=2",
			"ApiTokens": []any{tokenJSON("IR1", "x")}})
	})
	c := newClient(t, newStub(t, mux))
	got, err := collect(t, c.Tokens(ctx, TokenListOptions{}))
	if len(got) != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("%d tokens, error %v; want 1 and the cancellation", len(got), err)
	}
}
