package server

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/impactcom/impactctl/server/service"
)

// A bulk disable and enable leave every column of a token as it was but its
// state, version and date_updated, whichever way the store writes them.
func TestBulkStateKeepsTheRest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, ro, rep := ts.cred("admin"), ts.cred("readonly"), ts.cred("reporter")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens/"
	// One token with scopes, e-mails, a contact and an expiry, beside the demo's.
	ts.exec(`UPDATE tokens SET developer_emails = '["dev@example.com"]', expires_at = 4102444800 WHERE sid = ?`, rep.AccountSid)
	row := func(sid string) map[string]string {
		t.Helper()
		db, q := ts.db(`SELECT * FROM tokens WHERE sid = ?`)
		rows, err := db.Query(q, sid)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		if !rows.Next() {
			t.Fatalf("no token %s", sid)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = fmt.Sprintf("%v", vals[i])
			if b, ok := vals[i].([]byte); ok {
				m[c] = fmt.Sprintf("%x", b)
			}
		}
		return m
	}
	sids := []string{ro.AccountSid, rep.AccountSid}
	for _, action := range []string{"Disable", "Enable"} {
		before := map[string]map[string]string{}
		for _, sid := range sids {
			before[sid] = row(sid)
		}
		ts.clock.Advance(61e9)
		ts.req("POST", base+action, admin, map[string]any{"Sids": sids}).want(t, http.StatusOK)
		for _, sid := range sids {
			after, was := row(sid), before[sid]
			for _, moved := range []string{"state", "version", "date_updated"} {
				if after[moved] == was[moved] {
					t.Errorf("%s of %s: %s did not move (%s)", action, sid, moved, was[moved])
				}
				delete(after, moved)
				delete(was, moved)
			}
			if !reflect.DeepEqual(after, was) {
				t.Errorf("%s of %s changed more than its state:\n got %v\nwant %v", action, sid, after, was)
			}
		}
	}
}

// A bulk call's events go in by chunks (eventChunks): whatever their number,
// each event is written once, for its own token, with its own notifications.
func TestStoreBulkEventsInChunks(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		h := newEventsHarness(t, s, clock)
		var sids []string
		for i := range 23 { // 10 + 10 + 3 singles
			tok := newSuiteToken(t, envOf(s), h.w.agency, service.KindAgency, fmt.Sprintf("Chunk %d", i), testEpoch.Unix())
			tok.Emails = []string{fmt.Sprintf("dev%d@example.com", i)}
			if err := s.Update(ctx, h.w.agency, func(tx service.Tx) error { return tx.InsertToken(ctx, tok) }); err != nil {
				t.Fatal(err)
			}
			sids = append(sids, tok.SID)
		}
		w := h.write(false)
		if _, err := h.svc.Bulk(ctx, w, service.BulkDisable, sids, service.ResetOptions{}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range h.events(service.EventFilter{Type: service.EvDisabled}) {
			if e.RequestID.V != w.Call.RequestID {
				continue
			}
			i := slices.Index(sids, e.TokenSID)
			if i < 0 || seen[e.TokenSID] {
				t.Fatalf("event for %s: not asked for or twice", e.TokenSID)
			}
			seen[e.TokenSID] = true
			if e.TokenName != fmt.Sprintf("Chunk %d", i) {
				t.Errorf("event for %s names %q", e.TokenSID, e.TokenName)
			}
			if len(e.Notifications) != 1 || e.Notifications[0].Email != fmt.Sprintf("dev%d@example.com", i) {
				t.Errorf("event for %s (Chunk %d) tells %+v", e.TokenSID, i, e.Notifications)
			}
		}
		if len(seen) != len(sids) {
			t.Fatalf("%d events for %d tokens disabled", len(seen), len(sids))
		}
	})
}
