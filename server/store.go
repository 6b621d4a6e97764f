package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the server's SQLite database plus the keys that protect secrets at rest.
type Store struct {
	db   *sql.DB
	keys *keyring
	rand *randSource
	now  func() time.Time
}

// StoreOptions tunes OpenStore; the zero value is production behaviour.
type StoreOptions struct {
	// Rand is the source of SIDs and secrets; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// OpenStore opens (creating if needed) the SQLite database at path, applies pending
// migrations and loads the encryption key from keyFile ("" means path + ".key", created
// 0600 when absent and the database holds no secrets yet). Unsafe files are refused
// with a *FileError before anything changes (see openFiles).
func OpenStore(ctx context.Context, path, keyFile string, opts StoreOptions) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: no database path")
	}
	if keyFile == "" {
		keyFile = path + ".key"
	}
	master, err := openFiles(ctx, path, keyFile)
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(master)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(5000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	// Writers take the lock at BEGIN, so two writers queue on busy_timeout instead of
	// failing when a read transaction tries to upgrade.
	q.Set("_txlock", "immediate")
	// A file: URI with the path escaped, so names holding '?', '#' or '%' open the
	// file they name.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, keys: keys, rand: &randSource{r: opts.Rand}, now: opts.Now}
	if s.rand.r == nil {
		s.rand.r = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.checkKey(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// clock is the store's current time in whole seconds, the precision of every date on the wire.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// checkKey records the key's fingerprint on first use and refuses a different key later,
// which would otherwise surface as undecryptable secrets.
func (s *Store) checkKey(ctx context.Context) error {
	var stored string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES('key_check', ?)`, s.keys.check); err != nil {
			return fmt.Errorf("record key fingerprint: %w", err)
		}
		return s.checkKey(ctx)
	}
	if err != nil {
		return fmt.Errorf("read key fingerprint: %w", err)
	}
	if stored != s.keys.check {
		return errors.New("the key file does not match this database")
	}
	return nil
}

// querier is what both *sql.DB and *sql.Tx offer; store reads take either.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one write transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
