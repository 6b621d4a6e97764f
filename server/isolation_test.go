package server

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// contractEndpoint is one row of the contract's endpoint table, below a root; {tok}
// is a token SID.
type contractEndpoint struct {
	method, path string
	body         string // a body the endpoint accepts, so only the addressing can fail
}

// contractEndpoints are every method and path the Token API offers under a root.
var contractEndpoints = []contractEndpoint{
	{"GET", "ApiTokens/Current", ""},
	{"GET", "CompanyInformation", ""},
	{"GET", "Advertisers", ""},
	{"GET", "Users", ""},
	{"GET", "ApiScopes", ""},
	{"GET", "ApiTokens?Page=1&PageSize=10&State=ENABLED", ""},
	{"GET", "ApiTokens/{tok}", ""},
	{"GET", "ApiTokens/{tok}/AuthToken", ""},
	{"GET", "ApiTokens/{tok}/Events", ""},
	{"GET", "ApiTokenEvents?Sid={tok}", ""},
	{"POST", "ApiTokens", `{"Name":"probe"}`},
	{"POST", "ApiTokens/{tok}/Duplicate", `{}`},
	{"PATCH", "ApiTokens/{tok}", `{"Description":"probe"}`},
	{"POST", "ApiTokens/{tok}/Reset", ``},
	{"POST", "ApiTokens/{tok}/Disable", ``},
	{"POST", "ApiTokens/{tok}/Enable", ``},
	{"DELETE", "ApiTokens/{tok}", ``},
	{"PUT", "ApiTokens/{tok}/Scopes", `{"Scopes":["reports.read"]}`},
	{"DELETE", "ApiTokens/{tok}/Scopes", ``},
	{"PUT", "ApiTokens/{tok}/DeveloperEmails", `{"Emails":["probe@example.com"]}`},
	{"POST", "ApiTokens/Disable", `{"Sids":["{tok}"]}`},
	{"POST", "ApiTokens/Enable", `{"Sids":["{tok}"]}`},
	{"POST", "ApiTokens/Delete", `{"Sids":["{tok}"]}`},
	{"POST", "ApiTokens/Reset", `{"Sids":["{tok}"]}`},
}

// missingSID and missingBrand exist nowhere.
const (
	missingSID   = "IR00000000000000000000000000000000"
	missingBrand = "9999999"
)

// foreignCase is a caller reaching for what is not its own, and its twin: the same
// caller reaching for what does not exist. Both must get the same answer.
type foreignCase struct {
	name   string
	caller string // demo role
	root   string // the root addressed
	tok    string // the token SID addressed
	// twinRoot and twinTok replace root and tok in the twin request.
	twinRoot, twinTok string
	// OwnRoot cases address the caller's own root: only the token is foreign, so only
	// endpoints naming a token are checked.
	ownRoot bool
}

// TestIsolation sends every endpoint of the contract, on all three roots, as every
// kind of foreign caller, and checks each gets exactly the answer it would get for
// something that does not exist (status, Code and body), and that nothing changed.
//
//	go test ./server -run TestIsolation -v
func TestIsolation(t *testing.T) {
	ts := newTestServer(t)
	sid := func(role string) string { return ts.cred(role).AccountSid }
	admin, agency2, brand, brand2 := sid("admin"), sid("agency2-admin"), sid("brand-admin"), sid("brand2-admin")
	const brandID, agency2BrandID = "1048291", "2099001"
	readonly := sid("readonly")

	cases := []foreignCase{
		{name: "second agency on the first agency's root", caller: "agency2-admin",
			root: "/Agencies/" + admin, tok: readonly, twinRoot: "/Agencies/" + missingSID, twinTok: missingSID},
		{name: "second agency, its own root, a token of the first", caller: "agency2-admin", ownRoot: true,
			root: "/Agencies/" + agency2, tok: readonly, twinRoot: "/Agencies/" + agency2, twinTok: missingSID},
		{name: "second agency through the first agency's brand", caller: "agency2-admin",
			root: "/Agencies/" + agency2 + "/Advertisers/" + brandID, tok: brand,
			twinRoot: "/Agencies/" + agency2 + "/Advertisers/" + missingBrand, twinTok: missingSID},
		{name: "brand token on the agency root", caller: "brand-admin",
			root: "/Agencies/" + brand, tok: brand, twinRoot: "/Agencies/" + missingSID, twinTok: missingSID},
		{name: "brand token on its agency's root", caller: "brand-admin",
			root: "/Agencies/" + admin, tok: readonly, twinRoot: "/Agencies/" + missingSID, twinTok: missingSID},
		{name: "brand token on the passthrough root", caller: "brand-admin",
			root: "/Agencies/" + brand + "/Advertisers/" + brandID, tok: brand,
			twinRoot: "/Agencies/" + missingSID + "/Advertisers/" + brandID, twinTok: missingSID},
		{name: "agency token on the brand root", caller: "admin",
			root: "/Advertisers/" + admin, tok: readonly, twinRoot: "/Advertisers/" + missingSID, twinTok: missingSID},
		{name: "agency token on its brand's root", caller: "admin",
			root: "/Advertisers/" + brand, tok: brand, twinRoot: "/Advertisers/" + missingSID, twinTok: missingSID},
		{name: "agency on a brand it does not manage", caller: "admin",
			root: "/Agencies/" + admin + "/Advertisers/" + agency2BrandID, tok: sid("agency2-brand-admin"),
			twinRoot: "/Agencies/" + admin + "/Advertisers/" + missingBrand, twinTok: missingSID},
		{name: "agency, its own root, a managed brand's token", caller: "admin", ownRoot: true,
			root: "/Agencies/" + admin, tok: brand, twinRoot: "/Agencies/" + admin, twinTok: missingSID},
		{name: "agency through one brand, another brand's token", caller: "admin", ownRoot: true,
			root: "/Agencies/" + admin + "/Advertisers/" + brandID, tok: brand2,
			twinRoot: "/Agencies/" + admin + "/Advertisers/" + brandID, twinTok: missingSID},
		{name: "agency through a brand, its own agency's token", caller: "admin", ownRoot: true,
			root: "/Agencies/" + admin + "/Advertisers/" + brandID, tok: readonly,
			twinRoot: "/Agencies/" + admin + "/Advertisers/" + brandID, twinTok: missingSID},
		{name: "brand on another brand's root", caller: "brand-admin",
			root: "/Advertisers/" + brand2, tok: brand2, twinRoot: "/Advertisers/" + missingSID, twinTok: missingSID},
		{name: "brand, its own root, another brand's token", caller: "brand-admin", ownRoot: true,
			root: "/Advertisers/" + brand, tok: brand2, twinRoot: "/Advertisers/" + brand, twinTok: missingSID},
		{name: "brand, its own root, its agency's token", caller: "brand-admin", ownRoot: true,
			root: "/Advertisers/" + brand, tok: admin, twinRoot: "/Advertisers/" + brand, twinTok: missingSID},
	}

	sq, ok := ts.st.(*store.SQLiteStore)
	if !ok {
		t.Skip("the data snapshot reads SQLite's tables; the store suite covers PostgreSQL")
	}
	// Every token the cases reach for has events of its own, so a list that leaked
	// another account's events would show them.
	for _, own := range []struct{ root, role, tok string }{
		{"/Agencies/" + admin, "admin", readonly}, {"/Agencies/" + admin, "admin", admin},
		{"/Advertisers/" + brand, "brand-admin", brand}, {"/Advertisers/" + brand2, "brand2-admin", brand2},
		{"/Advertisers/" + sid("agency2-brand-admin"), "agency2-brand-admin", sid("agency2-brand-admin")},
		{"/Agencies/" + agency2, "agency2-admin", agency2},
	} {
		ts.req("PATCH", own.root+"/ApiTokens/"+own.tok, ts.cred(own.role), `{"Description":"has events"}`).want(t, 200)
		ts.req("GET", own.root+"/ApiTokens/"+own.tok+"/AuthToken", ts.cred(own.role), nil).want(t, 200)
	}
	before := dataSnapshot(t, sq)
	pairs := 0
	for _, fc := range cases {
		for _, ep := range contractEndpoints {
			namesToken := strings.Contains(ep.path+ep.body, "{tok}")
			if fc.ownRoot && !namesToken {
				continue // the caller's own list, catalog or new token: not foreign
			}
			pairs++
			t.Run(fc.name+"/"+ep.method+" "+ep.path, func(t *testing.T) {
				c := ts.cred(fc.caller)
				send := func(root, tok string) *response {
					path := root + "/" + strings.ReplaceAll(ep.path, "{tok}", tok)
					var body any
					if ep.body != "" {
						body = strings.ReplaceAll(ep.body, "{tok}", tok)
					}
					return ts.req(ep.method, path, c, body, offContract...)
				}
				got := send(fc.root, fc.tok)
				want := send(fc.twinRoot, fc.twinTok)
				if got.Status != want.Status {
					t.Fatalf("foreign: %d %s\nmissing: %d %s", got.Status, got.Body, want.Status, want.Body)
				}
				gotBody := bytes.ReplaceAll(got.Body, []byte(fc.tok), []byte(missingSID))
				if !bytes.Equal(gotBody, want.Body) {
					t.Fatalf("foreign and missing answer differently:\n%s\n%s", got.Body, want.Body)
				}
				switch {
				case got.Status == 404:
					got.wantCode(t, 404, "not_found")
				case got.Status == 200 && strings.HasPrefix(ep.path, "ApiTokenEvents"):
					var out struct{ Events []service.EventBody }
					got.decode(t, &out)
					if len(out.Events) != 0 {
						t.Fatalf("another account's events listed: %s", got.Body)
					}
				case got.Status == 200 && strings.HasPrefix(ep.body, `{"Sids"`):
					var out struct{ Results []httpapi.BulkResult }
					got.decode(t, &out)
					if len(out.Results) != 1 || out.Results[0].StatusCode != 404 || out.Results[0].Code != "not_found" {
						t.Fatalf("bulk with a foreign SID: %s", got.Body)
					}
				default:
					t.Fatalf("foreign request answered %d: %s", got.Status, got.Body)
				}
			})
		}
	}
	if after := dataSnapshot(t, sq); after != before {
		t.Fatalf("foreign requests changed the data:\n%s", firstDifference(before, after))
	}
	t.Logf("%d endpoint × caller pairs over %d endpoints and %d kinds of foreign caller: each answered as for what does not exist; nothing changed",
		pairs, len(contractEndpoints), len(cases))
}

// dataSnapshot renders every row of every table, in a stable order, but the moment a
// token was last used (a successful authentication writes it).
func dataSnapshot(t *testing.T, st *store.SQLiteStore) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	tables, err := st.Readers.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	for _, name := range names {
		rows, err := st.Readers.QueryContext(ctx, `SELECT * FROM "`+name+`" ORDER BY rowid`)
		if err != nil {
			rows, err = st.Readers.QueryContext(ctx, `SELECT * FROM "`+name+`"`)
		}
		if err != nil {
			t.Fatal(err)
		}
		dumpRows(t, &b, name, rows)
	}
	return b.String()
}

func dumpRows(t *testing.T, b *strings.Builder, table string, rows *sql.Rows) {
	t.Helper()
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(b, "%s:", table)
		for i, c := range cols {
			if c == "date_last_used" {
				continue
			}
			fmt.Fprintf(b, " %s=%v", c, vals[i])
		}
		b.WriteByte('\n')
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "before: " + al[i] + "\nafter:  " + bl[i]
		}
	}
	return fmt.Sprintf("%d rows before, %d after", len(al), len(bl))
}
