package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// idempotencyTTL is how long an answer to a keyed POST is kept.
const idempotencyTTL = 24 * time.Hour

// idemKey identifies a keyed POST: (caller, method, path, key) plus its body's hash.
type idemKey struct {
	caller, method, path, key string
	hash                      []byte
}

func (k *idemKey) ad() string { return k.caller + "\x00" + k.method + "\x00" + k.path + "\x00" + k.key }

// resetMark records that a stored answer handed out a token's secret as of ResetCount.
type resetMark struct {
	Sid        string `json:"Sid"`
	ResetCount int64  `json:"ResetCount"`
}

// answer is a response a write produces, kept whole so a keyed POST can replay it.
type answer struct {
	status int
	header http.Header
	body   []byte // nil: no body
	resets []resetMark
}

func jsonAnswer(status int, v any) (*answer, error) {
	body, err := encode(v)
	if err != nil {
		return nil, err
	}
	return &answer{status: status, header: http.Header{}, body: body}, nil
}

func tokenAnswer(status int, b tokenBody) (*answer, error) {
	a, err := jsonAnswer(status, b)
	if err != nil {
		return nil, err
	}
	a.header.Set("ETag", b.etag)
	if b.AuthToken != "" {
		a.header.Set("Cache-Control", "no-store")
	}
	return a, nil
}

func (a *answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if a.body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	if a.body != nil {
		w.Write(a.body)
	}
}

// prepareIdempotency reads a POST's Idempotency-Key. A stored answer for the same
// body is replayed (replayed true); another body is 422; a replay the caller may not
// have (the previous secret without a stored answer) is 401. Otherwise c.idem is set
// for commit to store the answer with the change.
func (h *handler) prepareIdempotency(w http.ResponseWriter, r *http.Request, c *call) (replayed bool, err error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		if c.replayOnly {
			return false, unauthorized()
		}
		return false, nil
	}
	if len(key) > 255 || !printableASCII(key) {
		return false, badRequest("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	c.idem = &idemKey{caller: c.caller.SID, method: r.Method, path: r.URL.Path, key: key, hash: sum[:]}
	rec, err := h.store.idemLookup(r.Context(), h.store.db, c.idem)
	if err != nil {
		return false, err
	}
	if rec == nil {
		if c.replayOnly {
			return false, unauthorized()
		}
		return false, nil
	}
	return true, h.replay(r.Context(), w, c.idem, rec)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

// idemRecord is a stored answer.
type idemRecord struct {
	hash   []byte
	status int
	header http.Header
	body   []byte // decrypted; nil when the answer had none
	resets []resetMark
}

// replay answers a stored record, unless the body differs (422) or a later reset has
// superseded a secret it hands out (409).
func (h *handler) replay(ctx context.Context, w http.ResponseWriter, k *idemKey, rec *idemRecord) error {
	if !bytes.Equal(rec.hash, k.hash) {
		return idempotencyMismatch()
	}
	for _, m := range rec.resets {
		t, err := h.store.tokenBySID(ctx, h.store.db, m.Sid)
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if t == nil || t.ResetCount != m.ResetCount {
			return conflict("Idempotency-Key", "a later change superseded the reset this key made; its secret is no longer valid")
		}
	}
	a := &answer{status: rec.status, header: rec.header, body: rec.body}
	a.header.Set("Idempotent-Replayed", "true")
	a.write(w)
	return nil
}

// commit runs change in one write transaction and answers what it returns. With an
// Idempotency-Key the answer is stored in that same transaction, so a change and its
// record are never apart; a record that appeared while this request waited for the
// write lock (a duplicate in flight) is replayed instead of changing anything twice.
func (h *handler) commit(w http.ResponseWriter, r *http.Request, c *call, change func(tx *sql.Tx) (*answer, error)) error {
	ctx := r.Context()
	var ans *answer
	var stored *idemRecord
	err := h.store.inTx(ctx, func(tx *sql.Tx) error {
		if c.idem != nil {
			rec, err := h.store.idemLookup(ctx, tx, c.idem)
			if err != nil {
				return err
			}
			if rec != nil {
				stored = rec
				return nil
			}
		}
		if c.replayOnly {
			return unauthorized()
		}
		a, err := change(tx)
		if err != nil {
			return err
		}
		if c.idem != nil {
			if err := h.store.idemSave(ctx, tx, c.idem, a); err != nil {
				return err
			}
		}
		ans = a
		return nil
	})
	if err != nil {
		return busyAsConflict(err)
	}
	if stored != nil {
		return h.replay(ctx, w, c.idem, stored)
	}
	ans.write(w)
	return nil
}

// busyAsConflict turns SQLite's "database is locked" after the busy timeout into a 409
// the client may retry.
func busyAsConflict(err error) error {
	var coder interface{ Code() int }
	if errors.As(err, &coder) && coder.Code()&0xff == 5 { // SQLITE_BUSY
		return inFlight()
	}
	return err
}

func (s *Store) idemLookup(ctx context.Context, q querier, k *idemKey) (*idemRecord, error) {
	var rec idemRecord
	var header, resets string
	var enc []byte
	err := q.QueryRowContext(ctx, `SELECT body_hash, status, headers, body_enc, resets FROM idempotency
		WHERE caller_sid = ? AND method = ? AND path = ? AND key = ? AND expires > ?`,
		k.caller, k.method, k.path, k.key, s.clock().Unix()).Scan(&rec.hash, &rec.status, &header, &enc, &resets)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	if err := json.Unmarshal([]byte(header), &rec.header); err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	if rec.header == nil {
		rec.header = http.Header{}
	}
	if err := json.Unmarshal([]byte(resets), &rec.resets); err != nil {
		return nil, fmt.Errorf("read idempotency record: %w", err)
	}
	if len(enc) > 0 {
		body, err := s.keys.open(enc, k.ad())
		if err != nil {
			return nil, fmt.Errorf("read idempotency record: %w", err)
		}
		rec.body = body
	}
	return &rec, nil
}

// idemSave stores an answer, its body encrypted (it may hold a secret), and drops
// expired records.
func (s *Store) idemSave(ctx context.Context, tx *sql.Tx, k *idemKey, a *answer) error {
	now := s.clock()
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency WHERE expires <= ?`, now.Unix()); err != nil {
		return fmt.Errorf("expire idempotency records: %w", err)
	}
	header, err := json.Marshal(a.header)
	if err != nil {
		return err
	}
	resets, err := json.Marshal(a.resets)
	if err != nil {
		return err
	}
	enc := []byte{}
	if a.body != nil {
		if enc, err = s.keys.seal(a.body, k.ad()); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency (caller_sid, method, path, key, body_hash,
		status, headers, body_enc, resets, date_created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.caller, k.method, k.path, k.key, k.hash, a.status, string(header), enc, string(resets),
		now.Unix(), now.Add(idempotencyTTL).Unix())
	if err != nil {
		return fmt.Errorf("store idempotency record: %w", err)
	}
	return nil
}
