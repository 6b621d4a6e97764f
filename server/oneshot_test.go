package server

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/store"
)

// TestOneShotStart runs what impactctl --local does over one database: a start that
// writes no event prunes none, one that only reads (a token used within the minute:
// no use to record) prepares no writer and leaves the WAL empty for the next run,
// and one that writes an event prunes the events past the retention when it shuts
// down, its change on disk.
func TestOneShotStart(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "local.db")
	clock := &testClock{t: testEpoch}
	retention := 30 * 24 * time.Hour
	cfg := Config{Addr: "127.0.0.1:0", DB: db, Demo: true, EventRetention: retention, Now: clock.Now}

	call := func(inst *Instance, method, path string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, inst.URL+"/Agencies/"+inst.Admin.AccountSid+path, nil)
		req.SetBasicAuth(inst.Admin.AccountSid, inst.Admin.AuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
	}
	// Counted with a connection of its own, closed at once: a run's last connection
	// is the one that checkpoints the WAL.
	count := func(q string, args ...any) int {
		t.Helper()
		raw, err := sql.Open("sqlite", "file:"+db)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A server as `impactctl serve` runs it seeds the database; one change makes an event.
	first, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	victim := first.DemoCredentials()["readonly"].AccountSid
	call(first, http.MethodPost, "/ApiTokens/"+victim+"/Disable")
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	old := count(`SELECT count(*) FROM events`)
	if old == 0 {
		t.Fatal("the disable wrote no event")
	}

	// Two months later, a one-shot start that lists (the admin's use is written).
	clock.Advance(60 * 24 * time.Hour)
	cutoff := clock.Now().Add(-retention).Unix()
	cfg.OneShot = true
	second, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.DemoCredentials(); len(got) != 1 || got["admin"] != second.Admin {
		t.Fatalf("one-shot credentials: %d roles, want the admin's alone", len(got))
	}
	call(second, http.MethodGet, "/ApiTokens")
	if err := second.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM events WHERE date < ?`, cutoff); n != old {
		t.Fatalf("after a run that wrote no event: %d old events, want %d", n, old)
	}

	// The same minute: nothing to write.
	again, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	call(again, http.MethodGet, "/ApiTokens")
	if again.st.(*store.SQLiteStore).Wrote() {
		t.Fatal("a one-shot start that only read prepared the writer")
	}
	if err := again.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The WAL and its index stay for the next run, the WAL checkpointed and empty.
	if fi, err := os.Stat(db + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("the WAL after a one-shot run: %v, %v", fi, err)
	}
	if _, err := os.Stat(db + "-shm"); err != nil {
		t.Fatal(err)
	}

	// One that writes: its change is on disk, and the old events went at shutdown.
	third, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	call(third, http.MethodPost, "/ApiTokens/"+victim+"/Enable")
	if err := third.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM events WHERE date < ?`, cutoff); n != 0 {
		t.Fatalf("after a run that wrote: %d events past the retention", n)
	}
	if n := count(`SELECT count(*) FROM events`); n == 0 {
		t.Fatal("the enable's event went too")
	}
	if n := count(`SELECT count(*) FROM tokens WHERE sid = ? AND state = 'ENABLED'`, victim); n != 1 {
		t.Fatal("the enable is not on disk")
	}
}

// TestOneShotWritesNoticesAtShutdown: a one-shot server does not look for due
// lifecycle events in the background; it looks once as it shuts down.
func TestOneShotWritesNoticesAtShutdown(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "local.db")
	clock := &testClock{t: testEpoch}
	inst, err := Start(ctx, Config{Addr: "127.0.0.1:0", DB: db, Demo: true, Now: clock.Now, OneShot: true})
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"Name":"soon","Scopes":["reports.read"],"ExpiresAt":%q}`, wire(testEpoch.Add(5*24*time.Hour)))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, inst.URL+"/Agencies/"+inst.Admin.AccountSid+"/ApiTokens",
		strings.NewReader(body))
	req.SetBasicAuth(inst.Admin.AccountSid, inst.Admin.AuthToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %s", resp.Status)
	}
	if err := inst.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE type = 'expiry_warning' AND token_name = 'soon'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d expiry warnings for the token, want 1", n)
	}
}
