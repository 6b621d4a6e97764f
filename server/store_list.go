package server

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Token lists keep Page numbers on the wire, yet a deep page must cost no more than
// a shallow one: OFFSET would step over every earlier row, and a count per page
// would read the whole list each time (listing 100,000 tokens page by page was
// quadratic). So the store remembers, per account, filter and page size, the total
// and where each page it served ended, valid for one list generation of the
// account: every committed change to the account's tokens moves the generation, and
// the page reads the generation in the same read transaction as the rows. A page
// that follows one served before starts from that position through the index.
// Filters on DateLastUsed are not cached: uses do not move the generation.

func (f tokenFilter) where(accountID int64) (string, []any) {
	conds := []string{"t.account_id = ?"}
	args := []any{accountID}
	if f.State != "" {
		conds = append(conds, "t.state = ?")
		args = append(args, f.State)
	}
	if f.Name != "" {
		conds = append(conds, "instr(lower(t.name), lower(?)) > 0")
		args = append(args, f.Name)
	}
	if !f.CreatedAfter.IsZero() {
		conds = append(conds, "t.date_created >= ?")
		args = append(args, f.CreatedAfter.Unix())
	}
	if !f.CreatedBefore.IsZero() {
		conds = append(conds, "t.date_created < ?")
		args = append(args, f.CreatedBefore.Unix())
	}
	if !f.LastUsedBefore.IsZero() {
		conds = append(conds, "(t.date_last_used IS NULL OR t.date_last_used < ?)")
		args = append(args, f.LastUsedBefore.Unix())
	}
	if !f.ResetBefore.IsZero() {
		conds = append(conds, "t.date_auth_token_reset < ?")
		args = append(args, f.ResetBefore.Unix())
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// position is where a page ends in the list's order.
type position struct {
	created int64
	sid     string
}

// Tokens lists one page of an account's tokens (DateCreated, then SID) with the
// total, from one read transaction.
func (s *SQLiteStore) Tokens(ctx context.Context, accountID int64, f tokenFilter, p page) ([]token, int, error) {
	where, args := f.where(accountID)
	key := pageKey{account: accountID, filter: fmt.Sprintf("%q", args[1:]) + where, size: p.Size}
	cacheable := f.LastUsedBefore.IsZero()
	var out []token
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		var gen int64
		if err := tx.StmtContext(ctx, s.rs.generation).QueryRowContext(ctx, accountID).Scan(&gen); err != nil {
			return fmt.Errorf("list generation: %w", err)
		}
		var start *position
		haveTotal := false
		if cacheable {
			total, start, haveTotal = s.pages.lookup(key, gen, p.Number)
		}
		if !haveTotal {
			st, err := s.prepared(ctx, `SELECT count(*) FROM tokens t`+where)
			if err != nil {
				return err
			}
			if err := tx.StmtContext(ctx, st).QueryRowContext(ctx, args...).Scan(&total); err != nil {
				return fmt.Errorf("count tokens: %w", err)
			}
		}
		if p.offset() >= total {
			return nil
		}
		if start == nil && p.Number > 1 {
			// Find where the page starts by stepping through the index only, not
			// the rows and their joins.
			st, err := s.prepared(ctx, `SELECT t.date_created, t.sid FROM tokens t`+where+
				` ORDER BY t.date_created, t.sid LIMIT 1 OFFSET ?`)
			if err != nil {
				return err
			}
			var pos position
			err = tx.StmtContext(ctx, st).QueryRowContext(ctx, append(args, p.offset()-1)...).Scan(&pos.created, &pos.sid)
			if err == sql.ErrNoRows {
				return nil
			}
			if err != nil {
				return fmt.Errorf("list tokens: %w", err)
			}
			start = &pos
		}
		q, qargs := tokenSelect+where, args
		if start != nil {
			q += ` AND (t.date_created, t.sid) > (?, ?)`
			qargs = append(append([]any{}, args...), start.created, start.sid)
		}
		st, err := s.prepared(ctx, q+` ORDER BY t.date_created, t.sid LIMIT ?`)
		if err != nil {
			return err
		}
		rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, append(qargs, p.Size)...)
		if err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			s.touches.overlay(t)
			out = append(out, *t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		if cacheable {
			s.pages.remember(key, gen, total, p, out)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// prepared answers a reader statement for query, prepared the first time it is seen.
// List queries vary only by which filters are set, so there are few of them.
func (s *SQLiteStore) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare list query: %w", err)
	}
	s.stmts[query] = st
	return st, nil
}

// pageKey names one way of listing an account's tokens.
type pageKey struct {
	account int64
	filter  string
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
func (c *pageCache) remember(key pageKey, gen int64, total int, p page, out []token) {
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

// toucher records token uses off the request path: Touch notes the time in memory
// and a background loop writes what accumulated through the writer, in one
// transaction, so a read never waits for a write. Reads overlay the uses noted in
// memory, so they are seen at once; a use stays noted for a while after it is
// written, for a read whose snapshot began before that write.
type toucher struct {
	// write stores a batch of uses (SID → Unix seconds), never moving one back.
	write func(batch map[string]int64) error

	mu   sync.Mutex
	uses map[string]*use
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

// use is one token's latest use as noted in memory.
type use struct {
	at      int64     // the use, Unix seconds
	written time.Time // when at reached the database; zero while pending
}

// touchMemory is how long a written use stays noted: longer than any read.
const touchMemory = 2 * time.Minute

func newToucher(write func(batch map[string]int64) error) *toucher {
	t := &toucher{write: write, uses: map[string]*use{}, wake: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	go t.loop()
	return t
}

// Touch records that token sid was used at the Unix time at.
func (s *SQLiteStore) Touch(sid string, at int64) { s.touches.add(sid, at) }

// writeUses writes a batch of uses through the writer, in one transaction.
func (s *SQLiteStore) writeUses(batch map[string]int64) error {
	return s.inTx(context.Background(), func(tx *sql.Tx) error {
		st := tx.Stmt(s.ws.touch)
		for sid, at := range batch {
			if _, err := st.Exec(at, sid, at); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t *toucher) add(sid string, at int64) {
	t.mu.Lock()
	if u := t.uses[sid]; u == nil || u.at < at {
		t.uses[sid] = &use{at: at}
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// overlay gives tk a use noted in memory that is later than the one it was read with.
func (t *toucher) overlay(tk *token) {
	if t == nil {
		return
	}
	t.mu.Lock()
	u := t.uses[tk.SID]
	var at int64
	if u != nil {
		at = u.at
	}
	t.mu.Unlock()
	if at > 0 && (!tk.LastUsed.Valid || tk.LastUsed.Int64 < at) {
		tk.LastUsed = sql.NullInt64{Int64: at, Valid: true}
	}
}

func (t *toucher) loop() {
	defer close(t.done)
	for {
		select {
		case <-t.wake:
			t.flush()
		case <-t.quit:
			t.flush()
			return
		}
	}
}

// flush writes the pending uses in one transaction and forgets uses written long
// ago; a use noted meanwhile waits for the next round.
func (t *toucher) flush() {
	t.mu.Lock()
	batch := map[string]int64{}
	for sid, u := range t.uses {
		if u.written.IsZero() {
			batch[sid] = u.at
		} else if time.Since(u.written) > touchMemory {
			delete(t.uses, sid)
		}
	}
	t.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := t.write(batch); err != nil {
		return // still pending; the next use tries again
	}
	now := time.Now()
	t.mu.Lock()
	for sid, at := range batch {
		if u := t.uses[sid]; u != nil && u.at == at {
			u.written = now
		}
	}
	t.mu.Unlock()
}

func (t *toucher) stop() {
	close(t.quit)
	<-t.done
}
