// Package store keeps the server's data: SQLite (SQLiteStore) and PostgreSQL
// (PostgresStore) over one SQL core written once with a small dialect, their schemas
// and migrations, and the checks on the server's files. Both implement service.Store
// and outbox.Store; neither knows a rule.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impactcom/impactctl/server/service"
	"modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLiteStore is the Store over one SQLite database. Writes go through one
// connection: they queue in Go (cancellable by the request's context) instead of
// polling SQLite's lock. Reads use a separate pool of connections and, in WAL mode,
// never wait for the writer. Hot statements are prepared once per connection: the
// writer's all together (see writer), the readers' each when it first runs.
// Connections open when first needed: a start that only reads opens one reader.
type SQLiteStore struct {
	key     []byte  // the master key, as the key file holds it
	check   string  // its fingerprint, as the database records it
	DB      *sql.DB // the writer: one connection
	Readers *sql.DB // the readers

	rs *readStatements
	// The writer's statements, prepared by writer: at open, or with
	// StoreOptions.OneShot at the first write.
	writerMu    sync.Mutex
	writerReady atomic.Bool
	ws          *statements
	evs         *eventStatements
	addedEvents atomic.Bool // a write transaction held events

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // list queries, prepared on the readers by text
	seen   map[string]bool      // list queries run once, as text

	pages    *pageCache
	touches  *toucher
	accounts accountCache

	path    string
	oneShot bool
	// gen is the counter every process serving the database shares (see
	// generation): opened at open, or with StoreOptions.OneShot with the writer.
	gen *generation

	closeOnce sync.Once
	closeErr  error
}

var _ service.Store = (*SQLiteStore)(nil)

// StoreOptions tunes OpenStore; the zero value is production behaviour.
type StoreOptions struct {
	// Now is the clock of PostgreSQL's shared rate windows; nil means time.Now.
	Now func() time.Time
	// OneShot opens the store for one short command (impactctl --local): the
	// writer's statements are prepared at the first write instead of at open, so
	// a command that only reads never opens the writer.
	OneShot bool
}

// readers is the size of the reader pool: enough to keep every core busy while
// some readers wait on I/O.
const readers = 8

// OpenStore opens (creating if needed) the SQLite database at path, applies pending
// migrations and loads the encryption key from keyFile ("" means path + ".key", created
// 0600 when absent and the database holds no secrets yet). Unsafe files are refused
// with a *FileError before anything changes (see openFiles).
func OpenStore(ctx context.Context, path, keyFile string, opts StoreOptions) (*SQLiteStore, error) {
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
	check, err := keyCheck(master)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Connections opened from here on answer the exact-name filter's SQL.
	if err := registerNFC(); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := registerKeepWAL(); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w, err := sql.Open("sqlite", SQLiteDSN(path, "immediate", opts.OneShot))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer connection, kept open: a second write waits for it in Go.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &SQLiteStore{key: master, check: check, DB: w, stmts: map[string]*sql.Stmt{}, seen: map[string]bool{}, pages: newPageCache(),
		path: path, oneShot: opts.OneShot}
	fail := func(err error) (*SQLiteStore, error) {
		s.closeDBs()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", SQLiteDSN(path, "deferred", opts.OneShot))
	if err != nil {
		return fail(err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	s.Readers = r
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	if err := s.checkKey(ctx); err != nil {
		return fail(err)
	}
	s.rs = newReadStatements(r)
	if !opts.OneShot {
		if err := s.writer(ctx); err != nil {
			return fail(err)
		}
	}
	if s.gen == nil && !opts.OneShot {
		if s.gen, err = openGeneration(path); err != nil {
			s.closeDBs()
			return nil, err
		}
	}
	s.touches = newToucher(s.writeUses)
	return s, nil
}

// writer prepares the writer's statements once, before its first transaction (a
// statement prepared on the writer's one connection while a transaction holds it
// would wait for it for ever). A failure is tried again at the next write.
func (s *SQLiteStore) writer(ctx context.Context) error {
	if s.writerReady.Load() {
		return nil
	}
	s.writerMu.Lock()
	defer s.writerMu.Unlock()
	if s.writerReady.Load() {
		return nil
	}
	if s.oneShot && s.gen == nil {
		// A one-shot command that writes tells the servers sharing the database.
		gen, err := openGeneration(s.path)
		if err != nil {
			return err
		}
		s.gen = gen
	}
	ws, err := prepare(ctx, s.DB)
	if err != nil {
		return err
	}
	evs, err := prepareEvents(ctx, s.DB)
	if err != nil {
		ws.close()
		return err
	}
	s.ws, s.evs = ws, evs
	s.writerReady.Store(true)
	return nil
}

// Wrote tells whether the writer was used since the store was opened: always true
// unless opened OneShot.
func (s *SQLiteStore) Wrote() bool { return s.writerReady.Load() }

// WroteEvents tells whether a write since the store was opened held events.
func (s *SQLiteStore) WroteEvents() bool { return s.addedEvents.Load() }

// SQLiteDSN is the database's URI with the pragmas every connection gets: WAL, full sync
// (an acknowledged reset survives a power cut), a busy timeout for other processes
// (impactctl admin recover), foreign keys. A one-shot store's WAL is emptied to
// nothing when it is checkpointed (see keepWAL).
func SQLiteDSN(path, txlock string, oneShot bool) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(5000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	if oneShot {
		q.Add("_pragma", keepWAL)
	}
	q.Set("_txlock", txlock)
	// A file: URI with the path escaped, so names holding '?', '#' or '%' open the
	// file they name.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// keepWAL is the pragma one-shot stores' connections are opened with: such a
// connection keeps the WAL and its index (the -wal and -shm files) when the last
// one closes, checkpointed and emptied, so the next short run opens both instead of
// creating them again; creating and deleting two files a run cost more than any
// statement it ran.
const keepWAL = "journal_size_limit(0)"

var registerKeepWAL = sync.OnceValue(func() error {
	sqlite.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, name string) error {
		_, query, _ := strings.Cut(name, "?")
		q, err := url.ParseQuery(query)
		if err != nil || !slices.Contains(q["_pragma"], keepWAL) {
			return nil
		}
		fc, ok := c.(sqlite.FileControl)
		if !ok {
			return errors.New("the sqlite driver has no file control")
		}
		_, err = fc.FileControlPersistWAL("main", 1)
		return err
	})
	return nil
})

// keyCheck is the fingerprint of master the database records: the store checks the
// key file against it and never uses the key itself.
func keyCheck(master []byte) (string, error) {
	return service.KeyCheck(master), nil
}

// Key is the master key the store checked at open, for whoever opened it to build
// the service's keys (service.NewEnv) from.
func (s *SQLiteStore) Key() []byte { return s.key }

// Close writes pending uses and closes the database; closing again does nothing.
func (s *SQLiteStore) Close() error {
	s.closeOnce.Do(func() {
		if s.touches != nil {
			s.touches.stop()
		}
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *SQLiteStore) closeDBs() error {
	var errs []error
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = map[string]*sql.Stmt{}
	s.stmtMu.Unlock()
	if s.rs != nil {
		errs = append(errs, s.rs.close())
	}
	if s.ws != nil {
		errs = append(errs, s.ws.close())
	}
	errs = append(errs, s.evs.close())
	if s.Readers != nil {
		errs = append(errs, s.Readers.Close())
	}
	errs = append(errs, s.DB.Close())
	errs = append(errs, s.gen.close())
	s.gen = nil
	return errors.Join(errs...)
}

// checkKey records the key's fingerprint on first use and refuses a different key later,
// which would otherwise surface as undecryptable secrets. A database that has one is
// only read.
func (s *SQLiteStore) checkKey(ctx context.Context) error {
	const read = `SELECT value FROM meta WHERE key = 'key_check'`
	var stored string
	err := s.Readers.QueryRowContext(ctx, read).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.DB.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES('key_check', ?)`, s.check); err != nil {
			return fmt.Errorf("record key fingerprint: %w", err)
		}
		err = s.DB.QueryRowContext(ctx, read).Scan(&stored)
	}
	if err != nil {
		return fmt.Errorf("read key fingerprint: %w", err)
	}
	if stored != s.check {
		return errors.New("the key file does not match this database")
	}
	return nil
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in one write transaction on the writer, committing when it returns nil.
func (s *SQLiteStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.writer(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return runTx(ctx, s.DB, nil, fn)
}

// Changed tells every process serving the database that its tokens changed
// outside the store (SQL run on the file directly): what they kept is read again.
func (s *SQLiteStore) Changed() { s.gen.bump() }

// Generation is the counter every process serving the database shares, and whether
// there is one: none for a one-shot store (one request keeps nothing worth it) or
// where memory cannot be shared. See service.Generations.
func (s *SQLiteStore) Generation(context.Context) (uint64, bool) {
	if s.oneShot {
		return 0, false
	}
	return s.gen.load()
}

// Update runs fn in one write transaction on the writer connection. Every write of
// this process goes through that one connection, so writes are serialised (per
// account and across them) and queue in Go; ctx ending stops the wait. A change to
// an account's tokens moves the account's list generation, which tells cached list
// positions apart from stale ones. Once the transaction has ended, whatever its
// outcome, it moves the generation every process shares (see generation): no copy
// of a token read before then is used again. The store's other writes (a token's
// last use, the outbox, pruning) change nothing a copy holds, and leave it.
func (s *SQLiteStore) Update(ctx context.Context, accountID int64, fn func(tx service.Tx) error) error {
	// s.gen is read when the transaction has ended: a one-shot store opens it
	// with the writer, inside inTx.
	defer func() { s.gen.bump() }()
	return busyAsInFlight(s.inTx(ctx, func(tx *sql.Tx) error {
		stx := &sqliteTx{s: s, tx: tx}
		if err := fn(stx); err != nil {
			return err
		}
		if err := stx.writeEvents(ctx); err != nil {
			return err
		}
		if len(stx.events) > 0 {
			s.addedEvents.Store(true)
		}
		for id := range stx.changed {
			if _, err := tx.StmtContext(ctx, s.ws.bumpGeneration).ExecContext(ctx, id); err != nil {
				return fmt.Errorf("account %d generation: %w", id, err)
			}
		}
		return nil
	}))
}

// busyAsInFlight turns SQLite's "database is locked", which only another process
// holding the lock past the busy timeout causes, into a 409 the client may retry.
func busyAsInFlight(err error) error {
	var coder interface{ Code() int }
	if errors.As(err, &coder) && coder.Code()&0xff == 5 { // SQLITE_BUSY
		return service.InFlight()
	}
	return err
}

// sqliteTx is a write transaction: the writer's prepared statements bound to tx.
type sqliteTx struct {
	s       *SQLiteStore
	tx      *sql.Tx
	changed map[int64]bool   // accounts whose tokens changed
	events  []*service.Event // written when fn returns (see AddEvent)
}

var _ service.Tx = (*sqliteTx)(nil)

func (x *sqliteTx) stmt(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	return x.tx.StmtContext(ctx, st)
}

func (x *sqliteTx) touched(accountID int64) {
	if x.changed == nil {
		x.changed = map[int64]bool{}
	}
	x.changed[accountID] = true
}
