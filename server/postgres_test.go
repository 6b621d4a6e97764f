package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// postgresDSNEnv names the environment variable holding a PostgreSQL URL for tests:
// a role that may create databases. .ci/run starts a server and sets it.
const postgresDSNEnv = "IMPACTCTL_TEST_POSTGRES_DSN"

// testPostgres returns the URL of a fresh, empty database on the test server, dropped
// when the test ends, or skips the test when no server is configured.
func testPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(postgresDSNEnv)
	if admin == "" {
		t.Skip("PostgreSQL tests skipped: set " + postgresDSNEnv + " to a postgres:// URL of a role that may create databases, " +
			"or run `source .ci/postgres.sh` (starts a throwaway server) before go test")
	}
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, admin)
	if err != nil {
		t.Fatalf("%s: %v", postgresDSNEnv, err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "impactctl_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := store.OpenPostgres(context.Background(), admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@db:5432/tokens?sslmode=require", "postgres://u:xxxxx@db:5432/tokens?sslmode=require"},
		{"postgresql://u@db/tokens?password=s3cret", "postgresql://u@db/tokens?password=xxxxx"},
		{"postgres://db/tokens", "postgres://db/tokens"},
		{"postgres://u:s3cret@db:bad port/x", "postgres://(unparseable)"},
	} {
		if got := store.RedactDSN(tc.in); got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(store.RedactDSN(tc.in), "s3cret") {
			t.Errorf("RedactDSN(%q) keeps the password", tc.in)
		}
	}
}

func TestIsPostgresDSN(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"postgres://db/x": true, "postgresql://db/x": true, "POSTGRES://db/x": true,
		"tokens.db": false, "./postgres://x": false, "": false,
	} {
		if got := store.IsPostgresDSN(in); got != want {
			t.Errorf("IsPostgresDSN(%q) = %v", in, got)
		}
	}
}

// A wrong password is refused with a message that names the database but never the
// password.
func TestPostgresConnectErrorHidesPassword(t *testing.T) {
	t.Parallel()
	dsn := testPostgres(t)
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(u.User.Username(), "wrong-Pa55word")
	_, err := store.OpenPostgres(context.Background(), u.String())
	if err == nil {
		t.Fatal("a wrong password connected")
	}
	if strings.Contains(err.Error(), "wrong-Pa55word") {
		t.Fatalf("the error shows the password: %v", err)
	}
	_, err = store.OpenPostgres(context.Background(), "postgres://u:wrong-Pa55word@db:notaport/x")
	if err == nil || strings.Contains(err.Error(), "wrong-Pa55word") {
		t.Fatalf("a malformed URL: %v", err)
	}
}

// Replicas starting together take turns under the advisory lock: every one succeeds,
// the schema is applied once, and one key fingerprint is recorded. A replica with
// another key is refused.
func TestPostgresMigrationsUnderLock(t *testing.T) {
	t.Parallel()
	dsn := testPostgres(t)
	ctx := context.Background()
	const replicas = 8
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	seeds := 0
	var mu sync.Mutex
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := store.OpenPostgres(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = store.PostgresMigrate(ctx, db, "key-A", func(ctx context.Context) error {
				// Under the lock: seeding sees what earlier replicas seeded.
				var n int
				if err := db.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'seeded'`).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					mu.Lock()
					seeds++
					mu.Unlock()
					time.Sleep(20 * time.Millisecond)
					_, err := db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('seeded', 'yes')`)
					return err
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if seeds != 1 {
		t.Fatalf("seeded %d times, want once", seeds)
	}
	db, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRowContext(ctx, `SELECT version FROM impactctl_schema`).Scan(&version); err != nil || version != len(store.PostgresMigrations()) {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(store.PostgresMigrations()))
	}
	err = store.PostgresMigrate(ctx, db, "key-B", nil)
	if err == nil || !strings.Contains(err.Error(), "key file does not match") {
		t.Fatalf("another key: %v", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE impactctl_schema SET version = 999`); err != nil {
		t.Fatal(err)
	}
	if err := store.PostgresMigrate(ctx, db, "key-A", nil); err == nil || !strings.Contains(err.Error(), "newer than this server") {
		t.Fatalf("a newer schema: %v", err)
	}
}

// Two replicas (two connection pools) spend one budget per key, exactly, however
// their requests interleave; a window that has ended starts afresh.
func TestPostgresRateWindowsShared(t *testing.T) {
	t.Parallel()
	dsn := testPostgres(t)
	ctx := context.Background()
	clock := &testClock{t: testEpoch}
	var pools [2]*sql.DB
	for i := range pools {
		db, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		pools[i] = db
	}
	if err := store.PostgresMigrate(ctx, pools[0], "k", nil); err != nil {
		t.Fatal(err)
	}
	rate := Rate{N: 50, Per: time.Hour}
	replicas := []ratelimit.Counter{ratelimit.NewPGWindows(pools[0], "token", rate, clock.Now), ratelimit.NewPGWindows(pools[1], "token", rate, clock.Now)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for i := range 80 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := replicas[i%2].Take(ctx, "IRtoken")
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 50 {
		t.Fatalf("granted %d of 80 requests, want the budget of 50", granted)
	}
	b, err := replicas[1].Peek(ctx, "IRtoken")
	if err != nil || b.Remaining != 0 || b.Limit != 50 || b.Reset != time.Hour {
		t.Fatalf("peek after spending: %+v %v", b, err)
	}
	if b, err := replicas[0].Peek(ctx, "IRother"); err != nil || b.Remaining != 50 {
		t.Fatalf("another key's budget: %+v %v", b, err)
	}
	clock.Advance(time.Hour)
	b, ok, err := replicas[1].Take(ctx, "IRtoken")
	if err != nil || !ok || b.Remaining != 49 || b.Reset != time.Hour {
		t.Fatalf("after the window: %+v %v %v", b, ok, err)
	}

	fails := []ratelimit.Counter{ratelimit.NewPGWindows(pools[0], "auth_fail", Rate{N: 3, Per: time.Minute}, clock.Now),
		ratelimit.NewPGWindows(pools[1], "auth_fail", Rate{N: 3, Per: time.Minute}, clock.Now)}
	for i := range 3 {
		if _, over, err := fails[1].Exhausted(ctx, "192.0.2.7"); err != nil || over {
			t.Fatalf("blocked after %d failures (%v)", i, err)
		}
		if err := fails[i%2].Add(ctx, "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
	}
	if b, over, err := fails[1].Exhausted(ctx, "192.0.2.7"); err != nil || !over || b.Reset != time.Minute {
		t.Fatalf("after 3 failures over both replicas: %+v blocked=%v %v", b, over, err)
	}
	clock.Advance(time.Minute)
	if _, over, err := fails[0].Exhausted(ctx, "192.0.2.7"); err != nil || over {
		t.Fatalf("still blocked after the window (%v)", err)
	}
}

// A replica's remembered list positions give way to a change another replica made.
func TestPostgresPagesAcrossReplicas(t *testing.T) {
	t.Parallel()
	dsn := testPostgres(t)
	ctx := context.Background()
	key := filepath.Join(t.TempDir(), "key")
	var stores [2]*store.PostgresStore
	for i := range stores {
		s, err := store.OpenPostgresStore(ctx, dsn, key, store.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		withEnv(t, s, testRand(), nil)
		defer s.Close()
		stores[i] = s
	}
	if err := Seed(ctx, stores[0], envOf(stores[0]), true); err != nil {
		t.Fatal(err)
	}
	if err := Seed(ctx, stores[1], envOf(stores[1]), true); err != nil { // a second seeding changes nothing
		t.Fatal(err)
	}
	roles, err := stores[0].DemoRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := stores[0].TokenBySID(ctx, roles["admin"])
	if err != nil {
		t.Fatal(err)
	}
	list := func(s *store.PostgresStore, n int) ([]service.Token, int) {
		toks, total, err := s.Tokens(ctx, admin.AccountID, service.TokenFilter{}, service.Page{Number: n, Size: 4})
		if err != nil {
			t.Fatal(err)
		}
		return toks, total
	}
	first, total := list(stores[0], 1)
	list(stores[0], 2)
	list(stores[0], 3)
	if err := stores[1].Update(ctx, admin.AccountID, func(tx service.Tx) error { return tx.DeleteToken(ctx, first[0].SID) }); err != nil {
		t.Fatal(err)
	}
	page2, total2 := list(stores[0], 2)
	want, _ := list(stores[1], 2)
	if total2 != total-1 || page2[0].SID != want[0].SID || page2[0].SID == first[len(first)-1].SID {
		t.Fatalf("after a delete on the other replica: total %d (was %d), page 2 starts %s, want %s",
			total2, total, page2[0].SID, want[0].SID)
	}
}

// A transaction PostgreSQL aborts as a serialization failure or a deadlock runs again
// from the start; any other failure is answered at once.
func TestPostgresRetriesSerializationFailures(t *testing.T) {
	t.Parallel()
	dsn := testPostgres(t)
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE runs (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	attempts := 0
	err = store.PostgresInTx(ctx, db, nil, func(tx *sql.Tx) error {
		attempts++
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs VALUES ($1)`, attempts); err != nil {
			return err
		}
		if attempts <= 2 {
			code := map[int]string{1: "40001", 2: "40P01"}[attempts]
			_, err := tx.ExecContext(ctx, `DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '`+code+`'; END $$`)
			return err
		}
		return nil
	})
	if err != nil || attempts != 3 {
		t.Fatalf("attempts %d, %v", attempts, err)
	}
	var runs []int
	rows, err := db.QueryContext(ctx, `SELECT n FROM runs`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int
		rows.Scan(&n)
		runs = append(runs, n)
	}
	rows.Close()
	if len(runs) != 1 || runs[0] != 3 {
		t.Fatalf("committed runs %v, want only the third", runs)
	}

	attempts = 0
	err = store.PostgresInTx(ctx, db, nil, func(tx *sql.Tx) error {
		attempts++
		_, err := tx.ExecContext(ctx, `DO $$ BEGIN RAISE EXCEPTION 'unique' USING ERRCODE = '23505'; END $$`)
		return err
	})
	if err == nil || attempts != 1 {
		t.Fatalf("a unique violation: attempts %d, %v", attempts, err)
	}
}
