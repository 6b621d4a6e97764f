package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

func TestCurrent(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) { o.RateLimit = Rate{N: 10, Per: time.Hour} })
	admin := ts.cred("admin")
	r := ts.req("GET", "/Agencies/"+admin.AccountSid+"/ApiTokens/Current", admin, nil, "IR-Version", "14").want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if tok.AccountSid != admin.AccountSid || tok.AuthToken != "" || tok.Name != "Agency admin" {
		t.Fatalf("current: %s", r.Body)
	}
	if tok.RateLimit == nil || tok.RateLimit.Limit != 10 || tok.RateLimit.Remaining != 9 || tok.RateLimit.Reset != 3600 {
		t.Fatalf("rate limit: %+v", tok.RateLimit)
	}
	if r.Header.Get("ETag") == "" || r.Header.Get("X-RateLimit-Remaining") != "9" {
		t.Fatalf("headers: %v", r.Header)
	}
	if tok.Uri != "/Agencies/"+admin.AccountSid+"/ApiTokens/"+admin.AccountSid {
		t.Fatalf("Uri %s", tok.Uri)
	}

	brand := ts.cred("brand-admin")
	r = ts.req("GET", "/Advertisers/"+brand.AccountSid+"/ApiTokens/Current", brand, nil).want(t, http.StatusOK)
	r.decode(t, &tok)
	if tok.LatestApiVersion != 14 || tok.ApiVersion != 14 {
		t.Fatalf("brand current: %s", r.Body)
	}
}

func TestAuthenticationRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	path := "/Agencies/" + admin.AccountSid + "/ApiTokens/Current"

	wrong := admin
	wrong.AuthToken = wrongSecret(admin.AuthToken)
	r := ts.req("GET", path, wrong, nil)
	r.wantError(t, http.StatusUnauthorized, "Authorization")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	unknown := Credential{AccountSid: "IR" + strings.Repeat("Z", 32), AuthToken: admin.AuthToken}
	ts.req("GET", "/Agencies/"+unknown.AccountSid+"/ApiTokens/Current", unknown, nil).wantError(t, http.StatusUnauthorized)
	ts.req("GET", path, Credential{}, nil, offContract...).wantError(t, http.StatusUnauthorized)
	ts.req("GET", path, Credential{AccountSid: "not-a-sid", AuthToken: "x"}, nil).wantError(t, http.StatusUnauthorized)

	disabled := ts.cred("disabled")
	ts.get(disabled, "/ApiTokens/Current").wantError(t, http.StatusForbidden, "disabled")

	readonly := ts.cred("readonly")
	ts.get(readonly, "/CompanyInformation").wantError(t, http.StatusForbidden, "account.read")
	ts.get(readonly, "/Users").wantError(t, http.StatusForbidden, "users.read")
	ts.get(readonly, "/Advertisers").wantError(t, http.StatusForbidden, "advertisers.read")
	ts.get(readonly, "/ApiTokens/"+admin.AccountSid+"/AuthToken").wantError(t, http.StatusForbidden, "apitokens.reveal")
	ts.get(readonly, "/ApiTokens").want(t, http.StatusOK)
	ts.get(readonly, "/ApiScopes").want(t, http.StatusOK)
}

func TestRootsAndIsolation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, other, brand := ts.cred("admin"), ts.cred("agency2-admin"), ts.cred("brand-admin")

	// A SID in the path other than the caller's is 404, even another of its own agency.
	notFound := ts.req("GET", "/Agencies/"+ts.cred("readonly").AccountSid+"/ApiTokens", admin, nil).wantError(t, http.StatusNotFound)
	ts.req("GET", "/Agencies/"+other.AccountSid+"/ApiTokens", admin, nil).wantError(t, http.StatusNotFound)
	// Another agency's token is 404 exactly like a token that does not exist.
	a := ts.get(admin, "/ApiTokens/"+other.AccountSid).wantError(t, http.StatusNotFound)
	b := ts.get(admin, "/ApiTokens/IR"+strings.Repeat("0", 32)).wantError(t, http.StatusNotFound)
	if a.Message != b.Message || a.Errors[0] != b.Errors[0] || a.Errors[0] != notFound.Errors[0] {
		t.Fatalf("404s differ: %+v %+v", a, b)
	}
	// A brand token works under /Advertisers only; an agency token under /Agencies only.
	ts.req("GET", "/Agencies/"+brand.AccountSid+"/ApiTokens", brand, nil).wantError(t, http.StatusNotFound)
	ts.req("GET", "/Advertisers/"+admin.AccountSid+"/ApiTokens", admin, nil).wantError(t, http.StatusNotFound)
	var list tokenList
	ts.req("GET", "/Advertisers/"+brand.AccountSid+"/ApiTokens", brand, nil).want(t, http.StatusOK).decode(t, &list)
	if list.Total != "3" || list.ApiTokens[0].Uri != "/Advertisers/"+brand.AccountSid+"/ApiTokens/"+list.ApiTokens[0].AccountSid {
		t.Fatalf("brand list: %+v", list)
	}

	// Passthrough to a managed brand.
	pass := "/Agencies/" + admin.AccountSid + "/Advertisers/1048291"
	ts.req("GET", pass+"/ApiTokens", admin, nil).want(t, http.StatusOK).decode(t, &list)
	if list.Total != "3" || !strings.HasPrefix(list.ApiTokens[0].Uri, pass+"/ApiTokens/") {
		t.Fatalf("passthrough list: %+v", list)
	}
	found := false
	for _, tok := range list.ApiTokens {
		found = found || tok.AccountSid == brand.AccountSid
	}
	if !found {
		t.Fatal("passthrough list misses the brand admin token")
	}
	ts.req("GET", pass+"/ApiTokens/"+brand.AccountSid, admin, nil).want(t, http.StatusOK)
	// Another brand's token through this brand's path: 404.
	ts.req("GET", "/Agencies/"+admin.AccountSid+"/Advertisers/1048305/ApiTokens/"+brand.AccountSid, admin, nil).wantError(t, http.StatusNotFound)
	// A brand of another agency and a brand that does not exist: the same 404.
	x := ts.req("GET", "/Agencies/"+admin.AccountSid+"/Advertisers/2099001/ApiTokens", admin, nil).wantError(t, http.StatusNotFound)
	y := ts.req("GET", "/Agencies/"+admin.AccountSid+"/Advertisers/9999999/ApiTokens", admin, nil).wantError(t, http.StatusNotFound)
	if x.Errors[0] != y.Errors[0] {
		t.Fatal("unmanaged and missing brands answer differently")
	}
	// Scopes apply on the passthrough root too: advertisers.read first, then the endpoint's.
	ts.req("GET", "/Agencies/"+ts.cred("reporter").AccountSid+"/Advertisers/1048291/ApiTokens", ts.cred("reporter"), nil).
		wantError(t, http.StatusForbidden, "advertisers.read")
	var lister tokenJSON
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, map[string]any{"Name": "brand lister", "Scopes": []string{"advertisers.read"}}).
		want(t, http.StatusCreated).decode(t, &lister)
	ts.req("GET", "/Agencies/"+lister.AccountSid+"/Advertisers/1048291/ApiTokens", Credential{AccountSid: lister.AccountSid, AuthToken: lister.AuthToken}, nil).
		wantError(t, http.StatusForbidden, "apitokens.read")
	// Users and company information of the brand.
	var users struct{ Users []service.UserBody }
	ts.req("GET", pass+"/Users", admin, nil).want(t, http.StatusOK).decode(t, &users)
	if len(users.Users) != 2 || users.Users[0].Id != "U200" {
		t.Fatalf("brand users: %+v", users)
	}
	var company httpapi.CompanyBody
	ts.req("GET", pass+"/CompanyInformation", admin, nil).want(t, http.StatusOK).decode(t, &company)
	if company.Id != "1048291" || company.AccountType != "ADVERTISER" {
		t.Fatalf("brand company: %+v", company)
	}
}

func TestAccountEndpoints(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	var company httpapi.CompanyBody
	ts.get(admin, "/CompanyInformation").want(t, http.StatusOK).decode(t, &company)
	if company.CompanyName != "Demo Agency" || company.AccountType != "AGENCY" {
		t.Fatalf("company: %+v", company)
	}

	var brands struct {
		Total       string `json:"@total"`
		Advertisers []httpapi.AdvertiserBody
	}
	ts.get(admin, "/Advertisers").want(t, http.StatusOK).decode(t, &brands)
	if brands.Total != "3" || len(brands.Advertisers) != 3 || brands.Advertisers[0].Id != "1048291" || brands.Advertisers[0].State != "ACTIVE" {
		t.Fatalf("advertisers: %+v", brands)
	}
	ts.get(admin, "/Advertisers/1048305").want(t, http.StatusOK)
	ts.get(admin, "/Advertisers/2099001").wantError(t, http.StatusNotFound)

	var users struct {
		Total string `json:"@total"`
		Users []service.UserBody
	}
	ts.get(admin, "/Users").want(t, http.StatusOK).decode(t, &users)
	if users.Total != "5" || users.Users[0] != (service.UserBody{Id: "U100", Name: "Ada Byron", Email: "ada@demo-agency.example"}) {
		t.Fatalf("users: %+v", users)
	}

	var cat struct{ Categories []service.Category }
	ts.get(admin, "/ApiScopes").want(t, http.StatusOK).decode(t, &cat)
	ids := map[string]bool{}
	for _, c := range cat.Categories {
		for _, s := range c.Scopes {
			ids[s.Id] = s.Method != "" && s.Name != ""
		}
	}
	for _, want := range []string{"account.read", "users.read", "advertisers.read", "apitokens.read", "apitokens.write",
		"apitokens.reveal", "reports.read", "reports.export", "jobs.read", "compliance.read", "actions.read",
		"campaigns.read", "partners.read", "promocodes.read", "clicks.read", "catalogs.read", "contracts.read", "invoices.read"} {
		if !ids[want] {
			t.Errorf("catalog lacks %s", want)
		}
	}
	brand := ts.cred("brand-admin")
	ts.req("GET", "/Advertisers/"+brand.AccountSid+"/ApiScopes", brand, nil).want(t, http.StatusOK).decode(t, &cat)
	for _, c := range cat.Categories {
		if c.Id == "advertisers" {
			t.Fatal("brand catalog offers advertisers")
		}
	}
	// Advertisers exists only under the agency root.
	ts.req("GET", "/Advertisers/"+brand.AccountSid+"/Advertisers", brand, nil, offContract...).wantError(t, http.StatusNotFound)
}

func TestPagingAcrossPages(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	var all []tokenJSON
	next := "/Agencies/" + admin.AccountSid + "/ApiTokens?PageSize=7"
	pages := 0
	for next != "" {
		var l tokenList
		ts.req("GET", next, admin, nil).want(t, http.StatusOK).decode(t, &l)
		pages++
		if l.Page != strconvI(pages) || l.PageSize != "7" || l.Total != "30" || l.NumPages != "5" {
			t.Fatalf("page %d envelope: %+v", pages, l)
		}
		all = append(all, l.ApiTokens...)
		next = l.NextPageUri
		if next != "" && !strings.HasPrefix(next, "/Agencies/"+admin.AccountSid+"/ApiTokens?") {
			t.Fatalf("next %q", next)
		}
	}
	if pages != 5 || len(all) != 30 {
		t.Fatalf("%d pages, %d tokens", pages, len(all))
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool {
		if all[i].DateCreated != all[j].DateCreated {
			return all[i].DateCreated < all[j].DateCreated
		}
		return all[i].AccountSid < all[j].AccountSid
	}) {
		t.Fatal("not in DateCreated, SID order")
	}
	seen := map[string]bool{}
	states := map[string]int{}
	versions := map[int]int{}
	for _, tok := range all {
		if seen[tok.AccountSid] {
			t.Fatalf("%s twice", tok.AccountSid)
		}
		seen[tok.AccountSid] = true
		states[tok.State]++
		versions[tok.ApiVersion]++
		if tok.AuthToken != "" || len(tok.AuthTokenHint) != 4 {
			t.Fatalf("secret material in a list: %+v", tok)
		}
	}
	if states["ENABLED"] == 0 || states["DISABLED"] == 0 || versions[2] == 0 || versions[3] == 0 {
		t.Fatalf("demo variety: %v %v", states, versions)
	}
	// Past the last page: empty, no next.
	var l tokenList
	ts.get(admin, "/ApiTokens?Page=9&PageSize=7").want(t, http.StatusOK).decode(t, &l)
	if len(l.ApiTokens) != 0 || l.NextPageUri != "" || l.ApiTokens == nil {
		t.Fatalf("past the end: %s", l.NextPageUri)
	}
	// Default page size.
	ts.get(admin, "/ApiTokens").want(t, http.StatusOK).decode(t, &l)
	if l.PageSize != "100" || len(l.ApiTokens) != 30 || l.NextPageUri != "" {
		t.Fatalf("default page: %+v", l.PageSize)
	}
	for _, bad := range []string{"Page=0", "Page=x", "PageSize=0", "PageSize=1001"} {
		field, _, _ := strings.Cut(bad, "=")
		ts.get(admin, "/ApiTokens?"+bad, offContract...).wantError(t, http.StatusBadRequest, field)
	}
	ts.get(admin, "/ApiTokens?PageSize=1000").want(t, http.StatusOK)
}

func strconvI(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestListFilters(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	list := func(q url.Values) []tokenJSON {
		t.Helper()
		var l tokenList
		ts.get(admin, "/ApiTokens?"+q.Encode()).want(t, http.StatusOK).decode(t, &l)
		return l.ApiTokens
	}
	all := list(url.Values{})

	check := func(name string, q url.Values, match func(tokenJSON) bool) {
		t.Helper()
		got := list(q)
		var want []string
		for _, tok := range all {
			if match(tok) {
				want = append(want, tok.AccountSid)
			}
		}
		var gotSIDs []string
		for _, tok := range got {
			gotSIDs = append(gotSIDs, tok.AccountSid)
		}
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("%s: filter does not discriminate in the demo data (%d of %d)", name, len(want), len(all))
		}
		if strings.Join(gotSIDs, ",") != strings.Join(want, ",") {
			t.Fatalf("%s: got %v, want %v", name, gotSIDs, want)
		}
	}
	check("State", url.Values{"State": {"DISABLED"}}, func(t tokenJSON) bool { return t.State == "DISABLED" })
	check("Name", url.Values{"Name": {"REPORT"}}, func(t tokenJSON) bool { return strings.Contains(strings.ToLower(t.Name), "report") })
	mid := all[len(all)/2].DateCreated
	check("CreatedAfter", url.Values{"CreatedAfter": {mid}}, func(t tokenJSON) bool { return t.DateCreated >= mid })
	check("CreatedBefore", url.Values{"CreatedBefore": {mid}}, func(t tokenJSON) bool { return t.DateCreated < mid })
	cut := testEpoch.AddDate(0, 0, -90)
	check("LastUsedBefore", url.Values{"LastUsedBefore": {cut.Format(time.DateOnly)}}, func(t tokenJSON) bool {
		return t.DateLastUsed == nil || *t.DateLastUsed < cut.Format(time.RFC3339)
	})
	check("ResetBefore", url.Values{"ResetBefore": {cut.Format(time.RFC3339)}}, func(t tokenJSON) bool {
		return t.DateAuthTokenReset < cut.Format(time.RFC3339)
	})
	check("combined", url.Values{"State": {"ENABLED"}, "CreatedAfter": {mid}}, func(t tokenJSON) bool {
		return t.State == "ENABLED" && t.DateCreated >= mid
	})

	// @nextpageuri keeps the filters.
	var l tokenList
	r := ts.get(admin, "/ApiTokens?State=ENABLED&PageSize=5").want(t, http.StatusOK)
	if bytes.Contains(r.Body, []byte(`\u0026`)) {
		t.Fatal("@nextpageuri escapes &")
	}
	r.decode(t, &l)
	if !strings.Contains(l.NextPageUri, "State=ENABLED") || !strings.Contains(l.NextPageUri, "Page=2") {
		t.Fatalf("next %q", l.NextPageUri)
	}
	for _, bad := range []string{"State=gone", "CreatedAfter=yesterday", "CreatedBefore=2026-13-01", "LastUsedBefore=1", "ResetBefore=x"} {
		field, _, _ := strings.Cut(bad, "=")
		ts.get(admin, "/ApiTokens?"+bad, offContract...).wantError(t, http.StatusBadRequest, field)
	}
}

// TestEmptyListFilters: a list filter or paging parameter present with an empty value
// is 400 naming it, on every list: an unset variable in a caller's script must never
// widen a selection to everything.
func TestEmptyListFilters(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	for _, list := range []struct {
		path   string
		params []string
	}{
		{"/ApiTokens", []string{"Name", "ExactName", "State", "CreatedAfter", "CreatedBefore", "LastUsedBefore", "ResetBefore", "Page", "PageSize"}},
		{"/Advertisers/1048291/ApiTokens", []string{"Name", "ExactName", "State", "CreatedBefore"}},
		{"/Users", []string{"Page", "PageSize"}},
		{"/Advertisers", []string{"Page", "PageSize"}},
	} {
		for _, name := range list.params {
			for _, query := range []string{name + "=", "State=ENABLED&" + name + "=", name + "&PageSize=5"} {
				if name == "State" && strings.HasPrefix(query, "State=ENABLED") {
					continue
				}
				e := ts.get(admin, list.path+"?"+query, offContract...).wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
				if len(e.Errors) != 1 || e.Errors[0].Field != name {
					t.Fatalf("%s?%s: errors %+v, want one naming %s", list.path, query, e.Errors, name)
				}
			}
		}
	}
}

func TestGetAndReveal(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, readonly := ts.cred("admin"), ts.cred("readonly")
	r := ts.get(admin, "/ApiTokens/"+readonly.AccountSid).want(t, http.StatusOK)
	var tok tokenJSON
	r.decode(t, &tok)
	if r.Header.Get("ETag") != `"1"` || tok.Name != "Read-only auditor" || tok.PrimaryContact == nil ||
		tok.PrimaryContact.Id != "U102" || tok.AuthTokenHint != readonly.AuthToken[28:] {
		t.Fatalf("token: %v %s", r.Header, r.Body)
	}

	r = ts.get(admin, "/ApiTokens/"+readonly.AccountSid+"/AuthToken").want(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("reveal without Cache-Control: no-store")
	}
	var sec httpapi.SecretBody
	r.decode(t, &sec)
	if sec != (httpapi.SecretBody{AccountSid: readonly.AccountSid, AuthToken: readonly.AuthToken}) {
		t.Fatalf("reveal: %+v", sec)
	}
	ts.get(Credential{AccountSid: sec.AccountSid, AuthToken: sec.AuthToken}, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.get(readonly, "/ApiTokens/"+admin.AccountSid+"/AuthToken").wantError(t, http.StatusForbidden, "apitokens.reveal")
	ts.get(admin, "/ApiTokens/"+ts.cred("agency2-admin").AccountSid+"/AuthToken").wantError(t, http.StatusNotFound)
}

func TestRouteErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	r := ts.req("DELETE", "/Agencies/"+admin.AccountSid+"/ApiScopes", admin, nil, offContract...)
	r.wantError(t, http.StatusMethodNotAllowed, "DELETE")
	if !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Fatalf("Allow %q", r.Header.Get("Allow"))
	}
	ts.req("GET", "/Nowhere", admin, nil, offContract...).wantError(t, http.StatusNotFound)
	ts.req("GET", "/Agencies/"+admin.AccountSid+"/Campaigns", admin, nil, offContract...).wantError(t, http.StatusNotFound)
	big := `{"Name":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, big, offContract...).wantError(t, http.StatusRequestEntityTooLarge)
	// Without a Content-Length the limit holds while reading. (In process: the
	// contract transport would buffer the body and give it a length.)
	h := httpapi.New(ts.st, envOf(ts.st), httpapi.Options{})
	for _, key := range []string{"", "big"} {
		req := httptest.NewRequest("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", unsized{strings.NewReader(big)})
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked body over 1 MiB: %d %s", rec.Code, rec.Body)
		}
	}
}

// unsized hides a reader's length, so the request is sent chunked.
type unsized struct{ io.Reader }

func TestRateLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) { o.RateLimit = Rate{N: 3, Per: time.Hour} })
	admin, readonly := ts.cred("admin"), ts.cred("readonly")
	for i := 2; i >= 0; i-- {
		r := ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK)
		if r.Header.Get("X-RateLimit-Limit") != "3" || r.Header.Get("X-RateLimit-Remaining") != strconvI(i) ||
			r.Header.Get("X-RateLimit-Reset") != "3600" {
			t.Fatalf("headers %v", r.Header)
		}
	}
	ts.clock.Advance(10 * time.Minute)
	r := ts.get(admin, "/ApiTokens/Current")
	r.wantError(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "3000" || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers %v", r.Header)
	}
	// Per token: another token still has its budget.
	ts.get(readonly, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.clock.Advance(50 * time.Minute)
	ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK)
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	r := ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK)
	if r.Header.Get("X-RateLimit-Limit") != "" {
		t.Fatal("rate headers with the limit off")
	}
	var tok tokenJSON
	r.decode(t, &tok)
	if tok.RateLimit == nil || tok.RateLimit.Limit != 0 {
		t.Fatalf("RateLimit %+v", tok.RateLimit)
	}
}

func TestAuthFailLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) { o.AuthFailLimit = Rate{N: 3, Per: time.Minute} })
	admin := ts.cred("admin")
	bad := admin
	bad.AuthToken = strings.Repeat("a", 32)
	for i := 0; i < 3; i++ {
		ts.get(bad, "/ApiTokens/Current").wantError(t, http.StatusUnauthorized)
	}
	// Now every request from this address is refused, good credentials included.
	r := ts.get(admin, "/ApiTokens/Current")
	r.wantError(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	ts.clock.Advance(time.Minute)
	ts.get(admin, "/ApiTokens/Current").want(t, http.StatusOK)
}

// A token reading itself by SID sees the use that request made, as ApiTokens/Current does.
func TestReadOwnTokenShowsThisUse(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	ts.clock.Advance(time.Hour)
	var tok tokenJSON
	ts.get(admin, "/ApiTokens/"+admin.AccountSid).want(t, http.StatusOK).decode(t, &tok)
	want := testEpoch.Add(time.Hour).Format(time.RFC3339)
	if tok.DateLastUsed == nil {
		t.Fatalf("DateLastUsed null, want %s", want)
	}
	if *tok.DateLastUsed != want {
		t.Fatalf("DateLastUsed %s, want %s", *tok.DateLastUsed, want)
	}
}

func TestLastUsedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, readonly := ts.cred("admin"), ts.cred("readonly")
	lastUsed := func() string {
		var tok tokenJSON
		ts.get(admin, "/ApiTokens/"+readonly.AccountSid).want(t, http.StatusOK).decode(t, &tok)
		return *tok.DateLastUsed
	}
	before := ts.get(admin, "/ApiTokens/"+readonly.AccountSid).Header.Get("ETag")
	ts.get(readonly, "/ApiTokens/Current").want(t, http.StatusOK)
	first := lastUsed()
	if first != testEpoch.Format(time.RFC3339) {
		t.Fatalf("DateLastUsed %s", first)
	}
	ts.clock.Advance(30 * time.Second)
	ts.get(readonly, "/ApiTokens/Current").want(t, http.StatusOK)
	if lastUsed() != first {
		t.Fatal("DateLastUsed written twice within a minute")
	}
	ts.clock.Advance(31 * time.Second)
	ts.get(readonly, "/ApiTokens/Current").want(t, http.StatusOK)
	if lastUsed() == first {
		t.Fatal("DateLastUsed not written after a minute")
	}
	if after := ts.get(admin, "/ApiTokens/"+readonly.AccountSid).Header.Get("ETag"); after != before {
		t.Fatalf("use changed the ETag: %s -> %s", before, after)
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	ts := newTestServer(t, func(o *httpapi.Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	admin := ts.cred("admin")
	ts.get(admin, "/ApiTokens/"+admin.AccountSid+"/AuthToken").want(t, http.StatusOK)
	line := map[string]any{}
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["method"] != "GET" || line["status"] != float64(200) || line["caller"] != admin.AccountSid ||
		!strings.HasSuffix(line["path"].(string), "/AuthToken") || line["duration_ms"] == nil {
		t.Fatalf("log line %v", line)
	}
	if strings.Contains(buf.String(), admin.AuthToken) {
		t.Fatal("the log holds a secret")
	}
}

func TestDemoIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := newTestServer(t), newTestServer(t)
	for role, ca := range a.creds {
		cb := b.creds[role]
		if ca.AccountSid != cb.AccountSid || ca.AuthToken != cb.AuthToken {
			t.Fatalf("role %s differs", role)
		}
	}
	for _, role := range []string{"admin", "agency2-admin", "disabled", "readonly", "brand-admin", "writer", "reporter"} {
		if _, ok := a.creds[role]; !ok {
			t.Fatalf("no role %s", role)
		}
	}
	ra := a.get(a.cred("admin"), "/ApiTokens").want(t, http.StatusOK)
	rb := b.get(b.cred("admin"), "/ApiTokens").want(t, http.StatusOK)
	if !bytes.Equal(ra.Body, rb.Body) {
		t.Fatalf("two fresh demo servers list different tokens:\n%s\n%s", ra.Body, rb.Body)
	}
}

func TestStartReadyFileAndRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{
		Addr:      "127.0.0.1:0",
		DB:        filepath.Join(dir, "demo.db"),
		Demo:      true,
		ReadyFile: filepath.Join(dir, "ready.json"),
		RateLimit: Rate{N: 1000, Per: time.Hour},
	}
	ctx := context.Background()
	inst, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(cfg.ReadyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ready file: %v %v", st, err)
	}
	if st, err := os.Stat(cfg.DB + ".key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	var ready Credential
	data, _ := os.ReadFile(cfg.ReadyFile)
	if err := json.Unmarshal(data, &ready); err != nil || ready != inst.Admin || ready.Url != inst.URL {
		t.Fatalf("ready %s vs %+v", data, inst.Admin)
	}
	get := func(c Credential, path string) int {
		req, _ := http.NewRequest("GET", c.Url+path, nil)
		req.SetBasicAuth(c.AccountSid, c.AuthToken)
		res, err := testClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := get(ready, "/Agencies/"+ready.AccountSid+"/ApiTokens"); s != 200 {
		t.Fatalf("list %d", s)
	}
	if s := get(inst.DemoCredentials()["disabled"], "/Agencies/"+inst.DemoCredentials()["disabled"].AccountSid+"/ApiTokens/Current"); s != 403 {
		t.Fatalf("disabled %d", s)
	}
	if err := inst.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inst.Wait(); err != nil {
		t.Fatal(err)
	}

	// A restart neither reseeds nor loses the credentials: secrets are encrypted, not hashed.
	inst2, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer inst2.Shutdown(ctx)
	if inst2.Admin.AccountSid != ready.AccountSid || inst2.Admin.AuthToken != ready.AuthToken {
		t.Fatal("admin credentials changed across a restart")
	}
	var n int
	inst2.st.(*store.SQLiteStore).DB.QueryRow(`SELECT count(*) FROM accounts`).Scan(&n)
	if n != 6 {
		t.Fatalf("%d accounts after restart", n)
	}
	if s := get(inst2.Admin, "/Agencies/"+ready.AccountSid+"/ApiTokens"); s != 200 {
		t.Fatalf("list after restart %d", s)
	}

	// Another key file cannot open the database.
	if _, err := store.OpenStore(ctx, cfg.DB, filepath.Join(dir, "other.key"), store.StoreOptions{}); err == nil {
		t.Fatal("a wrong key file was accepted")
	}
}

func TestBootstrapWithoutDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inst, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Shutdown(context.Background())
	if inst.Admin.AccountSid == "" || len(inst.DemoCredentials()) != 1 {
		t.Fatalf("bootstrap admin: %+v", inst.DemoCredentials())
	}
}
