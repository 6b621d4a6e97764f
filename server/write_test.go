package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// tokenPath is a token's path under the credential's own agency root.
func tokenPath(c Credential, sid string) string {
	return "/Agencies/" + c.AccountSid + "/ApiTokens/" + sid
}

func (ts *testServer) token(c Credential, sid string) (tokenJSON, string) {
	ts.t.Helper()
	var tok tokenJSON
	r := ts.req("GET", tokenPath(c, sid), c, nil).want(ts.t, http.StatusOK)
	r.decode(ts.t, &tok)
	return tok, r.Header.Get("ETag")
}

func TestPatch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	path := tokenPath(admin, ro.AccountSid)
	before, etag := ts.token(admin, ro.AccountSid)

	ts.clock.Advance(3600e9)
	r := ts.req("PATCH", path, admin, map[string]any{"Name": "Auditor", "Description": "Reads", "ApiVersion": 3,
		"PrimaryContactId": "U104"}, "If-Match", etag).want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if tok.Name != "Auditor" || tok.Description != "Reads" || tok.PrimaryContact.Id != "U104" ||
		tok.PrimaryContact.Email != "edsger@demo-agency.example" || tok.DateUpdated == before.DateUpdated {
		t.Fatalf("patched: %s", r.Body)
	}
	newTag := r.Header.Get("ETag")
	if newTag == etag {
		t.Fatal("ETag unchanged by an edit")
	}
	// The old ETag is now stale: 412, nothing changes.
	ts.req("PATCH", path, admin, map[string]any{"Name": "Lost update"}, "If-Match", etag).wantError(t, http.StatusPreconditionFailed, "If-Match")
	if cur, _ := ts.token(admin, ro.AccountSid); cur.Name != "Auditor" {
		t.Fatal("a stale If-Match changed the token")
	}
	// A change to nothing keeps the ETag.
	r = ts.req("PATCH", path, admin, map[string]any{"Name": "Auditor"}, "If-Match", newTag).want(t, http.StatusOK)
	if r.Header.Get("ETag") != newTag {
		t.Fatal("a no-op edit moved the ETag")
	}
	// null clears Description and PrimaryContactId.
	r = ts.req("PATCH", path, admin, map[string]any{"Description": nil, "PrimaryContactId": nil}).want(t, http.StatusOK)
	r.decode(t, &tok)
	if tok.Description != "" || tok.PrimaryContact != nil {
		t.Fatalf("null did not clear: %s", r.Body)
	}
	// null elsewhere, unknown fields, bad types and bad values: 400 naming the field.
	for body, field := range map[string]string{
		`{"Name":null}`:           "Name",
		`{"ApiVersion":null}`:     "ApiVersion",
		`{"Name":""}`:             "Name",
		`{"Name":"a\u0007b"}`:     "Name",
		`{"Name":5}`:              "Name",
		`{"State":"DISABLED"}`:    "State",
		`{"ApiVersion":"3"}`:      "ApiVersion",
		`{"ApiVersion":4}`:        "ApiVersion",
		`{"ApiVersion":11}`:       "ApiVersion",
		`[1]`:                     "Body",
		`{"Name":"x"} {"Name":1}`: "Body",
	} {
		ts.req("PATCH", path, admin, body, offContract...).wantError(t, http.StatusBadRequest, field)
	}
	// ApiVersion only goes up.
	disabled := ts.cred("disabled") // at version 2
	ts.req("PATCH", tokenPath(admin, disabled.AccountSid), admin, map[string]any{"ApiVersion": 3}).want(t, http.StatusOK)
	ts.req("PATCH", tokenPath(admin, disabled.AccountSid), admin, map[string]any{"ApiVersion": 2}).wantError(t, http.StatusBadRequest, "ApiVersion")

	// A user of another account and one that does not exist: the same 400.
	a := ts.req("PATCH", path, admin, map[string]any{"PrimaryContactId": "U200"}).wantError(t, http.StatusBadRequest, "PrimaryContactId")
	b := ts.req("PATCH", path, admin, map[string]any{"PrimaryContactId": "U999"}).wantError(t, http.StatusBadRequest, "PrimaryContactId")
	if strings.ReplaceAll(a.Errors[0].Message, "U200", "") != strings.ReplaceAll(b.Errors[0].Message, "U999", "") {
		t.Fatalf("contact refusals differ: %q %q", a.Errors[0].Message, b.Errors[0].Message)
	}
}

func TestBrandEditsThroughPassthrough(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, brand := ts.cred("admin"), ts.cred("brand-admin")
	var list tokenList
	pass := "/Agencies/" + admin.AccountSid + "/Advertisers/1048291/ApiTokens"
	ts.req("GET", pass+"?Name=reporting", admin, nil).want(t, http.StatusOK).decode(t, &list)
	rep := list.ApiTokens[0] // at Brand API 12
	ts.req("PATCH", pass+"/"+rep.AccountSid, admin, map[string]any{"ApiVersion": 13, "PrimaryContactId": "U200"}).want(t, http.StatusOK)
	ts.req("PATCH", pass+"/"+rep.AccountSid, admin, map[string]any{"ApiVersion": 3}).wantError(t, http.StatusBadRequest, "ApiVersion")
	ts.req("PATCH", pass+"/"+rep.AccountSid, admin, map[string]any{"PrimaryContactId": "U100"}).wantError(t, http.StatusBadRequest, "PrimaryContactId")
	// Brand scopes come from the brand catalog: no advertisers.*.
	ts.req("PUT", pass+"/"+rep.AccountSid+"/Scopes", admin, map[string]any{"Scopes": []string{"advertisers.read"}}).
		wantError(t, http.StatusBadRequest, "advertisers.read")
	ts.req("PUT", pass+"/"+rep.AccountSid+"/Scopes", admin, map[string]any{"Scopes": []string{"campaigns.*"}}).want(t, http.StatusOK)
	// The brand's own token sees the change under its own root.
	var tok tokenJSON
	ts.req("GET", "/Advertisers/"+brand.AccountSid+"/ApiTokens/"+rep.AccountSid, brand, nil).want(t, http.StatusOK).decode(t, &tok)
	if tok.ApiVersion != 13 || strings.Join(tok.Scopes, ",") != "campaigns.read,campaigns.ads" {
		t.Fatalf("brand token: %+v", tok)
	}
	// A token of another brand is 404 through this brand's path.
	ts.req("PATCH", "/Agencies/"+admin.AccountSid+"/Advertisers/1048305/ApiTokens/"+rep.AccountSid, admin,
		map[string]any{"Name": "x"}).wantError(t, http.StatusNotFound)
}

func TestDisableEnableDelete(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	path := tokenPath(admin, ro.AccountSid)

	r := ts.req("POST", path+"/Disable", admin, nil).want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if tok.State != "DISABLED" {
		t.Fatalf("state %s", tok.State)
	}
	// Refused on the very next request.
	ts.get(ro, "/ApiTokens").wantError(t, http.StatusForbidden, "disabled")
	// Already disabled: a 200 no-op, same ETag.
	again := ts.req("POST", path+"/Disable", admin, nil).want(t, http.StatusOK)
	if again.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Fatal("a no-op disable moved the ETag")
	}
	ts.req("POST", path+"/Enable", admin, nil, "If-Match", `"1"`).wantError(t, http.StatusPreconditionFailed)
	ts.req("POST", path+"/Enable", admin, nil, "If-Match", r.Header.Get("ETag")).want(t, http.StatusOK)
	ts.get(ro, "/ApiTokens").want(t, http.StatusOK)

	ts.req("DELETE", path, admin, nil, "If-Match", `"99"`).wantError(t, http.StatusPreconditionFailed)
	r = ts.req("DELETE", path, admin, nil).want(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Fatalf("204 with a body: %s", r.Body)
	}
	ts.get(ro, "/ApiTokens").wantError(t, http.StatusUnauthorized)
	ts.req("DELETE", path, admin, nil).wantError(t, http.StatusNotFound)
	ts.req("POST", path+"/Enable", admin, nil).wantError(t, http.StatusNotFound)
}

func TestNoEscalation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, writer, ro := ts.cred("admin"), ts.cred("writer"), ts.cred("readonly")
	// The writer lacks account.read, the first scope of the admin token in catalog order.
	target := tokenPath(writer, admin.AccountSid)
	ts.req("POST", target+"/Disable", writer, nil).wantError(t, http.StatusForbidden, "account.read")
	ts.req("PATCH", target, writer, map[string]any{"Name": "mine"}).wantError(t, http.StatusForbidden, "account.read")
	ts.req("DELETE", target, writer, nil).wantError(t, http.StatusForbidden, "account.read")
	ts.req("PUT", target+"/Scopes", writer, map[string]any{"Scopes": []string{}}).wantError(t, http.StatusForbidden, "account.read")
	ts.req("PUT", target+"/DeveloperEmails", writer, map[string]any{"Emails": []string{}}).wantError(t, http.StatusForbidden, "account.read")
	ts.req("POST", target+"/Reset", writer, nil).wantError(t, http.StatusForbidden, "account.read")
	ts.req("POST", target+"/Duplicate", writer, nil).wantError(t, http.StatusForbidden, "account.read")
	// Granting what the caller lacks.
	ro2 := tokenPath(writer, ro.AccountSid)
	ts.req("PUT", ro2+"/Scopes", writer, map[string]any{"Scopes": []string{"apitokens.read", "reports.read"}}).
		wantError(t, http.StatusForbidden, "reports.read")
	ts.req("PUT", ro2+"/Scopes", writer, map[string]any{"Scopes": []string{"apitokens.*"}}).
		wantError(t, http.StatusForbidden, "apitokens.reveal")
	ts.req("POST", "/Agencies/"+writer.AccountSid+"/ApiTokens", writer, map[string]any{"Name": "x", "Scopes": []string{"jobs.read"}}).
		wantError(t, http.StatusForbidden, "jobs.read")
	ts.req("POST", ro2+"/Duplicate", writer, map[string]any{"Scopes": []string{"jobs.read"}}).
		wantError(t, http.StatusForbidden, "jobs.read")
	// What it holds it may grant.
	ts.req("PUT", ro2+"/Scopes", writer, map[string]any{"Scopes": []string{"users.read", "apitokens.read"}}).want(t, http.StatusOK)
	// Nothing changed on the refused token.
	if tok, _ := ts.token(admin, admin.AccountSid); tok.Name != "Agency admin" || tok.State != "ENABLED" {
		t.Fatalf("escalation changed %+v", tok)
	}
}

func TestLastWriter(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	a2 := ts.cred("agency2-admin") // the second agency's only token
	self := tokenPath(a2, a2.AccountSid)
	ts.req("POST", self+"/Disable", a2, nil).wantError(t, http.StatusConflict, "apitokens.write")
	ts.req("DELETE", self, a2, nil).wantError(t, http.StatusConflict)
	ts.req("PUT", self+"/Scopes", a2, map[string]any{"Scopes": []string{"apitokens.read"}}).wantError(t, http.StatusConflict)
	ts.req("DELETE", self+"/Scopes", a2, nil).wantError(t, http.StatusConflict)
	ts.req("POST", "/Agencies/"+a2.AccountSid+"/ApiTokens/Disable", a2, map[string]any{"Sids": []string{a2.AccountSid}}).want(t, http.StatusOK)
	ts.get(a2, "/ApiTokens/Current").want(t, http.StatusOK)

	// With a second writer, the first may go.
	var created tokenJSON
	ts.req("POST", "/Agencies/"+a2.AccountSid+"/ApiTokens", a2, map[string]any{"Name": "Second", "Scopes": []string{"apitokens.write"}}).
		want(t, http.StatusCreated).decode(t, &created)
	ts.req("DELETE", self+"/Scopes", a2, nil).want(t, http.StatusOK)
	// And now the new one is the last.
	second := Credential{AccountSid: created.AccountSid, AuthToken: created.AuthToken}
	ts.req("POST", tokenPath(second, second.AccountSid)+"/Disable", second, nil).wantError(t, http.StatusConflict)
}

func TestScopes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, rep := ts.cred("admin"), ts.cred("reporter")
	path := tokenPath(admin, rep.AccountSid) + "/Scopes"

	ts.get(rep, "/CompanyInformation").want(t, http.StatusOK)
	ts.get(rep, "/ApiTokens").wantError(t, http.StatusForbidden, "apitokens.read")
	r := ts.req("PUT", path, admin, map[string]any{"Scopes": []string{"apitokens.read", "reports.*"}}).want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if strings.Join(tok.Scopes, ",") != "apitokens.read,reports.read,reports.metadata,reports.export,reports.schedule" {
		t.Fatalf("scopes %v", tok.Scopes)
	}
	// Enforced on the very next request.
	ts.get(rep, "/ApiTokens").want(t, http.StatusOK)
	ts.get(rep, "/CompanyInformation").wantError(t, http.StatusForbidden, "account.read")
	// Setting what is set: no change.
	again := ts.req("PUT", path, admin, map[string]any{"Scopes": []string{"reports.*", "apitokens.read"}}).want(t, http.StatusOK)
	if again.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Fatal("setting the same scopes moved the ETag")
	}
	ts.req("PUT", path, admin, map[string]any{"Scopes": []string{"reports.read", "reports.fly"}}).wantError(t, http.StatusBadRequest, "reports.fly")
	ts.req("PUT", path, admin, map[string]any{"Scopes": []string{"nothing.*"}}).wantError(t, http.StatusBadRequest, "nothing.*")
	ts.req("PUT", path, admin, map[string]any{}, offContract...).wantError(t, http.StatusBadRequest, "Scopes")
	ts.req("DELETE", path, admin, nil, "If-Match", `"1"`).wantError(t, http.StatusPreconditionFailed)
	r = ts.req("DELETE", path, admin, nil, "If-Match", r.Header.Get("ETag")).want(t, http.StatusOK)
	r.decode(t, &tok)
	if len(tok.Scopes) != 0 || tok.Scopes == nil {
		t.Fatalf("cleared: %s", r.Body)
	}
	for _, rel := range []string{"/ApiTokens", "/CompanyInformation", "/Users", "/Advertisers", "/ApiTokens/" + rep.AccountSid} {
		ts.get(rep, rel).wantError(t, http.StatusForbidden)
	}
	ts.get(rep, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.get(rep, "/ApiScopes").want(t, http.StatusOK)
}

func TestDeveloperEmails(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	path := tokenPath(admin, ro.AccountSid) + "/DeveloperEmails"
	r := ts.req("PUT", path, admin, map[string]any{"Emails": []string{"b@example.com", "a@example.com"}}).want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if strings.Join(tok.DeveloperEmails, ",") != "b@example.com,a@example.com" {
		t.Fatalf("emails %v", tok.DeveloperEmails)
	}
	ts.req("PUT", path, admin, map[string]any{"Emails": []string{"ok@example.com", "not an address"}}, offContract...).
		wantError(t, http.StatusBadRequest, "not an address")
	ts.req("PUT", path, admin, map[string]any{"Emails": []string{"Ada <ada@example.com>"}}, offContract...).
		wantError(t, http.StatusBadRequest, "Emails")
	ts.req("PUT", path, admin, map[string]any{"Emails": []string{"a@example.com", "A@example.com"}}).
		wantError(t, http.StatusBadRequest, "twice")
	// Only addresses on a public mail domain: no address literal, single label or localhost.
	for _, e := range []string{"user@[10.0.0.5]", "user@10.0.0.5", "user@intranet", "user@localhost", "user@mail.localhost"} {
		ts.req("PUT", path, admin, map[string]any{"Emails": []string{e}}, offContract...).wantError(t, http.StatusBadRequest, e)
		ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, map[string]any{"Name": "literal", "Scopes": []string{"account.read"}, "DeveloperEmails": []string{e}}, offContract...).
			wantError(t, http.StatusBadRequest, e)
	}
	var many []string
	for i := 0; i < 51; i++ {
		many = append(many, fmt.Sprintf("d%d@example.com", i))
	}
	ts.req("PUT", path, admin, map[string]any{"Emails": many}, offContract...).wantError(t, http.StatusBadRequest, "50")
	ts.req("PUT", path, admin, map[string]any{"Emails": many[:50]}).want(t, http.StatusOK)
	if tok, _ := ts.token(admin, ro.AccountSid); len(tok.DeveloperEmails) != 50 {
		t.Fatalf("%d emails", len(tok.DeveloperEmails))
	}
	r = ts.req("PUT", path, admin, map[string]any{"Emails": []string{}}).want(t, http.StatusOK)
	r.decode(t, &tok)
	if len(tok.DeveloperEmails) != 0 {
		t.Fatal("not emptied")
	}
}
