package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/impactcom/impactctl/server/service"
)

// Tokens lists one page of an account's tokens (DateCreated, then SID) with the
// total, from one read transaction (see tokenLister).
func (s *SQLiteStore) Tokens(ctx context.Context, accountID int64, f service.TokenFilter, p service.Page) ([]service.Token, int, error) {
	var out []service.Token
	var total int
	err := s.view(ctx, func(tx *sql.Tx) error {
		var err error
		l := tokenLister{d: sqliteDialect, pages: s.pages, touches: s.touches}
		out, total, err = l.list(ctx, sqlReader{tx: tx, prepare: s.prepared}, accountID, f, p)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// prepared answers a reader statement for query, prepared the second time it is
// seen; the first time it answers nil, and the query runs as text in its
// transaction. List queries vary only by which filters are set, so there are few
// of them; a short-lived server (impactctl --local) sees each once, and preparing
// one in a read transaction takes a second reader connection.
func (s *SQLiteStore) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	if !s.seen[query] {
		s.seen[query] = true
		return nil, nil
	}
	st, err := s.Readers.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare list query: %w", err)
	}
	s.stmts[query] = st
	return st, nil
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
		st, prev := tx.Stmt(s.ws.touch), tx.Stmt(s.ws.touchPrevious)
		for key, at := range batch {
			sid, which := touchTarget(key, st, prev)
			if _, err := which.Exec(at, sid, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// touchTarget splits a toucher key into the SID and which of two statements records
// it: cur for the token's use, prev for its previous secret's.
func touchTarget[S any](key string, cur, prev S) (string, S) {
	if sid, ok := strings.CutPrefix(key, service.PreviousUse); ok {
		return sid, prev
	}
	return key, cur
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
func (t *toucher) overlay(tk *service.Token) {
	if t == nil {
		return
	}
	t.mu.Lock()
	var at, prevAt int64
	if u := t.uses[tk.SID]; u != nil {
		at = u.at
	}
	if tk.OverlapMAC != nil {
		if u := t.uses[service.PreviousUse+tk.SID]; u != nil {
			prevAt = u.at
		}
	}
	t.mu.Unlock()
	if at > 0 && (!tk.LastUsed.Valid || tk.LastUsed.V < at) {
		tk.LastUsed = service.Some(at)
	}
	// A use from before the reset that made the overlap was of an earlier secret.
	if prevAt >= tk.AuthReset && prevAt > 0 && (!tk.OverlapLastUsed.Valid || tk.OverlapLastUsed.V < prevAt) {
		tk.OverlapLastUsed = service.Some(prevAt)
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
