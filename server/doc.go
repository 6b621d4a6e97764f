// Package server is the reference Token API server: impact.com-style token management
// over SQLite or PostgreSQL, as its contract api/openapi.yaml describes.
//
// [Start] runs it on a listener (what `impactctl serve` and `--local` use); [New] is the
// bare http.Handler over a [Store] ([Open] picks [OpenStore] for a file or
// [OpenPostgresStore] for a postgres:// URL), for in-process tests.
//
// ARCHITECTURE.md at the repository's root shows the layers (handlers, the token
// service, the stores) and where each rule lives; docs/decisions.md, section "The
// server", lists the decisions the contract leaves open.
package server
