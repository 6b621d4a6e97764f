package server

import (
	"context"
	"database/sql"

	"github.com/impactcom/impactctl/server/service"
)

// The server is three layers with arrows one way: handlers (HTTP: decode, call,
// encode) → the token service (every rule: scopes, escalation, If-Match, the last
// manager, idempotency, the self-reset grace) → a Store (rows and transactions).
// A Store speaks no HTTP and knows no rule; the service speaks no SQL.

// TokenService is the server's domain: one method per operation on tokens. Each
// change takes the caller (in w), the target SID and the version the caller saw
// (w.IfMatch), and answers what the client is sent, so a keyed retry can be answered
// the same way from storage.
type TokenService interface {
	// Authenticate finds the token sid and checks secret in constant time against
	// both its slots (the current secret and an overlap's previous one), then its
	// expiry. A secret that only replays a self-reset (see grace) authenticates
	// with replayOnly set. A target SID ("" none) is read in the same lookup, for a
	// read of that token to use (see Token).
	Authenticate(ctx context.Context, sid, secret string, g grace, target string) (authResult, error)
	// Account and ManagedBrand resolve the account a path addresses.
	Account(ctx context.Context, id int64) (*service.Account, error)
	ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*service.Account, error)
	Brands(ctx context.Context, c *call, p service.Page) ([]service.Account, int, error)
	Users(ctx context.Context, c *call, p service.Page) ([]service.User, int, error)

	// Token reads one token of the addressed account (404 when not there), or takes
	// it from c.target when authentication read it.
	Token(ctx context.Context, c *call, sid string) (*service.Token, error)
	// Secret reveals a token's secret, refused when it holds a scope the caller lacks.
	Secret(ctx context.Context, c *call, sid string) (string, error)
	// Tokens lists one page and the total, read consistently.
	Tokens(ctx context.Context, c *call, f service.TokenFilter, p service.Page) ([]service.Token, int, error)

	// Events lists the addressed account's events, or token sid's ("" all).
	Events(ctx context.Context, c *call, sid string, f service.EventFilter) ([]service.Event, error)

	// Replay answers the stored reply to a keyed POST (nil when there is none).
	Replay(ctx context.Context, c *call) (*service.Answer, error)

	Create(ctx context.Context, w write, spec *tokenSpec) (*service.Answer, error)
	Duplicate(ctx context.Context, w write, sid string, spec *tokenSpec) (*service.Answer, error)
	Update(ctx context.Context, w write, sid string, p tokenPatch) (*service.Answer, error)
	SetScopes(ctx context.Context, w write, sid string, scopes []string) (*service.Answer, error)
	SetEmails(ctx context.Context, w write, sid string, emails []string) (*service.Answer, error)
	SetState(ctx context.Context, w write, sid string, state string) (*service.Answer, error)
	Reset(ctx context.Context, w write, sid string, o resetOptions) (*service.Answer, error)
	// EndOverlap forgets a token's previous secret now; nothing to forget is no change.
	EndOverlap(ctx context.Context, w write, sid string) (*service.Answer, error)
	Delete(ctx context.Context, w write, sid string) (*service.Answer, error)
	// Bulk runs op for each SID, in order, inside one transaction: the same code a
	// single change runs, one outcome per SID.
	Bulk(ctx context.Context, w write, op bulkOp, sids []string, o resetOptions) (*service.Answer, error)
}

// authResult is who authenticated, and how.
type authResult struct {
	token *service.Token
	// read is the target token when one was asked for (its token nil when none is).
	read *targetRead
	// replayOnly: the secret a self-reset replaced, good only to replay that reset.
	replayOnly bool
	// previous: the secret an overlapping reset replaced, good for anything but
	// changing its own token.
	previous bool
	// now is the store's clock the decision was made at (Unix seconds).
	now int64
}

// resetOptions is a reset's optional body: keep the previous secret working for
// previousValidFor seconds (0: refuse it at once, ending any overlap), and set a new
// expiry in the same step.
type resetOptions struct {
	previousValidFor int64
	expiresAt        *sql.NullInt64 // nil: unchanged; a null value clears it
}

// write is one change as the service receives it.
type write struct {
	c *call
	// ifMatch is the If-Match the caller sent ("" none): the version it saw.
	ifMatch string
	// render turns the change's outcome into the reply, inside the transaction, so a
	// keyed change and its stored reply commit together.
	render func(outcome) (*service.Answer, error)
}

// outcome is what a change did.
type outcome struct {
	Token   *service.Token // the token afterwards; nil after a delete
	Secret  string         // the new secret of a create, duplicate or reset
	Created bool
	Deleted bool
	Changed bool          // false for a change to nothing (already disabled, same name)
	Results []bulkOutcome // a bulk call's outcomes, in request order
}

// bulkOutcome is one SID's part of a bulk call: the outcome, or the refusal.
type bulkOutcome struct {
	Sid     string
	Outcome outcome
	Message string // "disabled", "already disabled", "enabled", "deleted", "reset"
	Err     *service.APIError
}

// bulkOp is the action a bulk call applies to each SID.
type bulkOp int

const (
	bulkDisable bulkOp = iota
	bulkEnable
	bulkDelete
	bulkReset
)

// tokenPatch is a PATCH: only the fields set change. contact "" clears it.
type tokenPatch struct {
	name, description *string
	version           *int
	contact           *string
	expiresAt         *sql.NullInt64 // a null value clears it
}

// targetRead is the token a request addresses as authentication read it, in the
// same statement as the caller's: the read a GET would make a moment later.
type targetRead struct {
	sid   string
	token *service.Token // nil: no token has sid
}

// grace is what a request must match for a token's previous secret to replay its
// self-reset: the method, path and Idempotency-Key as stored.
type grace struct {
	method, path, key string
}
