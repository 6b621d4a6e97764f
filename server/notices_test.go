package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/outbox"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// eventTypes lists a token's events as the API shows them, newest first.
func (ts *testServer) eventTypes(c Credential, sid string) ([]string, []service.EventBody) {
	ts.t.Helper()
	var l eventList
	ts.get(c, "/ApiTokens/"+sid+"/Events").want(ts.t, http.StatusOK).decode(ts.t, &l)
	var types []string
	for _, e := range l.Events {
		types = append(types, e.Type)
	}
	return types, l.Events
}

// notices runs one look of the lifecycle job and checks how many events it wrote.
func notices(t *testing.T, s *service.Rules, want int) {
	t.Helper()
	n, err := s.WriteNotices(context.Background())
	if err != nil || n != want {
		t.Fatalf("lifecycle events written: %d (%v), want %d", n, err, want)
	}
}

// TestExpiryNotices: a token expiring in 13 days gets one 14-day warning, one 1-day
// warning a day before, one expired once it passed, nothing more on later looks;
// moving ExpiresAt re-arms the warnings. The server writes them (Actor null) and
// tells the developer addresses.
func TestExpiryNotices(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withMail)
	admin := ts.cred("admin")
	svc := service.NewRules(ts.st, envOf(ts.st))
	svc.Mail = true
	notices(t, svc, 0) // the demo's tokens never expire
	exp := testEpoch.Add(13 * 24 * time.Hour)
	w := ts.newWorker(admin, map[string]any{"ExpiresAt": wire(exp), "DeveloperEmails": []string{"dev@example.com"}})
	notices(t, svc, 1)
	notices(t, svc, 0)
	ts.clock.Advance(11 * 24 * time.Hour) // 2 days left: nothing new
	notices(t, svc, 0)
	ts.clock.Advance(24*time.Hour + time.Second) // a day less a second left
	notices(t, svc, 1)
	notices(t, svc, 0)
	ts.clock.Advance(24 * time.Hour)
	notices(t, svc, 1)
	notices(t, svc, 0)
	types, evs := ts.eventTypes(admin, w.AccountSid)
	if strings.Join(types, ",") != "expired,expiry_warning,expiry_warning,created" {
		t.Fatalf("events %v", types)
	}
	for _, e := range evs[:3] {
		if e.Actor != nil || e.ClientAddress != nil || e.RequestId != nil || len(e.Changes) != 0 {
			t.Fatalf("a server's event names an actor or changes: %+v", e)
		}
		if e.ExpiresAt == nil || *e.ExpiresAt != wire(exp) {
			t.Fatalf("%s: ExpiresAt %v, want %s", e.Type, e.ExpiresAt, wire(exp))
		}
		if len(e.Notifications) != 1 || e.Notifications[0].Email != "dev@example.com" || e.Notifications[0].State != service.NotificationPending {
			t.Fatalf("%s told %+v", e.Type, e.Notifications)
		}
	}
	if evs[0].Date != wire(ts.clock.Now()) || evs[1].Date != wire(exp.Add(-24*time.Hour+time.Second)) {
		t.Fatalf("dates %s %s", evs[0].Date, evs[1].Date)
	}
	// Moving the expiry re-arms the notices: 10 days ahead warns at once.
	later := ts.clock.Now().Add(10 * 24 * time.Hour)
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": wire(later)}).want(t, http.StatusOK)
	notices(t, svc, 1)
	notices(t, svc, 0)
	types, evs = ts.eventTypes(admin, w.AccountSid)
	if strings.Join(types[:2], ",") != "expiry_warning,edited" || *evs[0].ExpiresAt != wire(later) {
		t.Fatalf("after the move: %v", types)
	}
	// An expiry cleared: nothing is due any more.
	ts.req("PATCH", tokenPath(admin, w.AccountSid), admin, map[string]any{"ExpiresAt": nil}).want(t, http.StatusOK)
	ts.clock.Advance(20 * 24 * time.Hour)
	notices(t, svc, 0)
}

// TestExpiryNoticeFoundLate: a token first looked at past its expiry gets expired
// alone, not the warnings it missed.
func TestExpiryNoticeFoundLate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	svc := service.NewRules(ts.st, envOf(ts.st))
	w := ts.newWorker(admin, map[string]any{"ExpiresAt": wire(testEpoch.Add(time.Hour))})
	ts.clock.Advance(2 * time.Hour)
	notices(t, svc, 1)
	notices(t, svc, 0)
	types, evs := ts.eventTypes(admin, w.AccountSid)
	if strings.Join(types, ",") != "expired,created" || evs[0].Notifications == nil {
		t.Fatalf("events %v", types)
	}
}

// TestOverlapRunsOut: an overlap whose previous secret runs out is ended by the
// server once, with an overlap_ended event saying when; the old secret is refused
// and the token shows no previous secret.
func TestOverlapRunsOut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	svc := service.NewRules(ts.st, envOf(ts.st))
	w := ts.newWorker(admin, map[string]any{"DeveloperEmails": []string{"ops@example.com"}})
	var reset lifeJSON
	ts.req("POST", tokenPath(admin, w.AccountSid)+"/Reset", admin, map[string]any{"PreviousValidFor": 60}).
		want(t, http.StatusOK).decode(t, &reset)
	fresh := Credential{AccountSid: w.AccountSid, AuthToken: reset.AuthToken}
	ts.get(w, "/ApiTokens/Current").want(t, http.StatusOK)
	notices(t, svc, 0)
	etag := ts.get(admin, "/ApiTokens/"+w.AccountSid).want(t, http.StatusOK).Header.Get("ETag")
	ts.clock.Advance(61 * time.Second)
	notices(t, svc, 1)
	notices(t, svc, 0)
	types, evs := ts.eventTypes(admin, w.AccountSid)
	if strings.Join(types, ",") != "overlap_ended,reset,created" {
		t.Fatalf("events %v", types)
	}
	b, _ := json.Marshal(evs[0])
	if !strings.Contains(string(b), `"PreviousAuthTokenExpiresAt":"`+wire(testEpoch.Add(time.Minute))+`"`) ||
		evs[0].Actor != nil || len(evs[0].Notifications) != 1 || evs[0].Notifications[0].Email != "ops@example.com" ||
		evs[0].Notifications[0].State != service.NotificationOff {
		t.Fatalf("the overlap_ended event: %s", b)
	}
	ts.get(w, "/ApiTokens/Current").want(t, http.StatusUnauthorized)
	if l := ts.life(fresh, w.AccountSid); l.PreviousAuthTokenExpiresAt != nil {
		t.Fatalf("the previous secret still shows: %v", *l.PreviousAuthTokenExpiresAt)
	}
	if got := ts.get(admin, "/ApiTokens/"+w.AccountSid).want(t, http.StatusOK).Header.Get("ETag"); got == etag {
		t.Fatalf("the token reads differently under the same ETag %s", got)
	}
}

// TestNoticesOnceAcrossReplicas: two stores on one database (two replicas), each
// running the job from several goroutines at once, write every event exactly once.
func TestNoticesOnceAcrossReplicas(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := &testClock{t: testEpoch}
			var open func() service.Store
			if kind == "postgres" {
				dsn, key := testPostgres(t), filepath.Join(t.TempDir(), "key")
				open = func() service.Store {
					s, err := store.OpenPostgresStore(ctx, dsn, key, store.StoreOptions{Now: clock.Now})
					if err != nil {
						t.Fatal(err)
					}
					withEnv(t, s, testRand(), clock.Now)
					return s
				}
			} else {
				path := filepath.Join(t.TempDir(), "replicas.db")
				open = func() service.Store {
					s, err := store.OpenStore(ctx, path, "", store.StoreOptions{Now: clock.Now})
					if err != nil {
						t.Fatal(err)
					}
					withEnv(t, s, testRand(), clock.Now)
					return s
				}
			}
			a := open()
			t.Cleanup(func() { a.Close() })
			w := seedSuite(t, a)
			b := open()
			t.Cleanup(func() { b.Close() })
			db := rawDB(a)
			// Half the agency's tokens expire in 13 days, half expired an hour ago; one
			// overlap ran out.
			now := testEpoch.Unix()
			for i, tok := range w.tokens {
				at := now + 13*24*3600
				if i%2 == 1 {
					at = now - 3600
				}
				q := `UPDATE tokens SET expires_at = ?, overlap_expires = ?, overlap_secret_mac = ? WHERE sid = ?`
				if kind == "postgres" {
					q = `UPDATE tokens SET expires_at = $1, overlap_expires = $2, overlap_secret_mac = $3 WHERE sid = $4`
				}
				var ov sql.NullInt64
				var mac []byte
				if i == 0 {
					ov, mac = sql.NullInt64{Int64: now - 1, Valid: true}, []byte("previous")
				}
				if _, err := db.Exec(q, at, ov, mac, tok.SID); err != nil {
					t.Fatal(err)
				}
			}
			svcs := []*service.Rules{service.NewRules(a, envOf(a)), service.NewRules(b, envOf(b))}
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			for i := range 6 {
				wg.Go(func() {
					n, err := svcs[i%2].WriteNotices(ctx)
					mu.Lock()
					defer mu.Unlock()
					total += n
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			want := len(w.tokens) + 1
			if total != want {
				t.Errorf("the looks wrote %d events, want %d", total, want)
			}
			rows, err := db.Query(`SELECT token_sid, type, count(*) FROM events GROUP BY token_sid, type`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := map[string]int{}
			for rows.Next() {
				var sid, typ string
				var n int
				if err := rows.Scan(&sid, &typ, &n); err != nil {
					t.Fatal(err)
				}
				got[sid+" "+typ] = n
			}
			for i, tok := range w.tokens {
				typ := service.EvExpiryWarning
				if i%2 == 1 {
					typ = service.EvExpired
				}
				if got[tok.SID+" "+typ] != 1 {
					t.Errorf("%s: %d %s events, want 1", tok.SID, got[tok.SID+" "+typ], typ)
				}
			}
			if got[w.tokens[0].SID+" "+service.EvOverlapEnded] != 1 {
				t.Errorf("overlap_ended events: %v", got)
			}
			if n, err := svcs[1].WriteNotices(ctx); n != 0 || err != nil {
				t.Errorf("a later look wrote %d (%v)", n, err)
			}
		})
	}
}

// TestStartWritesNotices: a started server looks for due lifecycle events on its own.
func TestStartWritesNotices(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: testEpoch}
	inst, err := Start(context.Background(), Config{DB: filepath.Join(t.TempDir(), "start.db"), Demo: true,
		Now: clock.Now, NoticeEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Shutdown(context.Background()) })
	admin := inst.Admin
	c := testClient(t)
	body := fmt.Sprintf(`{"Name":"soon","Scopes":["reports.read"],"ExpiresAt":%q}`, wire(testEpoch.Add(5*24*time.Hour)))
	req, _ := http.NewRequest("POST", inst.URL+"/Agencies/"+admin.AccountSid+"/ApiTokens", strings.NewReader(body))
	req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", inst.URL+"/Agencies/"+admin.AccountSid+"/ApiTokenEvents?Type=expiry_warning", nil)
		req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var l eventList
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Events) == 1 && l.Events[0].TokenName == "soon" {
			return
		}
		if len(l.Events) > 1 || time.Now().After(deadline) {
			t.Fatalf("expiry warnings: %+v", l.Events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNoticeMailSaysWhen: the mail of a server's event reads the time it carries,
// from the event as the outbox holds it.
func TestNoticeMailSaysWhen(t *testing.T) {
	exp, ran := testEpoch.Unix(), testEpoch.Add(-time.Hour).Unix()
	for _, e := range []service.Event{{Type: service.EvExpiryWarning, Extra: service.EventExtra{ExpiresAt: &exp}},
		{Type: service.EvExpired, Extra: service.EventExtra{ExpiresAt: &exp}},
		{Type: service.EvOverlapEnded, Extra: service.EventExtra{PreviousAuthTokenExpiresAt: &ran}}} {
		raw, err := json.Marshal(service.EventBodyOf(&e))
		if err != nil {
			t.Fatal(err)
		}
		updates, _, err := outbox.UpdatesOf([]store.PendingNotification{{Event: raw, Email: "dev@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		u := updates[0].Tokens[0]
		if e.Type == service.EvOverlapEnded {
			if u.PreviousExpires.Unix() != ran {
				t.Errorf("%s: %s", e.Type, raw)
			}
		} else if u.ExpiresAt.Unix() != exp {
			t.Errorf("%s: %s", e.Type, raw)
		}
	}
}

// TestNoticesSkipBusyAccount: on PostgreSQL a look skips an account whose lock
// another transaction holds (SKIP LOCKED) instead of queuing behind it, and writes
// its events on the next look.
func TestNoticesSkipBusyAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{t: testEpoch}
	s, err := store.OpenPostgresStore(ctx, testPostgres(t), filepath.Join(t.TempDir(), "key"), store.StoreOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	withEnv(t, s, testRand(), clock.Now)
	t.Cleanup(func() { s.Close() })
	w := seedSuite(t, s)
	if _, err := s.DB.Exec(`UPDATE tokens SET expires_at = $1 WHERE sid = $2`, testEpoch.Unix()-1, w.tokens[3].SID); err != nil {
		t.Fatal(err)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, w.agency); err != nil {
		t.Fatal(err)
	}
	svc := service.NewRules(s, envOf(s))
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if n, err := svc.WriteNotices(lctx); n != 0 || err != nil {
		t.Fatalf("a look at a busy account wrote %d (%v)", n, err)
	}
	tx.Rollback()
	notices(t, svc, 1)
	notices(t, svc, 0)
}
