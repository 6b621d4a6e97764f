package server

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// StoreOptions tunes a store and the service over it; the zero value is production
// behaviour.
type StoreOptions struct {
	Rand io.Reader        // the source of SIDs and secrets; nil means crypto/rand
	Now  func() time.Time // the clock; nil means time.Now
	// OneShot opens the store for one short command (see store.StoreOptions.OneShot).
	OneShot bool
}

func (o StoreOptions) store() store.StoreOptions {
	return store.StoreOptions{Now: o.Now, OneShot: o.OneShot}
}

// envOver is the service's Env: the keys from the key file st checked at open, and
// opts' random source and clock.
func envOver(st interface{ Key() []byte }, opts StoreOptions) (*service.Env, error) {
	env, err := service.NewEnv(st.Key(), opts.Rand, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return env, nil
}

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
// see store.OpenStore. env is what the service (New, Seed, DemoCredentials) runs with.
func OpenStore(ctx context.Context, path, keyFile string, opts StoreOptions) (st *store.SQLiteStore, env *service.Env, err error) {
	if st, err = store.OpenStore(ctx, path, keyFile, opts.store()); err != nil {
		return nil, nil, err
	}
	if env, err = envOver(st, opts); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, env, nil
}
