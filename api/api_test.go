package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const (
	agencySid = "IRa9Kd72LmQx4Tz8Wc1Vb6Nh3Jp5Rf0Ys2"
	tokenSid  = "IRt7Qw2Er9Ty4Ui1Op6As3Df8Gh5Jk0Lz2"
	secret    = "Xk4Jq9Lm2Wz7Pb1Vc8Nd3Rf6Th0Yg5Sa"
	root      = "/Agencies/" + agencySid
)

func newValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func token() map[string]any {
	return map[string]any{
		"AccountSid":         tokenSid,
		"Name":               "CI deploys",
		"Description":        "",
		"State":              "ENABLED",
		"ApiVersion":         2,
		"LatestApiVersion":   3,
		"AuthTokenHint":      "1a2b",
		"PrimaryContact":     map[string]any{"Id": "U100", "Name": "Ada Byron", "Email": "ada@example.com"},
		"DeveloperEmails":    []string{"dev@example.com"},
		"Scopes":             []string{"reports.read", "reports.export"},
		"DateCreated":        "2026-01-02T03:04:05Z",
		"DateUpdated":        "2026-01-02T03:04:05Z",
		"DateLastUsed":       nil,
		"DateAuthTokenReset": "2026-01-02T03:04:05Z",
		"Uri":                root + "/ApiTokens/" + tokenSid,
	}
}

func envelope(items ...map[string]any) map[string]any {
	if items == nil {
		items = []map[string]any{}
	}
	return map[string]any{
		"@page": "1", "@numpages": "1", "@pagesize": "100",
		"@total": fmt.Sprint(len(items)), "@nextpageuri": "",
		"ApiTokens": items,
	}
}

// apiError is an error answer; the contract fixes Code's presence, not its value.
func apiError(msg string) map[string]any {
	return map[string]any{"Status": "ERROR", "Code": "some_code", "Message": msg}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// stub answers a few routes by hand, the way the real server should.
func stub(t *testing.T) (*httptest.Server, *sync.Map) {
	t.Helper()
	seen := &sync.Map{} // path -> request headers and body the server saw
	mux := http.NewServeMux()
	record := func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.Store(r.Method+" "+r.URL.Path, struct {
			Header http.Header
			Body   string
		}{r.Header.Clone(), string(body)})
	}
	mux.HandleFunc("GET "+root+"/ApiTokens/{sid}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.PathValue("sid") != tokenSid {
			writeJSON(w, http.StatusNotFound, mustJSON(t, apiError("Not Found")))
			return
		}
		w.Header().Set("ETag", `"7"`)
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "999")
		w.Header().Set("X-RateLimit-Reset", "1740")
		writeJSON(w, http.StatusOK, mustJSON(t, token()))
	})
	mux.HandleFunc("GET "+root+"/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		writeJSON(w, http.StatusOK, mustJSON(t, envelope(token())))
	})
	mux.HandleFunc("PATCH "+root+"/ApiTokens/{sid}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("ETag", `"8"`)
		writeJSON(w, http.StatusOK, mustJSON(t, token()))
	})
	mux.HandleFunc("DELETE "+root+"/ApiTokens/{sid}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+root+"/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		tok := token()
		tok["AuthToken"] = secret
		tok["AuthTokenHint"] = secret[len(secret)-4:]
		w.Header().Set("Location", root+"/ApiTokens/"+tokenSid)
		w.Header().Set("ETag", `"1"`)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, mustJSON(t, tok))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.URL.Path == root+"/CompanyInformation" {
			w.Header().Set("Allow", "GET")
			writeJSON(w, http.StatusMethodNotAllowed, mustJSON(t, apiError("Method Not Allowed")))
			return
		}
		writeJSON(w, http.StatusNotFound, mustJSON(t, apiError("Not Found")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, seen
}

// recorder is a testing.TB that keeps what Transport reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func do(t *testing.T, c *http.Client, method, url string, body any, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(mustJSON(t, body))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(agencySid, secret)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestSpecLoadsAndValidates(t *testing.T) {
	v := newValidator(t)
	if len(Spec()) == 0 || v.doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi = %q", v.doc.OpenAPI)
	}
	// Spec hands out a copy: callers cannot change the contract.
	s := Spec()
	s[0] = 'X'
	if Spec()[0] == 'X' {
		t.Fatal("Spec returned the embedded bytes themselves")
	}
}

// TestDesignTable checks that every endpoint of the Token API's table is in the
// contract under each root that has it.
func TestDesignTable(t *testing.T) {
	v := newValidator(t)
	table := []string{
		"GET ApiTokens/Current",
		"GET CompanyInformation",
		"GET Advertisers",
		"GET Users",
		"GET ApiScopes",
		"GET ApiTokens",
		"GET ApiTokens/{Sid}",
		"GET ApiTokens/{Sid}/AuthToken",
		"POST ApiTokens",
		"POST ApiTokens/{Sid}/Duplicate",
		"PATCH ApiTokens/{Sid}",
		"POST ApiTokens/{Sid}/Reset",
		"POST ApiTokens/{Sid}/Disable",
		"POST ApiTokens/{Sid}/Enable",
		"DELETE ApiTokens/{Sid}",
		"PUT ApiTokens/{Sid}/Scopes",
		"DELETE ApiTokens/{Sid}/Scopes",
		"PUT ApiTokens/{Sid}/DeveloperEmails",
		"DELETE ApiTokens/{Sid}/PreviousAuthToken",
		"POST ApiTokens/Disable",
		"POST ApiTokens/Enable",
		"POST ApiTokens/Delete",
		"POST ApiTokens/Reset",
		"GET ApiTokens/{Sid}/Events",
		"GET ApiTokenEvents",
		// Beyond the table: one managed brand, beside the list.
		"GET Advertisers/{AdvertiserId}",
	}
	agencyOnly := func(p string) bool { return strings.HasPrefix(p, "Advertisers") }
	roots := map[string]func(path string) bool{
		"/Agencies/{AccountSid}":    func(string) bool { return true },
		"/Advertisers/{AccountSid}": func(p string) bool { return !agencyOnly(p) },
		"/Agencies/{AccountSid}/Advertisers/{AdvertiserId}": func(p string) bool {
			return !agencyOnly(p) && p != "ApiTokens/Current"
		},
	}
	want := 0
	for root, has := range roots {
		for _, entry := range table {
			method, path, _ := strings.Cut(entry, " ")
			if !has(path) {
				continue
			}
			want++
			item := v.doc.Paths.Value(root + "/" + path)
			if item == nil {
				t.Errorf("%s %s/%s: path missing", method, root, path)
				continue
			}
			if item.GetOperation(method) == nil {
				t.Errorf("%s %s/%s: method missing", method, root, path)
			}
		}
	}
	got := 0
	for _, item := range v.doc.Paths.Map() {
		got += len(item.Operations())
	}
	if got != want {
		t.Errorf("the contract has %d operations, the table %d", got, want)
	}
}

// TestOperationsAnswerErrors checks each operation's answers: the statuses the
// Token API names, each failure as the Error object.
func TestOperationsAnswerErrors(t *testing.T) {
	v := newValidator(t)
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", name)
			}
			want := []string{"400", "401", "403", "404", "413", "429"}
			if method != http.MethodGet {
				want = append(want, "409", "412")
			}
			if method == http.MethodPost {
				want = append(want, "422")
			}
			for _, status := range want {
				ref := op.Responses.Value(status)
				if ref == nil {
					t.Errorf("%s: no %s answer", name, status)
					continue
				}
				mt := ref.Value.Content.Get("application/json")
				if mt == nil || mt.Schema.Ref != "#/components/schemas/Error" {
					t.Errorf("%s: %s answer is not the Error object", name, status)
				}
			}
			if op.Responses.Value("429").Value.Headers["Retry-After"] == nil {
				t.Errorf("%s: 429 without Retry-After", name)
			}
		}
	}
}

func TestTransportPassesContractAnswers(t *testing.T) {
	v := newValidator(t)
	srv, seen := stub(t)
	c := &http.Client{Transport: v.Transport(nil, t)}

	resp, body := do(t, c, http.MethodGet, srv.URL+root+"/ApiTokens/"+tokenSid, nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"7"` {
		t.Fatalf("GET token: %d %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	var tok map[string]any
	if err := json.Unmarshal(body, &tok); err != nil || tok["AccountSid"] != tokenSid {
		t.Fatalf("the caller did not get the answer's body: %v %s", err, body)
	}

	resp, _ = do(t, c, http.MethodGet, srv.URL+root+"/ApiTokens?Page=1&PageSize=100&State=ENABLED&CreatedAfter=2026-01-01T00:00:00Z", nil, map[string]string{"IR-Version": "12"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", resp.StatusCode)
	}

	other := "IR" + strings.Repeat("x", 32)
	resp, _ = do(t, c, http.MethodGet, srv.URL+root+"/ApiTokens/"+other, nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}

	patch := map[string]any{"Name": "CI", "Description": nil, "PrimaryContactId": nil}
	resp, _ = do(t, c, http.MethodPatch, srv.URL+root+"/ApiTokens/"+tokenSid, patch, map[string]string{"If-Match": `"7"`})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("patch: %d", resp.StatusCode)
	}
	got, _ := seen.Load("PATCH " + root + "/ApiTokens/" + tokenSid)
	if sent := got.(struct {
		Header http.Header
		Body   string
	}).Body; sent != string(mustJSON(t, patch)) {
		t.Errorf("the server got body %q, want the request's", sent)
	}

	resp, _ = do(t, c, http.MethodDelete, srv.URL+root+"/ApiTokens/"+tokenSid, nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}

	create := map[string]any{"Name": "new", "Scopes": []string{"reports.*"}, "DeveloperEmails": []string{"a@example.com"}}
	resp, body = do(t, c, http.MethodPost, srv.URL+root+"/ApiTokens", create, map[string]string{"Idempotency-Key": "k-1"})
	if resp.StatusCode != http.StatusCreated || !bytes.Contains(body, []byte(secret)) {
		t.Fatalf("create: %d", resp.StatusCode)
	}

	// Deliberately off-contract requests: still sent, answers still checked.
	resp, _ = do(t, c, http.MethodGet, srv.URL+"/Nowhere", nil, map[string]string{SkipHeader: "1"})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown route: %d", resp.StatusCode)
	}
	got, _ = seen.Load("GET /Nowhere")
	if h := got.(struct {
		Header http.Header
		Body   string
	}).Header; h.Get(SkipHeader) != "" {
		t.Errorf("%s reached the server", SkipHeader)
	}
	req, _ := http.NewRequestWithContext(OffContract(t.Context()), http.MethodDelete, srv.URL+root+"/CompanyInformation", nil)
	req.SetBasicAuth(agencySid, secret)
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = r2.Body.Close()
	if r2.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("wrong method: %d", r2.StatusCode)
	}
	resp, _ = do(t, c, http.MethodGet, srv.URL+root+"/ApiTokens/IRshort", nil, map[string]string{SkipHeader: "1"})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("malformed SID: %d", resp.StatusCode)
	}
}

func TestTransportReportsMismatch(t *testing.T) {
	v := newValidator(t)
	srv, _ := stub(t)
	rec := &recorder{TB: t}
	c := &http.Client{Transport: v.Transport(nil, rec)}

	// Unknown route without the mark; a request the contract refuses.
	do(t, c, http.MethodGet, srv.URL+"/Nowhere", nil, nil)
	do(t, c, http.MethodGet, srv.URL+root+"/ApiTokens?PageSize=5000", nil, nil)
	if len(rec.errs) != 2 {
		t.Fatalf("reported %d mismatches, want 2: %q", len(rec.errs), rec.errs)
	}
	for _, e := range rec.errs {
		if !strings.HasPrefix(e, "contract: GET /") {
			t.Errorf("report %q does not name method and path", e)
		}
	}
	if !strings.Contains(rec.errs[1], "PageSize") || !strings.Contains(rec.errs[1], "-> 200") {
		t.Errorf("report %q does not name the parameter and status", rec.errs[1])
	}
}

// exchange builds one exchange for Check.
type exchange struct {
	method, path string
	header       http.Header
	reqBody      string
	status       int
	respHeader   http.Header
	respBody     any
}

func (x exchange) check(t *testing.T, v *Validator) error {
	t.Helper()
	req := httptest.NewRequest(x.method, "http://example.test"+x.path, strings.NewReader(x.reqBody))
	req.SetBasicAuth(agencySid, secret)
	maps.Copy(req.Header, x.header)
	if x.reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	h := http.Header{"Content-Type": {"application/json"}}
	maps.Copy(h, x.respHeader)
	var body []byte
	switch b := x.respBody.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		body = mustJSON(t, b)
	}
	resp := &http.Response{StatusCode: x.status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
	return v.Check(req, []byte(x.reqBody), resp, body)
}

func TestCheckAcceptsGoodExchanges(t *testing.T) {
	v := newValidator(t)
	etag := http.Header{"Etag": {`"3"`}}
	withSecret := token()
	withSecret["AuthToken"] = secret
	current := token()
	current["RateLimit"] = map[string]any{"Limit": 1000, "Remaining": 999, "Reset": 3599}
	current["UsingPreviousAuthToken"] = false
	unlimited := token()
	unlimited["RateLimit"] = map[string]any{"Limit": 0, "Remaining": 0, "Reset": 0}
	unlimited["UsingPreviousAuthToken"] = false
	for name, x := range map[string]exchange{
		"token":   {method: "GET", path: root + "/ApiTokens/" + tokenSid, status: 200, respHeader: etag, respBody: token()},
		"current": {method: "GET", path: root + "/ApiTokens/Current", status: 200, respHeader: etag, respBody: current},
		"current without limits": {method: "GET", path: "/Advertisers/" + agencySid + "/ApiTokens/Current", status: 200,
			respHeader: etag, respBody: unlimited},
		"filters": {method: "GET", path: root + "/ApiTokens?Name=CI&State=DISABLED&CreatedBefore=2026-01-02&LastUsedBefore=2026-01-02T03:04:05%2B02:00&ResetBefore=2026-01-02T03:04:05.123Z",
			status: 200, respBody: envelope()},
		"brand": {method: "GET", path: root + "/Advertisers/1048291", status: 200,
			respBody: map[string]any{"Id": "1048291", "Name": "Northwind", "State": "ACTIVE", "Currency": "USD"}},
		"brand token": {method: "GET", path: "/Advertisers/" + agencySid + "/ApiTokens/" + tokenSid,
			status: 200, respHeader: etag, respBody: token()},
		"passthrough list": {method: "GET", path: root + "/Advertisers/1048291/ApiTokens?Page=2", status: 200, respBody: envelope()},
		"reveal": {method: "GET", path: root + "/ApiTokens/" + tokenSid + "/AuthToken", status: 200,
			respHeader: http.Header{"Cache-Control": {"no-store"}},
			respBody:   map[string]any{"AccountSid": tokenSid, "AuthToken": secret}},
		"reset": {method: "POST", path: root + "/ApiTokens/" + tokenSid + "/Reset", status: 200,
			respHeader: http.Header{"Etag": {`"4"`}, "Cache-Control": {"no-store"}}, respBody: withSecret},
		"bulk": {method: "POST", path: root + "/ApiTokens/Disable", reqBody: `{"Sids":["` + tokenSid + `"]}`, status: 200,
			respBody: map[string]any{"Results": []any{
				map[string]any{"AccountSid": tokenSid, "Status": "OK", "StatusCode": 200, "Message": "", "ApiToken": token()},
			}}},
		"bulk error": {method: "POST", path: root + "/ApiTokens/Delete", reqBody: `{"Sids":["` + tokenSid + `"]}`, status: 200,
			respBody: map[string]any{"Results": []any{
				map[string]any{"AccountSid": tokenSid, "Status": "ERROR", "StatusCode": 404, "Message": "Not Found", "ApiToken": nil},
			}}},
		"scopes": {method: "PUT", path: root + "/ApiTokens/" + tokenSid + "/Scopes", reqBody: `{"Scopes":["reports.*","account.read"]}`,
			status: 200, respHeader: etag, respBody: token()},
		"catalog": {method: "GET", path: root + "/ApiScopes", status: 200, respBody: map[string]any{"Categories": []any{
			map[string]any{"Id": "reports", "Name": "Reports", "Scopes": []any{
				map[string]any{"Id": "reports.read", "Name": "Retrieve reports", "Method": "GET"}}}}}},
		"company": {method: "GET", path: root + "/CompanyInformation", status: 200,
			respBody: map[string]any{"CompanyName": "Nutt & Co.", "Anything": map[string]any{"else": true}}},
		"stale": {method: "PATCH", path: root + "/ApiTokens/" + tokenSid, header: http.Header{"If-Match": {`"2"`}},
			reqBody: `{"ApiVersion":3}`, status: 412, respBody: apiError("the token changed since it was read")},
		"rate limited": {method: "GET", path: root + "/Users", status: 429,
			respHeader: http.Header{"Retry-After": {"30"}}, respBody: apiError("Too Many Requests")},
		"validation": {method: "POST", path: root + "/ApiTokens", reqBody: `{"Name":"x"}`, status: 400,
			respBody: map[string]any{"Status": "ERROR", "Code": "bad_request", "Message": "Validation Failed",
				"Errors": []any{map[string]any{"Field": "Name", "Message": "already taken"}}}},
	} {
		if err := x.check(t, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCheckCatchesDrift(t *testing.T) {
	v := newValidator(t)
	etag := http.Header{"Etag": {`"3"`}}
	numberPage := envelope()
	numberPage["@page"] = 1
	noSid := token()
	delete(noSid, "AccountSid")
	leaky := token()
	leaky["AuthToken"] = secret
	badSecret := token()
	badSecret["AuthToken"] = secret + "!"
	for name, x := range map[string]exchange{
		"@page as a number": {method: "GET", path: root + "/ApiTokens", status: 200, respBody: numberPage},
		"no AccountSid":     {method: "GET", path: root + "/ApiTokens/" + tokenSid, status: 200, respHeader: etag, respBody: noSid},
		"no ETag":           {method: "GET", path: root + "/ApiTokens/" + tokenSid, status: 200, respBody: token()},
		"secret in a plain answer": {method: "GET", path: root + "/ApiTokens/" + tokenSid, status: 200,
			respHeader: etag, respBody: leaky},
		"secret without no-store": {method: "POST", path: root + "/ApiTokens/" + tokenSid + "/Reset", status: 200,
			respHeader: etag, respBody: leaky},
		"malformed secret": {method: "POST", path: root + "/ApiTokens/" + tokenSid + "/Reset", status: 200,
			respHeader: http.Header{"Etag": {`"4"`}, "Cache-Control": {"no-store"}}, respBody: badSecret},
		"created without Location": {method: "POST", path: root + "/ApiTokens", reqBody: `{"Name":"x"}`, status: 201,
			respHeader: http.Header{"Etag": {`"1"`}, "Cache-Control": {"no-store"}}, respBody: leaky},
		"undeclared status":  {method: "GET", path: root + "/Users", status: 500, respBody: apiError("boom")},
		"error not JSON":     {method: "GET", path: root + "/Users", status: 404, respHeader: http.Header{"Content-Type": {"text/plain"}}, respBody: "404 page not found\n"},
		"error shape":        {method: "GET", path: root + "/Users", status: 404, respBody: map[string]any{"error": "not found"}},
		"error without Code": {method: "GET", path: root + "/Users", status: 404, respBody: map[string]any{"Status": "ERROR", "Message": "Not Found"}},
		"204 with a body":    {method: "DELETE", path: root + "/ApiTokens/" + tokenSid, status: 204, respBody: token()},
		"429 no Retry-After": {method: "GET", path: root + "/Users", status: 429, respBody: apiError("slow down")},
		"unknown query":      {method: "GET", path: root + "/ApiTokens?pagesize=10", status: 200, respBody: envelope()},
		"unknown route":      {method: "GET", path: root + "/Nowhere", status: 404, respBody: apiError("Not Found")},
		"no credentials": {method: "GET", path: root + "/Users", header: http.Header{"Authorization": {""}},
			status: 401, respBody: apiError("Unauthorized")},
		"unknown PATCH field": {method: "PATCH", path: root + "/ApiTokens/" + tokenSid, reqBody: `{"State":"DISABLED"}`,
			status: 200, respHeader: etag, respBody: token()},
		"null Name": {method: "PATCH", path: root + "/ApiTokens/" + tokenSid, reqBody: `{"Name":null}`,
			status: 200, respHeader: etag, respBody: token()},
		"101 SIDs": {method: "POST", path: root + "/ApiTokens/Reset", reqBody: `{"Sids":[` + strings.Repeat(`"`+tokenSid+`",`, 100) + `"` + tokenSid + `"]}`,
			status: 400, respBody: apiError("Validation Failed")},
		"51 e-mails": {method: "PUT", path: root + "/ApiTokens/" + tokenSid + "/DeveloperEmails",
			reqBody: `{"Emails":[` + emails(51) + `]}`, status: 200, respHeader: etag, respBody: token()},
		"unmarked 405 without Allow": {method: "DELETE", path: root + "/CompanyInformation", status: 405,
			respBody: apiError("Method Not Allowed")},
		"bad date filter":           {method: "GET", path: root + "/ApiTokens?CreatedAfter=yesterday", status: 200, respBody: envelope()},
		"Current without RateLimit": {method: "GET", path: root + "/ApiTokens/Current", status: 200, respHeader: etag, respBody: token()},
		"null DateAuthTokenReset": {method: "GET", path: root + "/ApiTokens/" + tokenSid, status: 200, respHeader: etag,
			respBody: func() map[string]any { m := token(); m["DateAuthTokenReset"] = nil; return m }()},
		"trailing slash": {method: "GET", path: root + "/ApiTokens/", status: 200, respBody: envelope()},
		"Current on passthrough": {method: "GET", path: root + "/Advertisers/1048291/ApiTokens/Current",
			status: 200, respHeader: etag, respBody: token()},
	} {
		err := x.check(t, v)
		if err == nil {
			t.Errorf("%s: not caught", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the report holds the secret: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestOffContractAnswersStillChecked(t *testing.T) {
	v := newValidator(t)
	skip := http.Header{SkipHeader: {"1"}}
	good := map[string]exchange{
		"unknown route": {method: "GET", path: root + "/Nowhere", header: skip, status: 404, respBody: apiError("Not Found")},
		"405 with Allow": {method: "DELETE", path: root + "/CompanyInformation", header: skip, status: 405,
			respHeader: http.Header{"Allow": {"GET"}}, respBody: apiError("Method Not Allowed")},
		"page size over 1000": {method: "GET", path: root + "/ApiTokens?PageSize=5000", header: skip, status: 400,
			respBody: apiError("Validation Failed")},
		"no credentials": {method: "GET", path: root + "/Users", header: http.Header{SkipHeader: {"1"}, "Authorization": {""}},
			status: 401, respBody: apiError("Unauthorized")},
	}
	for name, x := range good {
		if err := x.check(t, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]exchange{
		"405 without Allow": {method: "DELETE", path: root + "/CompanyInformation", header: skip, status: 405,
			respBody: apiError("Method Not Allowed")},
		"unknown route, plain text": {method: "GET", path: "/Nowhere", header: skip, status: 404,
			respHeader: http.Header{"Content-Type": {"text/plain"}}, respBody: "not found"},
		"unknown route answered 200": {method: "GET", path: "/Nowhere", header: skip, status: 200, respBody: apiError("x")},
	}
	for name, x := range bad {
		if err := x.check(t, v); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}

func emails(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"dev%d@example.com"`, i)
	}
	return b.String()
}
