package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// TestStoreAuthReadsEveryField reads a token with every column set (contact, lists
// with escapes, expiry, a self-reset's previous secret, an overlap, the notices)
// through authentication's reads, TokenBySID and TokenBySIDWith, and through Token:
// the three agree, field for field, on both stores (on PostgreSQL the first two
// scan through pgx directly, Token through database/sql).
func TestStoreAuthReadsEveryField(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		tok, caller := w.tokens[3], w.tokens[0]
		n := func(v int64) service.Opt[int64] { return service.Some(v) }
		str := func(v string) service.Opt[string] { return service.Some(v) }
		err := s.Update(ctx, w.agency, func(tx service.Tx) error {
			x, err := tx.Token(ctx, w.agency, tok.SID)
			if err != nil {
				return err
			}
			x.Name, x.Description = "Every \"field\" ✓", "line one\nline two"
			x.ContactID = str("U100")
			x.Emails = []string{"ada@example.com", "quote\"d@example.com"}
			x.Scopes = []string{service.ScopeTokensWrite, service.ScopeAdvertisersRead}
			x.Version, x.ResetCount = 7, 2
			x.PrevMAC, x.PrevExpires = []byte("previous-mac-0123456789abcdef012"), n(testEpoch.Unix()+600)
			x.PrevResetKey, x.PrevResetPath = str("key-1"), str("/Agencies/"+x.SID+"/ApiTokens/"+x.SID+"/ResetAuthToken")
			x.ExpiresAt, x.Warned14d, x.Warned1d, x.ExpiredNoted = n(testEpoch.Unix()+86400), n(testEpoch.Unix()+1), n(testEpoch.Unix()+2), n(testEpoch.Unix()+3)
			x.OverlapEnc, x.OverlapMAC = []byte("overlap-sealed"), []byte("overlap-mac-0123456789abcdef0123")
			x.OverlapExpires, x.OverlapLastUsed = n(testEpoch.Unix()+3600), n(testEpoch.Unix()+5)
			return tx.UpdateToken(ctx, x)
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.Token(ctx, w.agency, tok.SID)
		if err != nil {
			t.Fatal(err)
		}
		if !want.ContactName.Valid || !want.OverlapExpires.Valid || len(want.Emails) != 2 {
			t.Fatalf("Token read back %+v; want every field set", want)
		}
		bySID, err := s.TokenBySID(ctx, tok.SID)
		if err != nil {
			t.Fatal(err)
		}
		self, other, err := s.TokenBySIDWith(ctx, caller.SID, tok.SID)
		if err != nil || self.SID != caller.SID || other == nil {
			t.Fatalf("TokenBySIDWith(%s, %s) = %v, %v, %v", caller.SID, tok.SID, self, other, err)
		}
		for name, got := range map[string]*service.Token{"TokenBySID": bySID, "TokenBySIDWith": other} {
			g, w := *got, *want
			g.StoreNow, w.StoreNow = service.Opt[int64]{}, service.Opt[int64]{} // each read's own clock
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s read\n%+v\nToken read\n%+v", name, g, w)
			}
		}
	})
}

// TestSQLiteAuthReadOutlivesCancel: authentication's reads on SQLite run to their end
// even when the request's context is already cancelled (they watch no context: see
// authReadContext); the token is read, not a context error.
func TestSQLiteAuthReadOutlivesCancel(t *testing.T) {
	s := storeKinds[0].open(t, (&testClock{t: testEpoch}).Now)
	if _, ok := s.(*store.SQLiteStore); !ok {
		t.Fatalf("storeKinds[0] is %T; want the SQLite store", s)
	}
	w := seedSuite(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.TokenBySID(ctx, w.tokens[1].SID); err != nil || got.SID != w.tokens[1].SID {
		t.Fatalf("TokenBySID with a cancelled context = %v, %v", got, err)
	}
	if got, other, err := s.TokenBySIDWith(ctx, w.tokens[1].SID, w.tokens[2].SID); err != nil || got == nil || other == nil {
		t.Fatalf("TokenBySIDWith with a cancelled context = %v, %v, %v", got, other, err)
	}
}

// BenchmarkReadRequest is the server's own work for one authenticated GET
// ApiTokens/{Sid} with the rate budget counted (a budget of 1,000,000,000/h, as
// BenchmarkEngine with IMPACTCTL_BENCH_RATE_LIMIT), through the handler in this
// process: no network, no wrk, one request at a time, so the time per request and
// its allocations move less with a busy machine than the throughput ratio does.
// IMPACTCTL_TEST_STORE=postgres runs it on PostgreSQL.
//
//	go test ./server -run '^$' -bench 'ReadRequest|AuthRead' -cpu 1 -count 5
func BenchmarkReadRequest(b *testing.B) {
	b.Setenv("IMPACTCTL_BENCH_RATE_LIMIT", "1000000000/h")
	inst, creds := benchInstance(b, 1000)
	h := inst.srv.Handler
	admin := inst.Admin
	// A request's context is cancelled when its connection ends, as net/http's is.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqs := make([]*http.Request, len(creds))
	for i, c := range creds {
		r := httptest.NewRequest("GET", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+c.AccountSid, nil).WithContext(ctx)
		r.SetBasicAuth(admin.AccountSid, admin.AuthToken)
		reqs[i] = r
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := reqs[i%len(reqs)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.Clone(ctx))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		i += 7
	}
}

// BenchmarkAuthRead is that request's read alone: the caller and the addressed
// token, one statement (TokenBySIDWith).
func BenchmarkAuthRead(b *testing.B) {
	inst, creds := benchInstance(b, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t, o, err := inst.st.TokenBySIDWith(ctx, inst.Admin.AccountSid, creds[i%len(creds)].AccountSid)
		if err != nil || t == nil || o == nil {
			b.Fatalf("TokenBySIDWith = %v, %v, %v", t, o, err)
		}
		i += 7
	}
}
