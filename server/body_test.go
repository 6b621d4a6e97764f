package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
)

// TestBodyChecks: invisible characters, invalid UTF-8 and lone surrogates are 400; a
// body that is not JSON is 415; nothing is created by any of them.
func TestBodyChecks(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	root := "/Agencies/" + admin.AccountSid
	create := root + "/ApiTokens"
	patch := tokenPath(admin, ts.cred("readonly").AccountSid)

	for _, tc := range []struct {
		name, method, path, body, field string
	}{
		{"zero width space in a name", "POST", create, `{"Name":"adm\u200bin"}`, "Name"},
		{"byte order mark in a name", "PATCH", patch, `{"Name":"\ufeffadmin"}`, "Name"},
		{"hangul filler", "POST", create, `{"Name":"\u3164"}`, "Name"},
		{"variation selector in a description", "PATCH", patch, `{"Description":"ok\ufe0f"}`, "Description"},
		{"bidi override", "POST", create, `{"Name":"abc\u202etxt"}`, "Name"},
		{"line separator", "POST", create, `{"Name":"a\u2028b"}`, "Name"},
		{"private use", "POST", create, `{"Name":"a\ue000"}`, "Name"},
		{"invisible in an e-mail", "PUT", patch + "/DeveloperEmails", `{"Emails":["dev@exa\u200bmple.com"]}`, "Emails"},
		{"invisible in a bulk SID", "POST", root + "/ApiTokens/Disable", `{"Sids":["IR\u200b"]}`, "Sids"},
		{"invalid UTF-8", "POST", create, "{\"Name\":\"adm\xffin\"}", "Body"},
		{"invalid UTF-8 outside strings", "POST", create, "{\"Name\":\"admin\"}\xff", "Body"},
		{"lone high surrogate", "POST", create, `{"Name":"a\ud800b"}`, "Body"},
		{"lone low surrogate", "PATCH", patch, `{"Name":"a\udc00"}`, "Body"},
		{"high surrogate at the end", "POST", create, `{"Name":"a\ud800"}`, "Body"},
		{"reversed pair", "POST", create, `{"Name":"\udc00\ud800"}`, "Body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ts.req(tc.method, tc.path, admin, tc.body, offContract...).wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
			if len(e.Errors) != 1 || e.Errors[0].Field != tc.field {
				t.Fatalf("field %+v, want %s", e.Errors, tc.field)
			}
		})
	}

	// What is fine stays fine: a surrogate pair, an escaped backslash before "ud800".
	var tok tokenJSON
	ts.req("POST", create, admin, `{"Name":"smile \ud83d\ude00","Description":"path C:\\ud800"}`).
		want(t, http.StatusCreated).decode(t, &tok)
	if tok.Name != "smile 😀" || tok.Description != `path C:\ud800` {
		t.Fatalf("decoded %q %q", tok.Name, tok.Description)
	}

	// Only application/json is a body (415), checked before its size and content.
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx"} {
		e := ts.req("POST", create, admin, `{"Name":"typed"}`, append(offContract, "Content-Type", ct)...).
			wantCode(t, http.StatusUnsupportedMediaType, contract.CodeUnsupportedMediaType)
		if e.Errors[0].Field != "Content-Type" {
			t.Fatalf("415 names %+v", e.Errors)
		}
	}
	big := `{"Name":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`
	ts.req("POST", create, admin, big, append(offContract, "Content-Type", "text/plain")...).
		wantCode(t, http.StatusUnsupportedMediaType, contract.CodeUnsupportedMediaType)
	ts.req("POST", create, admin, `{"Name":"charset"}`, "Content-Type", "application/json; charset=UTF-8").want(t, http.StatusCreated)
	// No body, no Content-Type needed; nor for a chunked body that turns out empty.
	ts.req("POST", patch+"/Disable", admin, nil).want(t, http.StatusOK)
	h := httpapi.New(ts.st, envOf(ts.st), httpapi.Options{})
	for body, want := range map[string]int{"": http.StatusOK, "{}": http.StatusUnsupportedMediaType} {
		req := httptest.NewRequest("POST", patch+"/Enable", unsized{strings.NewReader(body)})
		req.ContentLength = -1
		req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("chunked body %q without Content-Type: %d %s", body, rec.Code, rec.Body)
		}
	}

	var l tokenList
	ts.get(admin, "/ApiTokens?PageSize=1000").want(t, http.StatusOK).decode(t, &l)
	for _, tok := range l.ApiTokens {
		if tok.Name == "typed" || strings.ContainsAny(tok.Name, "\u200b\ufeff\u3164\ufffd") {
			t.Fatalf("a refused body created %q", tok.Name)
		}
	}
}

// TestBodyChecksFollowAuthentication: the body is looked at only after the caller is
// known and has budget, so an unauthenticated caller learns nothing from it.
func TestBodyChecksFollowAuthentication(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	bad := admin
	bad.AuthToken = strings.Repeat("a", 32)
	create := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	ts.req("POST", create, bad, "x", append(offContract, "Content-Type", "text/plain")...).wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	big := `{"Name":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`
	ts.req("POST", create, bad, big, offContract...).wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.req("POST", "/Agencies/"+ro.AccountSid+"/ApiTokens", ro, "x", append(offContract, "Content-Type", "text/plain")...).
		wantCode(t, http.StatusForbidden, contract.CodeMissingScope)
}

func TestLoneSurrogate(t *testing.T) {
	for in, want := range map[string]bool{
		`"a"`:                               false,
		`"\ud83d\ude00"`:                    false,
		`"\uD83D\uDE00"`:                    false,
		`"\\ud800"`:                         false,
		`"\\\ud800"`:                        true,
		`"\ud800"`:                          true,
		`"\udfff"`:                          true,
		`"\ud800\u0041"`:                    true,
		`"\ud800\n"`:                        true,
		`"\ud800\ud800\udc00"`:              true,
		`"\u0041\"\ud800"`:                  true,
		`"\u12"`:                            false, // malformed: the decoder's to refuse
		`{"a":"\ud800\udc00","b":"\udc00"}`: true,
	} {
		if got := httpapi.HasLoneSurrogate([]byte(in)); got != want {
			t.Errorf("hasLoneSurrogate(%s) = %v, want %v", in, got, want)
		}
	}
}
