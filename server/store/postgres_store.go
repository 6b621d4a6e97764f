package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresStore keeps accounts, tokens and idempotency records in PostgreSQL, for
// servers that share one database. It caches nothing a request decides on: every
// authentication reads the token's row, so a revocation through one replica is refused
// by every other on the next request.
//
// Writes run at READ COMMITTED and begin by locking the addressed account's row, so
// the writes to one account queue in PostgreSQL across every replica, and each
// statement after the lock sees what the previous holder committed. A deadlock or
// serialization failure runs the whole transaction again.
type PostgresStore struct {
	DB       *sql.DB
	key      []byte           // the master key, as the key file holds it
	now      func() time.Time // the rate windows' clock
	pages    *pageCache       // list positions, each valid for one generation of its account
	accounts accountCache

	// Uses are written off the request path, so recording one never makes a
	// request wait on a row lock; this process's reads see them at once.
	touches *toucher
	// gens reads the generation every replica shares (see Generation).
	gens *genReader

	closeOnce sync.Once
	closeErr  error
}

// OpenPostgresStore connects to the PostgreSQL database dsn names, applies pending
// migrations and checks the key from keyFile against the fingerprint the database
// records, all under an advisory lock so replicas may start together. keyFile is
// required: every replica needs the same key. A missing key file is created (0600)
// only for a database that holds no secrets yet.
func OpenPostgresStore(ctx context.Context, dsn, keyFile string, opts StoreOptions) (*PostgresStore, error) {
	if keyFile == "" {
		return nil, errors.New("open store: a PostgreSQL database needs --key-file (or IMPACTCTL_KEY_FILE): every server on one database uses the same key")
	}
	db, err := OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	fail := func(err error) (*PostgresStore, error) {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", RedactDSN(dsn), err)
	}
	// The key file gets the same checks as beside a SQLite database; a missing one
	// is created only for a database that records no key yet.
	mayCreate := func() error {
		has, err := pgHasKeyCheck(ctx, db)
		if err != nil {
			return err
		}
		if has {
			return &FileError{What: "key file", Path: keyFile,
				Problem: "does not exist, but this database holds secrets sealed with a key",
				Fix:     "copy the key file the other servers on this database use"}
		}
		return nil
	}
	_, statErr := os.Lstat(keyFile)
	master, err := loadKey(keyFile, mayCreate)
	if _, nowErr := os.Lstat(keyFile); err != nil && statErr != nil && nowErr == nil {
		// Another server on this machine created it first (replicas starting
		// together): read that one, through the same checks.
		master, err = loadKey(keyFile, mayCreate)
	}
	if err != nil {
		return fail(err)
	}
	check, err := keyCheck(master)
	if err != nil {
		return fail(err)
	}
	if err := PostgresMigrate(ctx, db, check, nil); err != nil {
		return fail(err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &PostgresStore{DB: db, key: master, now: now, pages: newPageCache()}
	s.gens = &genReader{read: s.readGeneration}
	s.touches = newToucher(s.writeUses)
	s.Changed()
	return s, nil
}

// Key is the master key the store checked at open, for whoever opened it to build
// the service's keys (service.NewEnv) from.
func (s *PostgresStore) Key() []byte { return s.key }

// Counter keeps scope's fixed windows in the database, shared by every replica: token
// budgets in leases of a few units (pgLeases), failed authentications one by one.
func (s *PostgresStore) Counter(scope string, rate ratelimit.Rate) ratelimit.Counter {
	if scope == ratelimit.ScopeTokenBudget {
		return ratelimit.NewPGLeases(s.DB, rate, s.now)
	}
	return ratelimit.NewPGWindows(s.DB, scope, rate, s.now)
}

// DatabaseClock marks the store's clock as PostgreSQL's now() (see service.DatabaseClock).
func (s *PostgresStore) DatabaseClock() {}

var _ service.DatabaseClock = (*PostgresStore)(nil)

// Close writes pending touches and closes the connection pool; closing again does nothing.
func (s *PostgresStore) Close() error {
	s.closeOnce.Do(func() {
		s.touches.stop()
		s.closeErr = s.DB.Close()
	})
	return s.closeErr
}

// Rows are read with the SQLite store's column lists and scanners (tokenSelect,
// scanToken, accountColumns, scanAccount): the SQL is the same on both, except that
// a token row carries PostgreSQL's now(), the clock every replica decides expiry by.
var pgTokenSelect = strings.Replace(tokenSelect, storeNowSQLite, `floor(extract(epoch from now()))::bigint AS store_now`, 1)

// pgQuerier is what *sql.DB and *sql.Tx share.
type pgQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TokenBySID finds any token by SID (authentication), at the same cost whether or
// not it exists: an unknown SID still reads a row (the first token's), told apart
// only after, so response times do not reveal which SIDs exist.
// Like TokenBySIDWith, it runs on pgx's own connection.
func (s *PostgresStore) TokenBySID(ctx context.Context, sid string) (*service.Token, error) {
	var t *service.Token
	err := s.native(ctx, func(c *pgx.Conn) error {
		var err error
		t, err = scanToken(c.QueryRow(ctx, pgTokenBySID, sid))
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.SID != sid {
		return nil, service.ErrNotFound
	}
	return s.overlay(t, nil)
}

// pgTokenBySID is TokenBySID's statement: the token $1 or, when there is none, the
// stand-in.
var pgTokenBySID = pgTokenSelect + ` WHERE t.sid IN ($1, (SELECT min(sid) FROM tokens)) ORDER BY t.sid = $1 DESC LIMIT 1`

// pgTokenBySIDWith is TokenBySIDWith's statement: the token sid ($1) or the
// stand-in, and the token $2.
var pgTokenBySIDWith = pgTokenSelect + ` WHERE t.sid IN ((SELECT coalesce(hit.sid, low.sid)
	FROM (SELECT min(sid) AS sid FROM tokens) low LEFT JOIN tokens hit ON hit.sid = $1), $2)`

// TokenBySIDWith is TokenBySID and token also, read in one statement: one round trip.
// It runs on pgx's own connection (see native): every request makes this read.
func (s *PostgresStore) TokenBySIDWith(ctx context.Context, sid, also string) (*service.Token, *service.Token, error) {
	var t, other *service.Token
	err := s.native(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, pgTokenBySIDWith, sid, also)
		if err != nil {
			return fmt.Errorf("read token: %w", err)
		}
		defer rows.Close()
		t, other, err = scanAuthRows(rows, sid, also)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	s.touches.overlay(t)
	if other != nil && other != t {
		s.touches.overlay(other)
	}
	return t, other, nil
}

// native runs fn on one connection of the pool as pgx's own connection: rows are
// scanned straight into their fields, without database/sql's copy of every value
// (a third of the read's allocations). The pool, its limit and the statement cache
// are the same.
func (s *PostgresStore) native(ctx context.Context, fn func(c *pgx.Conn) error) error {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read token: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

func (s *PostgresStore) Token(ctx context.Context, accountID int64, sid string) (*service.Token, error) {
	return s.overlay(pgToken(ctx, s.DB, accountID, sid))
}

func pgToken(ctx context.Context, q pgQuerier, accountID int64, sid string) (*service.Token, error) {
	return scanToken(q.QueryRowContext(ctx, pgTokenSelect+` WHERE t.account_id = $1 AND t.sid = $2`, accountID, sid))
}

// overlay gives a token read the use this process recorded but has not written yet.
func (s *PostgresStore) overlay(t *service.Token, err error) (*service.Token, error) {
	if err != nil {
		return nil, err
	}
	s.touches.overlay(t)
	return t, nil
}

// Tokens reads the total and the page in one REPEATABLE READ transaction: one
// snapshot, so the total always agrees with the page (see tokenLister).
func (s *PostgresStore) Tokens(ctx context.Context, accountID int64, f service.TokenFilter, p service.Page) ([]service.Token, int, error) {
	var out []service.Token
	var total int
	l := tokenLister{d: postgresDialect, pages: s.pages, touches: s.touches}
	err := PostgresInTx(ctx, s.DB, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx *sql.Tx) error {
		var err error
		out, total, err = l.list(ctx, sqlReader{tx: tx}, accountID, f, p)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// Account reads an account once per process: accounts never change once made (no
// request edits one), so keeping them cannot delay anything a request decides.
func (s *PostgresStore) Account(ctx context.Context, id int64) (*service.Account, error) {
	return s.accounts.get(id, func() (*service.Account, error) {
		return scanAccount(s.DB.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	})
}

func (s *PostgresStore) AccountByPublicID(ctx context.Context, publicID string) (*service.Account, error) {
	return scanAccount(s.DB.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE public_id = $1`, publicID))
}

func (s *PostgresStore) ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*service.Account, error) {
	return scanAccount(s.DB.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE kind = 'brand' AND parent_id = $1 AND public_id = $2`, agencyID, publicID))
}

// Brands lists an agency's brands by Id (shorter Ids first: numeric order).
func (s *PostgresStore) Brands(ctx context.Context, agencyID int64, p service.Page) (out []service.Account, total int, err error) {
	err = PostgresInTx(ctx, s.DB, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx *sql.Tx) error {
		out, total, err = listBrands(ctx, postgresDialect, tx, agencyID, p)
		return err
	})
	return out, total, err
}

// Users lists an account's users by Id (shorter Ids first).
func (s *PostgresStore) Users(ctx context.Context, accountID int64, p service.Page) (out []service.User, total int, err error) {
	err = PostgresInTx(ctx, s.DB, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx *sql.Tx) error {
		out, total, err = listUsers(ctx, postgresDialect, tx, accountID, p)
		return err
	})
	return out, total, err
}

func (s *PostgresStore) Idempotency(ctx context.Context, k *service.IdemKey, now int64) (*service.IdemRecord, error) {
	return pgIdempotency(ctx, s.DB, k, now)
}

func pgIdempotency(ctx context.Context, q pgQuerier, k *service.IdemKey, now int64) (*service.IdemRecord, error) {
	return scanIdem(q.QueryRowContext(ctx, `SELECT body_hash, status, headers, body_enc, resets, date_created, expires
		FROM idempotency WHERE caller_sid = $1 AND method = $2 AND path = $3 AND key = $4 AND expires > $5`,
		k.Caller, k.Method, k.Path, k.Key, now))
}

func (s *PostgresStore) DemoRoles(ctx context.Context) (map[string]string, error) {
	return readDemoRoles(ctx, s.DB)
}

func (s *PostgresStore) Seeded(ctx context.Context) (string, error) { return readSeeded(ctx, s.DB) }

// Touch records that token sid was used at the Unix time at; it never waits on the
// database.
func (s *PostgresStore) Touch(sid string, at int64) { s.touches.add(sid, at) }

// writeUses writes a batch of uses, each in its own statement holding one row lock
// at a time, so it can never deadlock with a write transaction. A use only moves
// forward.
func (s *PostgresStore) writeUses(batch map[string]int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for key, at := range batch {
		sid, q := touchTarget(key, `UPDATE tokens SET date_last_used = $1
			WHERE sid = $2 AND (date_last_used IS NULL OR date_last_used < $1)`,
			`UPDATE tokens SET overlap_last_used = $1 WHERE sid = $2 AND overlap_secret_mac IS NOT NULL
			AND date_auth_token_reset <= $1 AND (overlap_last_used IS NULL OR overlap_last_used < $1)`)
		_, err := s.DB.ExecContext(ctx, q, at, sid)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Update runs fn in one READ COMMITTED transaction that first locks account
// accountID's row (accountID 0: the accounts table, against every account). A
// transaction PostgreSQL aborts as a deadlock or serialization failure runs again.
func (s *PostgresStore) Update(ctx context.Context, accountID int64, fn func(tx service.Tx) error) error {
	return s.update(ctx, accountID, false, fn)
}

// errAccountBusy: UpdateUnlessBusy found the account's row locked.
var errAccountBusy = errors.New("account busy")

// UpdateUnlessBusy is Update that takes the account's lock with SKIP LOCKED: when
// another transaction holds it (a request's write, another replica's look), fn does
// not run and the answer is false. The server's own background writes use it, so
// replicas never queue behind each other or behind requests.
func (s *PostgresStore) UpdateUnlessBusy(ctx context.Context, accountID int64, fn func(tx service.Tx) error) (bool, error) {
	err := s.update(ctx, accountID, true, fn)
	if errors.Is(err, errAccountBusy) {
		return false, nil
	}
	return err == nil, err
}

// update runs fn in one write transaction holding accountID's lock, then moves
// the generation every replica shares (see Changed), whatever the outcome.
func (s *PostgresStore) update(ctx context.Context, accountID int64, skipLocked bool, fn func(tx service.Tx) error) error {
	defer s.Changed()
	lock := `FOR NO KEY UPDATE`
	if skipLocked {
		lock += ` SKIP LOCKED`
	}
	return PostgresInTx(ctx, s.DB, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		var now sql.NullInt64
		if accountID == 0 {
			// EXCLUSIVE conflicts with the row locks below but not with reads.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE accounts IN EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("lock accounts: %w", err)
			}
		} else {
			var id int64
			// NO KEY UPDATE: queues writers to this account without blocking the
			// key-share locks of foreign-key checks. now() comes along: the clock
			// the change decides expiry by, the same on every replica.
			err := tx.QueryRowContext(ctx, `SELECT id, floor(extract(epoch from now()))::bigint FROM accounts
				WHERE id = $1 `+lock, accountID).Scan(&id, &now)
			if errors.Is(err, sql.ErrNoRows) && skipLocked {
				return errAccountBusy // locked, or gone: either way nothing to do now
			}
			if errors.Is(err, sql.ErrNoRows) {
				return service.ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("lock account: %w", err)
			}
		}
		ptx := &pgTx{s: s, tx: tx, changed: map[int64]bool{}, now: now}
		if err := fn(ptx); err != nil {
			return err
		}
		if err := ptx.flush(ctx); err != nil {
			return err
		}
		return ptx.finish(ctx)
	})
}

// pgTx is a write transaction of a PostgresStore.
type pgTx struct {
	s       *PostgresStore
	tx      *sql.Tx
	changed map[int64]bool   // accounts whose tokens changed
	pending pendingWrites    // token writes not sent yet (see UpdateToken)
	events  []*service.Event // events not written yet (see AddEvent)
	now     sql.NullInt64    // PostgreSQL's now() as the account was locked
}

// StoreNow is PostgreSQL's clock for this transaction, when it read it.
func (t *pgTx) StoreNow() (int64, bool) { return t.now.Int64, t.now.Valid }

func (t *pgTx) Token(ctx context.Context, accountID int64, sid string) (*service.Token, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.s.overlay(pgToken(ctx, t.tx, accountID, sid))
}

// Tokens reads the tokens of sids that account accountID holds: one round trip.
func (t *pgTx) Tokens(ctx context.Context, accountID int64, sids []string) ([]*service.Token, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, pgTokenSelect+` WHERE t.account_id = $1 AND t.sid = ANY($2)`, accountID, sids)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	return scanTokens(rows, t.s.touches)
}

// ScopeHolders counts the tokens of account accountID holding each scope, after
// the pending writes (the triggers count them as they are sent).
func (t *pgTx) ScopeHolders(ctx context.Context, accountID int64) (map[string]int, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT scope, holders FROM scope_holders WHERE account_id = $1 AND holders > 0`, accountID)
	if err != nil {
		return nil, fmt.Errorf("scope holders: %w", err)
	}
	return scanScopeHolders(rows)
}

// ManagerCandidate finds an enabled token of account accountID holding
// apitokens.write and n scopes, none of skip, through the index tokens_managers.
// The caller skips every token it has changed in this transaction, so the writes
// still pending cannot change the answer and are not sent for it.
func (t *pgTx) ManagerCandidate(ctx context.Context, accountID int64, n int, skip []string, at int64) (string, error) {
	if skip == nil {
		skip = []string{} // <> ALL(NULL) holds for no row
	}
	var sid string
	err := t.tx.QueryRowContext(ctx, `SELECT sid FROM tokens WHERE account_id = $1
		AND json_array_length(scopes::json) = $2 AND state = 'ENABLED' AND strpos(scopes, '"apitokens.write"') > 0
		AND sid <> ALL($3) AND (CASE WHEN $4::bigint = 0 THEN expires_at IS NULL ELSE expires_at IS NULL OR expires_at > $4 END)
		LIMIT 1`, accountID, n, skip, at).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("managers: %w", err)
	}
	return sid, nil
}

func (t *pgTx) User(ctx context.Context, accountID int64, id string) (*service.User, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var u service.User
	err := t.tx.QueryRowContext(ctx, `SELECT id, account_id, name, email FROM users WHERE account_id = $1 AND id = $2`,
		accountID, id).Scan(&u.ID, &u.AccountID, &u.Name, &u.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, service.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	return &u, nil
}

func (t *pgTx) Idempotency(ctx context.Context, k *service.IdemKey, now int64) (*service.IdemRecord, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return pgIdempotency(ctx, t.tx, k, now)
}

func (t *pgTx) InsertToken(ctx context.Context, tok *service.Token) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	emails, scopes, err := marshalLists(tok)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO tokens (sid, account_id, name, description, state, api_version,
		primary_contact_id, developer_emails, scopes, secret_enc, secret_mac, secret_hint, reset_count, version,
		date_created, date_updated, date_last_used, date_auth_token_reset, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		tok.SID, tok.AccountID, tok.Name, tok.Description, tok.State, tok.APIVersion, bindOpt(tok.ContactID), emails, scopes,
		tok.SecretEnc, tok.SecretMAC, tok.Hint, tok.ResetCount, tok.Version, tok.Created, tok.Updated, bindOpt(tok.LastUsed),
		tok.AuthReset, bindOpt(tok.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	t.changed[tok.AccountID] = true
	return nil
}

// UpdateToken writes tok when the transaction next reads or ends: the writes of a
// bulk call go in one statement, not one round trip each.
func (t *pgTx) UpdateToken(ctx context.Context, tok *service.Token) error {
	emails, scopes, err := marshalLists(tok)
	if err != nil {
		return err
	}
	t.pending.add(tok, emails, scopes)
	t.changed[tok.AccountID] = true
	return nil
}

// pendingWrites are token rows UpdateToken wrote and flush has not sent yet, one
// column array each, as unnest reads them; a second write of a SID replaces its row.
type pendingWrites struct {
	at                                          map[string]int
	sid, name, description, state, hint, emails []string
	scopes                                      []string
	apiVersion                                  []int32
	contact, prevKey, prevPath                  []*string
	enc, mac, prevMAC                           [][]byte
	resetCount, version, updated, authReset     []int64
	prevExpires                                 []*int64
	overlapEnc, overlapMAC                      [][]byte
	// expires_at, the three notice marks, overlap_expires, overlap_last_used
	expires, warned14d, warned1d, expiredNoted, overlapExpires, overlapUsed []*int64
}

func (p *pendingWrites) add(tok *service.Token, emails, scopes string) {
	if i, ok := p.at[tok.SID]; ok {
		p.set(i, tok, emails, scopes)
		return
	}
	if p.at == nil {
		p.at = map[string]int{}
	}
	p.at[tok.SID] = len(p.sid)
	p.sid = append(p.sid, tok.SID)
	p.name, p.description, p.state, p.hint = append(p.name, ""), append(p.description, ""), append(p.state, ""), append(p.hint, "")
	p.emails, p.scopes, p.apiVersion = append(p.emails, ""), append(p.scopes, ""), append(p.apiVersion, 0)
	p.contact, p.prevKey, p.prevPath = append(p.contact, nil), append(p.prevKey, nil), append(p.prevPath, nil)
	p.enc, p.mac, p.prevMAC = append(p.enc, nil), append(p.mac, nil), append(p.prevMAC, nil)
	p.resetCount, p.version, p.updated, p.authReset = append(p.resetCount, 0), append(p.version, 0), append(p.updated, 0), append(p.authReset, 0)
	p.prevExpires = append(p.prevExpires, nil)
	p.overlapEnc, p.overlapMAC = append(p.overlapEnc, nil), append(p.overlapMAC, nil)
	p.expires, p.warned14d, p.warned1d = append(p.expires, nil), append(p.warned14d, nil), append(p.warned1d, nil)
	p.expiredNoted, p.overlapExpires, p.overlapUsed = append(p.expiredNoted, nil), append(p.overlapExpires, nil), append(p.overlapUsed, nil)
	p.set(len(p.sid)-1, tok, emails, scopes)
}

func (p *pendingWrites) set(i int, tok *service.Token, emails, scopes string) {
	p.name[i], p.description[i], p.state[i], p.hint[i] = tok.Name, tok.Description, tok.State, tok.Hint
	p.emails[i], p.scopes[i], p.apiVersion[i] = emails, scopes, int32(tok.APIVersion)
	p.contact[i], p.prevKey[i], p.prevPath[i] = tok.ContactID.Ptr(), tok.PrevResetKey.Ptr(), tok.PrevResetPath.Ptr()
	p.enc[i], p.mac[i], p.prevMAC[i] = tok.SecretEnc, tok.SecretMAC, tok.PrevMAC
	p.resetCount[i], p.version[i], p.updated[i], p.authReset[i] = tok.ResetCount, tok.Version, tok.Updated, tok.AuthReset
	p.prevExpires[i] = tok.PrevExpires.Ptr()
	p.overlapEnc[i], p.overlapMAC[i] = tok.OverlapEnc, tok.OverlapMAC
	p.expires[i], p.warned14d[i], p.warned1d[i] = tok.ExpiresAt.Ptr(), tok.Warned14d.Ptr(), tok.Warned1d.Ptr()
	p.expiredNoted[i], p.overlapExpires[i], p.overlapUsed[i] = tok.ExpiredNoted.Ptr(), tok.OverlapExpires.Ptr(), tok.OverlapLastUsed.Ptr()
}

// flush sends the pending token writes in one statement.
func (t *pgTx) flush(ctx context.Context) error {
	p := &t.pending
	if len(p.sid) == 0 {
		return nil
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE tokens t SET name = v.name, description = v.description,
		state = v.state, api_version = v.api_version, primary_contact_id = v.contact, developer_emails = v.emails,
		scopes = v.scopes, secret_enc = v.enc, secret_mac = v.mac, secret_hint = v.hint, reset_count = v.reset_count,
		version = v.version, date_updated = v.updated, date_auth_token_reset = v.auth_reset,
		prev_secret_mac = v.prev_mac, prev_expires = v.prev_expires, prev_reset_key = v.prev_key,
		prev_reset_path = v.prev_path, expires_at = v.expires, expiry_warned_14d_at = v.warned14d,
		expiry_warned_1d_at = v.warned1d, expired_noted_at = v.expired_noted, overlap_secret_enc = v.overlap_enc,
		overlap_secret_mac = v.overlap_mac, overlap_expires = v.overlap_expires, overlap_last_used = v.overlap_used
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[],
			$8::text[], $9::bytea[], $10::bytea[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[],
			$15::bigint[], $16::bytea[], $17::bigint[], $18::text[], $19::text[], $20::bigint[], $21::bigint[],
			$22::bigint[], $23::bigint[], $24::bytea[], $25::bytea[], $26::bigint[], $27::bigint[])
		AS v(sid, name, description, state, api_version, contact, emails, scopes, enc, mac, hint, reset_count,
			version, updated, auth_reset, prev_mac, prev_expires, prev_key, prev_path, expires, warned14d,
			warned1d, expired_noted, overlap_enc, overlap_mac, overlap_expires, overlap_used)
		WHERE t.sid = v.sid`,
		p.sid, p.name, p.description, p.state, p.apiVersion, p.contact, p.emails, p.scopes, p.enc, p.mac, p.hint,
		p.resetCount, p.version, p.updated, p.authReset, p.prevMAC, p.prevExpires, p.prevKey, p.prevPath,
		p.expires, p.warned14d, p.warned1d, p.expiredNoted, p.overlapEnc, p.overlapMAC, p.overlapExpires, p.overlapUsed)
	if err != nil {
		return fmt.Errorf("update tokens %s: %w", strings.Join(p.sid, ", "), err)
	}
	*p = pendingWrites{}
	return nil
}

func (t *pgTx) DeleteToken(ctx context.Context, sid string) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	var accountID int64
	err := t.tx.QueryRowContext(ctx, `DELETE FROM tokens WHERE sid = $1 RETURNING account_id`, sid).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete token %s: %w", sid, err)
	}
	t.changed[accountID] = true
	return nil
}

// SaveIdempotency stores rec. The caller looked the key up in this transaction under
// the account's lock, so a live record under k cannot exist; an expired one is replaced.
func (t *pgTx) SaveIdempotency(ctx context.Context, k *service.IdemKey, rec *service.IdemRecord) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM idempotency WHERE expires <= $1`, rec.Created); err != nil {
		return fmt.Errorf("expire idempotency records: %w", err)
	}
	row, err := idemRow(k, rec)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO idempotency (caller_sid, method, path, key, body_hash, status,
		headers, body_enc, resets, date_created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		row...)
	if err != nil {
		return fmt.Errorf("store idempotency record: %w", err)
	}
	return nil
}

func (t *pgTx) HasAccounts(ctx context.Context) (bool, error) {
	if err := t.flush(ctx); err != nil {
		return false, err
	}
	var exists bool
	if err := t.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts)`).Scan(&exists); err != nil {
		return false, fmt.Errorf("count accounts: %w", err)
	}
	return exists, nil
}

func (t *pgTx) InsertAccount(ctx context.Context, a *service.Account) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	var id int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, parent_id, public_id, name, state, website,
		phone, phone_country, currency, timezone, organization_type, address_line1, address_line2, city, region,
		postal_code, country, date_created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		a.Kind, bindOpt(a.ParentID), a.PublicID, a.Name, a.State, a.Website, a.Phone, a.PhoneCountry, a.Currency,
		a.Timezone, a.OrgType, a.Address1, a.Address2, a.City, a.Region, a.PostalCode, a.Country, a.Created).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("account %s: %w", a.Name, err)
	}
	return id, nil
}

func (t *pgTx) InsertUser(ctx context.Context, u *service.User) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO users (id, account_id, name, email) VALUES ($1, $2, $3, $4)`,
		u.ID, u.AccountID, u.Name, u.Email); err != nil {
		return fmt.Errorf("user %s: %w", u.ID, err)
	}
	return nil
}

func (t *pgTx) SetDemoRole(ctx context.Context, role, sid string) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO demo_roles (role, sid) VALUES ($1, $2)
		ON CONFLICT (role) DO UPDATE SET sid = excluded.sid`, role, sid); err != nil {
		return fmt.Errorf("role %s: %w", role, err)
	}
	return nil
}

func (t *pgTx) SetSeeded(ctx context.Context, kind string) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('seed', $1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, kind); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

var (
	_ service.Store = (*PostgresStore)(nil)
	_ service.Tx    = (*pgTx)(nil)
)

// The optional methods the service and the server look for by interface: a rename
// here must fail the build, not quietly turn the feature off.
var (
	_ interface {
		UpdateUnlessBusy(ctx context.Context, accountID int64, fn func(tx service.Tx) error) (bool, error)
	} = (*PostgresStore)(nil)
	_ interface{ StoreNow() (int64, bool) } = (*pgTx)(nil)
	_ interface{ WroteEvents() bool }       = (*SQLiteStore)(nil)
	_ interface {
		UpdateState(ctx context.Context, t *service.Token) error
	} = (*sqliteTx)(nil)
)
