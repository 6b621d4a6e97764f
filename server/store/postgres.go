package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresDSN reports whether a --db value names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgresDSN(db string) bool {
	lower := strings.ToLower(db)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// RedactDSN returns dsn fit for a log line or an error: any password, in the user
// information or in a password parameter, is replaced by "xxxxx".
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		// Unparseable: keep the scheme only, since the rest may hold a password.
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://(unparseable)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// pgMigrationLock is the advisory lock key every serve process takes while it migrates,
// checks the key fingerprint and seeds, so replicas may start together.
const pgMigrationLock int64 = 0x696d70616374 // "impact"

// OpenPostgres connects to the PostgreSQL database dsn names. Statements are prepared
// once per connection and cached (pgx's default), so hot queries are parsed once.
func OpenPostgres(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's own message may quote the DSN; say what is wrong without it.
		return nil, fmt.Errorf("database %s: not a valid PostgreSQL connection URL", RedactDSN(dsn))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "impactctl"
	}
	// Every session reads and writes UTC; dates are stored as Unix seconds anyway.
	cfg.RuntimeParams["timezone"] = "UTC"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", RedactDSN(dsn), pgError(err))
	}
	return db, nil
}

// pgError drops what a driver error might quote of the connection string; pgx's
// connect errors name the host, port, user and database, never the password.
func pgError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err
}

// PostgresMigrations are applied in order; impactctl_schema records how many have run. Dates
// are Unix seconds (UTC), the precision of the wire format; lists are JSON text, as in
// SQLite, so one scan reads both. Built on first use, as SQLiteMigrations.
var PostgresMigrations = sync.OnceValue(func() []string {
	return []string{
		baseTables(postgresTypes, true) + `
-- Fixed-window counters every replica shares: request budgets per token and failed
-- authentications per client address. Unlogged: a crash resets the windows, nothing more.
CREATE UNLOGGED TABLE rate_windows (
	scope        TEXT NOT NULL,   -- 'token' or 'auth_fail'
	key          TEXT NOT NULL,   -- a token SID or a client address
	window_start BIGINT NOT NULL, -- Unix milliseconds
	count        BIGINT NOT NULL,
	PRIMARY KEY (scope, key)
);
CREATE INDEX rate_windows_start ON rate_windows(window_start);
`,
		eventsTable("BIGSERIAL PRIMARY KEY", "BIGINT") + notificationsTable("BIGSERIAL PRIMARY KEY"),
		mailTables,
		scopeHoldersTable(postgresTypes) + `;
INSERT INTO scope_holders (account_id, scope, holders)
	SELECT t.account_id, s.scope, count(DISTINCT t.sid)
	FROM tokens t CROSS JOIN LATERAL json_array_elements_text(t.scopes::json) AS s(scope)
	GROUP BY t.account_id, s.scope;
CREATE FUNCTION tokens_scope_holders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE scope_holders SET holders = holders - 1
			WHERE account_id = OLD.account_id
			AND scope IN (SELECT json_array_elements_text(OLD.scopes::json));
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO scope_holders (account_id, scope, holders)
			SELECT DISTINCT NEW.account_id, s, 1 FROM json_array_elements_text(NEW.scopes::json) AS s
			ON CONFLICT (account_id, scope) DO UPDATE SET holders = scope_holders.holders + 1;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER tokens_scopes_insert AFTER INSERT ON tokens
	FOR EACH ROW EXECUTE FUNCTION tokens_scope_holders();
CREATE TRIGGER tokens_scopes_delete AFTER DELETE ON tokens
	FOR EACH ROW EXECUTE FUNCTION tokens_scope_holders();
CREATE TRIGGER tokens_scopes_update AFTER UPDATE OF scopes ON tokens
	FOR EACH ROW WHEN (OLD.scopes IS DISTINCT FROM NEW.scopes) EXECUTE FUNCTION tokens_scope_holders();
-- The tokens that can be managers: enabled, holding apitokens.write, by their
-- number of scopes (a manager holds as many as its account's tokens hold together).
CREATE INDEX tokens_managers ON tokens (account_id, json_array_length(scopes::json), sid)
	WHERE state = 'ENABLED' AND strpos(scopes, '"apitokens.write"') > 0;
`,
		lifecycleColumns("BIGINT", "BYTEA"),
		lifecycleIndexes,
		`
-- Moved (nextval) after every write transaction: replicas keep the tokens they
-- read only while it stands still.
CREATE SEQUENCE IF NOT EXISTS auth_generation;
-- tokens_managers without the SID: entries of equal scope counts are kept in the
-- order of their rows, so the tokens one bulk call changes share a few pages of the
-- index instead of one page each.
DROP INDEX tokens_managers;
CREATE INDEX tokens_managers ON tokens (account_id, json_array_length(scopes::json))
	WHERE state = 'ENABLED' AND strpos(scopes, '"apitokens.write"') > 0;
`,
	}
})

// PostgresMigrate brings the schema up to date and checks the key fingerprint, then runs
// then (seeding), all under the migration advisory lock: replicas starting together
// take turns, and the first to arrive records the key every later one must match.
func PostgresMigrate(ctx context.Context, db *sql.DB, keyCheck string, then func(ctx context.Context) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", pgError(err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, pgMigrationLock); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", pgError(err))
	}
	defer func() {
		// Unlock even when ctx has ended; closing the session would release it too.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, pgMigrationLock)
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS impactctl_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", pgError(err))
	}
	var have int
	err = conn.QueryRowContext(ctx, `SELECT version FROM impactctl_schema`).Scan(&have)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := conn.ExecContext(ctx, `INSERT INTO impactctl_schema (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: %w", pgError(err))
		}
	} else if err != nil {
		return fmt.Errorf("migrate: read schema version: %w", pgError(err))
	}
	if have > len(PostgresMigrations()) {
		return fmt.Errorf("database schema version %d is newer than this server (%d): upgrade impactctl", have, len(PostgresMigrations()))
	}
	for i := have; i < len(PostgresMigrations()); i++ {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, pgError(err))
		}
		if _, err := tx.ExecContext(ctx, PostgresMigrations()[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, pgError(err))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE impactctl_schema SET version = $1`, i+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, pgError(err))
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, pgError(err))
		}
	}
	if err := pgCheckKey(ctx, conn, keyCheck); err != nil {
		return err
	}
	if then != nil {
		return then(ctx)
	}
	return nil
}

// pgCheckKey records the key's fingerprint on first start and refuses any other key
// later: a replica started with another key file would hand out secrets no other
// replica could read.
func pgCheckKey(ctx context.Context, conn *sql.Conn, keyCheck string) error {
	if _, err := conn.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('key_check', $1)
		ON CONFLICT (key) DO NOTHING`, keyCheck); err != nil {
		return fmt.Errorf("record key fingerprint: %w", pgError(err))
	}
	var stored string
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&stored); err != nil {
		return fmt.Errorf("read key fingerprint: %w", pgError(err))
	}
	if stored != keyCheck {
		return errors.New("the key file does not match this database: every server on one database needs the same key file")
	}
	return nil
}

// pgHasKeyCheck reports whether the database already records a key fingerprint (it
// holds secrets sealed with some key), for telling a missing key file from a first start.
func pgHasKeyCheck(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'key_check'`).Scan(&n)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: a fresh database
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read key fingerprint: %w", pgError(err))
	}
	return n > 0, nil
}

// pgRetryable reports whether err is a transient failure that running the whole
// transaction again resolves: a serialization failure or a deadlock victim.
func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	}
	return false
}

// PostgresInTx runs fn in one transaction, committing when it returns nil, and runs it again
// from the start (with a short, growing pause) when PostgreSQL reports a serialization
// failure or a deadlock, so a conflicting writer never surfaces to the client as an error.
func PostgresInTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	pause := time.Millisecond
	for attempt := 1; ; attempt++ {
		err := runTx(ctx, db, opts, fn)
		if err == nil || !pgRetryable(err) || attempt == 50 {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if pause < 50*time.Millisecond {
			pause *= 2
		}
	}
}
