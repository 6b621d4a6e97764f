package server

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// TestPassthroughNeedsAdvertisersRead: without advertisers.read, a managed brand, an
// unmanaged one and one that does not exist answer alike (403 naming the scope), so
// no brand ID can be probed; the endpoint's own scope does not stand in for it.
func TestPassthroughNeedsAdvertisersRead(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro, reporter := ts.cred("admin"), ts.cred("readonly"), ts.cred("reporter")
	var first []byte
	for _, c := range []Credential{ro, reporter} {
		for _, brand := range []string{"1048291", "2002002", "9999999"} {
			for _, rel := range []string{"/ApiScopes", "/CompanyInformation", "/ApiTokens"} {
				r := ts.req("GET", "/Agencies/"+c.AccountSid+"/Advertisers/"+brand+rel, c, nil)
				e := r.wantCode(t, http.StatusForbidden, contract.CodeMissingScope)
				if e.Scope != service.ScopeAdvertisersRead {
					t.Fatalf("%s: Scope %q", rel, e.Scope)
				}
				if first == nil {
					first = r.Body
				} else if !bytes.Equal(first, r.Body) {
					t.Fatalf("answers differ: %s and %s", first, r.Body)
				}
			}
		}
	}
	// With the scope, the brand decides: managed 200, unmanaged 404.
	ts.req("GET", "/Agencies/"+admin.AccountSid+"/Advertisers/1048291/ApiScopes", admin, nil).want(t, http.StatusOK)
	ts.req("GET", "/Agencies/"+admin.AccountSid+"/Advertisers/9999999/ApiScopes", admin, nil).wantCode(t, http.StatusNotFound, contract.CodeNotFound)
}

// TestPageBounds: a Page past 1,000,000 or whose offset would overflow is 400, never a
// wrapped-around page 1.
func TestPageBounds(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	for _, q := range []string{
		"Page=9223372036854775807",
		"Page=9223372036854775807&PageSize=1000",
		"Page=4611686018427387905&PageSize=2",
		"Page=1000001",
		"Page=99999999999999999999",
		"PageSize=1001",
	} {
		ts.req("GET", "/Agencies/"+admin.AccountSid+"/ApiTokens?"+q, admin, nil, offContract...).
			wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
		ts.req("GET", "/Agencies/"+admin.AccountSid+"/Users?"+q, admin, nil, offContract...).
			wantCode(t, http.StatusBadRequest, contract.CodeBadRequest)
	}
	var l tokenList
	ts.get(admin, "/ApiTokens?Page=1000000&PageSize=1000").want(t, http.StatusOK).decode(t, &l)
	if l.Page != "1000000" || len(l.ApiTokens) != 0 {
		t.Fatalf("last allowed page: %+v", l)
	}
}
