package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/impactcom/impactctl/server/service"
)

// statements are the hot statements, prepared once on the writer: SQLite parses a
// statement run from a string every time, which was most of the server's work.
type statements struct {
	tokenBySID, tokenBySIDWith, tokenOf, account, accountByPublic, managedBrand, userOf, idemLookup *sql.Stmt

	// The writer's.
	tokensOf, insertToken, updateToken, updateState, deleteToken, scopeHolders, managerCandidate, idemSave, idemExpire, bumpGeneration, touch, touchPrevious *sql.Stmt
}

// storeNowSQLite is the store-clock column of tokenSelect: none on SQLite, whose
// clock is the process's; the PostgreSQL store reads now() there (pgTokenSelect).
const storeNowSQLite = `NULL AS store_now`

const tokenSelect = `SELECT t.sid, t.account_id, a.kind, t.name, t.description, t.state, t.api_version,
	t.primary_contact_id, u.name, u.email, t.developer_emails, t.scopes, t.secret_enc, t.secret_mac,
	t.secret_hint, t.reset_count, t.version, t.date_created, t.date_updated, t.date_last_used,
	t.date_auth_token_reset, t.prev_secret_mac, t.prev_expires, t.prev_reset_key, t.prev_reset_path,
	t.expires_at, t.expiry_warned_14d_at, t.expiry_warned_1d_at, t.expired_noted_at, t.overlap_secret_enc,
	t.overlap_secret_mac, t.overlap_expires, t.overlap_last_used, ` + storeNowSQLite + `
	FROM tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN users u ON u.id = t.primary_contact_id`

var statementText = map[string]string{
	// The token asked for or, when there is none, a stand-in (the lowest SID): the
	// same work either way (one probe for the SID, one for the lowest SID, one row
	// read and decoded), so an unknown SID costs what a known one does.
	"tokenBySID": tokenSelect + ` WHERE t.sid = (SELECT coalesce(hit.sid, low.sid)
		FROM (SELECT min(sid) AS sid FROM tokens) low LEFT JOIN tokens hit ON hit.sid = ?)`,
	// The same, and the token a request addresses: two rows at most, one statement.
	"tokenBySIDWith": tokenSelect + ` WHERE t.sid IN ((SELECT coalesce(hit.sid, low.sid)
		FROM (SELECT min(sid) AS sid FROM tokens) low LEFT JOIN tokens hit ON hit.sid = ?1), ?2)`,
	"tokenOf":         tokenSelect + ` WHERE t.account_id = ? AND t.sid = ?`,
	"account":         `SELECT ` + accountColumns + ` FROM accounts WHERE id = ?`,
	"accountByPublic": `SELECT ` + accountColumns + ` FROM accounts WHERE public_id = ?`,
	"managedBrand":    `SELECT ` + accountColumns + ` FROM accounts WHERE kind = 'brand' AND parent_id = ? AND public_id = ?`,
	"userOf":          `SELECT id, account_id, name, email FROM users WHERE account_id = ? AND id = ?`,
	"idemLookup": `SELECT body_hash, status, headers, body_enc, resets, date_created, expires FROM idempotency
		WHERE caller_sid = ? AND method = ? AND path = ? AND key = ? AND expires > ?`,
}

var writerStatementText = map[string]string{
	// By SID, each through the primary key: "+" keeps SQLite from reading the whole
	// account through its index instead.
	"tokensOf": tokenSelect + ` WHERE +t.account_id = ? AND t.sid IN (SELECT value FROM json_each(?))`,
	"insertToken": `INSERT INTO tokens (sid, account_id, name, description, state, api_version,
		primary_contact_id, developer_emails, scopes, secret_enc, secret_mac, secret_hint, reset_count, version,
		date_created, date_updated, date_last_used, date_auth_token_reset, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"updateToken": `UPDATE tokens SET name = ?, description = ?, state = ?, api_version = ?,
		primary_contact_id = ?, developer_emails = ?, scopes = ?, secret_enc = ?, secret_mac = ?, secret_hint = ?,
		reset_count = ?, version = ?, date_updated = ?, date_auth_token_reset = ?, prev_secret_mac = ?,
		prev_expires = ?, prev_reset_key = ?, prev_reset_path = ?, expires_at = ?, expiry_warned_14d_at = ?,
		expiry_warned_1d_at = ?, expired_noted_at = ?, overlap_secret_enc = ?, overlap_secret_mac = ?,
		overlap_expires = ?, overlap_last_used = ? WHERE sid = ?`,
	// A change of state alone: no list column encoded, and no index kept on a
	// column it leaves as it was.
	"updateState":  `UPDATE tokens SET state = ?, version = ?, date_updated = ? WHERE sid = ?`,
	"deleteToken":  `DELETE FROM tokens WHERE sid = ? RETURNING account_id`,
	"scopeHolders": `SELECT scope, holders FROM scope_holders WHERE account_id = ? AND holders > 0`,
	// The expressions are tokens_managers' own, so the index answers it.
	"managerCandidate": `SELECT sid FROM tokens WHERE account_id = ?1 AND json_array_length(scopes) = ?2
		AND state = 'ENABLED' AND instr(scopes, '"apitokens.write"') > 0
		AND sid NOT IN (SELECT value FROM json_each(?3))
		AND (CASE WHEN ?4 = 0 THEN expires_at IS NULL ELSE expires_at IS NULL OR expires_at > ?4 END) LIMIT 1`,
	"idemSave": `INSERT OR REPLACE INTO idempotency (caller_sid, method, path, key, body_hash,
		status, headers, body_enc, resets, date_created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"idemExpire":     `DELETE FROM idempotency WHERE expires <= ?`,
	"bumpGeneration": `UPDATE accounts SET generation = generation + 1 WHERE id = ?`,
	"touch": `UPDATE tokens SET date_last_used = ?
		WHERE sid = ? AND (date_last_used IS NULL OR date_last_used < ?)`,
	"touchPrevious": `UPDATE tokens SET overlap_last_used = ?1
		WHERE sid = ?2 AND overlap_secret_mac IS NOT NULL AND date_auth_token_reset <= ?3
		AND (overlap_last_used IS NULL OR overlap_last_used < ?3)`,
}

// readStatements are the reads of statementText on the readers, each prepared the
// first time it runs: a short-lived server (impactctl --local) prepares only the
// few it uses.
type readStatements struct {
	tokenBySID, tokenBySIDWith, tokenOf, account, accountByPublic, managedBrand, userOf, idemLookup *lazyStmt
}

func newReadStatements(db *sql.DB) *readStatements {
	st := &readStatements{}
	targets := map[string]**lazyStmt{
		"tokenBySID": &st.tokenBySID, "tokenBySIDWith": &st.tokenBySIDWith, "tokenOf": &st.tokenOf, "account": &st.account,
		"accountByPublic": &st.accountByPublic, "managedBrand": &st.managedBrand, "userOf": &st.userOf,
		"idemLookup": &st.idemLookup,
	}
	for name, text := range statementText {
		*targets[name] = &lazyStmt{db: db, text: text}
	}
	return st
}

func (st *readStatements) close() error {
	var errs []error
	for _, p := range []*lazyStmt{st.tokenBySID, st.tokenBySIDWith, st.tokenOf, st.account, st.accountByPublic,
		st.managedBrand, st.userOf, st.idemLookup} {
		errs = append(errs, p.close())
	}
	return errors.Join(errs...)
}

// lazyStmt is a statement of a pool, prepared when it first runs.
type lazyStmt struct {
	db   *sql.DB
	text string

	mu sync.Mutex
	st atomic.Pointer[sql.Stmt]
}

// stmt answers the statement, preparing it the first time; a failed preparation is
// tried again the next time.
func (l *lazyStmt) stmt(ctx context.Context) (*sql.Stmt, error) {
	if st := l.st.Load(); st != nil {
		return st, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.st.Load(); st != nil {
		return st, nil
	}
	st, err := l.db.PrepareContext(ctx, l.text)
	if err != nil {
		return nil, err
	}
	l.st.Store(st)
	return st, nil
}

// QueryRowContext runs the statement for one row. One that cannot be prepared runs
// as text, which answers the same error in the row (or the row, when the failure
// was passing).
func (l *lazyStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	st, err := l.stmt(ctx)
	if err != nil {
		return l.db.QueryRowContext(ctx, l.text, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs the statement.
func (l *lazyStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	st, err := l.stmt(ctx)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (l *lazyStmt) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.st.Swap(nil); st != nil {
		return st.Close()
	}
	return nil
}

// prepare prepares the statements on the writer db: the reads and the writes.
func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	st := &statements{}
	targets := map[string]**sql.Stmt{
		"tokenBySID": &st.tokenBySID, "tokenBySIDWith": &st.tokenBySIDWith, "tokenOf": &st.tokenOf, "account": &st.account,
		"accountByPublic": &st.accountByPublic, "managedBrand": &st.managedBrand, "userOf": &st.userOf,
		"idemLookup": &st.idemLookup,
		"tokensOf":   &st.tokensOf, "insertToken": &st.insertToken, "updateToken": &st.updateToken, "updateState": &st.updateState, "deleteToken": &st.deleteToken,
		"scopeHolders": &st.scopeHolders, "managerCandidate": &st.managerCandidate, "idemSave": &st.idemSave, "idemExpire": &st.idemExpire,
		"bumpGeneration": &st.bumpGeneration, "touch": &st.touch, "touchPrevious": &st.touchPrevious,
	}
	for name, text := range statementText {
		p, err := db.PrepareContext(ctx, text)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		*targets[name] = p
	}
	for name, text := range writerStatementText {
		p, err := db.PrepareContext(ctx, text)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		*targets[name] = p
	}
	return st, nil
}

func (st *statements) close() error {
	var errs []error
	for _, p := range []*sql.Stmt{st.tokenBySID, st.tokenBySIDWith, st.tokenOf, st.account, st.accountByPublic, st.managedBrand,
		st.userOf, st.idemLookup, st.tokensOf, st.insertToken, st.updateToken, st.updateState, st.deleteToken, st.scopeHolders,
		st.managerCandidate, st.idemSave, st.idemExpire, st.bumpGeneration, st.touch, st.touchPrevious} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

func scanToken(row interface{ Scan(...any) error }) (*service.Token, error) {
	var t service.Token
	var emails, scopes string
	err := row.Scan(&t.SID, &t.AccountID, &t.Kind, &t.Name, &t.Description, &t.State, &t.APIVersion,
		scanOpt(&t.ContactID), scanOpt(&t.ContactName), scanOpt(&t.ContactEmail), &emails, &scopes, &t.SecretEnc, &t.SecretMAC,
		&t.Hint, &t.ResetCount, &t.Version, &t.Created, &t.Updated, scanOpt(&t.LastUsed), &t.AuthReset,
		&t.PrevMAC, scanOpt(&t.PrevExpires), scanOpt(&t.PrevResetKey), scanOpt(&t.PrevResetPath),
		scanOpt(&t.ExpiresAt), scanOpt(&t.Warned14d), scanOpt(&t.Warned1d), scanOpt(&t.ExpiredNoted), &t.OverlapEnc, &t.OverlapMAC, scanOpt(&t.OverlapExpires),
		scanOpt(&t.OverlapLastUsed), scanOpt(&t.StoreNow))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, service.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	if t.Emails, err = DecodeList(emails); err != nil {
		return nil, fmt.Errorf("read token %s emails: %w", t.SID, err)
	}
	if t.Scopes, err = DecodeList(scopes); err != nil {
		return nil, fmt.Errorf("read token %s scopes: %w", t.SID, err)
	}
	return &t, nil
}

// DecodeList reads a JSON array of strings. The lists encodeList writes without an
// escape (every scope list, most e-mail lists) are split directly: every request
// decodes its caller's scopes, and the decoder was a tenth of a read's cost. Anything
// else goes through encoding/json.
func DecodeList(s string) ([]string, error) {
	if s == "[]" || s == "" {
		return []string{}, nil
	}
	if out, ok := splitPlainList(s); ok {
		return out, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// TokenBySID finds any token by SID (authentication), at the same cost whether or
// not it exists: told apart only after the row is read, a known SID with a wrong
// secret and an unknown SID take the same time, so response times do not reveal
// which SIDs exist.
func (s *SQLiteStore) TokenBySID(ctx context.Context, sid string) (*service.Token, error) {
	t, err := scanToken(s.rs.tokenBySID.QueryRowContext(authReadContext(ctx), sid))
	if err != nil {
		return nil, err
	}
	if t.SID != sid {
		return nil, service.ErrNotFound
	}
	s.touches.overlay(t)
	return t, nil
}

// TokenBySIDWith is TokenBySID and token also, read in one statement. The read
// runs to its end even when the request is cancelled (see authReadContext).
func (s *SQLiteStore) TokenBySIDWith(ctx context.Context, sid, also string) (*service.Token, *service.Token, error) {
	rows, err := s.rs.tokenBySIDWith.QueryContext(authReadContext(ctx), sid, also)
	return readAuthTokens(rows, err, sid, also, s.touches)
}

// authReadContext is ctx without its cancellation, for the reads authentication
// makes on every request: two rows at most, each through the primary key, which in
// WAL mode never wait on a writer. Uncancellable, such a read costs no goroutine to
// watch the request (database/sql's and the driver's each start one otherwise):
// about a quarter of the read (BenchmarkAuthRead). A request that ends meanwhile
// waits for at most that read.
func authReadContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// scanAuthRows reads TokenBySIDWith's rows: the token sid (errNotFound when none is,
// the row read being the stand-in) and the token also, nil when none is. When sid and
// also are the same, both are the same *token.
func scanAuthRows(rows authRows, sid, also string) (t, other *service.Token, err error) {
	for rows.Next() {
		x, err := scanToken(rows)
		if err != nil {
			return nil, nil, err
		}
		if x.SID == sid {
			t = x
		}
		if x.SID == also {
			other = x
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read token: %w", err)
	}
	if t == nil {
		return nil, nil, service.ErrNotFound
	}
	return t, other, nil
}

// authRows is what scanAuthRows reads: *sql.Rows or pgx.Rows, closed by the caller.
type authRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// TokenForAuth is TokenBySID with nil for no such token.
func (s *SQLiteStore) TokenForAuth(ctx context.Context, sid string) (*service.Token, error) {
	t, err := s.TokenBySID(ctx, sid)
	if errors.Is(err, service.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// Token finds token sid within account accountID.
func (s *SQLiteStore) Token(ctx context.Context, accountID int64, sid string) (*service.Token, error) {
	t, err := scanToken(s.rs.tokenOf.QueryRowContext(ctx, accountID, sid))
	if err == nil {
		s.touches.overlay(t)
	}
	return t, err
}

func (x *sqliteTx) Token(ctx context.Context, accountID int64, sid string) (*service.Token, error) {
	t, err := scanToken(x.stmt(ctx, x.s.ws.tokenOf).QueryRowContext(ctx, accountID, sid))
	if err == nil {
		x.s.touches.overlay(t)
	}
	return t, err
}

// Tokens reads the tokens of sids that account accountID holds.
func (x *sqliteTx) Tokens(ctx context.Context, accountID int64, sids []string) ([]*service.Token, error) {
	list, err := encodeList(sids)
	if err != nil {
		return nil, err
	}
	rows, err := x.stmt(ctx, x.s.ws.tokensOf).QueryContext(ctx, accountID, list)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	return scanTokens(rows, x.s.touches)
}

// scanTokens reads rows of tokenSelect, each with the uses not written yet.
func scanTokens(rows *sql.Rows, touches *toucher) ([]*service.Token, error) {
	defer rows.Close()
	var out []*service.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		touches.overlay(t)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	return out, nil
}

// ScopeHolders counts the tokens of account accountID holding each scope.
func (x *sqliteTx) ScopeHolders(ctx context.Context, accountID int64) (map[string]int, error) {
	rows, err := x.stmt(ctx, x.s.ws.scopeHolders).QueryContext(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("scope holders: %w", err)
	}
	return scanScopeHolders(rows)
}

// scanScopeHolders reads rows of (scope, holders) and closes them.
func scanScopeHolders(rows *sql.Rows) (map[string]int, error) {
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var scope string
		var n int
		if err := rows.Scan(&scope, &n); err != nil {
			return nil, fmt.Errorf("scope holders: %w", err)
		}
		out[scope] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scope holders: %w", err)
	}
	return out, nil
}

// ManagerCandidate finds an enabled token of account accountID holding
// apitokens.write and n scopes, none of skip, through the index tokens_managers.
func (x *sqliteTx) ManagerCandidate(ctx context.Context, accountID int64, n int, skip []string, at int64) (string, error) {
	list, err := encodeList(skip)
	if err != nil {
		return "", err
	}
	var sid string
	err = x.stmt(ctx, x.s.ws.managerCandidate).QueryRowContext(ctx, accountID, n, list, at).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("managers: %w", err)
	}
	return sid, nil
}

// splitPlainList splits ["a","b"] as encodeList writes it, when no element holds an
// escape, a quote, a control character or invalid UTF-8; ok is false for anything
// else, which encoding/json then reads.
func splitPlainList(s string) (out []string, ok bool) {
	if len(s) < 4 || !strings.HasPrefix(s, `["`) || !strings.HasSuffix(s, `"]`) || !utf8.ValidString(s) {
		return nil, false
	}
	inner := s[2 : len(s)-2]
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c == '\\' || c < 0x20 {
			return nil, false
		}
	}
	out = strings.Split(inner, `","`)
	for _, e := range out {
		if strings.IndexByte(e, '"') >= 0 {
			return nil, false
		}
	}
	return out, true
}

func encodeList(v []string) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func marshalLists(t *service.Token) (string, string, error) {
	e, err := encodeList(t.Emails)
	if err != nil {
		return "", "", fmt.Errorf("encode emails: %w", err)
	}
	sc, err := encodeList(t.Scopes)
	if err != nil {
		return "", "", fmt.Errorf("encode scopes: %w", err)
	}
	return e, sc, nil
}

// InsertToken stores a new token.
func (x *sqliteTx) InsertToken(ctx context.Context, t *service.Token) error {
	emails, scopes, err := marshalLists(t)
	if err != nil {
		return err
	}
	_, err = x.stmt(ctx, x.s.ws.insertToken).ExecContext(ctx,
		t.SID, t.AccountID, t.Name, t.Description, t.State, t.APIVersion, bindOpt(t.ContactID), emails, scopes,
		t.SecretEnc, t.SecretMAC, t.Hint, t.ResetCount, t.Version, t.Created, t.Updated, bindOpt(t.LastUsed), t.AuthReset,
		bindOpt(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	x.touched(t.AccountID)
	return nil
}

// UpdateToken writes every mutable column of t.
func (x *sqliteTx) UpdateToken(ctx context.Context, t *service.Token) error {
	emails, scopes, err := marshalLists(t)
	if err != nil {
		return err
	}
	_, err = x.stmt(ctx, x.s.ws.updateToken).ExecContext(ctx,
		t.Name, t.Description, t.State, t.APIVersion, bindOpt(t.ContactID), emails, scopes, t.SecretEnc, t.SecretMAC,
		t.Hint, t.ResetCount, t.Version, t.Updated, t.AuthReset, t.PrevMAC, bindOpt(t.PrevExpires), bindOpt(t.PrevResetKey),
		bindOpt(t.PrevResetPath), bindOpt(t.ExpiresAt), bindOpt(t.Warned14d), bindOpt(t.Warned1d), bindOpt(t.ExpiredNoted), t.OverlapEnc, t.OverlapMAC,
		bindOpt(t.OverlapExpires), bindOpt(t.OverlapLastUsed), t.SID)
	if err != nil {
		return fmt.Errorf("update token %s: %w", t.SID, err)
	}
	x.touched(t.AccountID)
	return nil
}

// UpdateState writes a change of t's state alone: its state, version and
// date_updated (see stateWriter).
func (x *sqliteTx) UpdateState(ctx context.Context, t *service.Token) error {
	if _, err := x.stmt(ctx, x.s.ws.updateState).ExecContext(ctx, t.State, t.Version, t.Updated, t.SID); err != nil {
		return fmt.Errorf("update token %s: %w", t.SID, err)
	}
	x.touched(t.AccountID)
	return nil
}

func (x *sqliteTx) DeleteToken(ctx context.Context, sid string) error {
	var accountID int64
	err := x.stmt(ctx, x.s.ws.deleteToken).QueryRowContext(ctx, sid).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return service.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete token %s: %w", sid, err)
	}
	x.touched(accountID)
	return nil
}

func (s *SQLiteStore) Idempotency(ctx context.Context, k *service.IdemKey, now int64) (*service.IdemRecord, error) {
	return scanIdem(s.rs.idemLookup.QueryRowContext(ctx, k.Caller, k.Method, k.Path, k.Key, now))
}

func (x *sqliteTx) Idempotency(ctx context.Context, k *service.IdemKey, now int64) (*service.IdemRecord, error) {
	return scanIdem(x.stmt(ctx, x.s.ws.idemLookup).QueryRowContext(ctx, k.Caller, k.Method, k.Path, k.Key, now))
}

func scanIdem(row *sql.Row) (*service.IdemRecord, error) {
	var rec service.IdemRecord
	var header, resets string
	err := row.Scan(&rec.Hash, &rec.Status, &header, &rec.BodyEnc, &resets, &rec.Created, &rec.Expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	if err := json.Unmarshal([]byte(header), &rec.Header); err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	if rec.Header == nil {
		rec.Header = http.Header{}
	}
	if err := json.Unmarshal([]byte(resets), &rec.Resets); err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	return &rec, nil
}

// SaveIdempotency stores a reply and drops expired ones.
func (x *sqliteTx) SaveIdempotency(ctx context.Context, k *service.IdemKey, rec *service.IdemRecord) error {
	if _, err := x.stmt(ctx, x.s.ws.idemExpire).ExecContext(ctx, rec.Created); err != nil {
		return fmt.Errorf("expire idempotency records: %w", err)
	}
	row, err := idemRow(k, rec)
	if err != nil {
		return err
	}
	_, err = x.stmt(ctx, x.s.ws.idemSave).ExecContext(ctx, row...)
	if err != nil {
		return fmt.Errorf("store idempotency record: %w", err)
	}
	return nil
}
