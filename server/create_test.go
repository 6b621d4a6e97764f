package server

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	r := ts.req("POST", base, admin, map[string]any{
		"Name": "Deploy bot", "Description": "CI", "PrimaryContactId": "U101",
		"Scopes": []string{"reports.read", "account.read"}, "DeveloperEmails": []string{"ci@example.com"},
	}).want(t, http.StatusCreated)
	var tok tokenJSON
	r.decode(t, &tok)
	if r.Header.Get("Location") != tok.Uri || tok.Uri != base+"/"+tok.AccountSid || r.Header.Get("Cache-Control") != "no-store" ||
		r.Header.Get("ETag") != `"1"` {
		t.Fatalf("headers %v, body %s", r.Header, r.Body)
	}
	if tok.State != "ENABLED" || tok.ApiVersion != 3 || tok.PrimaryContact.Id != "U101" ||
		strings.Join(tok.Scopes, ",") != "account.read,reports.read" || len(tok.AuthToken) != 32 ||
		tok.AuthTokenHint != tok.AuthToken[28:] || tok.DateLastUsed != nil || tok.DateCreated != testEpoch.Format(time.RFC3339) ||
		tok.DateAuthTokenReset != tok.DateCreated {
		t.Fatalf("created %s", r.Body)
	}
	cred := Credential{AccountSid: tok.AccountSid, AuthToken: tok.AuthToken}
	ts.get(cred, "/CompanyInformation").want(t, http.StatusOK)
	ts.get(cred, "/ApiTokens").wantError(t, http.StatusForbidden, "apitokens.read")
	// Reading it back never shows the secret.
	if got, _ := ts.token(admin, tok.AccountSid); got.AuthToken != "" {
		t.Fatal("GET shows the secret")
	}

	ts.req("POST", base, admin, map[string]any{"Description": "no name"}, offContract...).wantError(t, http.StatusBadRequest, "Name")
	ts.req("POST", base, admin, map[string]any{"Name": "x", "ApiVersion": 12}).wantError(t, http.StatusBadRequest, "ApiVersion")
	ts.req("POST", base, admin, map[string]any{"Name": "x", "Scopes": []string{"reports.nope"}}).wantError(t, http.StatusBadRequest, "reports.nope")
	ts.req("POST", base, admin, map[string]any{"Name": "x", "PrimaryContactId": "U300"}).wantError(t, http.StatusBadRequest, "PrimaryContactId")
	ts.req("POST", base, admin, map[string]any{"Name": "x", "Colour": "red"}, offContract...).wantError(t, http.StatusBadRequest, "Colour")
	ts.req("POST", base, admin, map[string]any{"Name": strings.Repeat("n", 101)}, offContract...).wantError(t, http.StatusBadRequest, "Name")

	// A brand token through the passthrough root defaults to the latest Brand API.
	r = ts.req("POST", "/Agencies/"+admin.AccountSid+"/Advertisers/1048305/ApiTokens", admin,
		map[string]any{"Name": "Brand bot", "Scopes": []string{"actions.*"}}).want(t, http.StatusCreated)
	r.decode(t, &tok)
	if tok.ApiVersion != 14 || !strings.HasPrefix(tok.Uri, "/Agencies/"+admin.AccountSid+"/Advertisers/1048305/ApiTokens/") {
		t.Fatalf("brand create %s", r.Body)
	}
	bcred := Credential{AccountSid: tok.AccountSid, AuthToken: tok.AuthToken}
	ts.req("GET", "/Advertisers/"+bcred.AccountSid+"/ApiTokens/Current", bcred, nil).want(t, http.StatusOK)
}

func TestDuplicate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, disabled := ts.cred("admin"), ts.cred("disabled")
	src, _ := ts.token(admin, disabled.AccountSid)
	r := ts.req("POST", tokenPath(admin, disabled.AccountSid)+"/Duplicate", admin, nil).want(t, http.StatusCreated)
	var dup tokenJSON
	r.decode(t, &dup)
	if dup.Name != src.Name+" (copy)" || dup.State != "ENABLED" || dup.AccountSid == src.AccountSid ||
		strings.Join(dup.Scopes, ",") != strings.Join(src.Scopes, ",") || dup.ApiVersion != src.ApiVersion ||
		dup.PrimaryContact.Id != src.PrimaryContact.Id || dup.Description != src.Description || dup.AuthToken == "" ||
		r.Header.Get("Location") != dup.Uri || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("duplicate of %+v: %s", src, r.Body)
	}
	r = ts.req("POST", tokenPath(admin, disabled.AccountSid)+"/Duplicate", admin,
		map[string]any{"Name": "Fresh", "ApiVersion": 3, "Scopes": []string{"jobs.read"}, "PrimaryContactId": nil}).want(t, http.StatusCreated)
	r.decode(t, &dup)
	if dup.Name != "Fresh" || dup.ApiVersion != 3 || strings.Join(dup.Scopes, ",") != "jobs.read" || dup.PrimaryContact != nil {
		t.Fatalf("duplicate with overrides: %s", r.Body)
	}
	ts.req("POST", tokenPath(admin, ts.cred("agency2-admin").AccountSid)+"/Duplicate", admin, nil).wantError(t, http.StatusNotFound)
}

func TestReset(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	_, etag := ts.token(admin, ro.AccountSid)
	ts.clock.Advance(time.Hour)
	ts.req("POST", tokenPath(admin, ro.AccountSid)+"/Reset", admin, nil, "If-Match", `"7"`).wantError(t, http.StatusPreconditionFailed)
	r := ts.req("POST", tokenPath(admin, ro.AccountSid)+"/Reset", admin, nil, "If-Match", etag).want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if tok.AuthToken == "" || tok.AuthToken == ro.AuthToken || r.Header.Get("Cache-Control") != "no-store" ||
		tok.DateAuthTokenReset != testEpoch.Add(time.Hour).Format(time.RFC3339) || r.Header.Get("ETag") == etag {
		t.Fatalf("reset: %v %s", r.Header, r.Body)
	}
	// The old secret is refused on the very next request; the new one works.
	ts.get(ro, "/ApiTokens").wantError(t, http.StatusUnauthorized)
	ts.get(Credential{AccountSid: ro.AccountSid, AuthToken: tok.AuthToken}, "/ApiTokens").want(t, http.StatusOK)
	// ResetBefore now leaves it out.
	var l tokenList
	ts.get(admin, "/ApiTokens?ResetBefore="+testEpoch.Format(time.RFC3339)).want(t, http.StatusOK).decode(t, &l)
	for _, x := range l.ApiTokens {
		if x.AccountSid == ro.AccountSid {
			t.Fatal("a token just reset matches ResetBefore")
		}
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	body := map[string]any{"Name": "Once"}
	first := ts.req("POST", base, admin, body, "Idempotency-Key", "k-1").want(t, http.StatusCreated)
	again := ts.req("POST", base, admin, body, "Idempotency-Key", "k-1").want(t, http.StatusCreated)
	if !bytes.Equal(first.Body, again.Body) || again.Header.Get("Location") != first.Header.Get("Location") ||
		again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("replay differs:\n%s\n%s\n%v", first.Body, again.Body, again.Header)
	}
	var l tokenList
	ts.get(admin, "/ApiTokens?Name=Once").want(t, http.StatusOK).decode(t, &l)
	if l.Total != "1" {
		t.Fatalf("%s tokens named Once", l.Total)
	}
	// Another body under the same key: 422, nothing created.
	ts.req("POST", base, admin, map[string]any{"Name": "Twice"}, "Idempotency-Key", "k-1").
		wantError(t, http.StatusUnprocessableEntity, "Idempotency-Key")
	// The key is per caller, method and path: another path is another request.
	ts.req("POST", base, admin, map[string]any{"Name": "Once"}, "Idempotency-Key", "k-2").want(t, http.StatusCreated)
	// Kept 24 hours.
	ts.clock.Advance(25 * time.Hour)
	ts.req("POST", base, admin, body, "Idempotency-Key", "k-1").want(t, http.StatusCreated)
	ts.get(admin, "/ApiTokens?Name=Once").want(t, http.StatusOK).decode(t, &l)
	if l.Total != "3" {
		t.Fatalf("%s tokens named Once after expiry", l.Total)
	}
	ts.req("POST", base, admin, body, "Idempotency-Key", "bad key", "X-Contract-Skip", "1").wantError(t, http.StatusBadRequest, "Idempotency-Key")
}

func TestIdempotentDuplicatesInFlight(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	const n = 8
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ts.req("POST", base, admin, map[string]any{"Name": "Racer"}, "Idempotency-Key", "race")
			if r.Status == http.StatusCreated {
				bodies[i] = r.Body
			} else if r.Status != http.StatusConflict {
				t.Errorf("status %d: %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	var first []byte
	for _, b := range bodies {
		if b == nil {
			continue
		}
		if first == nil {
			first = b
		}
		if !bytes.Equal(b, first) {
			t.Fatal("two different answers to one key")
		}
	}
	var l tokenList
	ts.get(admin, "/ApiTokens?Name=Racer").want(t, http.StatusOK).decode(t, &l)
	if l.Total != "1" {
		t.Fatalf("%s tokens for one key", l.Total)
	}
}

func TestIdempotentResetSuperseded(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	path := tokenPath(admin, ro.AccountSid) + "/Reset"
	first := ts.req("POST", path, admin, nil, "Idempotency-Key", "r1").want(t, http.StatusOK)
	replay := ts.req("POST", path, admin, nil, "Idempotency-Key", "r1").want(t, http.StatusOK)
	if !bytes.Equal(first.Body, replay.Body) {
		t.Fatal("a replayed reset made a new secret")
	}
	ts.req("POST", path, admin, nil, "Idempotency-Key", "r2").want(t, http.StatusOK)
	ts.req("POST", path, admin, nil, "Idempotency-Key", "r1").wantError(t, http.StatusConflict, "superseded")
	// Keyed disable: replayed, not repeated.
	d := tokenPath(admin, ro.AccountSid) + "/Disable"
	a := ts.req("POST", d, admin, nil, "Idempotency-Key", "d1").want(t, http.StatusOK)
	ts.req("POST", tokenPath(admin, ro.AccountSid)+"/Enable", admin, nil).want(t, http.StatusOK)
	b := ts.req("POST", d, admin, nil, "Idempotency-Key", "d1").want(t, http.StatusOK)
	if !bytes.Equal(a.Body, b.Body) {
		t.Fatal("keyed disable not replayed")
	}
	if tok, _ := ts.token(admin, ro.AccountSid); tok.State != "ENABLED" {
		t.Fatal("a replayed disable changed the token again")
	}
}

func TestSelfResetReplay(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	w := ts.cred("writer")
	path := tokenPath(w, w.AccountSid) + "/Reset"
	first := ts.req("POST", path, w, nil, "Idempotency-Key", "self-1").want(t, http.StatusOK)
	var tok tokenJSON
	first.decode(t, &tok)
	newCred := Credential{AccountSid: w.AccountSid, AuthToken: tok.AuthToken}

	// The answer was lost: the old secret may replay that reset, and nothing else.
	replay := ts.req("POST", path, w, nil, "Idempotency-Key", "self-1").want(t, http.StatusOK)
	if !bytes.Equal(replay.Body, first.Body) {
		t.Fatal("the replay answered another secret")
	}
	ts.get(w, "/ApiTokens/Current").wantError(t, http.StatusUnauthorized)
	ts.req("POST", path, w, nil).wantError(t, http.StatusUnauthorized)
	ts.req("POST", path, w, nil, "Idempotency-Key", "self-2").wantError(t, http.StatusUnauthorized)
	ts.req("POST", tokenPath(w, w.AccountSid)+"/Disable", w, nil, "Idempotency-Key", "self-1").wantError(t, http.StatusUnauthorized)
	// Another body under that key is 401 too: a 422 would confirm a guessed key.
	ts.req("POST", path, w, map[string]any{}, "Idempotency-Key", "self-1", "X-Contract-Skip", "1").wantError(t, http.StatusUnauthorized)
	ts.req("POST", path, w, nil, "Idempotency-Key", "self-1").want(t, http.StatusOK)
	// The first use of the new secret ends the grace.
	ts.get(newCred, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.req("POST", path, w, nil, "Idempotency-Key", "self-1").wantError(t, http.StatusUnauthorized)

	// Ten minutes later the old secret is dead for good.
	ts.clock.Advance(10 * time.Minute)
	ts.req("POST", path, w, nil, "Idempotency-Key", "self-1").wantError(t, http.StatusUnauthorized)
	// The new secret can still replay it (until a later reset supersedes it).
	ts.req("POST", path, newCred, nil, "Idempotency-Key", "self-1").want(t, http.StatusOK)

	// A reset by someone else ends the grace at once.
	r := ts.req("POST", path, newCred, nil, "Idempotency-Key", "self-3").want(t, http.StatusOK)
	var third tokenJSON
	r.decode(t, &third)
	admin := ts.cred("admin")
	ts.req("POST", tokenPath(admin, w.AccountSid)+"/Reset", admin, nil).want(t, http.StatusOK)
	ts.req("POST", path, newCred, nil, "Idempotency-Key", "self-3").wantError(t, http.StatusUnauthorized)
}

func TestBulk(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro, rep := ts.cred("admin"), ts.cred("readonly"), ts.cred("reporter")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens/"
	other := ts.cred("agency2-admin").AccountSid
	missing := "IR" + strings.Repeat("0", 32)

	var res struct{ Results []httpapi.BulkResult }
	ts.req("POST", base+"Disable", admin, map[string]any{"Sids": []string{ro.AccountSid, other, missing, rep.AccountSid}}).
		want(t, http.StatusOK).decode(t, &res)
	if len(res.Results) != 4 {
		t.Fatalf("results %+v", res)
	}
	for i, want := range []struct {
		sid    string
		status string
		code   int
	}{{ro.AccountSid, "OK", 200}, {other, "ERROR", 404}, {missing, "ERROR", 404}, {rep.AccountSid, "OK", 200}} {
		got := res.Results[i]
		if got.AccountSid != want.sid || got.Status != want.status || got.StatusCode != want.code {
			t.Fatalf("result %d: %+v", i, got)
		}
		if (got.ApiToken != nil) != (want.status == "OK") || got.Message == "" {
			t.Fatalf("result %d: %+v", i, got)
		}
	}
	ts.get(ro, "/ApiTokens").wantError(t, http.StatusForbidden)

	ts.req("POST", base+"Enable", admin, map[string]any{"Sids": []string{ro.AccountSid, rep.AccountSid}}).want(t, http.StatusOK).decode(t, &res)
	ts.get(ro, "/ApiTokens").want(t, http.StatusOK)

	// Reset: every OK result carries the new secret.
	r := ts.req("POST", base+"Reset", admin, map[string]any{"Sids": []string{ro.AccountSid, rep.AccountSid}}).want(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("bulk reset may be cached")
	}
	var resets struct {
		Results []struct {
			AccountSid string
			Status     string
			ApiToken   *tokenJSON
		}
	}
	r.decode(t, &resets)
	for _, x := range resets.Results {
		if x.Status != "OK" || x.ApiToken == nil || len(x.ApiToken.AuthToken) != 32 {
			t.Fatalf("bulk reset %s", r.Body)
		}
		ts.get(Credential{AccountSid: x.AccountSid, AuthToken: x.ApiToken.AuthToken}, "/ApiTokens/Current").want(t, http.StatusOK)
	}
	ts.get(ro, "/ApiTokens").wantError(t, http.StatusUnauthorized)

	// Escalation is refused per SID; the rest finish.
	w := ts.cred("writer")
	ts.req("POST", "/Agencies/"+w.AccountSid+"/ApiTokens/Delete", w, map[string]any{"Sids": []string{admin.AccountSid, rep.AccountSid}}).
		want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].StatusCode != 403 || !strings.Contains(res.Results[0].Message, "account.read") ||
		res.Results[1].StatusCode != 403 {
		t.Fatalf("escalation in bulk: %+v", res.Results)
	}
	ts.req("POST", base+"Delete", admin, map[string]any{"Sids": []string{rep.AccountSid}}).want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].StatusCode != 204 || res.Results[0].ApiToken != nil || res.Results[0].Status != "OK" {
		t.Fatalf("bulk delete %+v", res.Results)
	}

	// The last writer is kept, whatever the order.
	a2 := ts.cred("agency2-admin")
	ts.req("POST", "/Agencies/"+a2.AccountSid+"/ApiTokens/Disable", a2, map[string]any{"Sids": []string{a2.AccountSid}}).
		want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].StatusCode != 409 {
		t.Fatalf("last writer in bulk: %+v", res.Results)
	}

	// Shape refusals.
	var many []string
	for i := 0; i < 101; i++ {
		many = append(many, missing)
	}
	ts.req("POST", base+"Disable", admin, map[string]any{"Sids": many}, offContract...).wantError(t, http.StatusBadRequest, "Sids")
	ts.req("POST", base+"Disable", admin, map[string]any{"Sids": []string{}}, offContract...).wantError(t, http.StatusBadRequest, "Sids")
	ts.req("POST", base+"Disable", admin, map[string]any{"Sids": []string{missing, missing}}, offContract...).wantError(t, http.StatusBadRequest, "twice")
	ts.req("POST", base+"Disable", admin, map[string]any{}, offContract...).wantError(t, http.StatusBadRequest, "Sids")

	// Keyed bulk calls replay.
	x := ts.req("POST", base+"Enable", admin, map[string]any{"Sids": []string{missing}}, "Idempotency-Key", "b1").want(t, http.StatusOK)
	y := ts.req("POST", base+"Enable", admin, map[string]any{"Sids": []string{missing}}, "Idempotency-Key", "b1").want(t, http.StatusOK)
	if !bytes.Equal(x.Body, y.Body) || y.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("bulk replay")
	}
}

func TestBulkSelfReset(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	w := ts.cred("writer")
	path := "/Agencies/" + w.AccountSid + "/ApiTokens/Reset"
	body := map[string]any{"Sids": []string{w.AccountSid}}
	first := ts.req("POST", path, w, body, "Idempotency-Key", "bulk-self").want(t, http.StatusOK)
	again := ts.req("POST", path, w, body, "Idempotency-Key", "bulk-self").want(t, http.StatusOK)
	if !bytes.Equal(first.Body, again.Body) {
		t.Fatal("bulk self-reset replay with the old secret")
	}
	ts.get(w, "/ApiTokens/Current").wantError(t, http.StatusUnauthorized)
}

// TestEmptyIdempotencyKey: an Idempotency-Key present but empty is 400 on every POST
// of every root, bulk included, and nothing changes: an empty key is never taken as
// no key.
func TestEmptyIdempotencyKey(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, brandAdmin := ts.cred("admin"), ts.cred("brand-admin")
	for _, root := range []struct {
		name, base string
		c          Credential
	}{
		{"agency", "/Agencies/" + admin.AccountSid, admin},
		{"brand", "/Advertisers/" + brandAdmin.AccountSid, brandAdmin},
		{"passthrough", "/Agencies/" + admin.AccountSid + "/Advertisers/1048291", admin},
	} {
		var made tokenJSON
		ts.req("POST", root.base+"/ApiTokens", root.c, map[string]any{"Name": "Target " + root.name}).
			want(t, http.StatusCreated).decode(t, &made)
		var before tokenList
		ts.req("GET", root.base+"/ApiTokens?PageSize=1000", root.c, nil).want(t, http.StatusOK).decode(t, &before)
		tok := root.base + "/ApiTokens/" + made.AccountSid
		sids := map[string]any{"Sids": []string{made.AccountSid}}
		for _, op := range []struct {
			path string
			body any
		}{
			{root.base + "/ApiTokens", map[string]any{"Name": "Keyless"}},
			{tok + "/Duplicate", nil},
			{tok + "/Reset", nil},
			{tok + "/Disable", nil},
			{tok + "/Enable", nil},
			{root.base + "/ApiTokens/Disable", sids},
			{root.base + "/ApiTokens/Enable", sids},
			{root.base + "/ApiTokens/Reset", sids},
			{root.base + "/ApiTokens/Delete", sids},
		} {
			r := ts.req("POST", op.path, root.c, op.body, append([]string{"Idempotency-Key", ""}, offContract...)...)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%s: POST %s with an empty Idempotency-Key: %d %s", root.name, op.path, r.Status, r.Body)
			}
			r.wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
			r.wantError(t, http.StatusBadRequest, "Idempotency-Key")
		}
		var after tokenList
		ts.req("GET", root.base+"/ApiTokens?PageSize=1000", root.c, nil).want(t, http.StatusOK).decode(t, &after)
		if after.Total != before.Total {
			t.Fatalf("%s: %s tokens before, %s after", root.name, before.Total, after.Total)
		}
		var now tokenJSON
		ts.req("GET", tok, root.c, nil).want(t, http.StatusOK).decode(t, &now)
		if now.State != made.State || now.DateAuthTokenReset != made.DateAuthTokenReset || now.AuthTokenHint != made.AuthTokenHint {
			t.Fatalf("%s: the token changed: %+v, was %+v", root.name, now, made)
		}
	}
}

// TestEmptyPrimaryContact: PrimaryContactId "" is 400 on create, duplicate and
// edit, never taken as null (which clears the contact), and changes nothing.
func TestEmptyPrimaryContact(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	var made tokenJSON
	ts.req("POST", base, admin, map[string]any{"Name": "Contact", "PrimaryContactId": "U100"}).
		want(t, http.StatusCreated).decode(t, &made)
	empty := map[string]any{"Name": "No contact", "PrimaryContactId": ""}
	for _, r := range []*response{
		ts.req("POST", base, admin, empty, offContract...),
		ts.req("POST", base+"/"+made.AccountSid+"/Duplicate", admin, empty, offContract...),
		ts.req("PATCH", base+"/"+made.AccountSid, admin, map[string]any{"PrimaryContactId": ""}, offContract...),
	} {
		r.wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
		r.wantError(t, http.StatusBadRequest, "PrimaryContactId")
	}
	var now tokenJSON
	ts.req("GET", base+"/"+made.AccountSid, admin, nil).want(t, http.StatusOK).decode(t, &now)
	if now.PrimaryContact == nil || now.PrimaryContact.Id != "U100" {
		t.Fatalf("the contact changed: %+v", now.PrimaryContact)
	}
	var l tokenList
	ts.get(admin, "/ApiTokens?Name=No+contact").want(t, http.StatusOK).decode(t, &l)
	if l.Total != "0" {
		t.Fatalf("%s tokens made with an empty contact", l.Total)
	}
	// null still clears it.
	ts.req("PATCH", base+"/"+made.AccountSid, admin, map[string]any{"PrimaryContactId": nil}).want(t, http.StatusOK).decode(t, &now)
	if now.PrimaryContact != nil {
		t.Fatalf("null did not clear the contact: %+v", now.PrimaryContact)
	}
}
