package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/impactcom/impactctl/server/service"
)

// sqlDueNotices finds the tokens with an event due at $1, at most $2: each part reads
// an index of its own (tokens_notice_due, tokens_overlap_due), so the tokens whose
// notices are all written cost nothing.
const sqlDueNotices = `SELECT account_id, sid FROM (
	SELECT account_id, sid FROM tokens WHERE expires_at IS NOT NULL AND expired_noted_at IS NULL
		AND expires_at <= $1 + ` + "1209600" + `
		AND (expires_at <= $1 OR expiry_warned_1d_at IS NULL AND expires_at <= $1 + ` + "86400" + `
			OR expiry_warned_14d_at IS NULL)
	UNION
	SELECT account_id, sid FROM tokens WHERE overlap_expires IS NOT NULL AND overlap_expires <= $1
) due ORDER BY account_id, sid LIMIT $2`

// DueNotices lists up to limit tokens with a lifecycle event due at at (Unix seconds).
// On SQLite both numbers are written into the statement, which runs as text: SQLite
// plans a statement whose bound value meets a partial index's condition again once
// the value is bound, so a look with parameters was parsed and planned twice.
func (s *SQLiteStore) DueNotices(ctx context.Context, at int64, limit int) ([]service.DueNotice, error) {
	return queryDue(ctx, s.Readers, sqliteDueNotices(at, limit))
}

// sqliteDueNotices is sqlDueNotices with at and limit in place of $1 and $2.
func sqliteDueNotices(at int64, limit int) string {
	return strings.NewReplacer("$1", strconv.FormatInt(at, 10), "$2", strconv.Itoa(limit)).Replace(sqlDueNotices)
}

// DueNotices lists up to limit tokens with a lifecycle event due at at, or, at 0,
// at PostgreSQL's now(): the same clock on every replica.
func (s *PostgresStore) DueNotices(ctx context.Context, at int64, limit int) ([]service.DueNotice, error) {
	if at == 0 {
		if err := s.DB.QueryRowContext(ctx, `SELECT floor(extract(epoch from now()))::bigint`).Scan(&at); err != nil {
			return nil, err
		}
	}
	return queryDue(ctx, s.DB, sqlDueNotices, at, limit)
}

func queryDue(ctx context.Context, q querier, query string, args ...any) ([]service.DueNotice, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []service.DueNotice
	for rows.Next() {
		var d service.DueNotice
		if err := rows.Scan(&d.AccountID, &d.SID); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
