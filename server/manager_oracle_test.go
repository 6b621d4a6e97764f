package server

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// The last-manager rule as it was before the store counted scope holders: read every
// token of the account, apply the change, and look for a manager in both. It is the
// oracle TestLastManagerAgreesWithRoster holds the rule to.

// oracleRefuses is that rule's decision on one change (nil before: a create; nil
// after: a delete).
func oracleRefuses(roster []service.Holder, before, after *service.Token) bool {
	if !service.TouchesManager(before, after) {
		return false
	}
	return oracleHasManager(roster) && !oracleHasManager(oracleApply(roster, before, after))
}

// oracleApply answers roster with before replaced by after.
func oracleApply(roster []service.Holder, before, after *service.Token) []service.Holder {
	next := make([]service.Holder, 0, len(roster)+1)
	for _, h := range roster {
		if before == nil || h.SID != before.SID {
			next = append(next, h)
		}
	}
	if after != nil {
		next = append(next, service.Holder{SID: after.SID, Enabled: after.Enabled(), Scopes: slices.Clone(after.Scopes)})
	}
	return next
}

// oracleHasManager reports whether some enabled token in roster holds apitokens.write
// and every scope any token holds.
func oracleHasManager(roster []service.Holder) bool {
	all := map[string]bool{}
	for _, h := range roster {
		for _, s := range h.Scopes {
			all[s] = true
		}
	}
	for _, h := range roster {
		if !h.Enabled || !slices.Contains(h.Scopes, service.ScopeTokensWrite) {
			continue
		}
		n := 0
		for _, s := range h.Scopes {
			if all[s] {
				n++
			}
		}
		if n == len(all) {
			return true
		}
	}
	return false
}

// roster reads every token of account id (SID, state, scopes) from the database.
func (ts *testServer) roster(id int64) []service.Holder {
	ts.t.Helper()
	db, q := ts.db(`SELECT sid, state, scopes FROM tokens WHERE account_id = ? ORDER BY sid`)
	rows, err := db.Query(q, id)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer rows.Close()
	out := []service.Holder{}
	for rows.Next() {
		var h service.Holder
		var state, scopes string
		if err := rows.Scan(&h.SID, &state, &scopes); err != nil {
			ts.t.Fatal(err)
		}
		if h.Scopes, err = store.DecodeList(scopes); err != nil {
			ts.t.Fatal(err)
		}
		h.Enabled = state == service.StateEnabled
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		ts.t.Fatal(err)
	}
	return out
}

// checkScopeHolders fails the test unless every account's scope_holders rows equal a
// count of its tokens' scopes (rows at 0 included).
func (ts *testServer) checkScopeHolders() {
	ts.t.Helper()
	db, q := ts.db(`SELECT account_id, scopes FROM tokens`)
	rows, err := db.Query(q)
	if err != nil {
		ts.t.Fatal(err)
	}
	type key struct {
		account int64
		scope   string
	}
	want := map[key]int{}
	for rows.Next() {
		var id int64
		var scopes string
		if err := rows.Scan(&id, &scopes); err != nil {
			ts.t.Fatal(err)
		}
		list, err := store.DecodeList(scopes)
		if err != nil {
			ts.t.Fatal(err)
		}
		for _, s := range service.Distinct(list) {
			want[key{id, s}]++
		}
	}
	rows.Close()
	db, q = ts.db(`SELECT account_id, scope, holders FROM scope_holders`)
	rows, err = db.Query(q)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer rows.Close()
	got := map[key]int{}
	for rows.Next() {
		var k key
		var n int
		if err := rows.Scan(&k.account, &k.scope, &n); err != nil {
			ts.t.Fatal(err)
		}
		if n != want[k] {
			ts.t.Fatalf("scope_holders says %d tokens of account %d hold %s; they are %d", n, k.account, k.scope, want[k])
		}
		got[k] = n
	}
	for k, n := range want {
		if got[k] != n {
			ts.t.Fatalf("scope_holders has no row for %d tokens of account %d holding %s", n, k.account, k.scope)
		}
	}
}

// TestLastManagerAgreesWithRoster runs random changes — creates, duplicates, scope
// changes, disables, enables, deletes, alone and in bulk — on a brand's tokens
// through its agency's passthrough (the agency's caller is no token of the brand),
// and checks that every one is accepted or refused as the rule that reads the whole
// roster decides, and that the counts of scope holders stay equal to a recount.
// IMPACTCTL_TEST_STORE=postgres runs it on PostgreSQL.
func TestLastManagerAgreesWithRoster(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	agency, err := ts.st.TokenBySID(context.Background(), admin.AccountSid)
	if err != nil {
		t.Fatal(err)
	}
	// A brand of the demo agency without tokens: its first manager comes from the runs.
	var brandID int64
	err = ts.st.Update(context.Background(), 0, func(tx service.Tx) error {
		var err error
		brandID, err = tx.InsertAccount(context.Background(), &service.Account{Kind: service.KindBrand, PublicID: "7700001",
			Name: "Oracle Brand", State: "ACTIVE", Currency: "USD", Timezone: "UTC", Created: testEpoch.Unix(),
			ParentID: service.Some(agency.AccountID)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	base := "/Agencies/" + admin.AccountSid + "/Advertisers/7700001/ApiTokens"
	pool := []string{"apitokens.read", service.ScopeTokensWrite, "reports.read", "users.read", "promocodes.delete"}
	rng := rand.New(rand.NewPCG(25, 1))
	subset := func() []string {
		var out []string
		for _, s := range pool {
			if rng.IntN(10) < 7 {
				out = append(out, s)
			}
		}
		return out
	}
	tokenOf := func(h service.Holder) *service.Token {
		st := service.StateDisabled
		if h.Enabled {
			st = service.StateEnabled
		}
		return &service.Token{SID: h.SID, State: st, Scopes: slices.Clone(h.Scopes)}
	}
	// refused reads one change's answer: true for 409 last_admin, false for success.
	refused := func(r *response, what string) bool {
		t.Helper()
		switch {
		case r.Status < 300:
			return false
		case r.Status == http.StatusConflict:
			r.wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
			return true
		}
		t.Fatalf("%s: status %d: %s", what, r.Status, r.Body)
		return false
	}
	const steps = 400
	refusals, accepted := 0, 0
	for step := range steps {
		roster := ts.roster(brandID)
		var want, got bool
		var what string
		pick := func() service.Holder { return roster[rng.IntN(len(roster))] }
		op := rng.IntN(10)
		if len(roster) == 0 || op == 0 || len(roster) < 3 && op < 4 {
			sc := subset()
			what = fmt.Sprintf("create %v", sc)
			want = oracleRefuses(roster, nil, &service.Token{SID: "new", State: service.StateEnabled, Scopes: sc})
			got = refused(ts.req("POST", base, admin, map[string]any{"Name": fmt.Sprintf("Oracle %d", step), "Scopes": sc}), what)
		} else {
			h := pick()
			before := tokenOf(h)
			after := tokenOf(h)
			path := base + "/" + h.SID
			switch op {
			case 1:
				after.SID = "copy"
				what = "duplicate " + h.SID
				want = oracleRefuses(roster, nil, after)
				got = refused(ts.req("POST", path+"/Duplicate", admin, map[string]any{"Name": fmt.Sprintf("Copy %d", step)}), what)
			case 2, 3:
				sc := subset()
				after.Scopes = sc
				what = fmt.Sprintf("scopes of %s %v → %v", h.SID, h.Scopes, sc)
				want = !sameSet(h.Scopes, sc) && oracleRefuses(roster, before, after)
				if len(sc) == 0 {
					got = refused(ts.req("DELETE", path+"/Scopes", admin, nil), what)
				} else {
					got = refused(ts.req("PUT", path+"/Scopes", admin, map[string]any{"Scopes": sc}), what)
				}
			case 4:
				after.State = service.StateDisabled
				what = "disable " + h.SID
				want = h.Enabled && oracleRefuses(roster, before, after)
				got = refused(ts.req("POST", path+"/Disable", admin, nil), what)
			case 5:
				after.State = service.StateEnabled
				what = "enable " + h.SID
				want = !h.Enabled && oracleRefuses(roster, before, after)
				got = refused(ts.req("POST", path+"/Enable", admin, nil), what)
			case 6:
				what = "delete " + h.SID
				want = oracleRefuses(roster, before, nil)
				got = refused(ts.req("DELETE", path, admin, nil), what)
			default:
				// A bulk call of up to five, in order.
				action := []string{"Disable", "Enable", "Delete"}[rng.IntN(3)]
				var sids []string
				var wants []bool
				r := slices.Clone(roster)
				order := rng.Perm(len(roster))
				for _, j := range order[:min(len(order), 1+rng.IntN(5))] {
					h := roster[j]
					sids = append(sids, h.SID)
					b, a := tokenOf(h), tokenOf(h)
					changes := true
					switch action {
					case "Disable":
						a.State, changes = service.StateDisabled, h.Enabled
					case "Enable":
						a.State, changes = service.StateEnabled, !h.Enabled
					case "Delete":
						a = nil
					}
					no := changes && oracleRefuses(r, b, a)
					wants = append(wants, no)
					if changes && !no {
						r = oracleApply(r, b, a)
					}
				}
				what = fmt.Sprintf("bulk %s %v", action, sids)
				var res struct{ Results []httpapi.BulkResult }
				ts.req("POST", base+"/"+action, admin, map[string]any{"Sids": sids}).want(t, http.StatusOK).decode(t, &res)
				if len(res.Results) != len(sids) {
					t.Fatalf("step %d, %s: %d results", step, what, len(res.Results))
				}
				for i, br := range res.Results {
					no := br.StatusCode == http.StatusConflict && br.Code == contract.CodeLastAdmin
					if br.Status != "OK" && !no {
						t.Fatalf("step %d, %s: result %d: %+v", step, what, i, br)
					}
					if no != wants[i] {
						t.Fatalf("step %d, %s: SID %d refused %v, the roster rule says %v; roster %+v", step, what, i, no, wants[i], roster)
					}
					if no {
						refusals++
					} else {
						accepted++
					}
				}
				ts.checkScopeHolders()
				continue
			}
		}
		if got != want {
			t.Fatalf("step %d, %s: refused %v, the roster rule says %v; roster %+v", step, what, got, want, roster)
		}
		if got {
			refusals++
		} else {
			accepted++
		}
		ts.checkScopeHolders()
	}
	t.Logf("%d changes accepted, %d refused", accepted, refusals)
	if refusals < steps/20 || accepted < steps/2 {
		t.Fatalf("%d refusals and %d acceptances in %d steps: the runs do not exercise the rule", refusals, accepted, steps)
	}
}

// sameSet reports whether a and b hold the same scopes.
func sameSet(a, b []string) bool {
	return len(service.Distinct(a)) == len(service.Distinct(b)) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}

// TestScopeHoldersMigration: a database from before the scope holders were counted
// gets them counted from its tokens when a server first opens it, on both stores;
// from then on the triggers keep them.
// laterUndo takes back the migrations after scope_holders' (expiry and the overlap
// slot, their lifecycle indexes), so a database stands as it was before scope_holders.
const laterUndo = `DROP INDEX tokens_notice_due; DROP INDEX tokens_overlap_due; DROP INDEX tokens_expires; ALTER TABLE tokens DROP COLUMN expires_at;
	ALTER TABLE tokens DROP COLUMN expiry_warned_14d_at; ALTER TABLE tokens DROP COLUMN expiry_warned_1d_at;
	ALTER TABLE tokens DROP COLUMN expired_noted_at; ALTER TABLE tokens DROP COLUMN overlap_secret_enc;
	ALTER TABLE tokens DROP COLUMN overlap_secret_mac; ALTER TABLE tokens DROP COLUMN overlap_expires;
	ALTER TABLE tokens DROP COLUMN overlap_last_used; `

func TestScopeHoldersMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type kind struct {
		name string
		open func() service.Store
		raw  func() *sql.DB
		undo string
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "old.db")
	kinds := []kind{{
		name: "sqlite",
		open: func() service.Store {
			s, err := store.OpenStore(ctx, path, "", store.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			withEnv(t, s, nil, nil)
			return s
		},
		raw: func() *sql.DB {
			db, err := sql.Open("sqlite", store.SQLiteDSN(path, "immediate", false))
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		undo: laterUndo + fmt.Sprintf(`DROP TRIGGER tokens_scopes_insert; DROP TRIGGER tokens_scopes_delete;
			DROP TRIGGER tokens_scopes_update; DROP INDEX tokens_managers; DROP TABLE scope_holders;
			PRAGMA user_version = %d`, migrationBefore(t, store.SQLiteMigrations(), "CREATE TABLE scope_holders")),
	}}
	if os.Getenv(postgresDSNEnv) != "" {
		pgDSN, key := testPostgres(t), filepath.Join(dir, "pg.key")
		kinds = append(kinds, kind{
			name: "postgres",
			open: func() service.Store {
				s, err := store.OpenPostgresStore(ctx, pgDSN, key, store.StoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				withEnv(t, s, nil, nil)
				return s
			},
			raw: func() *sql.DB {
				db, err := store.OpenPostgres(ctx, pgDSN)
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			undo: laterUndo + fmt.Sprintf(`DROP FUNCTION tokens_scope_holders() CASCADE; DROP INDEX tokens_managers;
				DROP TABLE scope_holders; UPDATE impactctl_schema SET version = %d`, migrationBefore(t, store.PostgresMigrations(), "CREATE TABLE scope_holders")),
		})
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			st := k.open()
			if err := Seed(ctx, st, envOf(st), true); err != nil {
				t.Fatal(err)
			}
			st.Close()
			db := k.raw()
			if _, err := db.ExecContext(ctx, k.undo); err != nil {
				t.Fatal(err)
			}
			// The tokens change while nothing counts them.
			if _, err := db.ExecContext(ctx, `UPDATE tokens SET scopes = '["reports.read"]' WHERE state = 'DISABLED'`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			st = k.open()
			defer st.Close()
			ts := &testServer{t: t, st: st}
			ts.checkScopeHolders()
			if held := ts.holderRows(); held < 10 {
				t.Fatalf("%d scope_holders rows after the migration", held)
			}
			// And the triggers count from here on.
			admin, err := st.TokenBySID(ctx, mustRole(t, st, "admin"))
			if err != nil {
				t.Fatal(err)
			}
			err = st.Update(ctx, admin.AccountID, func(tx service.Tx) error {
				tok := newSuiteToken(t, envOf(st), admin.AccountID, admin.Kind, "new", testEpoch.Unix(), "reports.read", "users.read")
				return tx.InsertToken(ctx, tok)
			})
			if err != nil {
				t.Fatal(err)
			}
			ts.checkScopeHolders()
		})
	}
}

// holderRows counts the scope_holders rows.
func (ts *testServer) holderRows() int {
	ts.t.Helper()
	var n int
	if err := ts.queryRow(`SELECT count(*) FROM scope_holders`).Scan(&n); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

// mustRole is the SID of a demo role.
func mustRole(t *testing.T, st service.Store, role string) string {
	t.Helper()
	roles, err := st.DemoRoles(context.Background())
	if err != nil || roles[role] == "" {
		t.Fatalf("demo role %s: %q, %v", role, roles[role], err)
	}
	return roles[role]
}

// migrationBefore is the schema version just before the migration holding marker:
// a database at it has not run that migration, nor any after it.
func migrationBefore(t *testing.T, ms []string, marker string) int {
	t.Helper()
	for i, m := range ms {
		if strings.Contains(m, marker) {
			return i
		}
	}
	t.Fatalf("no migration holds %q", marker)
	return 0
}
