package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
)

// TestErrorCodes walks one request to each kind of refusal and checks the Code (and,
// for scope refusals, the Scope) clients decide on.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) { o.RateLimit = Rate{N: 1000, Per: time.Hour} })
	admin, writer, ro, disabled := ts.cred("admin"), ts.cred("writer"), ts.cred("readonly"), ts.cred("disabled")
	root := "/Agencies/" + admin.AccountSid

	ts.req("GET", root+"/ApiTokens?Page=0", admin, nil, offContract...).wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
	bad := admin
	bad.AuthToken = strings.Repeat("a", 32)
	ts.get(bad, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.get(disabled, "/ApiTokens/Current").wantCode(t, http.StatusForbidden, contract.CodeTokenDisabled)

	e := ts.get(ro, "/Users").wantCode(t, http.StatusForbidden, contract.CodeMissingScope)
	if e.Scope != service.ScopeUsersRead {
		t.Fatalf("missing_scope names %q, want %q", e.Scope, service.ScopeUsersRead)
	}
	e = ts.req("POST", tokenPath(writer, admin.AccountSid)+"/Disable", writer, nil).
		wantCode(t, http.StatusForbidden, contract.CodeEscalation)
	if e.Scope != service.ScopeAccountRead {
		t.Fatalf("escalation names %q, want %q", e.Scope, service.ScopeAccountRead)
	}
	e = ts.req("PUT", tokenPath(writer, ro.AccountSid)+"/Scopes", writer, map[string]any{"Scopes": []string{"jobs.read"}}).
		wantCode(t, http.StatusForbidden, contract.CodeEscalation)
	if e.Scope != "jobs.read" {
		t.Fatalf("escalation names %q, want jobs.read", e.Scope)
	}

	ts.get(admin, "/ApiTokens/IR"+strings.Repeat("x", 32)).wantCode(t, http.StatusNotFound, contract.CodeNotFound)
	ts.req("GET", "/Nowhere", admin, nil, offContract...).wantCode(t, http.StatusNotFound, contract.CodeNotFound)
	ts.req("DELETE", root+"/ApiScopes", admin, nil, offContract...).wantCode(t, http.StatusMethodNotAllowed, contract.CodeMethodNotAllowed)

	a2 := ts.cred("agency2-admin")
	ts.req("POST", tokenPath(a2, a2.AccountSid)+"/Disable", a2, nil).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)

	ts.req("PATCH", tokenPath(admin, ro.AccountSid), admin, map[string]any{"Name": "x"}, "If-Match", `"999"`).
		wantCode(t, http.StatusPreconditionFailed, contract.CodeStaleETag)

	ts.req("POST", root+"/ApiTokens", admin, map[string]any{"Name": "k"}, "Idempotency-Key", "k1").want(t, http.StatusCreated)
	ts.req("POST", root+"/ApiTokens", admin, map[string]any{"Name": "other"}, "Idempotency-Key", "k1").
		wantCode(t, http.StatusUnprocessableEntity, contract.CodeIdempotencyMismatch)

	reset := tokenPath(admin, ro.AccountSid) + "/Reset"
	ts.req("POST", reset, admin, nil, "Idempotency-Key", "r1").want(t, http.StatusOK)
	ts.req("POST", reset, admin, nil, "Idempotency-Key", "r2").want(t, http.StatusOK)
	ts.req("POST", reset, admin, nil, "Idempotency-Key", "r1").wantCode(t, http.StatusConflict, contract.CodeConflict)

	big := `{"Name":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`
	ts.req("POST", root+"/ApiTokens", admin, big, offContract...).wantCode(t, http.StatusRequestEntityTooLarge, contract.CodePayloadTooLarge)

	// A bulk result carries the single call's Code, Scope and Errors.
	var bulk struct{ Results []httpapi.BulkResult }
	ts.req("POST", "/Agencies/"+writer.AccountSid+"/ApiTokens/Disable", writer, map[string]any{"Sids": []string{admin.AccountSid, "IR" + strings.Repeat("y", 32)}}).
		want(t, http.StatusOK).decode(t, &bulk)
	if len(bulk.Results) != 2 {
		t.Fatalf("results %+v", bulk.Results)
	}
	if r := bulk.Results[0]; r.Code != contract.CodeEscalation || r.Scope != service.ScopeAccountRead || len(r.Errors) == 0 {
		t.Fatalf("bulk escalation %+v", r)
	}
	if r := bulk.Results[1]; r.Code != contract.CodeNotFound || r.StatusCode != http.StatusNotFound || len(r.Errors) == 0 {
		t.Fatalf("bulk not found %+v", r)
	}
}

func TestRateCodes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) {
		o.RateLimit = Rate{N: 1, Per: time.Hour}
		o.AuthFailLimit = Rate{N: 1, Per: time.Minute}
	})
	admin := ts.cred("admin")
	ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.get(admin, "/ApiTokens/Current").wantCode(t, http.StatusTooManyRequests, contract.CodeRateLimited)
	bad := admin
	bad.AuthToken = strings.Repeat("a", 32)
	ts.get(bad, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.get(admin, "/ApiTokens/Current").wantCode(t, http.StatusTooManyRequests, contract.CodeAuthFailLimited)
}

func TestInternalErrorCode(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	ts.st.Close() // every query now fails
	// 500 is outside the contract's documented answers: a plain client.
	ts.client = http.DefaultClient
	ts.get(admin, "/ApiTokens/Current").wantCode(t, http.StatusInternalServerError, contract.CodeInternal)
}
