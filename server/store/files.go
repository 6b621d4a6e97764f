package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/impactcom/impactctl/internal/safefile"
)

// FileError is a server file that is unsafe to use or cannot be used; the server
// refuses to start over it, before anything changes. Its message names the file and
// what to do about it.
type FileError struct {
	What    string // "database", "key file", "database directory", …
	Path    string
	Problem string // e.g. "is writable by group or others (mode 0666)"
	Fix     string // e.g. "run `chmod 600 /srv/tokens.db`"; "" when there is none to give
}

func (e *FileError) Error() string {
	msg := e.What + " " + e.Path + " " + e.Problem
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// ExitCode is the CLI's exit code for an unsafe file: 2, the user's to fix.
func (e *FileError) ExitCode() int { return 2 }

// checkFile checks an open file: a regular file owned by this user, not writable by
// group or others, and, when private, not readable by them either.
func checkFile(f *os.File, path, what string, private bool) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	u := safefile.Check(fi, safefile.Rule{Type: safefile.Regular, Owners: safefile.Mine, Private: private, NoWrite: 0o022})
	if u == nil {
		return nil
	}
	fe := &FileError{What: what, Path: path}
	switch perm := u.Mode.Perm(); u.Problem {
	case safefile.WrongType:
		fe.Problem, fe.Fix = "is not a regular file", "point the flag at a file"
	case safefile.OtherOwner:
		fe.Problem = "is owned by another user (" + safefile.UserName(u.UID) + ")"
		fe.Fix = "make sure it is yours to use, then run `chown " + safefile.UserName(safefile.Me()) + " " + shellQuote(path) + "`"
	case safefile.OpenToOthers:
		fe.Problem, fe.Fix = fmt.Sprintf("is open to group or others (mode %04o)", perm), "run `chmod 600 "+shellQuote(path)+"`"
	default:
		fe.Problem, fe.Fix = fmt.Sprintf("is writable by group or others (mode %04o)", perm), "run `chmod go-w "+shellQuote(path)+"`"
	}
	return fe
}

// CheckDir refuses a directory others may write to, sticky (shared, like /tmp) or
// not; to create a file in it, the directory must also be this user's (or root's).
// Without Unix modes there is nothing to check.
func CheckDir(dir, what string, creating bool) error {
	if !safefile.Modes {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	mode := fi.Mode()
	if safefile.Check(fi, safefile.Rule{NoWrite: 0o002}) != nil {
		if mode&fs.ModeSticky != 0 {
			return &FileError{What: what, Path: dir, Problem: fmt.Sprintf("is shared with other users (mode %s)", modeString(mode)),
				Fix: "keep the server's files in a private directory, e.g. `mkdir -m 700 ~/impactctl`"}
		}
		return &FileError{What: what, Path: dir, Problem: fmt.Sprintf("is writable by others (mode %s)", modeString(mode)),
			Fix: "run `chmod o-w " + shellQuote(dir) + "`"}
	}
	if u := safefile.Check(fi, safefile.Rule{Owners: safefile.MineOrRoot}); creating && u != nil {
		return &FileError{What: what, Path: dir, Problem: "belongs to another user (" + safefile.UserName(u.UID) + ")",
			Fix: "keep the server's files in a directory of your own"}
	}
	return nil
}

// modeString is a mode's permission bits in octal, with the sticky bit.
func modeString(m fs.FileMode) string {
	n := m.Perm()
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", uint32(n))
}

// openFiles runs the file checks of a start over the SQLite database at dbPath and
// returns the master key from keyFile. Unix: the database's directory must not be
// writable by others; the database, its -wal, -shm and -gen, when present, must be regular
// files owned by this user and not writable by group or others; the key file must
// also not be readable by them. Files are opened without following links and checked
// on the open descriptor. A missing database is created 0600 with O_EXCL. A missing
// key file is created the same way, in a directory this user owns, unless the
// database already holds secrets: those need the key they were sealed with.
func openFiles(ctx context.Context, dbPath, keyFile string) ([]byte, error) {
	dir := filepath.Dir(dbPath)
	if err := CheckDir(dir, "database directory", false); err != nil {
		return nil, err
	}
	f, err := safefile.OpenNoFollow(dbPath, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// A new database: the key first, so a refused key leaves no database behind.
		if err := CheckDir(dir, "database directory", true); err != nil {
			return nil, err
		}
		key, err := loadKey(keyFile, func() error { return nil })
		if err != nil {
			return nil, err
		}
		f, err := safefile.OpenNoFollow(dbPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, openError("database", dbPath, err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, openError("database", dbPath, err)
	}
	defer f.Close()
	if err := checkFile(f, dbPath, "database", false); err != nil {
		return nil, err
	}
	for _, suffix := range []string{"-wal", "-shm", genSuffix} {
		if err := checkExisting(dbPath+suffix, "database file", false); err != nil {
			return nil, err
		}
	}
	return loadKey(keyFile, func() error {
		holds, err := holdsSecrets(ctx, dbPath)
		if err != nil {
			return fmt.Errorf("database %s: %w", dbPath, err)
		}
		if holds {
			return &FileError{What: "key file", Path: keyFile,
				Problem: "does not exist, but database " + dbPath + " holds secrets sealed with its key",
				Fix:     "restore the key file, or pass --key-file with its path (a new key could not open them)"}
		}
		return nil
	})
}

// checkExisting checks a file the server uses when it exists (SQLite's -wal and -shm).
func checkExisting(path, what string, private bool) error {
	f, err := safefile.OpenNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return openError(what, path, err)
	}
	defer f.Close()
	return checkFile(f, path, what, private)
}

// loadKey reads the 32-byte master key, base64 on one line, from path. When the file
// does not exist, mayCreate decides: nil creates a new key (crypto/rand, 0600, O_EXCL,
// in a directory this user owns); an error is returned as it is.
func loadKey(path string, mayCreate func() error) ([]byte, error) {
	f, err := safefile.OpenNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if err := mayCreate(); err != nil {
			return nil, err
		}
		return createKey(path)
	}
	if err != nil {
		return nil, openError("key file", path, err)
	}
	defer f.Close()
	if err := checkFile(f, path, "key file", true); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(key) != 32 {
		return nil, &FileError{What: "key file", Path: path, Problem: "does not hold a key (32 bytes in base64 on one line)"}
	}
	return key, nil
}

// createKey makes a new key at path. The key is written whole under another name
// and then linked into place, so a server starting beside this one (replicas
// sharing a key file) finds no key file or a whole one, never a part of one. Where
// the file system has no hard links, the key is written in place (O_EXCL).
func createKey(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := CheckDir(dir, "key file directory", true); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	line := base64.StdEncoding.EncodeToString(key) + "\n"
	tmp, err := os.CreateTemp(dir, ".impactctl-key-*") // 0600, O_EXCL: never through a link
	if err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSynced(tmp, line); err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	err = os.Link(tmp.Name(), path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrNotExist) {
		// No hard links here: write the key in place.
		return createKeyInPlace(path, line, key)
	}
	// Something appeared at path since it was found missing (a dangling link, or
	// another server creating the key): never write through it; a restart reads a
	// key another server made.
	return nil, openError("key file", path, err)
}

// createKeyInPlace writes line, the key's file contents, to a new file at path.
func createKeyInPlace(path, line string, key []byte) ([]byte, error) {
	f, err := safefile.OpenNoFollow(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, openError("key file", path, err)
	}
	if err := writeSynced(f, line); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	return key, nil
}

// writeSynced writes s to f, flushes it to disk and closes f.
func writeSynced(f *os.File, s string) error {
	_, werr := f.WriteString(s)
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(werr, serr, cerr)
}

// openError explains why a file could not be opened: a symbolic link (never
// followed), a missing permission, or what the system said.
func openError(what, path string, err error) error {
	if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &FileError{What: what, Path: path, Problem: "is a symbolic link, which the server does not follow",
			Fix: "point the flag at the file itself"}
	}
	if errors.Is(err, fs.ErrExist) {
		return &FileError{What: what, Path: path, Problem: "appeared while the server was creating it", Fix: "check who else writes there, then start again"}
	}
	if errors.Is(err, fs.ErrPermission) {
		return &FileError{What: what, Path: path, Problem: "cannot be opened: permission denied",
			Fix: "run the server as the user who owns it"}
	}
	return fmt.Errorf("open %s %s: %w", what, path, err)
}

// holdsSecrets reports whether the SQLite database at path has tokens, or the
// fingerprint of the key that sealed them. It reads without side effects (no -wal or
// -shm made); a write-ahead log that is not empty means the database is in use, which
// counts as holding secrets.
func holdsSecrets(ctx context.Context, path string) (bool, error) {
	if fi, err := os.Lstat(path + "-wal"); err == nil && fi.Size() > 0 {
		return true, nil
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return false, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'tokens')`)
	if err != nil {
		return false, err
	}
	tables := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return false, err
		}
		tables[name] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, err
	}
	var n int
	for table, query := range map[string]string{
		"meta":   `SELECT count(*) FROM meta WHERE key = 'key_check'`,
		"tokens": `SELECT count(*) FROM tokens`,
	} {
		if !tables[table] {
			continue
		}
		var c int
		if err := db.QueryRowContext(ctx, query).Scan(&c); err != nil {
			return false, err
		}
		n += c
	}
	return n > 0, nil
}

// shellQuote quotes a path for a command the user is told to run.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+=:@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
