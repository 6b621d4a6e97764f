package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/outbox"
	"github.com/impactcom/impactctl/server/service"
)

// eventsTable is the events table of the migration that added it, for a store
// whose row ids are idType and whose integers are intType.
func eventsTable(idType, intType string) string {
	return fmt.Sprintf(`
-- Every change to a token, written in the change's transaction and kept for the
-- event retention. Pruning removes the lowest ids first. On the wire an event's Id is
-- its date and then its id, so Ids only grow even if a number were ever reused.
CREATE TABLE events (
	id             %[1]s,
	account_id     %[2]s NOT NULL, -- no foreign keys here: checking one costs every event
	type           TEXT NOT NULL,
	date           %[2]s NOT NULL,
	token_sid      TEXT NOT NULL,  -- no foreign key: a deleted token's events stay
	token_name     TEXT NOT NULL,
	actor_sid      TEXT,           -- NULL: another account, admin recover or the server
	actor_name     TEXT,           -- NULL: the server itself
	client_address TEXT,
	request_id     TEXT,
	changes        TEXT NOT NULL DEFAULT '[]', -- JSON, as the wire shows it
	extra          TEXT NOT NULL DEFAULT '{}'  -- JSON: From, PreviousAuthTokenExpiresAt
);
CREATE INDEX events_account ON events(account_id, date, id);
CREATE INDEX events_token ON events(account_id, token_sid, date, id);
`, idType, intType)
}

// notificationsTable is the outbox, the same on both stores but for the id column's
// type: one row per recipient of an event, written in the event's transaction. A mail
// sender takes the PENDING rows (see Outbox) and sets SENT or FAILED; without mail the
// rows are written OFF and nothing waits.
func notificationsTable(idType string) string {
	return `
CREATE TABLE notifications (
	id           ` + idType + `,
	event_id     BIGINT NOT NULL, -- no foreign key: pruned with its event
	account_id   BIGINT NOT NULL,
	email        TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('PENDING', 'SENT', 'FAILED', 'SUPPRESSED', 'OFF')),
	date         BIGINT NOT NULL, -- when the state was set (Unix seconds)
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt BIGINT,          -- PENDING: not before this time
	lease_until  BIGINT,          -- a sender's claim, until this time
	last_error   TEXT
);
CREATE INDEX notifications_event ON notifications(event_id);
CREATE INDEX notifications_pending ON notifications(next_attempt, id) WHERE state = 'PENDING';
`
}

// PendingNotification is one message an outbox sender may have to send.
type PendingNotification = outbox.PendingNotification

// eventColumns are an event row's columns as scanEvent reads them.
const eventColumns = `id, account_id, type, date, token_sid, token_name, actor_sid, actor_name, client_address,
	request_id, changes, extra`

// The events' SQL is written once, with $N placeholders, which SQLite reads as
// PostgreSQL does.
const (
	// The oldest events have the lowest ids: a batch looks at the first rows by id
	// only, so a prune with nothing to do reads a handful of rows, and no index on
	// the date costs every change a write. Notifications go first, with their events.
	sqlPruneBatch         = `SELECT id FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT $2) AND date < $1`
	sqlPruneNotifications = `DELETE FROM notifications WHERE event_id IN (` + sqlPruneBatch + `)`
	sqlPruneEvents        = `DELETE FROM events WHERE id IN (` + sqlPruneBatch + `)`
)

// eventRow is an event's column values, in the events table's order from account_id.
func eventRow(e *service.Event) ([]any, error) {
	changes := "[]"
	if len(e.Changes) > 0 {
		b, err := json.Marshal(e.Changes)
		if err != nil {
			return nil, fmt.Errorf("encode event changes: %w", err)
		}
		changes = string(b)
	}
	extra, err := json.Marshal(e.Extra)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return []any{e.AccountID, e.Type, e.Date, e.TokenSID, e.TokenName, bindOpt(e.ActorSID), bindOpt(e.ActorName), bindOpt(e.Client),
		bindOpt(e.RequestID), changes, string(extra)}, nil
}

func scanEvent(row interface{ Scan(...any) error }) (*service.Event, error) {
	var e service.Event
	var changes, extra string
	if err := row.Scan(&e.ID, &e.AccountID, &e.Type, &e.Date, &e.TokenSID, &e.TokenName, scanOpt(&e.ActorSID), scanOpt(&e.ActorName),
		scanOpt(&e.Client), scanOpt(&e.RequestID), &changes, &extra); err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return nil, fmt.Errorf("read event %d changes: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(extra), &e.Extra); err != nil {
		return nil, fmt.Errorf("read event %d: %w", e.ID, err)
	}
	return &e, nil
}

// queryEvents lists an account's events as f asks, each with its notifications: the
// one reading both stores share.
func queryEvents(ctx context.Context, q querier, accountID int64, f service.EventFilter) ([]service.Event, error) {
	args := []any{accountID}
	conds := []string{"account_id = $1"}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.TokenSID != "" {
		conds = append(conds, "token_sid = "+arg(f.TokenSID))
	}
	if f.Type != "" {
		conds = append(conds, "type = "+arg(f.Type))
	}
	if f.ActorSID != "" {
		conds = append(conds, "actor_sid = "+arg(f.ActorSID))
	}
	if f.Since != 0 {
		conds = append(conds, "date >= "+arg(f.Since))
	}
	if f.Until != 0 {
		conds = append(conds, "date < "+arg(f.Until))
	}
	order := " ORDER BY date DESC, id DESC"
	if a := f.Before; a != nil {
		d := arg(a.Date)
		conds = append(conds, "(date < "+d+" OR date = "+d+" AND id < "+arg(a.ID)+")")
	}
	if a := f.After; a != nil {
		d := arg(a.Date)
		conds = append(conds, "(date > "+d+" OR date = "+d+" AND id > "+arg(a.ID)+")")
		order = " ORDER BY date, id"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE `+strings.Join(conds, " AND ")+
		order+` LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	var out []service.Event
	at := map[int64]int{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		at[e.ID] = len(out)
		out = append(out, *e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	if err := addNotifications(ctx, q, out, at); err != nil {
		return nil, err
	}
	return out, nil
}

// addNotifications reads the notifications of the events in out (at: an event's
// index in out by its id) onto them, in the order they were written.
func addNotifications(ctx context.Context, q querier, out []service.Event, at map[int64]int) error {
	ids := make([]string, 0, len(out))
	nargs := make([]any, 0, len(out))
	for i, e := range out {
		ids = append(ids, "$"+strconv.Itoa(i+1))
		nargs = append(nargs, e.ID)
	}
	nrows, err := q.QueryContext(ctx, `SELECT event_id, email, state, date FROM notifications
		WHERE event_id IN (`+strings.Join(ids, ", ")+`) ORDER BY event_id, id`, nargs...)
	if err != nil {
		return fmt.Errorf("list notifications: %w", err)
	}
	defer nrows.Close()
	for nrows.Next() {
		var id int64
		var n service.Notification
		if err := nrows.Scan(&id, &n.Email, &n.State, &n.Date); err != nil {
			return fmt.Errorf("list notifications: %w", err)
		}
		if i, ok := at[id]; ok {
			out[i].Notifications = append(out[i].Notifications, n)
		}
	}
	if err := nrows.Err(); err != nil {
		return fmt.Errorf("list notifications: %w", err)
	}
	return nil
}

// Events lists an account's events (see eventFilter) from the readers.
func (s *SQLiteStore) Events(ctx context.Context, accountID int64, f service.EventFilter) ([]service.Event, error) {
	return queryEvents(ctx, s.Readers, accountID, f)
}

// PruneEvents removes up to limit events dated before before, oldest first, with
// their notifications, and answers how many went.
func (s *SQLiteStore) PruneEvents(ctx context.Context, before int64, limit int) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = pruneEventsIn(ctx, tx, before, limit)
		return err
	})
	return n, busyAsInFlight(err)
}

// pruneEventsIn removes one batch of events and their notifications, in tx.
func pruneEventsIn(ctx context.Context, tx querier, before int64, limit int) (int, error) {
	if _, err := tx.ExecContext(ctx, sqlPruneNotifications, before, limit); err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	res, err := tx.ExecContext(ctx, sqlPruneEvents, before, limit)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// eventStatements are the writer's prepared event statements.
type eventStatements struct {
	// insertEvents writes as many events as its key, in one statement: a
	// transaction's events go in as few of them as eventChunks make (a bulk call
	// of 100, one), each event's columns bound as they are, nothing encoded to be
	// decoded again. Both inserts are OR FAIL: a failure fails the whole
	// transaction anyway, so SQLite need not keep a statement journal to undo the
	// rows the statement wrote before it (past 64 KiB, a temporary file).
	insertEvents        map[int]*sql.Stmt
	insertNotifications *sql.Stmt
}

// eventChunks are the row counts of insertEvents, largest first.
var eventChunks = []int{contract.MaxBulk, 10, 1}

func prepareEvents(ctx context.Context, db *sql.DB) (*eventStatements, error) {
	st := eventStatements{insertEvents: map[int]*sql.Stmt{}}
	for _, n := range eventChunks {
		p, err := db.PrepareContext(ctx, `INSERT OR FAIL INTO events (account_id, type, date, token_sid, token_name,
		actor_sid, actor_name, client_address, request_id, changes, extra) VALUES `+
			strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", n-1)+`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare insertEvents: %w", err)
		}
		st.insertEvents[n] = p
	}
	// A transaction's notifications go in one statement, whatever their number, as a
	// JSON array of rows.
	var err error
	st.insertNotifications, err = db.PrepareContext(ctx, `INSERT OR FAIL INTO notifications (event_id, account_id, email,
		state, date, next_attempt)
		SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each($1) ORDER BY key`)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("prepare insertNotifications: %w", err)
	}
	return &st, nil
}

func (st *eventStatements) close() error {
	if st == nil {
		return nil
	}
	var errs []error
	for _, p := range st.insertEvents {
		errs = append(errs, p.Close())
	}
	if st.insertNotifications != nil {
		errs = append(errs, st.insertNotifications.Close())
	}
	return errors.Join(errs...)
}

// AddEvent keeps e to be written when the transaction ends (see writeEvents).
func (x *sqliteTx) AddEvent(ctx context.Context, e *service.Event) error {
	x.events = append(x.events, e)
	return nil
}

// writeEvents writes the transaction's events, in as few statements as
// eventChunks make, then their notifications in one.
func (x *sqliteTx) writeEvents(ctx context.Context) error {
	if len(x.events) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(x.events))
	args := make([]any, 0, 11*min(len(x.events), eventChunks[0]))
	for left := x.events; len(left) > 0; {
		n := eventChunks[len(eventChunks)-1]
		for _, c := range eventChunks {
			if c <= len(left) {
				n = c
				break
			}
		}
		args = args[:0]
		for _, e := range left[:n] {
			row, err := eventRow(e)
			if err != nil {
				return err
			}
			args = append(args, row...)
		}
		left = left[n:]
		res, err := x.stmt(ctx, x.s.evs.insertEvents[n]).QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		from := len(ids)
		for res.Next() {
			var id int64
			if err := res.Scan(&id); err != nil {
				res.Close()
				return fmt.Errorf("insert events: %w", err)
			}
			ids = append(ids, id)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		// Rows are inserted in the order of VALUES, each taking the next id.
		slices.Sort(ids[from:])
	}
	if len(ids) != len(x.events) {
		return fmt.Errorf("insert events: %d ids for %d events", len(ids), len(x.events))
	}
	var nrows [][]any
	for i, e := range x.events {
		e.ID = ids[i]
		for _, n := range e.Notifications {
			var next any
			if n.State == service.NotificationPending {
				next = n.Date
			}
			nrows = append(nrows, []any{e.ID, e.AccountID, n.Email, n.State, n.Date, next})
		}
	}
	if len(nrows) == 0 {
		return nil
	}
	list, err := json.Marshal(nrows)
	if err != nil {
		return fmt.Errorf("encode notifications: %w", err)
	}
	if _, err := x.stmt(ctx, x.s.evs.insertNotifications).ExecContext(ctx, string(list)); err != nil {
		return fmt.Errorf("insert notifications: %w", err)
	}
	return nil
}

// Events lists an account's events (see eventFilter).
func (s *PostgresStore) Events(ctx context.Context, accountID int64, f service.EventFilter) ([]service.Event, error) {
	return queryEvents(ctx, s.DB, accountID, f)
}

// PruneEvents removes up to limit events dated before before, oldest first, with
// their notifications.
func (s *PostgresStore) PruneEvents(ctx context.Context, before int64, limit int) (int, error) {
	n := 0
	err := PostgresInTx(ctx, s.DB, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		var err error
		n, err = pruneEventsIn(ctx, tx, before, limit)
		return err
	})
	return n, err
}

// AddEvent keeps e to be written when the transaction ends, in the statement that
// moves the account's generation: events cost a write transaction no round trip.
func (t *pgTx) AddEvent(ctx context.Context, e *service.Event) error {
	t.events = append(t.events, e)
	return nil
}

// pgEventArrays are a transaction's events and their notifications as column
// arrays, for the one statement that writes them all.
type pgEventArrays struct {
	acct, date                             []int64
	typ, sid, name, changes, extra         []string
	actorSID, actorName, client, requestID []*string
	nOrd                                   []int32 // the notification's event, 1-based
	nAcct, nDate                           []int64
	nNext                                  []*int64
	nEmail, nState                         []string
}

// add appends event e, the i-th of the transaction, and its notifications.
func (c *pgEventArrays) add(i int, e *service.Event) error {
	row, err := eventRow(e)
	if err != nil {
		return err
	}
	c.acct, c.typ, c.date = append(c.acct, e.AccountID), append(c.typ, e.Type), append(c.date, e.Date)
	c.sid, c.name = append(c.sid, e.TokenSID), append(c.name, e.TokenName)
	c.actorSID, c.actorName = append(c.actorSID, e.ActorSID.Ptr()), append(c.actorName, e.ActorName.Ptr())
	c.client, c.requestID = append(c.client, e.Client.Ptr()), append(c.requestID, e.RequestID.Ptr())
	c.changes, c.extra = append(c.changes, row[9].(string)), append(c.extra, row[10].(string))
	for _, nt := range e.Notifications {
		c.nOrd, c.nAcct, c.nEmail = append(c.nOrd, int32(i+1)), append(c.nAcct, e.AccountID), append(c.nEmail, nt.Email)
		c.nState, c.nDate = append(c.nState, nt.State), append(c.nDate, nt.Date)
		var next *int64
		if nt.State == service.NotificationPending {
			d := nt.Date
			next = &d
		}
		c.nNext = append(c.nNext, next)
	}
	return nil
}

// finish writes the transaction's events and their notifications and moves the
// generation of every account whose tokens changed, in one statement.
func (t *pgTx) finish(ctx context.Context) error {
	gens := make([]int64, 0, len(t.changed))
	for id := range t.changed {
		gens = append(gens, id)
	}
	if len(t.events) == 0 {
		if len(gens) == 0 {
			return nil
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE accounts SET generation = generation + 1 WHERE id = ANY($1)`, gens); err != nil {
			return fmt.Errorf("account generation: %w", err)
		}
		return nil
	}
	var c pgEventArrays
	for i, e := range t.events {
		if err := c.add(i, e); err != nil {
			return err
		}
	}
	var ids []int64
	rows, err := t.tx.QueryContext(ctx, `WITH ids AS MATERIALIZED (
			SELECT ord, nextval('events_id_seq') AS id
			FROM generate_series(1, $1::int) AS ord ORDER BY ord
		), ev AS (
			INSERT INTO events (id, account_id, type, date, token_sid, token_name, actor_sid, actor_name,
				client_address, request_id, changes, extra)
			SELECT ids.id, v.account_id, v.type, v.date, v.sid, v.name, v.actor_sid, v.actor_name, v.client,
				v.request_id, v.changes, v.extra
			FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::text[], $10::text[], $11::text[], $12::text[])
				WITH ORDINALITY AS v(account_id, type, date, sid, name, actor_sid, actor_name, client, request_id,
					changes, extra, ord)
			JOIN ids ON ids.ord = v.ord
		), nt AS (
			INSERT INTO notifications (event_id, account_id, email, state, date, next_attempt)
			SELECT ids.id, n.account_id, n.email, n.state, n.date, n.next
			FROM unnest($13::int[], $14::bigint[], $15::text[], $16::text[], $17::bigint[], $18::bigint[])
				AS n(ord, account_id, email, state, date, next)
			JOIN ids ON ids.ord = n.ord
		), gen AS (
			UPDATE accounts SET generation = generation + 1 WHERE id = ANY($19::bigint[])
		)
		SELECT id FROM ids ORDER BY ord`,
		len(t.events), c.acct, c.typ, c.date, c.sid, c.name, c.actorSID, c.actorName, c.client, c.requestID,
		c.changes, c.extra, c.nOrd, c.nAcct, c.nEmail, c.nState, c.nDate, c.nNext, gens)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	for i, id := range ids {
		t.events[i].ID = id
	}
	return nil
}
