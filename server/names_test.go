package server

import (
	"net/http"
	"net/url"
	"testing"
)

// A token's Name never has an Account SID's shape, on any write that sets it,
// even once in NFC form (U+212A KELVIN SIGN becomes K).
func TestNameLikeSIDRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro := ts.cred("admin"), ts.cred("readonly")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	for _, name := range []string{ro.AccountSid, "IR" + "\u212a" + ro.AccountSid[3:]} {
		ts.req("POST", base, admin, map[string]any{"Name": name}).wantError(t, http.StatusBadRequest, "Name")
		ts.req("POST", tokenPath(admin, ro.AccountSid)+"/Duplicate", admin, map[string]any{"Name": name}).wantError(t, http.StatusBadRequest, "Name")
		ts.req("PATCH", tokenPath(admin, ro.AccountSid), admin, map[string]any{"Name": name}).wantError(t, http.StatusBadRequest, "Name")
	}
	// Near misses are names.
	for _, name := range []string{ro.AccountSid + "x", ro.AccountSid[:33], "ir" + ro.AccountSid[2:]} {
		ts.req("POST", base, admin, map[string]any{"Name": name}).want(t, http.StatusCreated)
	}
}

// ExactName selects the tokens whose whole name is the value once both are in
// NFC form; an empty value is 400, as for every filter.
func TestExactNameFilter(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	var nfc, nfd tokenJSON
	ts.req("POST", base, admin, map[string]any{"Name": "Caf\u00e9 deploys"}).want(t, http.StatusCreated).decode(t, &nfc)
	ts.req("POST", base, admin, map[string]any{"Name": "Cafe\u0301 deploys"}).want(t, http.StatusCreated).decode(t, &nfd)
	ts.req("POST", base, admin, map[string]any{"Name": "Caf\u00e9 deploys (copy)"}).want(t, http.StatusCreated)
	for _, value := range []string{"Caf\u00e9 deploys", "Cafe\u0301 deploys"} {
		var l tokenList
		ts.get(admin, "/ApiTokens?ExactName="+url.QueryEscape(value)).want(t, http.StatusOK).decode(t, &l)
		if l.Total != "2" || len(l.ApiTokens) != 2 || l.ApiTokens[0].AccountSid != nfc.AccountSid || l.ApiTokens[1].AccountSid != nfd.AccountSid {
			t.Fatalf("ExactName=%q: %+v", value, l)
		}
	}
	var l tokenList
	ts.get(admin, "/ApiTokens?ExactName=caf%C3%A9+deploys").want(t, http.StatusOK).decode(t, &l)
	if l.Total != "0" {
		t.Fatalf("ExactName is case-sensitive: %+v", l)
	}
	ts.get(admin, "/ApiTokens?ExactName=", "X-Contract-Skip", "1").wantError(t, http.StatusBadRequest, "ExactName")
}
