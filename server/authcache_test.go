package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// sharedServer serves the database st was opened on, as one more process serving
// it would, keeping what authentication reads for keep (0: the default).
func sharedServer(t *testing.T, st service.Store, keep time.Duration) *testServer {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: testEpoch}
	env := withEnv(t, st, testRand(), clock.Now)
	env.KeepAuth = keep
	if err := Seed(ctx, st, env, true); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(st, env, httpapi.Options{}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	creds, err := DemoCredentials(ctx, st, env, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{t: t, url: srv.URL, st: st, clock: clock, creds: creds,
		client: &http.Client{Transport: testTransport(t)}}
}

// TestKeptTokensFollowEveryProcess: a server keeps the tokens authentication read
// (here for an hour, so that only the shared generation can make it read again),
// and a change made by another process serving the same database (a replica on
// PostgreSQL) is refused on the very next request all the same: disable, reset,
// delete, a one-shot command's write (SQLite), and a process starting after another
// stopped between commit and telling.
func TestKeptTokensFollowEveryProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.db")
	open := func(t *testing.T) service.Store {
		t.Helper()
		st, err := store.OpenStore(context.Background(), path, "", store.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	t.Run("sqlite", func(t *testing.T) { keptTokensFollow(t, open, path) })
	t.Run("postgres", func(t *testing.T) {
		dsn, key := testPostgres(t), filepath.Join(dir, "pg.key")
		keptTokensFollow(t, func(t *testing.T) service.Store {
			t.Helper()
			st, err := store.OpenPostgresStore(context.Background(), dsn, key, store.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}, "")
	})
}

// keptTokensFollow runs TestKeptTokensFollowEveryProcess on the stores open opens,
// one database; sqlitePath is the SQLite file, "" on PostgreSQL.
func keptTokensFollow(t *testing.T, open func(t *testing.T) service.Store, sqlitePath string) {
	a := sharedServer(t, open(t), time.Hour)
	b := sharedServer(t, open(t), time.Hour)
	ro, admin := a.cred("readonly"), b.cred("admin")
	raw := func(query string, args ...any) {
		t.Helper()
		// Behind every server's back: no generation moves.
		db, query := a.db(query)
		if _, err := db.Exec(query, args...); err != nil {
			t.Fatal(err)
		}
	}

	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)
	a.get(ro, "/ApiTokens/"+admin.AccountSid).want(t, http.StatusOK)
	// The copies are in use: a change nobody told the servers about is not seen.
	raw(`UPDATE tokens SET state = 'DISABLED' WHERE sid = ?`, ro.AccountSid)
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)
	// A wrong secret is never answered from a copy.
	a.get(Credential{AccountSid: ro.AccountSid, AuthToken: wrongSecret(ro.AuthToken)}, "/ApiTokens/Current").
		want(t, http.StatusUnauthorized)
	raw(`UPDATE tokens SET state = 'ENABLED' WHERE sid = ?`, ro.AccountSid)

	// Copies serve reads only: a write reads its caller from the store.
	aAdmin := a.cred("admin")
	a.get(aAdmin, "/ApiTokens/Current").want(t, http.StatusOK)
	raw(`UPDATE tokens SET state = 'DISABLED' WHERE sid = ?`, aAdmin.AccountSid)
	a.get(aAdmin, "/ApiTokens/Current").want(t, http.StatusOK)
	a.req("POST", "/Agencies/"+aAdmin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/Enable", aAdmin, nil).
		want(t, http.StatusForbidden)
	raw(`UPDATE tokens SET state = 'ENABLED' WHERE sid = ?`, aAdmin.AccountSid)
	open(t).Close()

	// Disabled by the other process: refused by this one at once.
	b.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/Disable", admin, nil).want(t, http.StatusOK)
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusForbidden)
	b.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/Enable", admin, nil).want(t, http.StatusOK)
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)

	// Reset by the other process: the old secret is refused, the new one works.
	var reset struct{ AuthToken string }
	b.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/Reset", admin, nil).
		want(t, http.StatusOK).decode(t, &reset)
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusUnauthorized)
	ro.AuthToken = reset.AuthToken
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)

	if sqlitePath != "" {
		// A one-shot store (impactctl --local) that writes tells the servers too.
		one, err := store.OpenStore(context.Background(), sqlitePath, "", store.StoreOptions{OneShot: true})
		if err != nil {
			t.Fatal(err)
		}
		oneSrv := httptest.NewServer(httpapi.New(one, withEnv(t, one, nil, nil), httpapi.Options{}))
		local := &testServer{t: t, url: oneSrv.URL, st: one, client: b.client}
		local.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/Disable", admin, nil).want(t, http.StatusOK)
		a.get(ro, "/ApiTokens/Current").want(t, http.StatusForbidden)
		// Its second write too: the first opened the counter (which moves it).
		local.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/Enable", admin, nil).want(t, http.StatusOK)
		a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)
		oneSrv.Close()
		one.Close()
	}

	// A process that starts moves the generation: one that stopped between its
	// commit and its move leaves nothing stale behind.
	open(t).Close()
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)
	raw(`UPDATE tokens SET state = 'DISABLED' WHERE sid = ?`, ro.AccountSid)
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK) // still the copy read above
	open(t).Close()
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusForbidden)
	raw(`UPDATE tokens SET state = 'ENABLED' WHERE sid = ?`, ro.AccountSid)
	open(t).Close()
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusOK)

	// Deleted by the other process: refused at once.
	b.req("DELETE", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid, admin, nil).want(t, http.StatusNoContent)
	a.get(ro, "/ApiTokens/Current").want(t, http.StatusUnauthorized)
}

// TestKeptTokensRevokedUnderLoad: while GETs of a token stream into one server
// (many at once, so that on PostgreSQL they share reads of the counter), another
// server disables the token; every GET that began after the disable was answered
// is refused, on both stores, round after round.
func TestKeptTokensRevokedUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.db")
	t.Run("sqlite", func(t *testing.T) {
		revokedUnderLoad(t, func(t *testing.T) service.Store {
			st, err := store.OpenStore(context.Background(), path, "", store.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, key := testPostgres(t), filepath.Join(dir, "pg.key")
		revokedUnderLoad(t, func(t *testing.T) service.Store {
			st, err := store.OpenPostgresStore(context.Background(), dsn, key, store.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

func revokedUnderLoad(t *testing.T, open func(t *testing.T) service.Store) {
	a := sharedServer(t, open(t), time.Hour)
	b := sharedServer(t, open(t), time.Hour)
	ro, admin := a.cred("readonly"), b.cred("admin")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	get := func() int {
		req, _ := http.NewRequest("GET", a.url+"/Agencies/"+ro.AccountSid+"/ApiTokens/Current", nil)
		req.SetBasicAuth(ro.AccountSid, ro.AuthToken)
		res, err := hc.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	state := func(action string) {
		t.Helper()
		b.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/"+action, admin, nil).want(t, http.StatusOK)
	}
	for round := range 20 {
		state("Enable")
		if got := get(); got != http.StatusOK {
			t.Fatalf("round %d: enabled token answered %d", round, got)
		}
		type answer struct {
			began  time.Time
			status int
		}
		var mu sync.Mutex
		var answers []answer
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					began := time.Now()
					status := get()
					mu.Lock()
					answers = append(answers, answer{began, status})
					mu.Unlock()
				}
			})
		}
		time.Sleep(5 * time.Millisecond)
		state("Disable")
		acked := time.Now()
		// Until 16 GETs have begun since (however slow the machine).
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			mu.Lock()
			since := 0
			for _, ans := range answers {
				if ans.began.After(acked) {
					since++
				}
			}
			mu.Unlock()
			if since >= 16 {
				break
			}
		}
		close(stop)
		wg.Wait()
		after := 0
		for _, ans := range answers {
			if ans.began.After(acked) {
				after++
				if ans.status != http.StatusForbidden {
					t.Fatalf("round %d: a GET begun %v after the disable was answered got %d",
						round, ans.began.Sub(acked), ans.status)
				}
			}
		}
		if after == 0 {
			t.Fatalf("round %d: no GET began after the disable", round)
		}
	}
}
