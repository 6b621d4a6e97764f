//go:build unix

package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/impactcom/impactctl/server/store"
)

const otherUID = 65534 // nobody: a user other than the one running the tests

// needRoot skips a test that hands a file to another user, which only root can do.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("handing a file to another user needs root")
	}
}

// goodStore makes a database with secrets and its key in a private directory.
func goodStore(t *testing.T) (dir, db, key string) {
	t.Helper()
	dir = t.TempDir()
	db, key = filepath.Join(dir, "tokens.db"), filepath.Join(dir, "tokens.db.key")
	s, err := store.OpenStore(context.Background(), db, "", store.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	withEnv(t, s, nil, nil)
	if err := Seed(context.Background(), s, envOf(s), false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, db, key
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestServerFileChecks: each unsafe file stops the start with a *FileError naming
// the file and the command that fixes it, and changes nothing.
func TestServerFileChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		root  bool
		setup func(t *testing.T, dir, db, key string) (dbArg, keyArg string)
		what  string
		path  func(dir, db, key string) string
		says  []string
	}{
		{name: "database writable by others",
			setup: func(t *testing.T, dir, db, key string) (string, string) { must(t, os.Chmod(db, 0o666)); return db, "" },
			what:  "database", path: func(_, db, _ string) string { return db }, says: []string{"mode 0666", "chmod go-w " + "DB"}},
		{name: "database writable by group",
			setup: func(t *testing.T, dir, db, key string) (string, string) { must(t, os.Chmod(db, 0o620)); return db, "" },
			what:  "database", path: func(_, db, _ string) string { return db }, says: []string{"chmod go-w"}},
		{name: "database owned by another user", root: true,
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Chown(db, otherUID, -1))
				return db, ""
			},
			what: "database", path: func(_, db, _ string) string { return db }, says: []string{"owned by another user", "chown root DB"}},
		{name: "-wal writable by others",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.WriteFile(db+"-wal", nil, 0o600))
				must(t, os.Chmod(db+"-wal", 0o666))
				return db, ""
			},
			what: "database file", path: func(_, db, _ string) string { return db + "-wal" }, says: []string{"chmod go-w DB-wal"}},
		{name: "-gen writable by others",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Chmod(db+"-gen", 0o666))
				return db, ""
			},
			what: "database file", path: func(_, db, _ string) string { return db + "-gen" }, says: []string{"chmod go-w DB-gen"}},
		{name: "-shm owned by another user", root: true,
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.WriteFile(db+"-shm", nil, 0o600))
				must(t, os.Chown(db+"-shm", otherUID, -1))
				return db, ""
			},
			what: "database file", path: func(_, db, _ string) string { return db + "-shm" }, says: []string{"chown root DB-shm"}},
		{name: "key readable by others",
			setup: func(t *testing.T, dir, db, key string) (string, string) { must(t, os.Chmod(key, 0o644)); return db, "" },
			what:  "key file", path: func(_, _, key string) string { return key }, says: []string{"mode 0644", "chmod 600 KEY"}},
		{name: "key readable by group",
			setup: func(t *testing.T, dir, db, key string) (string, string) { must(t, os.Chmod(key, 0o640)); return db, "" },
			what:  "key file", path: func(_, _, key string) string { return key }, says: []string{"chmod 600 KEY"}},
		{name: "key owned by another user", root: true,
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Chown(key, otherUID, -1))
				return db, ""
			},
			what: "key file", path: func(_, _, key string) string { return key }, says: []string{"chown root KEY"}},
		{name: "database directory writable by others",
			setup: func(t *testing.T, dir, db, key string) (string, string) { must(t, os.Chmod(dir, 0o777)); return db, "" },
			what:  "database directory", path: func(dir, _, _ string) string { return dir }, says: []string{"mode 0777", "chmod o-w DIR"}},
		{name: "database in a shared sticky directory like /tmp",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Chmod(dir, 0o777|os.ModeSticky))
				return db, ""
			},
			what: "database directory", path: func(dir, _, _ string) string { return dir }, says: []string{"mode 1777", "private directory"}},
		{name: "dangling key link",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Remove(key))
				must(t, os.Symlink(filepath.Join(dir, "elsewhere"), key))
				return db, ""
			},
			what: "key file", path: func(_, _, key string) string { return key }, says: []string{"symbolic link"}},
		{name: "key link to a good key",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Rename(key, key+".real"))
				must(t, os.Symlink(key+".real", key))
				return db, ""
			},
			what: "key file", path: func(_, _, key string) string { return key }, says: []string{"symbolic link"}},
		{name: "database link",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				link := filepath.Join(dir, "link.db")
				must(t, os.Symlink(db, link))
				return link, key
			},
			what: "database", path: func(dir, _, _ string) string { return filepath.Join(dir, "link.db") }, says: []string{"symbolic link"}},
		{name: "key is a directory",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Remove(key))
				must(t, os.Mkdir(key, 0o700))
				return db, ""
			},
			what: "key file", path: func(_, _, key string) string { return key }, says: []string{"not a regular file"}},
		{name: "key is a FIFO",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.Remove(key))
				must(t, syscall.Mkfifo(key, 0o600))
				return db, ""
			},
			what: "key file", path: func(_, _, key string) string { return key }, says: []string{"not a regular file"}},
		{name: "key holds no key",
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				must(t, os.WriteFile(key, []byte("not base64\n"), 0o600))
				return db, ""
			},
			what: "key file", path: func(_, _, key string) string { return key }, says: []string{"does not hold a key"}},
		{name: "key missing for a database holding secrets",
			setup: func(t *testing.T, dir, db, key string) (string, string) { must(t, os.Remove(key)); return db, "" },
			what:  "key file", path: func(_, _, key string) string { return key }, says: []string{"does not exist", "holds secrets", "restore the key file"}},
		{name: "new key in another user's directory", root: true,
			setup: func(t *testing.T, dir, db, key string) (string, string) {
				other := filepath.Join(dir, "other")
				must(t, os.Mkdir(other, 0o755))
				must(t, os.Chown(other, otherUID, -1))
				return filepath.Join(dir, "new.db"), filepath.Join(other, "new.key")
			},
			what: "key file directory", path: func(dir, _, _ string) string { return filepath.Join(dir, "other") }, says: []string{"belongs to another user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			dir, db, key := goodStore(t)
			dbArg, keyArg := tc.setup(t, dir, db, key)
			before := snapshot(t, dir)
			_, err := store.OpenStore(context.Background(), dbArg, keyArg, store.StoreOptions{})
			var fe *store.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("OpenStore: %v (%T), want a *FileError", err, err)
			}
			want := tc.path(dir, db, key)
			if fe.What != tc.what || fe.Path != want {
				t.Fatalf("refused %s %s, want %s %s: %v", fe.What, fe.Path, tc.what, want, err)
			}
			msg := err.Error()
			for _, s := range tc.says {
				s = strings.NewReplacer("DB", db, "KEY", key, "DIR", dir).Replace(s)
				if !strings.Contains(msg, s) {
					t.Errorf("%q does not say %q", msg, s)
				}
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("a refused start changed the directory:\n%s\nnow:\n%s", before, after)
			}
		})
	}
}

// snapshot lists a directory tree's names, modes and sizes.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + fi.Mode().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestServerFilesCreatedPrivate: a fresh start creates the database and key 0600, a
// restart accepts them, and a missing key for an empty database is simply made.
func TestServerFilesCreatedPrivate(t *testing.T) {
	dir, db, key := goodStore(t)
	for _, p := range []string{db, key} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	s, err := store.OpenStore(context.Background(), db, "", store.StoreOptions{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	s.Close()

	empty := filepath.Join(dir, "empty.db")
	must(t, os.WriteFile(empty, nil, 0o600))
	s, err = store.OpenStore(context.Background(), empty, "", store.StoreOptions{})
	if err != nil {
		t.Fatalf("an empty database without a key: %v", err)
	}
	s.Close()
	if fi, err := os.Stat(empty + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new key: %v %v", fi, err)
	}
}

// TestReadyFileDirectoryChecked: the ready file (it holds the admin secret) is never
// written where another user could read or replace it; the start stops before the
// database is made.
func TestReadyFileDirectoryChecked(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	must(t, os.Mkdir(shared, 0o777|os.ModeSticky))
	must(t, os.Chmod(shared, 0o777|os.ModeSticky))
	_, err := Start(context.Background(), Config{DB: filepath.Join(dir, "t.db"), ReadyFile: filepath.Join(shared, "ready.json")})
	var fe *store.FileError
	if !errors.As(err, &fe) || fe.Path != shared {
		t.Fatalf("Start: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the database was made: %v", err)
	}
}
