package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// lifeJSON is the lifecycle part of a token as a test reads it.
type lifeJSON struct {
	AccountSid                 string
	AuthToken                  string
	ExpiresAt                  *string
	PreviousAuthTokenExpiresAt *string
	PreviousAuthTokenLastUsed  *string
	UsingPreviousAuthToken     *bool
}

func (ts *testServer) life(c Credential, sid string) lifeJSON {
	ts.t.Helper()
	var l lifeJSON
	ts.req("GET", tokenPath(c, sid), c, nil).want(ts.t, http.StatusOK).decode(ts.t, &l)
	return l
}

// newWorker creates a token that may manage tokens, not the account's manager.
func (ts *testServer) newWorker(admin Credential, body map[string]any) Credential {
	ts.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["Name"] = "worker"
	body["Scopes"] = []string{"apitokens.read", "apitokens.write", "users.read"}
	var l lifeJSON
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, body).want(ts.t, http.StatusCreated).decode(ts.t, &l)
	return Credential{AccountSid: l.AccountSid, AuthToken: l.AuthToken}
}

func wire(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TestExpiry: ExpiresAt on create, PATCH and duplicate; the token is refused with
// token_expired exactly at ExpiresAt, and works again once another token moves it.
func TestExpiry(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *httpapi.Options) { o.AuthFailLimit = Rate{N: 2, Per: time.Hour} })
	admin := ts.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"

	ts.req("POST", base, admin, map[string]any{"Name": "x", "ExpiresAt": wire(testEpoch)}).wantError(t, http.StatusBadRequest, "ExpiresAt", "future")
	ts.req("POST", base, admin, map[string]any{"Name": "x", "ExpiresAt": "soon"}, offContract...).wantError(t, http.StatusBadRequest, "ExpiresAt")
	// A date alone is midnight UTC.
	var l lifeJSON
	ts.req("POST", base, admin, map[string]any{"Name": "dated", "ExpiresAt": "2026-12-31"}).want(t, http.StatusCreated).decode(t, &l)
	if l.ExpiresAt == nil || *l.ExpiresAt != "2026-12-31T00:00:00Z" {
		t.Fatalf("a date alone: %v", l.ExpiresAt)
	}

	at := testEpoch.Add(time.Hour)
	w := ts.newWorker(admin, map[string]any{"ExpiresAt": wire(at)})
	if got := ts.life(admin, w.AccountSid); got.ExpiresAt == nil || *got.ExpiresAt != wire(at) {
		t.Fatalf("ExpiresAt %v", got.ExpiresAt)
	}
	// Duplicates do not copy it unless given.
	ts.req("POST", tokenPath(admin, w.AccountSid)+"/Duplicate", admin, nil).want(t, http.StatusCreated).decode(t, &l)
	if l.ExpiresAt != nil {
		t.Fatalf("the duplicate copied ExpiresAt: %v", *l.ExpiresAt)
	}
	ts.req("POST", tokenPath(admin, w.AccountSid)+"/Duplicate", admin, map[string]any{"ExpiresAt": wire(at)}).
		want(t, http.StatusCreated).decode(t, &l)
	if l.ExpiresAt == nil || *l.ExpiresAt != wire(at) {
		t.Fatalf("the duplicate's own ExpiresAt: %v", l.ExpiresAt)
	}

	ts.clock.Advance(time.Hour - time.Second)
	ts.get(w, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.clock.Advance(time.Second)
	// Exactly at ExpiresAt: refused, more often than the failure budget allows,
	// since an expired token's right secret is no failed authentication.
	for range 3 {
		ts.get(w, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeTokenExpired)
	}
	// A wrong secret is told nothing about expiry.
	ts.get(Credential{AccountSid: w.AccountSid, AuthToken: wrongSecret(w.AuthToken)}, "/ApiTokens/Current").
		wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	// It still lists, reads and can be given a new expiry by another token.
	var list tokenList
	ts.get(admin, "/ApiTokens?ExpiresBefore="+url.QueryEscape(wire(at.Add(time.Second)))).want(t, http.StatusOK).decode(t, &list)
	if list.Total != "2" { // the worker and the duplicate given its expiry
		t.Fatalf("ExpiresBefore listed %s tokens", list.Total)
	}
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": wire(ts.clock.Now())}).
		wantError(t, http.StatusBadRequest, "ExpiresAt", "future")
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": wire(at.Add(time.Hour))}).want(t, http.StatusOK)
	ts.get(w, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": nil}).want(t, http.StatusOK)
	if got := ts.life(admin, w.AccountSid); got.ExpiresAt != nil {
		t.Fatalf("null did not clear ExpiresAt: %v", *got.ExpiresAt)
	}
}

// TestExpiryFilter: ExpiresBefore lists tokens expiring before the time, expired ones
// included, never those without an expiry.
func TestExpiryFilter(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	for _, d := range []time.Duration{time.Hour, 48 * time.Hour} {
		ts.newWorker(admin, map[string]any{"ExpiresAt": wire(testEpoch.Add(d))})
	}
	count := func(before time.Time) string {
		var list tokenList
		ts.get(admin, "/ApiTokens?ExpiresBefore="+url.QueryEscape(wire(before))).want(t, http.StatusOK).decode(t, &list)
		return list.Total
	}
	if got := count(testEpoch.Add(2 * time.Hour)); got != "1" {
		t.Fatalf("before 2h: %s", got)
	}
	ts.clock.Advance(3 * time.Hour) // the first has expired: still listed
	if got := count(testEpoch.Add(49 * time.Hour)); got != "2" {
		t.Fatalf("before 49h: %s", got)
	}
	ts.get(admin, "/ApiTokens?ExpiresBefore=tomorrow", offContract...).wantError(t, http.StatusBadRequest, "ExpiresBefore")
}

// TestNoSelfExtension: a token may shorten its own expiry, never move it later or
// clear it; another token may.
func TestNoSelfExtension(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	at := testEpoch.Add(24 * time.Hour)
	w := ts.newWorker(admin, map[string]any{"ExpiresAt": wire(at)})
	self := tokenPath(w, w.AccountSid)
	ts.req("PATCH", self, w, map[string]any{"ExpiresAt": wire(at.Add(time.Second))}).wantCode(t, http.StatusForbidden, contract.CodeEscalation)
	ts.req("PATCH", self, w, map[string]any{"ExpiresAt": nil}).wantCode(t, http.StatusForbidden, contract.CodeEscalation)
	ts.req("POST", self+"/Reset", w, map[string]any{"ExpiresAt": wire(at.Add(time.Hour))}).wantCode(t, http.StatusForbidden, contract.CodeEscalation)
	ts.req("PATCH", self, w, map[string]any{"ExpiresAt": wire(at.Add(-time.Hour))}).want(t, http.StatusOK)
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": nil}).want(t, http.StatusOK)
	// Without an expiry, a token may give itself one.
	ts.req("PATCH", self, w, map[string]any{"ExpiresAt": wire(at)}).want(t, http.StatusOK)
}

// TestExpiryLastManager: the last manager without an expiry cannot be given one, by
// itself or by another token, alone, by reset or in bulk; a second permanent manager
// lifts the refusal.
func TestExpiryLastManager(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	self := tokenPath(admin, admin.AccountSid)
	at := wire(testEpoch.Add(24 * time.Hour))
	ts.req("PATCH", self, admin, map[string]any{"ExpiresAt": at}).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
	ts.req("POST", self+"/Reset", admin, map[string]any{"ExpiresAt": at}).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
	var res struct{ Results []httpapi.BulkResult }
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/Reset", admin,
		map[string]any{"Sids": []string{admin.AccountSid}, "ExpiresAt": at}).want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].Code != contract.CodeLastAdmin {
		t.Fatalf("bulk reset with an expiry: %+v", res.Results)
	}
	// A second manager that expires does not lift it: time alone would orphan the account.
	var dup lifeJSON
	ts.req("POST", self+"/Duplicate", admin, map[string]any{"ExpiresAt": at}).want(t, http.StatusCreated).decode(t, &dup)
	ts.req("PATCH", self, admin, map[string]any{"ExpiresAt": at}).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
	ts.req("POST", self+"/Disable", admin, nil).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
	// Nor can the second be made permanent and the first expire in one go... but once
	// the second is permanent, the first may expire.
	ts.req("PATCH", tokenPath(admin, dup.AccountSid), admin, map[string]any{"ExpiresAt": nil}).want(t, http.StatusOK)
	ts.req("PATCH", self, admin, map[string]any{"ExpiresAt": at}).want(t, http.StatusOK)
	// Now the duplicate is the last permanent manager.
	ts.req("PATCH", tokenPath(admin, dup.AccountSid), admin, map[string]any{"ExpiresAt": at}).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
}

// TestExpiredIsNoManager: the rule counts only managers that have not expired. An
// account whose managers all expire (no permanent one, set behind the server's back)
// keeps its last unexpired manager: one that has expired does not stand in for it.
func TestExpiredIsNoManager(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	self := tokenPath(admin, admin.AccountSid)
	var dup lifeJSON
	ts.req("POST", self+"/Duplicate", admin, map[string]any{"ExpiresAt": wire(testEpoch.Add(time.Hour))}).
		want(t, http.StatusCreated).decode(t, &dup)
	ts.exec(`UPDATE tokens SET expires_at = ? WHERE sid = ?`, testEpoch.Add(10*time.Hour).Unix(), admin.AccountSid)
	// While the duplicate has not expired, it is a manager: the admin may go.
	ts.req("POST", self+"/Disable", admin, nil).want(t, http.StatusOK)
	ts.exec(`UPDATE tokens SET state = 'ENABLED' WHERE sid = ?`, admin.AccountSid)
	ts.clock.Advance(2 * time.Hour)
	// The duplicate has expired: the admin is the last manager.
	ts.req("POST", self+"/Disable", admin, nil).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
	ts.req("DELETE", self, admin, nil).wantCode(t, http.StatusConflict, contract.CodeLastAdmin)
}

// TestOverlap: with PreviousValidFor both secrets work until the overlap ends, the
// first use of the new secret does not end it, Current tells the old secret it is
// the previous one, and the old secret is refused the second the overlap ends.
func TestOverlap(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	old := ts.newWorker(admin, nil)
	var l lifeJSON
	ts.req("POST", tokenPath(admin, old.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": 60}).
		want(t, http.StatusOK).decode(t, &l)
	cur := Credential{AccountSid: old.AccountSid, AuthToken: l.AuthToken}
	if l.PreviousAuthTokenExpiresAt == nil || *l.PreviousAuthTokenExpiresAt != wire(testEpoch.Add(time.Minute)) {
		t.Fatalf("PreviousAuthTokenExpiresAt %v", l.PreviousAuthTokenExpiresAt)
	}
	for range 2 {
		ts.get(cur, "/ApiTokens/Current").want(t, http.StatusOK).decode(t, &l)
		if l.UsingPreviousAuthToken == nil || *l.UsingPreviousAuthToken {
			t.Fatal("the new secret is told it is the previous one")
		}
		ts.get(old, "/ApiTokens/Current").want(t, http.StatusOK).decode(t, &l)
		if l.UsingPreviousAuthToken == nil || !*l.UsingPreviousAuthToken {
			t.Fatal("the previous secret is not told so")
		}
	}
	if got := ts.life(admin, old.AccountSid); got.PreviousAuthTokenLastUsed == nil || *got.PreviousAuthTokenLastUsed != wire(testEpoch) {
		t.Fatalf("PreviousAuthTokenLastUsed %v", got.PreviousAuthTokenLastUsed)
	}
	ts.clock.Advance(59 * time.Second)
	ts.get(old, "/ApiTokens").want(t, http.StatusOK)
	ts.clock.Advance(time.Second)
	ts.get(old, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.get(cur, "/ApiTokens/Current").want(t, http.StatusOK)
	if got := ts.life(admin, old.AccountSid); got.PreviousAuthTokenExpiresAt != nil {
		t.Fatalf("an ended overlap shows %v", *got.PreviousAuthTokenExpiresAt)
	}

	ts.req("POST", tokenPath(admin, old.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": 604801}, offContract...).
		wantError(t, http.StatusBadRequest, "PreviousValidFor")
	ts.req("POST", tokenPath(admin, old.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": -1}, offContract...).
		wantError(t, http.StatusBadRequest, "PreviousValidFor")
	ts.req("POST", tokenPath(admin, old.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": "1h"}, offContract...).
		wantError(t, http.StatusBadRequest, "PreviousValidFor")
}

// TestSecondResetEndsFirstOverlap: at most two secrets: a second overlapping reset
// replaces the previous secret, and a reset without an overlap ends it at once.
func TestSecondResetEndsFirstOverlap(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	s0 := ts.newWorker(admin, nil)
	reset := func(body any) Credential {
		var l lifeJSON
		ts.req("POST", tokenPath(admin, s0.AccountSid)+"/Reset", admin, body).want(t, http.StatusOK).decode(t, &l)
		return Credential{AccountSid: s0.AccountSid, AuthToken: l.AuthToken}
	}
	s1 := reset(map[string]any{"PreviousValidFor": 3600})
	s2 := reset(map[string]any{"PreviousValidFor": 3600})
	ts.get(s0, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.get(s1, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.get(s2, "/ApiTokens/Current").want(t, http.StatusOK)
	s3 := reset(nil) // an emergency reset: every earlier secret refused at once
	ts.get(s1, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.get(s2, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.get(s3, "/ApiTokens/Current").want(t, http.StatusOK)

	// In bulk, the same.
	var res struct {
		Results []struct {
			Status   string
			ApiToken *lifeJSON
		}
	}
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/Reset", admin,
		map[string]any{"Sids": []string{s0.AccountSid}, "PreviousValidFor": 10}).want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].Status != "OK" || res.Results[0].ApiToken.PreviousAuthTokenExpiresAt == nil {
		t.Fatalf("bulk reset with an overlap: %+v", res.Results[0])
	}
	ts.get(s3, "/ApiTokens/Current").want(t, http.StatusOK)
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/Disable", admin,
		map[string]any{"Sids": []string{s0.AccountSid}, "PreviousValidFor": 10}, offContract...).wantError(t, http.StatusBadRequest, "PreviousValidFor")
}

// TestEndOverlap: DELETE PreviousAuthToken refuses the previous secret from the next
// request; 204 again when there is none.
func TestEndOverlap(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	old := ts.newWorker(admin, nil)
	var l lifeJSON
	ts.req("POST", tokenPath(admin, old.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": 3600}).
		want(t, http.StatusOK).decode(t, &l)
	cur := Credential{AccountSid: old.AccountSid, AuthToken: l.AuthToken}
	ts.get(old, "/ApiTokens/Current").want(t, http.StatusOK)
	// The new secret may end its own overlap.
	ts.req("DELETE", tokenPath(cur, cur.AccountSid)+"/PreviousAuthToken", cur, nil).want(t, http.StatusNoContent)
	ts.get(old, "/ApiTokens/Current").wantCode(t, http.StatusUnauthorized, contract.CodeUnauthorized)
	ts.req("DELETE", tokenPath(admin, cur.AccountSid)+"/PreviousAuthToken", admin, nil).want(t, http.StatusNoContent)
	ts.req("DELETE", tokenPath(admin, "IR"+"ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")+"/PreviousAuthToken", admin, nil).wantError(t, http.StatusNotFound)
}

// TestPreviousSecretCannotChangeItsToken: the previous secret may do anything the
// token may, except change its own token in any way.
func TestPreviousSecretCannotChangeItsToken(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	old := ts.newWorker(admin, map[string]any{"ExpiresAt": wire(testEpoch.Add(48 * time.Hour))})
	other := ts.newWorker(admin, nil)
	var l lifeJSON
	// The token rotates itself with an overlap.
	ts.req("POST", tokenPath(old, old.AccountSid)+"/Reset", old, map[string]any{"PreviousValidFor": 3600}).
		want(t, http.StatusOK).decode(t, &l)
	cur := Credential{AccountSid: old.AccountSid, AuthToken: l.AuthToken}
	self := tokenPath(old, old.AccountSid)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", self + "/Reset", nil},
		{"POST", self + "/Reset", map[string]any{"PreviousValidFor": 600}},
		{"DELETE", self + "/PreviousAuthToken", nil},
		{"PATCH", self, map[string]any{"Name": "mine now"}},
		{"PATCH", self, map[string]any{"ExpiresAt": wire(testEpoch.Add(time.Hour))}},
		{"PUT", self + "/Scopes", map[string]any{"Scopes": []string{"apitokens.read", "apitokens.write"}}},
		{"DELETE", self + "/Scopes", nil},
		{"PUT", self + "/DeveloperEmails", map[string]any{"Emails": []string{"a@example.com"}}},
		{"POST", self + "/Disable", nil},
		{"DELETE", self, nil},
	} {
		ts.req(c.method, c.path, old, c.body).wantCode(t, http.StatusForbidden, contract.CodePreviousSecret)
	}
	var res struct{ Results []httpapi.BulkResult }
	ts.req("POST", "/Agencies/"+old.AccountSid+"/ApiTokens/Reset", old,
		map[string]any{"Sids": []string{old.AccountSid, other.AccountSid}}).want(t, http.StatusOK).decode(t, &res)
	if res.Results[0].Code != contract.CodePreviousSecret || res.Results[1].Status != "OK" {
		t.Fatalf("bulk reset by the previous secret: %+v", res.Results)
	}
	// Anything else the token may do, it does.
	ts.get(old, "/ApiTokens").want(t, http.StatusOK)
	ts.req("PATCH", tokenPath(old, other.AccountSid), old, map[string]any{"Name": "renamed"}).want(t, http.StatusOK)
	// The current secret is untouched by all of that.
	if got := ts.life(admin, old.AccountSid); got.PreviousAuthTokenExpiresAt == nil {
		t.Fatal("the overlap ended")
	}
	ts.req("PATCH", self, cur, map[string]any{"Name": "by the current secret"}).want(t, http.StatusOK)
}

// TestStoreLifecycleColumns: expiry, notice marks and the overlap slot round-trip
// through both stores, and ExpiresBefore filters on them.
func TestStoreLifecycleColumns(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		tok := *w.tokens[2]
		n := func(v int64) service.Opt[int64] { return service.Some(v) }
		tok.ExpiresAt, tok.Warned14d, tok.Warned1d, tok.ExpiredNoted = n(testEpoch.Unix()+100), n(1), n(2), n(3)
		tok.OverlapEnc, tok.OverlapMAC, tok.OverlapExpires, tok.OverlapLastUsed = []byte("enc"), []byte("mac"), n(testEpoch.Unix()+50), n(4)
		if err := s.Update(ctx, w.agency, func(tx service.Tx) error { return tx.UpdateToken(ctx, &tok) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.TokenBySID(ctx, tok.SID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ExpiresAt != tok.ExpiresAt || got.Warned14d != tok.Warned14d || got.Warned1d != tok.Warned1d ||
			got.ExpiredNoted != tok.ExpiredNoted || string(got.OverlapEnc) != "enc" || string(got.OverlapMAC) != "mac" ||
			got.OverlapExpires != tok.OverlapExpires || got.OverlapLastUsed != tok.OverlapLastUsed {
			t.Fatalf("read back %+v", got)
		}
		list, total, err := s.Tokens(ctx, w.agency, service.TokenFilter{ExpiresBefore: time.Unix(testEpoch.Unix()+101, 0)}, service.Page{Number: 1, Size: 10})
		if err != nil || total != 1 || list[0].SID != tok.SID {
			t.Fatalf("ExpiresBefore: %d %v", total, err)
		}
		// The same page size: remembered totals are kept per filter value.
		if _, total, _ := s.Tokens(ctx, w.agency, service.TokenFilter{ExpiresBefore: time.Unix(testEpoch.Unix()+100, 0)}, service.Page{Number: 1, Size: 10}); total != 0 {
			t.Fatalf("ExpiresBefore at ExpiresAt listed %d", total)
		}
		// A use of the previous secret reaches its own column, never the token's.
		s.Touch(service.PreviousUse+tok.SID, testEpoch.Unix()+500)
		db, q := rawDB(s), `SELECT overlap_last_used, date_last_used FROM tokens WHERE sid = `
		if _, ok := s.(*store.PostgresStore); ok {
			q += `$1`
		} else {
			q += `?`
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var prevUsed, used sql.NullInt64
			if err := db.QueryRowContext(ctx, q, tok.SID).Scan(&prevUsed, &used); err != nil {
				t.Fatal(err)
			}
			if prevUsed.Int64 == testEpoch.Unix()+500 && (service.Opt[int64]{V: used.Int64, Valid: used.Valid}) == tok.LastUsed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the previous secret's use was not written: %+v, last used %+v", prevUsed, used)
			}
		}
		// A manager candidate with an expiry counts until it expires, never as a
		// permanent one.
		var others []string
		for _, o := range w.tokens {
			if o.SID != tok.SID {
				others = append(others, o.SID)
			}
		}
		for _, c := range []struct {
			at   int64
			want string
		}{{testEpoch.Unix(), tok.SID}, {testEpoch.Unix() + 100, ""}, {0, ""}} {
			var sid string
			err := s.Update(ctx, w.agency, func(tx service.Tx) error {
				var err error
				sid, err = tx.ManagerCandidate(ctx, w.agency, 1, others, c.at)
				return err
			})
			if err != nil || sid != c.want {
				t.Fatalf("ManagerCandidate at %d = %q, %v; want %q", c.at, sid, err, c.want)
			}
		}
	})
}

// rawDB is a store's database handle, to read behind its back.
func rawDB(s service.Store) *sql.DB {
	switch st := s.(type) {
	case *store.SQLiteStore:
		return st.DB
	case *store.PostgresStore:
		return st.DB
	}
	return nil
}

// TestStoreExpiryAtExpiresAt: on both stores, authentication refuses a token exactly
// at its ExpiresAt, and the previous secret exactly at PreviousAuthTokenExpiresAt.
func TestStoreExpiryAtExpiresAt(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		svc := service.NewRules(s, envOf(s))
		tok := *w.tokens[1]
		secret, err := svc.NewSecret(&tok)
		if err != nil {
			t.Fatal(err)
		}
		old, err := svc.NewSecret(&tok)
		if err != nil {
			t.Fatal(err)
		}
		oldEnc, oldMAC := tok.SecretEnc, tok.SecretMAC
		if secret, err = svc.NewSecret(&tok); err != nil {
			t.Fatal(err)
		}
		tok.OverlapEnc, tok.OverlapMAC = oldEnc, oldMAC
		tok.OverlapExpires = service.Some(testEpoch.Unix() + 10)
		tok.ExpiresAt = service.Some(testEpoch.Unix() + 20)
		if err := s.Update(ctx, w.agency, func(tx service.Tx) error { return tx.UpdateToken(ctx, &tok) }); err != nil {
			t.Fatal(err)
		}
		auth := func(secret string) (service.AuthResult, error) {
			return svc.Authenticate(ctx, tok.SID, secret, service.Grace{}, "")
		}
		code := func(err error) contract.ErrorCode {
			var ae *service.APIError
			if errors.As(err, &ae) {
				return ae.Code
			}
			return ""
		}
		clock.Advance(9 * time.Second)
		if r, err := auth(old); err != nil || !r.Previous {
			t.Fatalf("previous secret before its end: %+v %v", r, err)
		}
		clock.Advance(time.Second)
		if _, err := auth(old); code(err) != contract.CodeUnauthorized {
			t.Fatalf("previous secret at its end: %v", err)
		}
		clock.Advance(9 * time.Second)
		if r, err := auth(secret); err != nil || r.Previous {
			t.Fatalf("before ExpiresAt: %+v %v", r, err)
		}
		clock.Advance(time.Second)
		if _, err := auth(secret); code(err) != contract.CodeTokenExpired {
			t.Fatalf("at ExpiresAt: %v", err)
		}
	})
}

// TestStoreClockDecidesExpiry: without an injected clock, PostgreSQL's now() comes
// with every token row (the clock all replicas share); SQLite has none and the
// process clock decides.
func TestStoreClockDecidesExpiry(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			s := kind.open(t, nil)
			ctx := context.Background()
			w := seedSuite(t, s)
			tok, err := s.TokenBySID(ctx, w.tokens[0].SID)
			if err != nil {
				t.Fatal(err)
			}
			if kind.name == "sqlite" {
				if tok.StoreNow.Valid {
					t.Fatalf("SQLite read a store clock %d", tok.StoreNow.V)
				}
				return
			}
			if !tok.StoreNow.Valid || tok.StoreNow.V < time.Now().Unix()-5 || tok.StoreNow.V > time.Now().Unix()+5 {
				t.Fatalf("PostgreSQL's now() %v, the process's %d", tok.StoreNow, time.Now().Unix())
			}
			if got := envOf(s).StoreClock(tok); got != tok.StoreNow.V {
				t.Fatalf("storeClock %d, want now() %d", got, tok.StoreNow.V)
			}
			// A change runs at PostgreSQL's clock too.
			err = s.Update(ctx, w.agency, func(tx service.Tx) error {
				sc, ok := tx.(interface{ StoreNow() (int64, bool) })
				if n, valid := sc.StoreNow(); !ok || !valid || n < tok.StoreNow.V || n > tok.StoreNow.V+5 {
					return fmt.Errorf("the transaction's clock %d %v, the row's %d", n, valid, tok.StoreNow.V)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// slowApply is roster with before replaced by after: the whole account, as the
// last-manager rule is defined on it.
func slowApply(roster []service.Holder, before, after *service.Token) []service.Holder {
	next := make([]service.Holder, 0, len(roster)+1)
	for _, h := range roster {
		if before == nil || h.SID != before.SID {
			next = append(next, h)
		}
	}
	if after != nil {
		next = append(next, service.Holder{SID: after.SID, Enabled: after.Enabled(), Scopes: slices.Clone(after.Scopes),
			Expires: after.ExpiresAt.V})
	}
	return next
}

// slowHasManager is the rule's definition: some enabled token, not expired at now
// (0: without an expiry), holding apitokens.write and every scope any token holds.
func slowHasManager(roster []service.Holder, now int64) bool {
	all := map[string]bool{}
	for _, h := range roster {
		for _, s := range h.Scopes {
			all[s] = true
		}
	}
	for _, h := range roster {
		if !h.Enabled || !slices.Contains(h.Scopes, service.ScopeTokensWrite) || !h.ManagesAt(now) {
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

// TestManagerShortcutMatchesTheRule: the last-manager rule skips the store for
// changes that cannot take a manager away (touchesManager). Over
// random rosters and changes (states, scopes, expiries, creations, deletions)
// every change it skips is one the whole rule would allow.
func TestManagerShortcutMatchesTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	scopes := []string{service.ScopeTokensWrite, "reports.read", "users.read"}
	now := int64(1000)
	randomToken := func(sid string) *service.Token {
		t := &service.Token{SID: sid, State: service.StateEnabled}
		if rng.IntN(4) == 0 {
			t.State = service.StateDisabled
		}
		for _, s := range scopes {
			if rng.IntN(3) > 0 {
				t.Scopes = append(t.Scopes, s)
			}
		}
		switch rng.IntN(3) {
		case 1:
			t.ExpiresAt = service.Some(now - 10 + int64(rng.IntN(20)))
		case 2:
			t.ExpiresAt = service.Some(now + 1000)
		}
		return t
	}
	for trial := range 20000 {
		var roster []service.Holder
		var tokens []*service.Token
		for i := range 1 + rng.IntN(4) {
			tok := randomToken(fmt.Sprint("T", i))
			tokens = append(tokens, tok)
			roster = slowApply(roster, nil, tok)
		}
		var before, after *service.Token
		switch rng.IntN(3) {
		case 0: // a new token
			after = randomToken("NEW")
		case 1: // a deletion
			before = tokens[rng.IntN(len(tokens))]
		default: // a change: state, scopes or expiry
			before = tokens[rng.IntN(len(tokens))]
			c := service.SnapshotOf(before)
			after = &c
			n := randomToken(before.SID)
			switch rng.IntN(3) {
			case 0:
				after.State = n.State
			case 1:
				after.Scopes = n.Scopes
			default:
				after.ExpiresAt = n.ExpiresAt
			}
		}
		next := slowApply(roster, before, after)
		refused := slowHasManager(roster, now) && !slowHasManager(next, now) || slowHasManager(roster, 0) && !slowHasManager(next, 0)
		if refused && !service.TouchesManager(before, after) {
			t.Fatalf("trial %d: the shortcut skips a change the rule refuses: %+v → %+v in %+v", trial, before, after, roster)
		}
	}
}

// TestLifecycleEvents: a reset with an overlap says until when the previous secret
// works, ending an overlap is an overlap_ended event, and a moved expiry is a change
// in the edit's event.
func TestLifecycleEvents(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	w := ts.newWorker(admin, nil)
	at := testEpoch.Add(48 * time.Hour)
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": wire(at)}).want(t, http.StatusOK)
	ts.clock.Advance(time.Second)
	ts.req("POST", tokenPath(admin, w.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": 60}).want(t, http.StatusOK)
	ts.clock.Advance(time.Second)
	ts.req("DELETE", tokenPath(admin, w.AccountSid)+"/PreviousAuthToken", admin, nil).want(t, http.StatusNoContent)
	// Nothing to end: no event.
	ts.req("DELETE", tokenPath(admin, w.AccountSid)+"/PreviousAuthToken", admin, nil).want(t, http.StatusNoContent)
	var l eventList
	ts.get(admin, "/ApiTokens/"+w.AccountSid+"/Events").want(t, http.StatusOK).decode(t, &l)
	var types []string
	for _, e := range l.Events {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "overlap_ended,reset,edited,created" {
		t.Fatalf("events %v", types)
	}
	reset, _ := json.Marshal(l.Events[1])
	if !strings.Contains(string(reset), `"PreviousAuthTokenExpiresAt":"`+wire(testEpoch.Add(time.Second+time.Minute))+`"`) {
		t.Fatalf("the reset event: %s", reset)
	}
	edited, _ := json.Marshal(l.Events[2].Changes)
	if string(edited) != `[{"Field":"ExpiresAt","Before":null,"After":"`+wire(at)+`"}]` {
		t.Fatalf("the edit's changes: %s", edited)
	}
}
