package store

import (
	"reflect"
	"strings"
	"testing"
)

func TestInlineInts(t *testing.T) {
	for _, c := range []struct {
		query, want    string
		args, wantArgs []any
	}{
		{"SELECT a FROM t WHERE id = ? LIMIT ?", "SELECT a FROM t WHERE id = 42 LIMIT (-7)", []any{int64(42), -7}, nil},
		// A string stays bound: nothing is written in.
		{"SELECT a FROM t WHERE id = ? AND sid > ?", "SELECT a FROM t WHERE id = ? AND sid > ?", []any{int64(1), "x"}, []any{int64(1), "x"}},
		// A "?" that is not a placeholder: run as it is.
		{"SELECT a FROM t WHERE s = '?' AND id = ?", "SELECT a FROM t WHERE s = '?' AND id = ?", []any{int64(1)}, []any{int64(1)}},
		{"SELECT a - ? FROM t", "SELECT a - (-3) FROM t", []any{-3}, nil},
		{"SELECT 1", "SELECT 1", nil, nil},
	} {
		got, args := inlineInts(c.query, c.args)
		if got != c.want || !reflect.DeepEqual(args, c.wantArgs) {
			t.Errorf("inlineInts(%q, %v) = %q, %v; want %q, %v", c.query, c.args, got, args, c.want, c.wantArgs)
		}
	}
}

func TestSQLiteDueNoticesWritesItsNumbersIn(t *testing.T) {
	q := sqliteDueNotices(1765000000, 100)
	if strings.Contains(q, "$") || !strings.Contains(q, "expires_at <= 1765000000 + 1209600") || !strings.HasSuffix(q, "LIMIT 100") {
		t.Fatalf("sqliteDueNotices = %q", q)
	}
}
