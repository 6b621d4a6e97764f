// Package server is the reference Token API server: impact.com-style token management
// over SQLite or PostgreSQL, as its contract api/openapi.yaml describes.
//
// [Start] runs it on a listener (what `impactctl serve` and `--local` use); [New] is the
// bare http.Handler over a [Store] ([Open] picks [OpenStore] for a file or
// [OpenPostgresStore] for a postgres:// URL), for in-process tests.
//
// Decisions the contract leaves open:
//
//   - DELETE ApiTokens/{Sid} answers 204 with no body. In a bulk delete the outcome's
//     StatusCode is 204 and its ApiToken null.
//   - Name filters by case-insensitive substring. CreatedAfter is inclusive (>=),
//     CreatedBefore, LastUsedBefore and ResetBefore are exclusive (<). Dates are RFC 3339
//     times or plain dates (2026-01-02, midnight UTC). LastUsedBefore also matches
//     tokens never used; DateAuthTokenReset is the creation time until the first reset,
//     so ResetBefore measures the age of the current secret. A list parameter given
//     with an empty value (Name=, State=, a date, Page=, PageSize=) is 400, never
//     taken as absent: an unset variable must not widen a selection to everything.
//   - Unknown query parameters are ignored; State is matched case-insensitively.
//     Page past the last one answers an empty page; @numpages is "0" for no items.
//   - A body is one JSON object and nothing after it. An unknown field is refused
//     naming it, unless its name could not be a field (empty, over 64 bytes, or holding
//     a character that does not show as itself): then the refusal names Body.
//   - A rate's window is h, m, s or any Go duration of at least a second ("100/10s").
//   - DateLastUsed is null when never used; PrimaryContact is null when none.
//     Every date has whole-second precision.
//   - ApiTokens/Current's RateLimit is all zeros when the server runs without limits,
//     and no X-RateLimit-* headers are sent then. X-RateLimit-Reset and Retry-After are
//     whole seconds, at least 1. Limits are fixed windows starting at a key's first
//     request. Only authenticated requests that pass the scope check spend budget.
//   - Refusal order: 429 for a blocked client address, 401, 403 disabled, 404 for a
//     path not the caller's; on the passthrough root 403 without advertisers.read, then
//     404 for a brand not managed; 403 missing scope, 429 rate budget; then the body:
//     415, 413, 400 for invalid UTF-8 or a lone surrogate escape; then, for a change:
//     400 malformed body, 404 token, 403 escalation, 412 If-Match, 400 invalid value,
//     409 last_admin. An unauthenticated body is never read.
//   - Layers: handlers decode, call the TokenService and encode; the service holds
//     every rule and runs each change in one Store.Update; the store (SQLite) owns
//     the transactions. A bulk call runs the single calls' code for each SID inside
//     one transaction. On SQLite every write of the process goes through one
//     connection, so writes queue in Go and a request's context ending stops its
//     wait; reads use a separate pool and never wait for the writer.
//   - PostgreSQL: any number of servers share one database. Each write transaction
//     runs at READ COMMITTED and first locks the addressed account's row (FOR NO KEY
//     UPDATE), so writes to one account queue in PostgreSQL across replicas and the
//     last-manager rule, If-Match and idempotency lookups see every earlier change;
//     a deadlock or serialization failure runs the transaction again inside the
//     store. A keyed duplicate on another replica waits on that lock, then replays.
//     Rate budgets and failed-authentication counts are fixed windows in an unlogged
//     table, counted by one atomic upsert per request (refused requests count too;
//     the window is spent either way); windows start at the handling replica's
//     clock. Nothing that decides a request is cached: authentication reads the
//     token's row every time. Lists remember page positions per process, checked
//     against the account's generation in the same snapshot, so a change made
//     through another replica is seen. Migrations, the key fingerprint and seeding
//     run under an advisory lock; a missing key file is created only for a database
//     that records no key yet. Each process keeps at most 32 connections.
//   - The last-manager rule: a manager is an enabled token holding apitokens.write and
//     every scope any token of its account holds. The account's tokens are read
//     (once per transaction) only when a change disables, deletes or de-scopes a
//     token holding apitokens.write, or grants a scope. A Duplicate is checked like a
//     create. Recover (impactctl admin recover) makes "Recovered admin" through the
//     same code, with no caller.
//   - DateLastUsed is written off the request path, at most once a minute per token,
//     a moment after the use; answers show it at once.
//   - Lists remember, per account, every filter's exact value and page size, the
//     total and where each served page ended, valid while the account's tokens do
//     not change; the next page starts there through the index. A list filtered by
//     LastUsedBefore is not remembered. A page whose start is not known steps
//     through the index only.
//   - A body is application/json, optionally with charset=utf-8; any other type or
//     charset is 415. An empty body (chunked or not) needs no Content-Type.
//   - Page runs from 1 to 1,000,000; a page whose offset would overflow is 400.
//   - Every string a body carries follows package contract's rules (no control,
//     format, separator, private-use, unassigned or default-ignorable characters), bulk
//     SIDs and the Name filter of a list included.
//   - Every error carries a Code (package contract lists them). An escalation
//     refusal names the scope in Scope as missing_scope does; a bulk result that
//     failed carries the Code, Scope and Errors its single call would have answered.
//     A keyed request whose twin is still being written gets idempotency_in_flight;
//     a replay superseded by a later reset gets conflict.
//   - Authentication reads one token row whether or not the SID exists (a stand-in
//     row for an unknown or malformed SID) and computes one HMAC either way, so a
//     wrong secret for a known SID and any secret for an unknown one cost the same
//     (BenchmarkFailedAuthentication, BenchmarkAuthLookup). A GET of one token
//     reads that token in the same statement as the caller's: the answer is the
//     token as it stood when the request was authenticated, never a cached copy.
//   - Only 401 answers count as failed authentications against the client address:
//     the TCP peer, or behind a --trusted-proxy the right-most X-Forwarded-For hop
//     not itself trusted, walking from the right; hops left of the client are
//     ignored. A hop must be a bare IP address (no port, no zone); a hop that is
//     anything else, met before the client, makes the nearest trusted proxy (the
//     hop right of it, or the peer) the client. --trusted-proxy takes a
//     CIDR or a single address; an IPv4-mapped range is refused (write it as IPv4).
//     An IPv6 client is counted per /64, and the log's "remote" is the client's
//     full address.
//   - A change that changes nothing (same name, already disabled, same scopes) answers
//     200 with the token and keeps its ETag and DateUpdated. The ETag is the quoted
//     version counter; If-Match accepts "*", lists and W/ tags.
//   - Idempotency: only successful answers are stored (a refusal changed nothing, so
//     a retry is evaluated afresh). Replays carry Idempotent-Replayed: true. A replay
//     whose answer hands out a secret that a later reset replaced, or of a token since
//     deleted, is 409 (this covers create and duplicate as well as reset). Duplicates
//     in flight queue behind the writer and then replay; only another process holding
//     the database past the busy timeout (5 s) gives idempotency_in_flight. A bad
//     Idempotency-Key (not 1–255 printable ASCII; an empty one too, never taken as
//     no key) is 400.
//   - Self-reset: the previous secret replays only the stored reset it made, on its
//     own path (the single reset of its own SID, or the bulk reset that included it),
//     with the same key and body; any other request or mismatch is 401, never 422.
//     The first request made with the new secret ends the grace.
//   - Bulk calls handle their SIDs in request order in one transaction; a SID listed
//     twice, an empty list or more than 100 is 400. Message is "disabled", "already
//     disabled", "enabled", "deleted" or "reset" on OK, else the error's message
//     (with Errors).
//   - Developer e-mails: bare addresses only (no display names), at most 254
//     characters, no repeats (case-insensitive), order kept. Name is 1–100 characters
//     and Description at most 1,000.
//   - Scopes are stored and answered in catalog order; the brand catalog (brand root
//     and passthrough) has no advertisers category.
//   - Without --demo, an empty database gets one agency with an "admin" token holding
//     every scope, so the server is usable (and --ready-file has something to write).
//     Seeding only ever happens into an empty database.
//   - The database file is created 0600 like the key file; a key file that does not
//     match the database is refused at start.
//   - Files (Unix; Windows skips the mode checks): the database's directory must not
//     be writable by others (sticky or not); the database and its -wal and -shm must
//     be regular files owned by the server's user and not writable by group or
//     others; the key file must not be open to group or others at all (0600). Each
//     is opened without following a link in its last element and checked on the
//     descriptor; SQLite then opens the same path, which nobody else can replace in
//     a directory only the user may write to. Group-writable directories are
//     allowed. A refusal is a *FileError (exit 2) naming the file and the chmod or
//     chown to run, and comes before anything is created.
//   - New files holding secrets (the key, the database, the ready file) are created
//     0600 with O_EXCL, in a directory owned by the server's user or by root and not
//     writable by others; the ready file is written beside its final name and renamed
//     into place. A new database's key is made before the database, so a refused key
//     leaves nothing behind. A key file that is missing while its database holds
//     tokens or a key fingerprint (or has a write-ahead log in use) is an error naming
//     it; no new key is made. Links at the key path, dangling or not, are refused.
//   - Updates by mail ([Mailing], mailer.go): the notifications written with each
//     event are the outbox; a background sender claims one recipient's due rows at a
//     time (on PostgreSQL under an advisory lock, FOR UPDATE SKIP LOCKED, with a
//     lease), composes one message per request with package mail, sends it after
//     commit and records SENT, FAILED or the next attempt. Hourly limits count the
//     mail_sent table; held rows (notifications.held) leave as one digest when the
//     clock hour ends. Unsubscribe links are answered at /Unsubscribe, outside the
//     API, their HMAC under a key derived from the key file being the authority.
package server
