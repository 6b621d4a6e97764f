package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// SQLiteMigrations are applied in order; PRAGMA user_version records how many have
// run. Dates are Unix seconds (UTC), the precision of the wire format. The list is
// built on first use: a command that opens no store never builds it.
var SQLiteMigrations = sync.OnceValue(func() []string {
	return []string{
		baseTables(sqliteTypes, false),
		`
-- The self-reset grace is bound to the path of the reset it may replay.
ALTER TABLE tokens ADD COLUMN prev_reset_path TEXT;
-- Moves with every committed change to an account's tokens: list positions
-- remembered at one generation are not used at another.
ALTER TABLE accounts ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
`,
		eventsTable("INTEGER PRIMARY KEY", "INTEGER") + notificationsTable("INTEGER PRIMARY KEY"),
		mailTables,
		scopeHoldersTable(sqliteTypes) + ` WITHOUT ROWID;
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
		`
-- tokens_managers by rowid within a scope count instead of by SID: a bulk call acts
-- on tokens in the order they are listed, which is the order they were made, so the
-- entries one call adds or removes share a few pages of the index instead of one page
-- each, and its cost no longer grows with the account.
DROP INDEX tokens_managers;
CREATE INDEX tokens_managers ON tokens (account_id, json_array_length(scopes))
	WHERE state = 'ENABLED' AND instr(scopes, '"apitokens.write"') > 0;
`,
	}
})

func (s *SQLiteStore) migrate(ctx context.Context) error {
	// Read on a reader: a database that is up to date is not written.
	var have int
	if err := s.Readers.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(SQLiteMigrations()) {
		return fmt.Errorf("database schema version %d is newer than this server (%d)", have, len(SQLiteMigrations()))
	}
	for i := have; i < len(SQLiteMigrations()); i++ {
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
			if _, err := tx.ExecContext(ctx, SQLiteMigrations()[i]); err != nil {
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
