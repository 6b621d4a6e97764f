package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// scopesOf reads a token's scopes.
func (ts *testServer) scopesOf(c Credential, sid string) []string {
	ts.t.Helper()
	tok, _ := ts.token(c, sid)
	return tok.Scopes
}

// TestLastManagerEveryScope: the last token holding apitokens.write and every scope
// of its account cannot be deleted, disabled or de-scoped, alone or in bulk; a
// writer without every scope does not count (it could not manage a reports.* token).
func TestLastManagerEveryScope(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, writer := ts.cred("admin"), ts.cred("writer")
	self := tokenPath(admin, admin.AccountSid)

	ts.req("DELETE", self, admin, nil).wantError(t, http.StatusConflict, "no manager")
	ts.req("POST", self+"/Disable", admin, nil).wantError(t, http.StatusConflict, "no manager")
	ts.req("DELETE", self+"/Scopes", admin, nil).wantError(t, http.StatusConflict, "no manager")
	ts.req("PUT", self+"/Scopes", admin, map[string]any{"Scopes": []string{"apitokens.*", "users.read"}}).
		wantError(t, http.StatusConflict, "no manager")
	var res struct{ Results []httpapi.BulkResult }
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/Delete", admin,
		map[string]any{"Sids": []string{writer.AccountSid, admin.AccountSid}}).want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].Status != "OK" || res.Results[1].StatusCode != http.StatusConflict {
		t.Fatalf("bulk delete: %+v", res.Results)
	}
	if tok, _ := ts.token(admin, admin.AccountSid); tok.State != service.StateEnabled || len(tok.Scopes) != len(service.AllScopes(service.KindAgency)) {
		t.Fatalf("the manager changed: %+v", tok)
	}

	// With a second manager, the first may go.
	var second tokenJSON
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+admin.AccountSid+"/Duplicate", admin, nil).
		want(t, http.StatusCreated).decode(t, &second)
	ts.req("POST", self+"/Disable", admin, nil).want(t, http.StatusOK)
	// Now the duplicate is the last one.
	next := Credential{AccountSid: second.AccountSid, AuthToken: second.AuthToken}
	ts.req("DELETE", tokenPath(next, next.AccountSid), next, nil).wantError(t, http.StatusConflict, "no manager")
}

// TestLastManagerDescopeAndGrant: de-scoping a manager of a scope another token still
// holds leaves no manager (409); so does granting a scope no manager holds, which only
// a caller outside the account (an agency on a brand's passthrough) can do.
func TestLastManagerDescopeAndGrant(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	ts.req("POST", base, admin, map[string]any{"Name": "Promo deleter",
		"Scopes": []string{"apitokens.read", "apitokens.write", "promocodes.delete"}}).want(t, http.StatusCreated)
	all := service.AllScopes(service.KindAgency)
	var without []string
	for _, s := range all {
		if s != "promocodes.delete" {
			without = append(without, s)
		}
	}
	ts.req("PUT", tokenPath(admin, admin.AccountSid)+"/Scopes", admin, map[string]any{"Scopes": without}).
		wantError(t, http.StatusConflict, "no manager")

	// The brand's manager loses promocodes.delete (nobody else in the brand holds it:
	// allowed), then the agency gives it to a new brand token: refused.
	brand := ts.cred("brand-admin")
	pass := "/Agencies/" + admin.AccountSid + "/Advertisers/1048291/ApiTokens"
	var brandWithout []string
	for _, s := range service.AllScopes(service.KindBrand) {
		if s != "promocodes.delete" {
			brandWithout = append(brandWithout, s)
		}
	}
	ts.req("PUT", pass+"/"+brand.AccountSid+"/Scopes", admin, map[string]any{"Scopes": brandWithout}).want(t, http.StatusOK)
	ts.req("POST", pass, admin, map[string]any{"Name": "Promo cleanup", "Scopes": []string{"promocodes.delete"}}).
		wantError(t, http.StatusConflict, "no manager")
	ts.req("POST", pass, admin, map[string]any{"Name": "Catalog feed", "Scopes": []string{"catalogs.read"}}).
		want(t, http.StatusCreated)
}

// TestNoManagerIsNotBlocked: an account that has no manager already (as after a
// restore) is not held hostage: its tokens can still be changed.
func TestNoManagerIsNotBlocked(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, brand := ts.cred("admin"), ts.cred("brand-admin")
	ts.exec(`UPDATE tokens SET state = 'DISABLED' WHERE sid = ?`, brand.AccountSid)
	pass := "/Agencies/" + admin.AccountSid + "/Advertisers/1048291/ApiTokens/"
	var l tokenList
	ts.req("GET", pass[:len(pass)-1], admin, nil).want(t, http.StatusOK).decode(t, &l)
	for _, tok := range l.ApiTokens {
		if tok.AccountSid != brand.AccountSid {
			ts.req("DELETE", pass+tok.AccountSid, admin, nil).want(t, http.StatusNoContent)
		}
	}
}

// TestSelfResetGraceBoundToItsPath: token T resets itself with key K, then resets
// token X with the same key; T's previous secret with K on X's reset path must not
// replay X's reset (it would hand out X's new secret).
func TestSelfResetGraceBoundToItsPath(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	w, ro := ts.cred("writer"), ts.cred("readonly")
	own := tokenPath(w, w.AccountSid) + "/Reset"
	other := tokenPath(w, ro.AccountSid) + "/Reset"
	var mine tokenJSON
	ts.req("POST", own, w, nil, "Idempotency-Key", "K").want(t, http.StatusOK).decode(t, &mine)
	fresh := Credential{AccountSid: w.AccountSid, AuthToken: mine.AuthToken}
	var theirs tokenJSON
	ts.req("POST", other, fresh, nil, "Idempotency-Key", "K").want(t, http.StatusOK).decode(t, &theirs)

	ts.req("POST", other, w, nil, "Idempotency-Key", "K").wantError(t, http.StatusUnauthorized)
	ts.req("POST", "/Agencies/"+w.AccountSid+"/ApiTokens/Reset", w, map[string]any{"Sids": []string{ro.AccountSid}},
		"Idempotency-Key", "K").wantError(t, http.StatusUnauthorized)
	// The readonly token's new secret still works: nothing was handed out or changed.
	ts.get(Credential{AccountSid: ro.AccountSid, AuthToken: theirs.AuthToken}, "/ApiTokens/Current").want(t, http.StatusOK)
}

// TestSelfResetGraceInBulk: a bulk reset that included the caller's own SID may be
// replayed with the previous secret on that bulk path, and nowhere else.
func TestSelfResetGraceInBulk(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	w, ro := ts.cred("writer"), ts.cred("readonly")
	bulk := "/Agencies/" + w.AccountSid + "/ApiTokens/Reset"
	body := map[string]any{"Sids": []string{ro.AccountSid, w.AccountSid}}
	first := ts.req("POST", bulk, w, body, "Idempotency-Key", "B").want(t, http.StatusOK)
	ts.req("POST", tokenPath(w, w.AccountSid)+"/Reset", w, nil, "Idempotency-Key", "B").wantError(t, http.StatusUnauthorized)
	again := ts.req("POST", bulk, w, body, "Idempotency-Key", "B").want(t, http.StatusOK)
	if string(again.Body) != string(first.Body) {
		t.Fatal("the bulk replay answered differently")
	}
}

// TestRecoverWhileServing: Recover, from a second store on the database of a running
// server, makes a token the server accepts at once, holding every scope; an unknown
// account is ErrNoAccount.
func TestRecoverWhileServing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "tokens.db")
	inst, err := Start(ctx, Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Shutdown(ctx)
	other, err := store.OpenStore(ctx, db, "", store.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	withEnv(t, other, nil, nil)
	defer other.Close()
	if _, err := Recover(ctx, other, envOf(other), "9999999"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	rec, err := Recover(ctx, other, envOf(other), inst.Admin.AccountSid)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", inst.URL+"/Agencies/"+rec.AccountSid+"/ApiTokens/Current", nil)
	req.SetBasicAuth(rec.AccountSid, rec.AuthToken)
	res, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var cur tokenJSON
	if err := json.NewDecoder(res.Body).Decode(&cur); err != nil || res.StatusCode != 200 {
		t.Fatalf("the recovered token: %d %v", res.StatusCode, err)
	}
	if cur.Name != "Recovered admin" || cur.State != service.StateEnabled || len(cur.Scopes) != len(service.AllScopes(service.KindAgency)) || rec.Account != "2000001" {
		t.Fatalf("recovered %+v of account %s", cur, rec.Account)
	}
	// The recovered token is counted among the holders of every scope.
	(&testServer{t: t, st: other}).checkScopeHolders()
	if n := (&testServer{t: t, st: other}).holderRows(); n != len(service.AllScopes(service.KindAgency)) {
		t.Fatalf("%d scope_holders rows, want one for each of the %d scopes", n, len(service.AllScopes(service.KindAgency)))
	}
}
