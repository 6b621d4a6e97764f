package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/impactcom/impactctl/server/service"
)

// The SQL both stores share: token filters, their WHERE clause, paging and the page
// memory are written once here, over a small dialect. What differs per backend stays
// in its own files: transactions, PostgreSQL's batched writes, migrations and rate
// windows.
//
// Token lists keep Page numbers on the wire, yet a deep page must cost no more than
// a shallow one: OFFSET would step over every earlier row, and a count per page
// would read the whole list each time (listing 100,000 tokens page by page was
// quadratic). So the store remembers, per account, filter values and page size, the
// total and where each page it served ended, valid for one list generation of the
// account: every committed change to the account's tokens moves the generation, and
// the page reads the generation in the same read transaction as the rows. A page
// that follows one served before starts from that position through the index.
// Filters on DateLastUsed are not remembered: uses do not move the generation.

// dialect is how a backend writes what the shared SQL needs.
type dialect struct {
	// numbered: placeholders are $1, $2, … (PostgreSQL) rather than ? (SQLite).
	numbered bool
	// position names the function answering where a string occurs in another
	// (1-based, 0 when it does not): instr(hay, needle) or strpos(hay, needle).
	position string
	// nfc writes the expression answering a column's Unicode NFC form: names
	// are stored as sent, so the exact-name filter compares normalized forms.
	nfc func(column string) string
}

var (
	sqliteDialect   = dialect{position: "instr", nfc: func(c string) string { return sqliteNFC + "(" + c + ")" }}
	postgresDialect = dialect{numbered: true, position: "strpos", nfc: func(c string) string { return "normalize(" + c + ", NFC)" }}
)

// sqlArgs collects a statement's arguments and writes their placeholders.
type sqlArgs struct {
	d    dialect
	args []any
}

// add appends v and answers its placeholder.
func (a *sqlArgs) add(v any) string {
	a.args = append(a.args, v)
	if a.d.numbered {
		return "$" + strconv.Itoa(len(a.args))
	}
	return "?"
}

// bound is a date filter as the SQL compares it: Unix seconds, when set.
type bound struct {
	set bool
	at  int64
}

func boundOf(t time.Time) bound {
	if t.IsZero() {
		return bound{}
	}
	return bound{set: true, at: t.Unix()}
}

// filterKey is every value a token list's statements depend on, exactly as they use
// it: the WHERE clause is written from it alone, so two lists that differ in any
// filter never share remembered totals or positions.
type filterKey struct {
	state, name, exactName                                   string
	createdAfter, createdBefore, lastUsedBefore, resetBefore bound
	expiresBefore                                            bound
}

func keyOf(f service.TokenFilter) filterKey {
	return filterKey{state: f.State, name: f.Name, exactName: f.ExactName, createdAfter: boundOf(f.CreatedAfter),
		createdBefore: boundOf(f.CreatedBefore), lastUsedBefore: boundOf(f.LastUsedBefore),
		resetBefore: boundOf(f.ResetBefore), expiresBefore: boundOf(f.ExpiresBefore)}
}

// where answers the WHERE clause of account accountID's tokens matching k, its
// arguments collected in a.
func (k filterKey) where(a *sqlArgs, accountID int64) string {
	conds := []string{"t.account_id = " + a.add(accountID)}
	if k.state != "" {
		conds = append(conds, "t.state = "+a.add(k.state))
	}
	if k.name != "" {
		conds = append(conds, a.d.position+"(lower(t.name), lower("+a.add(k.name)+")) > 0")
	}
	if k.exactName != "" {
		// The value arrives in NFC form (the handler normalizes it).
		conds = append(conds, a.d.nfc("t.name")+" = "+a.add(k.exactName))
	}
	if k.createdAfter.set {
		conds = append(conds, "t.date_created >= "+a.add(k.createdAfter.at))
	}
	if k.createdBefore.set {
		conds = append(conds, "t.date_created < "+a.add(k.createdBefore.at))
	}
	if k.lastUsedBefore.set {
		conds = append(conds, "(t.date_last_used IS NULL OR t.date_last_used < "+a.add(k.lastUsedBefore.at)+")")
	}
	if k.resetBefore.set {
		conds = append(conds, "t.date_auth_token_reset < "+a.add(k.resetBefore.at))
	}
	if k.expiresBefore.set {
		conds = append(conds, "t.expires_at < "+a.add(k.expiresBefore.at))
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// sqlReader runs statements in one read transaction of a backend.
type sqlReader struct {
	tx *sql.Tx
	// prepare, when set, answers a statement prepared for query (SQLite keeps its
	// list statements prepared); otherwise, or when it answers nil, queries go to
	// tx as text.
	prepare func(ctx context.Context, query string) (*sql.Stmt, error)
}

func (r sqlReader) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if r.prepare == nil {
		return r.tx.QueryContext(ctx, query, args...)
	}
	st, err := r.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		query, args = inlineInts(query, args)
		return r.tx.QueryContext(ctx, query, args...)
	}
	return r.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// inlineInts is a SQLite query run as text with its arguments written in, when
// every one is an integer, or else query and args as they are. SQLite plans a
// statement whose bound value meets a partial index's condition (the tokens'
// IS NOT NULL indexes) again once the value is bound: a statement parsed once
// to run once would be parsed twice. Each "?" must be a placeholder: a query
// holding another is run as it is.
func inlineInts(query string, args []any) (string, []any) {
	if len(args) == 0 || strings.Count(query, "?") != len(args) {
		return query, args
	}
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case int:
			lits[i] = strconv.Itoa(v)
		case int64:
			lits[i] = strconv.FormatInt(v, 10)
		default:
			return query, args
		}
		if lits[i][0] == '-' {
			lits[i] = "(" + lits[i] + ")" // never "--" after a minus sign: a comment
		}
	}
	var b strings.Builder
	b.Grow(len(query) + 16*len(lits))
	for _, lit := range lits {
		i := strings.IndexByte(query, '?')
		b.WriteString(query[:i])
		b.WriteString(lit)
		query = query[i+1:]
	}
	b.WriteString(query)
	return b.String(), nil
}

// scan reads the one row query answers into dest: sql.ErrNoRows when there is none.
func (r sqlReader) scan(ctx context.Context, query string, args []any, dest ...any) error {
	if r.prepare == nil {
		return r.tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	st, err := r.prepare(ctx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return r.tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	return r.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...).Scan(dest...)
}

// tokenLister lists tokens for a backend: its dialect, page memory and the uses it
// noted but has not written yet.
type tokenLister struct {
	d       dialect
	pages   *pageCache
	touches *toucher
}

// position is where a page ends in the list's order.
type position struct {
	created int64
	sid     string
}

// list reads one page of account accountID's tokens (DateCreated, then SID) and the
// total, inside the read transaction r runs in. An account that does not exist has
// no tokens.
func (l tokenLister) list(ctx context.Context, r sqlReader, accountID int64, f service.TokenFilter, p service.Page) ([]service.Token, int, error) {
	k := keyOf(f)
	a := &sqlArgs{d: l.d}
	where := k.where(a, accountID)
	args := a.args
	key := pageKey{account: accountID, filter: k, size: p.Size}
	cacheable := !k.lastUsedBefore.set

	var gen int64
	err := r.scan(ctx, `SELECT generation FROM accounts WHERE id = `+(&sqlArgs{d: l.d}).add(accountID), []any{accountID}, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list generation: %w", err)
	}
	var total int
	var start *position
	haveTotal := false
	if cacheable {
		total, start, haveTotal = l.pages.lookup(key, gen, p.Number)
	}
	// The first page read before its total: when it is not full, its length is the
	// total (the same snapshot), and the count is not run.
	firstShort := false
	if !haveTotal && p.Offset() == 0 && p.Size > 0 {
		haveTotal, firstShort = true, true
		total = p.Size
	}
	if !haveTotal {
		if err := r.scan(ctx, `SELECT count(*) FROM tokens t`+where, args, &total); err != nil {
			return nil, 0, fmt.Errorf("count tokens: %w", err)
		}
	}
	if p.Offset() >= total {
		return nil, total, nil
	}
	if start == nil && p.Number > 1 {
		pos, err := l.pageStart(ctx, r, where, args, p.Offset())
		if errors.Is(err, sql.ErrNoRows) {
			return nil, total, nil
		}
		if err != nil {
			return nil, 0, err
		}
		start = pos
	}
	out, err := l.readPage(ctx, r, where, args, start, p.Size)
	if err != nil {
		return nil, 0, err
	}
	if firstShort {
		if len(out) < p.Size {
			total = len(out)
		} else if err := r.scan(ctx, `SELECT count(*) FROM tokens t`+where, args, &total); err != nil {
			return nil, 0, fmt.Errorf("count tokens: %w", err)
		}
	}
	if cacheable {
		l.pages.remember(key, gen, total, p, out)
	}
	return out, total, nil
}

// pageStart finds where the page at offset starts (the position of the token
// before it) by stepping through the index only, not the rows and their joins;
// sql.ErrNoRows when the list is shorter.
func (l tokenLister) pageStart(ctx context.Context, r sqlReader, where string, args []any, offset int) (*position, error) {
	b := &sqlArgs{d: l.d, args: append([]any{}, args...)}
	q := `SELECT t.date_created, t.sid FROM tokens t` + where +
		` ORDER BY t.date_created, t.sid LIMIT 1 OFFSET ` + b.add(offset-1)
	var pos position
	err := r.scan(ctx, q, b.args, &pos.created, &pos.sid)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return &pos, err
}

// readPage reads up to size tokens after start (nil: from the first) in list
// order, each with its deferred use laid over it.
func (l tokenLister) readPage(ctx context.Context, r sqlReader, where string, args []any, start *position, size int) ([]service.Token, error) {
	b := &sqlArgs{d: l.d, args: append([]any{}, args...)}
	q := tokenSelect + where
	if start != nil {
		q += ` AND (t.date_created, t.sid) > (` + b.add(start.created) + `, ` + b.add(start.sid) + `)`
	}
	q += ` ORDER BY t.date_created, t.sid LIMIT ` + b.add(size)
	rows, err := r.query(ctx, q, b.args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []service.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		l.touches.overlay(t)
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// pageKey names one way of listing an account's tokens: the account, every filter's
// exact value and the page size.
type pageKey struct {
	account int64
	filter  filterKey
	size    int
}

// pageEntry is what one listing knows at one generation: the total and where pages
// start (the position of the row before each).
type pageEntry struct {
	gen    int64
	total  int
	starts map[int]position
}

// pageCache holds the positions of recent listings; it forgets everything when it
// grows past its bounds, which costs one slower page.
type pageCache struct {
	mu      sync.Mutex
	entries map[pageKey]*pageEntry
}

const (
	maxPageEntries = 256
	maxPageStarts  = 10000
)

func newPageCache() *pageCache { return &pageCache{entries: map[pageKey]*pageEntry{}} }

// lookup answers the total of key at gen and, when known, where page n starts.
func (c *pageCache) lookup(key pageKey, gen int64, n int) (total int, start *position, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || e.gen != gen {
		return 0, nil, false
	}
	if pos, found := e.starts[n]; found {
		start = &pos
	}
	return e.total, start, true
}

// remember records a page just read: key's total at gen and, when the page is full,
// that the next page starts after its last token.
func (c *pageCache) remember(key pageKey, gen int64, total int, p service.Page, out []service.Token) {
	var end *position
	if len(out) == p.Size {
		last := out[len(out)-1]
		end = &position{created: last.Created, sid: last.SID}
	}
	c.store(key, gen, total, p.Number+1, end)
}

// store records key's total at gen and, when end is set, that page next starts after it.
func (c *pageCache) store(key pageKey, gen int64, total, next int, end *position) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || e.gen != gen {
		if len(c.entries) >= maxPageEntries {
			c.entries = map[pageKey]*pageEntry{}
		}
		e = &pageEntry{gen: gen, total: total, starts: map[int]position{}}
		c.entries[key] = e
	}
	if end != nil && len(e.starts) < maxPageStarts {
		e.starts[next] = *end
	}
}

// runTx runs fn in one transaction of db, committing when it returns nil and
// rolling back otherwise.
func runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
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

// readAuthTokens reads a TokenBySIDWith statement's answer (rows, or the error
// running it) with scanAuthRows, and shows each token's latest use from touches.
func readAuthTokens(rows *sql.Rows, err error, sid, also string, touches *toucher) (*service.Token, *service.Token, error) {
	if err != nil {
		return nil, nil, fmt.Errorf("read token: %w", err)
	}
	defer rows.Close()
	t, other, err := scanAuthRows(rows, sid, also)
	if err != nil {
		return nil, nil, err
	}
	touches.overlay(t)
	if other != nil && other != t {
		touches.overlay(other)
	}
	return t, other, nil
}

// idemRow is the idempotency table's row for rec under k, in the column order of
// both stores' INSERT: caller_sid, method, path, key, body_hash, status, headers,
// body_enc, resets, date_created, expires. Headers and resets are JSON; no resets
// is "[]", no body an empty one.
func idemRow(k *service.IdemKey, rec *service.IdemRecord) ([]any, error) {
	header, err := json.Marshal(rec.Header)
	if err != nil {
		return nil, err
	}
	resets, err := json.Marshal(rec.Resets)
	if err != nil {
		return nil, err
	}
	if string(resets) == "null" {
		resets = []byte("[]")
	}
	body := rec.BodyEnc
	if body == nil {
		body = []byte{}
	}
	return []any{k.Caller, k.Method, k.Path, k.Key, k.Hash, rec.Status, string(header), body,
		string(resets), rec.Created, rec.Expires}, nil
}

// accountCache keeps accounts by row id once read: accounts never change once made
// (no request edits one), so keeping them cannot delay anything a request decides,
// and the account is on the path of every request.
type accountCache struct{ m sync.Map } // id → *service.Account

// get answers a copy of account id, reading it with read the first time.
func (c *accountCache) get(id int64, read func() (*service.Account, error)) (*service.Account, error) {
	if a, ok := c.m.Load(id); ok {
		cp := *a.(*service.Account)
		return &cp, nil
	}
	a, err := read()
	if err != nil {
		return nil, err
	}
	cp := *a
	c.m.Store(id, &cp)
	return a, nil
}

// sqlQuerier is what the shared reads need: a *sql.DB or a *sql.Tx of either store.
type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// listBrands reads one page of an agency's brands by Id (shorter Ids first: numeric
// order) and their total; q must be one read transaction, so both are one snapshot.
func listBrands(ctx context.Context, d dialect, q sqlQuerier, agencyID int64, p service.Page) ([]service.Account, int, error) {
	var total int
	a := sqlArgs{d: d}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE parent_id = `+a.add(agencyID), a.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count brands: %w", err)
	}
	a = sqlArgs{d: d}
	rows, err := q.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE parent_id = `+a.add(agencyID)+`
		ORDER BY length(public_id), public_id LIMIT `+a.add(p.Size)+` OFFSET `+a.add(p.Offset()), a.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list brands: %w", err)
	}
	defer rows.Close()
	var out []service.Account
	for rows.Next() {
		acc, err := scanAccount(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *acc)
	}
	return out, total, rows.Err()
}

// listUsers reads one page of an account's users by Id (shorter Ids first) and
// their total, as listBrands does.
func listUsers(ctx context.Context, d dialect, q sqlQuerier, accountID int64, p service.Page) ([]service.User, int, error) {
	var total int
	a := sqlArgs{d: d}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE account_id = `+a.add(accountID), a.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	a = sqlArgs{d: d}
	rows, err := q.QueryContext(ctx, `SELECT id, account_id, name, email FROM users WHERE account_id = `+a.add(accountID)+`
		ORDER BY length(id), id LIMIT `+a.add(p.Size)+` OFFSET `+a.add(p.Offset()), a.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []service.User
	for rows.Next() {
		var u service.User
		if err := rows.Scan(&u.ID, &u.AccountID, &u.Name, &u.Email); err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// readDemoRoles maps seeded roles to the SIDs of tokens that still exist.
func readDemoRoles(ctx context.Context, q sqlQuerier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.role, t.sid FROM demo_roles r JOIN tokens t ON t.sid = r.sid`)
	if err != nil {
		return nil, fmt.Errorf("demo roles: %w", err)
	}
	defer rows.Close()
	sids := map[string]string{}
	for rows.Next() {
		var role, sid string
		if err := rows.Scan(&role, &sid); err != nil {
			return nil, fmt.Errorf("demo roles: %w", err)
		}
		sids[role] = sid
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("demo roles: %w", err)
	}
	return sids, nil
}

// readSeeded answers how the database was first filled: "demo", "bootstrap", or ""
// for a database filled some other way.
func readSeeded(ctx context.Context, q sqlQuerier) (string, error) {
	var kind string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seed'`).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read seed: %w", err)
	}
	return kind, nil
}

// lifecycleColumns is the migration that added expiry and overlapping rotation, for
// a store whose integers are intType and byte strings blobType.
func lifecycleColumns(intType, blobType string) string {
	return fmt.Sprintf(`
-- When the token stops authenticating (NULL: never).
ALTER TABLE tokens ADD COLUMN expires_at %[1]s;
-- When the 14-day and 1-day expiry warnings and the expiry notice were written, so
-- each is written once across replicas; cleared when expires_at moves.
ALTER TABLE tokens ADD COLUMN expiry_warned_14d_at %[1]s;
ALTER TABLE tokens ADD COLUMN expiry_warned_1d_at %[1]s;
ALTER TABLE tokens ADD COLUMN expired_noted_at %[1]s;
-- After a reset with an overlap: the previous secret (sealed, and its HMAC), good
-- until overlap_expires, and when it was last used.
ALTER TABLE tokens ADD COLUMN overlap_secret_enc %[2]s;
ALTER TABLE tokens ADD COLUMN overlap_secret_mac %[2]s;
ALTER TABLE tokens ADD COLUMN overlap_expires %[1]s;
ALTER TABLE tokens ADD COLUMN overlap_last_used %[1]s;
CREATE INDEX tokens_expires ON tokens(expires_at) WHERE expires_at IS NOT NULL;
`, intType, blobType)
}

// lifecycleIndexes is the migration that added the indexes of the tokens the server
// may still have a lifecycle event to write for: an expiry not yet noted, an overlap
// not yet ended. The same on both stores.
const lifecycleIndexes = `
CREATE INDEX tokens_notice_due ON tokens(expires_at) WHERE expires_at IS NOT NULL AND expired_noted_at IS NULL;
CREATE INDEX tokens_overlap_due ON tokens(overlap_expires) WHERE overlap_expires IS NOT NULL;
`
