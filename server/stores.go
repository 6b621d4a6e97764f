package server

import (
	"context"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// StoreOptions tunes a store; the zero value is production behaviour.
type StoreOptions = store.StoreOptions

// FileError is a server file that is unsafe to use or cannot be used; the server
// refuses to start over it, before anything changes.
type FileError = store.FileError

// IsPostgresDSN reports whether a --db value names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgresDSN(s string) bool { return store.IsPostgresDSN(s) }

// DefaultEventRetention is how long a server keeps events unless told otherwise.
const DefaultEventRetention = service.DefaultEventRetention

// OpenStore opens (creating if needed) the SQLite database at path, applies pending
// migrations and loads the encryption key from keyFile ("" means path + ".key");
// see store.OpenStore.
func OpenStore(ctx context.Context, path, keyFile string, opts StoreOptions) (*store.SQLiteStore, error) {
	return store.OpenStore(ctx, path, keyFile, opts)
}
