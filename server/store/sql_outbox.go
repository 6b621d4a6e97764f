package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/impactcom/impactctl/server/service"
)

// mailTables are the mail sender's own tables, the same on both stores: messages sent
// (what the hourly limits count), the addresses that unsubscribed from an account's
// updates, and the mark on a notification held back for the hour's digest.
const mailTables = `
ALTER TABLE notifications ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
CREATE TABLE mail_sent (
	account_id BIGINT NOT NULL,
	email      TEXT NOT NULL, -- lower case
	date       BIGINT NOT NULL
);
CREATE INDEX mail_sent_recipient ON mail_sent(account_id, email, date);
CREATE INDEX mail_sent_account ON mail_sent(account_id, date);
CREATE TABLE mail_suppressed (
	account_id BIGINT NOT NULL,
	email      TEXT NOT NULL, -- lower case
	date       BIGINT NOT NULL,
	PRIMARY KEY (account_id, email)
);
`

// outboxDue is the condition of a notification a sender may claim at $1.
const outboxDue = `state = 'PENDING' AND next_attempt <= $1 AND (lease_until IS NULL OR lease_until <= $1)`

// outboxDueN is outboxDue over the notifications aliased n.
const outboxDueN = `n.state = 'PENDING' AND n.next_attempt <= $1 AND (n.lease_until IS NULL OR n.lease_until <= $1)`

// claimed reads the claimed rows with their events, in one statement.
func claimedRows(ctx context.Context, q querier, ids []int64) ([]PendingNotification, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i] = "$" + strconv.Itoa(i+1)
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT n.id, n.account_id, n.email, n.attempts, n.held, `+prefixed("e.", eventColumns)+`
		FROM notifications n JOIN events e ON e.id = n.event_id WHERE n.id IN (`+strings.Join(ph, ", ")+`) ORDER BY n.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read claimed notifications: %w", err)
	}
	defer rows.Close()
	var out []PendingNotification
	for rows.Next() {
		var p PendingNotification
		var held int
		var e service.Event
		var changes, extra string
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Email, &p.Attempts, &held, &e.ID, &e.AccountID, &e.Type, &e.Date,
			&e.TokenSID, &e.TokenName, scanOpt(&e.ActorSID), scanOpt(&e.ActorName), scanOpt(&e.Client), scanOpt(&e.RequestID), &changes, &extra); err != nil {
			return nil, fmt.Errorf("read claimed notifications: %w", err)
		}
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("read event %d changes: %w", e.ID, err)
		}
		if err := json.Unmarshal([]byte(extra), &e.Extra); err != nil {
			return nil, fmt.Errorf("read event %d: %w", e.ID, err)
		}
		p.Held = held != 0
		body := service.EventBodyOf(&e)
		body.Notifications = nil
		if p.Event, err = json.Marshal(body); err != nil {
			return nil, err
		}
		p.EventID = body.Id
		p.RequestID = e.RequestID.V
		if p.RequestID == "" {
			p.RequestID = body.Id // the server's own events: one message per event
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// ClaimNotifications claims the due notifications of up to limit recipients (an
// account and an address), every due one of each: a recipient's messages are composed
// together (one per request; held ones as one digest). SQLite has one writer, so the
// claim needs no lock beyond its transaction.
func (s *SQLiteStore) ClaimNotifications(ctx context.Context, now, leaseUntil int64, limit int) ([]PendingNotification, error) {
	var ids []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE notifications SET lease_until = $2 WHERE `+outboxDue+`
			AND (account_id, lower(email)) IN (SELECT account_id, lower(email) FROM notifications WHERE `+outboxDue+`
				GROUP BY account_id, lower(email) ORDER BY min(id) LIMIT $3)
			RETURNING id`, now, leaseUntil, limit)
		ids, err = scanIDs(rows, err)
		return err
	})
	if err != nil {
		return nil, err
	}
	return claimedRows(ctx, s.Readers, ids)
}

// ClaimNotifications claims as SQLite's does, across replicas: a recipient is taken
// under a transaction-scoped advisory lock (so two replicas never split one
// recipient's messages) and its rows FOR UPDATE SKIP LOCKED, then leased until
// leaseUntil. A replica that dies mid-send leaves the lease to run out; another
// then sends the message again, with the same Message-ID.
func (s *PostgresStore) ClaimNotifications(ctx context.Context, now, leaseUntil int64, limit int) ([]PendingNotification, error) {
	var ids []int64
	err := PostgresInTx(ctx, s.DB, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `WITH r AS (
				SELECT account_id, lower(email) AS email FROM notifications WHERE `+outboxDue+`
				GROUP BY account_id, lower(email) ORDER BY min(id) LIMIT $3 * 4
			), mine AS (
				SELECT account_id, email FROM r
				WHERE pg_try_advisory_xact_lock($4, hashtext(account_id::text || ' ' || email))
				LIMIT $3
			), picked AS (
				SELECT n.id FROM notifications n JOIN mine ON n.account_id = mine.account_id AND lower(n.email) = mine.email
				WHERE `+outboxDueN+`
				FOR UPDATE OF n SKIP LOCKED
			)
			UPDATE notifications SET lease_until = $2 WHERE id IN (SELECT id FROM picked) RETURNING id`,
			now, leaseUntil, limit, pgOutboxLock)
		ids, err = scanIDs(rows, err)
		return err
	})
	if err != nil {
		return nil, pgError(err)
	}
	return claimedRows(ctx, s.DB, ids)
}

// pgOutboxLock is the first key of the outbox's advisory locks (the second is the
// recipient's hash), apart from the migration lock's.
const pgOutboxLock = 0x696d6d6c // "imml"

// setNotificationState is SetNotificationState for both stores.
func setNotificationState(ctx context.Context, q querier, ids []int64, state string, now, nextAttempt int64, errText string) error {
	if len(ids) == 0 {
		return nil
	}
	var next sql.Null[int64]
	if state == service.NotificationPending {
		next = sql.Null[int64]{V: nextAttempt, Valid: true}
	}
	attempt := 1
	if state == service.NotificationSuppressed {
		attempt = 0
	}
	args := []any{state, now, next, bindOpt(service.Nullable(errText)), attempt}
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = "$" + strconv.Itoa(len(args))
	}
	_, err := q.ExecContext(ctx, `UPDATE notifications SET state = $1, date = $2, next_attempt = $3, last_error = $4,
		attempts = attempts + $5, lease_until = NULL, held = 0 WHERE id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("set notification state: %w", err)
	}
	return nil
}

func deferNotifications(ctx context.Context, q querier, ids []int64, until int64, held bool) error {
	if len(ids) == 0 {
		return nil
	}
	h := 0
	if held {
		h = 1
	}
	args := []any{until, h}
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = "$" + strconv.Itoa(len(args))
	}
	_, err := q.ExecContext(ctx, `UPDATE notifications SET next_attempt = $1, held = $2, lease_until = NULL
		WHERE state = 'PENDING' AND id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("defer notifications: %w", err)
	}
	return nil
}

func mailCounts(ctx context.Context, q querier, accountID int64, email string, since int64) (int, int, error) {
	var to, from int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM mail_sent WHERE account_id = $1 AND email = $2 AND date >= $3),
		(SELECT count(*) FROM mail_sent WHERE account_id = $1 AND date >= $3)`,
		accountID, strings.ToLower(email), since).Scan(&to, &from)
	if err != nil {
		return 0, 0, fmt.Errorf("count mail sent: %w", err)
	}
	return to, from, nil
}

func suppressed(ctx context.Context, q querier, accountID int64, email string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM mail_suppressed WHERE account_id = $1 AND email = $2`,
		accountID, strings.ToLower(email)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read unsubscribed addresses: %w", err)
	}
	return n > 0, nil
}

// settle records want's settings where the database has none yet (all of them when
// replace) and answers what it held before, want's own values where it had none: the
// first server to start decides.
// recordedSettings reads the recorded value of each setting of want; one not
// recorded is missing from the answer.
func recordedSettings(ctx context.Context, q querier, want map[string]string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		if _, ok := want[k]; ok {
			got[k] = v
		}
	}
	return got, rows.Err()
}

func settle(ctx context.Context, q querier, want map[string]string, replace bool) (map[string]string, error) {
	got := map[string]string{}
	for k, v := range want {
		if _, err := q.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, k, v); err != nil {
			return nil, fmt.Errorf("record setting %s: %w", k, err)
		}
		var stored string
		if err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, k).Scan(&stored); err != nil {
			return nil, fmt.Errorf("read setting %s: %w", k, err)
		}
		if replace && stored != v {
			if _, err := q.ExecContext(ctx, `UPDATE meta SET value = $2 WHERE key = $1`, k, v); err != nil {
				return nil, fmt.Errorf("record setting %s: %w", k, err)
			}
		}
		got[k] = stored
	}
	return got, nil
}

// SetNotificationState records an attempt's outcome (or SUPPRESSED) and releases the lease.
func (s *SQLiteStore) SetNotificationState(ctx context.Context, ids []int64, state string, now, nextAttempt int64, errText string) error {
	return setNotificationState(ctx, s.DB, ids, state, now, nextAttempt, errText)
}

// DeferNotifications puts ids back to wait until until, without counting an attempt.
func (s *SQLiteStore) DeferNotifications(ctx context.Context, ids []int64, until int64, held bool) error {
	return deferNotifications(ctx, s.DB, ids, until, held)
}

// MailSent records a message sent.
func (s *SQLiteStore) MailSent(ctx context.Context, accountID int64, email string, at int64) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO mail_sent (account_id, email, date) VALUES ($1, $2, $3)`, accountID, strings.ToLower(email), at)
	return err
}

// MailCounts counts the messages sent since since (see mailOutbox).
func (s *SQLiteStore) MailCounts(ctx context.Context, accountID int64, email string, since int64) (int, int, error) {
	return mailCounts(ctx, s.Readers, accountID, email, since)
}

// PruneMailSent forgets the messages sent before before.
func (s *SQLiteStore) PruneMailSent(ctx context.Context, before int64) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM mail_sent WHERE date < $1`, before)
	return err
}

// Suppress stops email's updates about account's tokens.
func (s *SQLiteStore) Suppress(ctx context.Context, accountID int64, email string, at int64) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO mail_suppressed (account_id, email, date) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, email) DO NOTHING`, accountID, strings.ToLower(email), at)
	return err
}

// Suppressed reports whether email unsubscribed from account's updates.
func (s *SQLiteStore) Suppressed(ctx context.Context, accountID int64, email string) (bool, error) {
	return suppressed(ctx, s.Readers, accountID, email)
}

// Settle records settings on first start (see settle).
func (s *SQLiteStore) Settle(ctx context.Context, want map[string]string, replace bool) (map[string]string, error) {
	// Read first, on a reader: a start with the settings its database records
	// writes nothing.
	if got, err := recordedSettings(ctx, s.Readers, want); err == nil && maps.Equal(got, want) {
		return got, nil
	}
	var got map[string]string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		got, err = settle(ctx, tx, want, replace)
		return err
	})
	return got, err
}

// SetNotificationState records an attempt's outcome (or SUPPRESSED) and releases the lease.
func (s *PostgresStore) SetNotificationState(ctx context.Context, ids []int64, state string, now, nextAttempt int64, errText string) error {
	return pgError(setNotificationState(ctx, s.DB, ids, state, now, nextAttempt, errText))
}

// DeferNotifications puts ids back to wait until until, without counting an attempt.
func (s *PostgresStore) DeferNotifications(ctx context.Context, ids []int64, until int64, held bool) error {
	return pgError(deferNotifications(ctx, s.DB, ids, until, held))
}

// MailSent records a message sent.
func (s *PostgresStore) MailSent(ctx context.Context, accountID int64, email string, at int64) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO mail_sent (account_id, email, date) VALUES ($1, $2, $3)`, accountID, strings.ToLower(email), at)
	return pgError(err)
}

// MailCounts counts the messages sent since since (see mailOutbox).
func (s *PostgresStore) MailCounts(ctx context.Context, accountID int64, email string, since int64) (int, int, error) {
	a, b, err := mailCounts(ctx, s.DB, accountID, email, since)
	return a, b, pgError(err)
}

// PruneMailSent forgets the messages sent before before.
func (s *PostgresStore) PruneMailSent(ctx context.Context, before int64) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM mail_sent WHERE date < $1`, before)
	return pgError(err)
}

// Suppress stops email's updates about account's tokens.
func (s *PostgresStore) Suppress(ctx context.Context, accountID int64, email string, at int64) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO mail_suppressed (account_id, email, date) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, email) DO NOTHING`, accountID, strings.ToLower(email), at)
	return pgError(err)
}

// Suppressed reports whether email unsubscribed from account's updates.
func (s *PostgresStore) Suppressed(ctx context.Context, accountID int64, email string) (bool, error) {
	ok, err := suppressed(ctx, s.DB, accountID, email)
	return ok, pgError(err)
}

// Settle records settings on first start (see settle).
func (s *PostgresStore) Settle(ctx context.Context, want map[string]string, replace bool) (map[string]string, error) {
	got, err := settle(ctx, s.DB, want, replace)
	return got, pgError(err)
}

// scanIDs reads a claim's RETURNING id rows (or the error running it).
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
