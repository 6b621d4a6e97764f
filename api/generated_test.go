package api_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/impactcom/impactctl/api"
	"github.com/impactcom/impactctl/api/generated"
	"github.com/impactcom/impactctl/server"
)

// TestGeneratedClient runs a client that oapi-codegen generated from the
// contract, untouched, against the real server: reads and writes under the
// agency root, the passthrough and a brand's own root, every exchange also
// checked against the contract.
func TestGeneratedClient(t *testing.T) {
	ctx := t.Context()
	inst, err := server.Start(ctx, server.Config{DB: filepath.Join(t.TempDir(), "demo.db"), Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Shutdown(context.Background()) })
	v, err := api.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	connect := func(sid, secret string) *generated.ClientWithResponses {
		t.Helper()
		c, err := generated.NewClientWithResponses(inst.URL,
			generated.WithHTTPClient(&http.Client{Transport: v.Transport(nil, t)}),
			generated.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
				req.SetBasicAuth(sid, secret)
				return nil
			}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	agency := inst.Admin.AccountSid
	c := connect(agency, inst.Admin.AuthToken)

	// Reads.
	cur, err := c.GetAgencyCurrentTokenWithResponse(ctx, agency, nil)
	if err != nil || cur.JSON200 == nil || cur.JSON200.AccountSid != agency || cur.Headers200.ETag == "" {
		t.Fatalf("current: %v %s", err, status(cur.HTTPResponse))
	}
	pageSize := 5
	list, err := c.ListAgencyTokensWithResponse(ctx, agency, &generated.ListAgencyTokensParams{PageSize: &pageSize})
	if err != nil || list.JSON200 == nil || len(list.JSON200.ApiTokens) != pageSize || list.JSON200.Nextpageuri == "" {
		t.Fatalf("list: %v %s", err, status(list.HTTPResponse))
	}
	catalog, err := c.GetAgencyApiScopesWithResponse(ctx, agency, nil)
	if err != nil || catalog.JSON200 == nil || len(catalog.JSON200.Categories) == 0 {
		t.Fatalf("catalog: %v %s", err, status(catalog.HTTPResponse))
	}
	users, err := c.ListAgencyUsersWithResponse(ctx, agency, nil)
	if err != nil || users.JSON200 == nil || len(users.JSON200.Users) == 0 {
		t.Fatalf("users: %v %s", err, status(users.HTTPResponse))
	}
	brands, err := c.ListAgencyAdvertisersWithResponse(ctx, agency, nil)
	if err != nil || brands.JSON200 == nil || len(brands.JSON200.Advertisers) == 0 {
		t.Fatalf("brands: %v %s", err, status(brands.HTTPResponse))
	}
	brand := brands.JSON200.Advertisers[0].Id

	// Writes: create, change, reveal, reset, disable, delete.
	key := "generated-client-create"
	contact := users.JSON200.Users[0].Id
	created, err := c.CreateAgencyTokenWithResponse(ctx, agency, &generated.CreateAgencyTokenParams{IdempotencyKey: &key},
		generated.TokenCreate{Name: "Generated client", Scopes: &[]generated.ScopeId{"apitokens.read"},
			DeveloperEmails: &[]generated.Email{"dev@example.com"}, PrimaryContactId: &contact})
	if err != nil || created.JSON201 == nil || created.Headers201.Location != created.JSON201.Uri {
		t.Fatalf("create: %v %s", err, status(created.HTTPResponse))
	}
	tok := created.JSON201
	if tok.PrimaryContact == nil || tok.PrimaryContact.Id != contact || tok.DateLastUsed != nil {
		t.Errorf("create: PrimaryContact %v, DateLastUsed %v", tok.PrimaryContact, tok.DateLastUsed)
	}
	name := "Generated client, renamed"
	etag := created.Headers201.ETag
	patched, err := c.PatchAgencyTokenWithResponse(ctx, agency, tok.AccountSid, &generated.PatchAgencyTokenParams{IfMatch: &etag},
		generated.TokenPatch{Name: &name})
	if err != nil || patched.JSON200 == nil || patched.JSON200.Name != name {
		t.Fatalf("patch: %v %s", err, status(patched.HTTPResponse))
	}
	stale, err := c.PatchAgencyTokenWithResponse(ctx, agency, tok.AccountSid, &generated.PatchAgencyTokenParams{IfMatch: &etag},
		generated.TokenPatch{Name: &name})
	if err != nil || stale.JSON412 == nil {
		t.Fatalf("stale patch: %v %s", err, status(stale.HTTPResponse))
	}
	scopes, err := c.SetAgencyTokenScopesWithResponse(ctx, agency, tok.AccountSid, nil,
		generated.Scopes{Scopes: []generated.ScopeId{"reports.*"}})
	if err != nil || scopes.JSON200 == nil || !slices.Contains(scopes.JSON200.Scopes, "reports.read") {
		t.Fatalf("set scopes: %v %s", err, status(scopes.HTTPResponse))
	}
	emails, err := c.SetAgencyTokenDeveloperEmailsWithResponse(ctx, agency, tok.AccountSid, nil,
		generated.DeveloperEmails{Emails: []generated.Email{}})
	if err != nil || emails.JSON200 == nil || len(emails.JSON200.DeveloperEmails) != 0 {
		t.Fatalf("developer e-mails: %v %s", err, status(emails.HTTPResponse))
	}
	revealed, err := c.RevealAgencyTokenWithResponse(ctx, agency, tok.AccountSid, nil)
	if err != nil || revealed.JSON200 == nil || revealed.JSON200.AuthToken != tok.AuthToken {
		t.Fatalf("reveal: %v %s", err, status(revealed.HTTPResponse))
	}
	if own, err := connect(tok.AccountSid, tok.AuthToken).GetAgencyCurrentTokenWithResponse(ctx, tok.AccountSid, nil); err != nil || own.JSON200 == nil {
		t.Fatalf("the new token's own secret: %v %s", err, status(own.HTTPResponse))
	}
	overlap := 60
	reset, err := c.ResetAgencyTokenWithResponse(ctx, agency, tok.AccountSid, nil, generated.ResetOptions{PreviousValidFor: &overlap})
	if err != nil || reset.JSON200 == nil || reset.JSON200.AuthToken == tok.AuthToken || reset.JSON200.PreviousAuthTokenExpiresAt == nil {
		t.Fatalf("reset: %v %s", err, status(reset.HTTPResponse))
	}
	previous, err := connect(tok.AccountSid, tok.AuthToken).GetAgencyCurrentTokenWithResponse(ctx, tok.AccountSid, nil)
	if err != nil || previous.JSON200 == nil || !previous.JSON200.UsingPreviousAuthToken {
		t.Fatalf("the old secret in the overlap: %v %s", err, status(previous.HTTPResponse))
	}
	ended, err := c.EndAgencyTokenOverlapWithResponse(ctx, agency, tok.AccountSid, nil)
	if err != nil || ended.StatusCode() != 204 {
		t.Fatalf("end overlap: %v %s", err, status(ended.HTTPResponse))
	}
	refused, err := connect(tok.AccountSid, tok.AuthToken).GetAgencyCurrentTokenWithResponse(ctx, tok.AccountSid, nil)
	if err != nil || refused.JSON401 == nil {
		t.Fatalf("the old secret after a reset: %v %s", err, status(refused.HTTPResponse))
	}
	disabled, err := c.DisableAgencyTokenWithResponse(ctx, agency, tok.AccountSid, nil)
	if err != nil || disabled.JSON200 == nil || disabled.JSON200.State != generated.DISABLED {
		t.Fatalf("disable: %v %s", err, status(disabled.HTTPResponse))
	}
	dup, err := c.DuplicateAgencyTokenWithResponse(ctx, agency, tok.AccountSid, nil, generated.TokenDuplicate{})
	if err != nil || dup.JSON201 == nil || dup.JSON201.State != generated.ENABLED || dup.JSON201.Name != name+" (copy)" {
		t.Fatalf("duplicate: %v %s", err, status(dup.HTTPResponse))
	}
	bulk, err := c.BulkEnableAgencyTokensWithResponse(ctx, agency, nil,
		generated.BulkRequest{Sids: []generated.AccountSid{tok.AccountSid, dup.JSON201.AccountSid}})
	if err != nil || bulk.JSON200 == nil || len(bulk.JSON200.Results) != 2 {
		t.Fatalf("bulk enable: %v %s", err, status(bulk.HTTPResponse))
	}
	for _, r := range bulk.JSON200.Results {
		if r.Status != generated.BulkResultStatusOK || r.ApiToken == nil || r.ApiToken.State != generated.ENABLED {
			t.Errorf("bulk enable of %s: %s %d", r.AccountSid, r.Status, r.StatusCode)
		}
	}
	deleted, err := c.DeleteAgencyTokenWithResponse(ctx, agency, tok.AccountSid, nil)
	if err != nil || deleted.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %v %s", err, status(deleted.HTTPResponse))
	}
	gone, err := c.GetAgencyTokenWithResponse(ctx, agency, tok.AccountSid, nil)
	if err != nil || gone.JSON404 == nil || gone.JSON404.Status != generated.ErrorStatusERROR {
		t.Fatalf("a deleted token: %v %s", err, status(gone.HTTPResponse))
	}
	bulkDel, err := c.BulkDeleteAgencyTokensWithResponse(ctx, agency, nil,
		generated.BulkRequest{Sids: []generated.AccountSid{dup.JSON201.AccountSid, tok.AccountSid}})
	if err != nil || bulkDel.JSON200 == nil || len(bulkDel.JSON200.Results) != 2 {
		t.Fatalf("bulk delete: %v %s", err, status(bulkDel.HTTPResponse))
	}
	if got := bulkDel.JSON200.Results; got[0].Status != generated.BulkResultStatusOK || got[0].ApiToken != nil ||
		got[1].Status != generated.BulkResultStatusERROR || got[1].StatusCode != http.StatusNotFound {
		t.Errorf("bulk delete outcomes: %+v", got)
	}

	// The passthrough to a managed brand, and the brand's own root with a
	// secret read through it.
	admins := "admin"
	brandTokens, err := c.ListManagedBrandTokensWithResponse(ctx, agency, brand, &generated.ListManagedBrandTokensParams{Name: &admins})
	if err != nil || brandTokens.JSON200 == nil || len(brandTokens.JSON200.ApiTokens) == 0 {
		t.Fatalf("passthrough list: %v %s", err, status(brandTokens.HTTPResponse))
	}
	brandAdmin := brandTokens.JSON200.ApiTokens[0].AccountSid
	brandSecret, err := c.RevealManagedBrandTokenWithResponse(ctx, agency, brand, brandAdmin, nil)
	if err != nil || brandSecret.JSON200 == nil {
		t.Fatalf("passthrough reveal: %v %s", err, status(brandSecret.HTTPResponse))
	}
	b := connect(brandAdmin, brandSecret.JSON200.AuthToken)
	company, err := b.GetBrandCompanyInformationWithResponse(ctx, brandAdmin, nil)
	if err != nil || company.JSON200 == nil || company.JSON200.Id == nil || *company.JSON200.Id != brand {
		t.Fatalf("brand company information: %v %s", err, status(company.HTTPResponse))
	}
	brandCreated, err := b.CreateBrandTokenWithResponse(ctx, brandAdmin, nil, generated.TokenCreate{Name: "Generated brand client"})
	if err != nil || brandCreated.JSON201 == nil || brandCreated.JSON201.ApiVersion < 11 {
		t.Fatalf("brand create: %v %s", err, status(brandCreated.HTTPResponse))
	}
	resets, err := b.BulkResetBrandTokensWithResponse(ctx, brandAdmin, nil,
		generated.BulkResetRequest{Sids: []generated.AccountSid{brandCreated.JSON201.AccountSid}})
	if err != nil || resets.JSON200 == nil || len(resets.JSON200.Results) != 1 || resets.JSON200.Results[0].ApiToken == nil ||
		resets.JSON200.Results[0].ApiToken.AuthToken == brandCreated.JSON201.AuthToken {
		t.Fatalf("brand bulk reset: %v %s", err, status(resets.HTTPResponse))
	}
}

// status names an answer's status for a failure message; never its body,
// which may hold a secret.
func status(resp *http.Response) string {
	if resp == nil {
		return "no answer"
	}
	return resp.Status
}
