// Package server is the reference Token API server: impact.com-style token management
// over SQLite or PostgreSQL, as its contract api/openapi.yaml describes.
//
// [Start] runs it on a listener (what `impactctl serve` uses), or with
// [Config].InProcess for this process alone, its requests carried by
// [Instance.Transport] to the handler (what `--local` uses); [New] is the bare
// http.Handler over a [service.Store] and the [service.Env] the service runs with
// ([Open] picks [store.OpenStore] for a file or [store.OpenPostgresStore] for a
// postgres:// URL and builds the Env), for in-process tests.
//
// The parts live in packages of their own: server/httpapi (routes, authentication,
// handlers), server/service (the domain, the Store interface and the token service
// that holds every rule), server/store (SQLite, PostgreSQL and their shared SQL),
// server/ratelimit, server/outbox (the mail sender) and server/mail. ARCHITECTURE.md at
// the repository's root shows the layers, what each package may import and where each
// rule lives; docs/decisions.md, section "The
// server", lists the decisions the contract leaves open.
package server
