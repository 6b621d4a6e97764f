package server

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/impactcom/impactctl/server/store"
)

func TestStorePragmas(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "odd name #1 100%?.db")
	s, err := store.OpenStore(context.Background(), path, "", store.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	withEnv(t, s, nil, nil)
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	if got := dbPath(t, s); got != path {
		t.Fatalf("SQLite opened %q, not %q", got, path)
	}
	var mode string
	var sync, fk, busy int
	s.DB.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	s.DB.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	s.DB.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	s.DB.QueryRow(`PRAGMA busy_timeout`).Scan(&busy)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database mode: %v %v", st, err)
	}
	if mode != "wal" || sync != 2 || fk != 1 || busy != 5000 {
		t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d", mode, sync, fk, busy)
	}
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin := ts.cred("admin")
	var created tokenJSON
	ts.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, map[string]any{"Name": "Kept"},
		"Idempotency-Key", "at-rest").want(t, 201).decode(t, &created)
	sqlite, ok := ts.st.(*store.SQLiteStore)
	if !ok {
		t.Skip("reads the SQLite files; the store suite covers PostgreSQL")
	}
	dir := filepath.Dir(dbPath(t, sqlite))
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{admin.AuthToken, created.AuthToken} {
			if bytes.Contains(data, []byte(secret)) {
				t.Fatalf("%s holds a secret in clear", e.Name())
			}
		}
	}
}

// dbPath is the database file's path, for tests that look at the bytes.
func dbPath(t testing.TB, s *store.SQLiteStore) string {
	var seq int
	var name, file string
	if err := s.DB.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestStartThatCannotListenLeavesTheDatabaseAlone: an address in use fails
// the start before the database is created or seeded.
func TestStartThatCannotListenLeavesTheDatabaseAlone(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	path := filepath.Join(t.TempDir(), "tokens.db")
	if _, err := Start(context.Background(), Config{Addr: busy.Addr().String(), DB: path, Demo: true}); err == nil {
		t.Fatal("Start on an address in use succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
}
