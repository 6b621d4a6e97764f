package store

import (
	"database/sql/driver"
	"fmt"
	"sync"

	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// sqliteNFC names the SQL function SQLite connections answer a string's Unicode
// NFC form with (PostgreSQL has normalize(s, NFC) built in). Token names are
// stored as sent; the exact-name filter compares NFC forms on both sides, so a
// name typed in another normalization form still matches.
const sqliteNFC = "impactctl_nfc"

var registerNFC = sync.OnceValue(func() error {
	return sqlite.RegisterDeterministicScalarFunction(sqliteNFC, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return norm.NFC.String(v), nil
		case []byte:
			return norm.NFC.String(string(v)), nil
		default:
			return nil, fmt.Errorf("%s: not text", sqliteNFC)
		}
	})
})
