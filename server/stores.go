package server

import (
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
