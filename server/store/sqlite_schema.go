package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SQLiteMigrations are applied in order; PRAGMA user_version records how many have run.
// Dates are Unix seconds (UTC), the precision of the wire format.
var SQLiteMigrations = []string{
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- An agency, or a brand (impact.com Advertiser) managed by an agency.
CREATE TABLE accounts (
	id                INTEGER PRIMARY KEY,
	kind              TEXT NOT NULL CHECK (kind IN ('agency', 'brand')),
	parent_id         INTEGER REFERENCES accounts(id),
	public_id         TEXT NOT NULL UNIQUE,
	name              TEXT NOT NULL,
	state             TEXT NOT NULL DEFAULT 'ACTIVE',
	website           TEXT NOT NULL DEFAULT '',
	phone             TEXT NOT NULL DEFAULT '',
	phone_country     TEXT NOT NULL DEFAULT '',
	currency          TEXT NOT NULL DEFAULT 'USD',
	timezone          TEXT NOT NULL DEFAULT 'UTC',
	organization_type TEXT NOT NULL DEFAULT '',
	address_line1     TEXT NOT NULL DEFAULT '',
	address_line2     TEXT NOT NULL DEFAULT '',
	city              TEXT NOT NULL DEFAULT '',
	region            TEXT NOT NULL DEFAULT '',
	postal_code       TEXT NOT NULL DEFAULT '',
	country           TEXT NOT NULL DEFAULT '',
	date_created      INTEGER NOT NULL,
	CHECK ((kind = 'brand') = (parent_id IS NOT NULL))
);
CREATE INDEX accounts_parent ON accounts(parent_id, public_id);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	name       TEXT NOT NULL,
	email      TEXT NOT NULL
);
CREATE INDEX users_account ON users(account_id, id);

-- A token; deleting one deletes the row, so its SID stops authenticating at once.
CREATE TABLE tokens (
	sid                   TEXT PRIMARY KEY,
	account_id            INTEGER NOT NULL REFERENCES accounts(id),
	name                  TEXT NOT NULL,
	description           TEXT NOT NULL DEFAULT '',
	state                 TEXT NOT NULL CHECK (state IN ('ENABLED', 'DISABLED')),
	api_version           INTEGER NOT NULL,
	primary_contact_id    TEXT REFERENCES users(id),
	developer_emails      TEXT NOT NULL DEFAULT '[]', -- JSON array, in the order given
	scopes                TEXT NOT NULL DEFAULT '[]', -- JSON array, in catalog order
	secret_enc            BLOB NOT NULL,              -- AES-GCM, bound to the SID
	secret_mac            BLOB NOT NULL,              -- keyed HMAC-SHA256, compared in constant time
	secret_hint           TEXT NOT NULL,
	reset_count           INTEGER NOT NULL DEFAULT 0,
	version               INTEGER NOT NULL DEFAULT 1, -- the ETag: bumps on every editable change
	date_created          INTEGER NOT NULL,
	date_updated          INTEGER NOT NULL,
	date_last_used        INTEGER,
	date_auth_token_reset INTEGER NOT NULL,
	-- After a self-reset: the previous secret, good until prev_expires only to replay
	-- the reset made with Idempotency-Key prev_reset_key.
	prev_secret_mac       BLOB,
	prev_expires          INTEGER,
	prev_reset_key        TEXT
);
CREATE INDEX tokens_account_created ON tokens(account_id, date_created, sid);

-- Answers to POSTs made with an Idempotency-Key, kept 24 hours.
CREATE TABLE idempotency (
	caller_sid   TEXT NOT NULL,
	method       TEXT NOT NULL,
	path         TEXT NOT NULL,
	key          TEXT NOT NULL,
	body_hash    BLOB NOT NULL,  -- SHA-256 of the request body
	status       INTEGER NOT NULL,
	headers      TEXT NOT NULL,  -- JSON object of the headers replayed
	body_enc     BLOB NOT NULL,  -- the answer body, AES-GCM (it may hold a secret)
	resets       TEXT NOT NULL DEFAULT '[]', -- JSON [{"Sid","ResetCount"}] of resets made
	date_created INTEGER NOT NULL,
	expires      INTEGER NOT NULL,
	PRIMARY KEY (caller_sid, method, path, key)
);
CREATE INDEX idempotency_expires ON idempotency(expires);

-- Well-known demo tokens by role, so their credentials survive restarts.
CREATE TABLE demo_roles (
	role TEXT PRIMARY KEY,
	sid  TEXT NOT NULL
);
`,
	`
-- The self-reset grace is bound to the path of the reset it may replay.
ALTER TABLE tokens ADD COLUMN prev_reset_path TEXT;
-- Moves with every committed change to an account's tokens: list positions
-- remembered at one generation are not used at another.
ALTER TABLE accounts ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
`,
	eventsTable("INTEGER PRIMARY KEY", "INTEGER") + notificationsTable("INTEGER PRIMARY KEY"),
	mailTables,
	`
-- How many tokens of each account hold each scope (rows at 0 stay), kept by the
-- triggers below in the transaction that changes the tokens: with the index
-- tokens_managers, the last-manager rule reads what can change its answer, never
-- the whole account.
CREATE TABLE scope_holders (
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	scope      TEXT NOT NULL,
	holders    INTEGER NOT NULL,
	PRIMARY KEY (account_id, scope)
) WITHOUT ROWID;
INSERT INTO scope_holders (account_id, scope, holders)
	SELECT t.account_id, s.value, count(DISTINCT t.sid) FROM tokens t, json_each(t.scopes) s
	GROUP BY t.account_id, s.value;
CREATE TRIGGER tokens_scopes_insert AFTER INSERT ON tokens BEGIN
	INSERT INTO scope_holders (account_id, scope, holders)
		SELECT DISTINCT NEW.account_id, value, 1 FROM json_each(NEW.scopes) WHERE true
		ON CONFLICT (account_id, scope) DO UPDATE SET holders = holders + 1;
END;
CREATE TRIGGER tokens_scopes_delete AFTER DELETE ON tokens BEGIN
	UPDATE scope_holders SET holders = holders - 1
		WHERE account_id = OLD.account_id AND scope IN (SELECT value FROM json_each(OLD.scopes));
END;
CREATE TRIGGER tokens_scopes_update AFTER UPDATE OF scopes ON tokens WHEN NEW.scopes <> OLD.scopes BEGIN
	UPDATE scope_holders SET holders = holders - 1
		WHERE account_id = OLD.account_id AND scope IN (SELECT value FROM json_each(OLD.scopes));
	INSERT INTO scope_holders (account_id, scope, holders)
		SELECT DISTINCT NEW.account_id, value, 1 FROM json_each(NEW.scopes) WHERE true
		ON CONFLICT (account_id, scope) DO UPDATE SET holders = holders + 1;
END;
-- The tokens that can be managers: enabled, holding apitokens.write, by their
-- number of scopes (a manager holds as many as its account's tokens hold together).
CREATE INDEX tokens_managers ON tokens (account_id, json_array_length(scopes), sid)
	WHERE state = 'ENABLED' AND instr(scopes, '"apitokens.write"') > 0;
`,
	lifecycleColumns("INTEGER", "BLOB"),
	lifecycleIndexes,
}

func (s *SQLiteStore) migrate(ctx context.Context) error {
	// Read on a reader: a database that is up to date is not written.
	var have int
	if err := s.Readers.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(SQLiteMigrations) {
		return fmt.Errorf("database schema version %d is newer than this server (%d)", have, len(SQLiteMigrations))
	}
	for i := have; i < len(SQLiteMigrations); i++ {
		// Each migration is its own transaction on the writer, before its
		// statements can be prepared; the version is read again under the
		// writer's lock, where another process may have moved it.
		err := runTx(ctx, s.DB, nil, func(tx *sql.Tx) error {
			var now int
			if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&now); err != nil {
				return err
			}
			if now != i {
				return nil
			}
			if _, err := tx.ExecContext(ctx, SQLiteMigrations[i]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}
