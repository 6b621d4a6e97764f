package service

import (
	"context"
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
	Authenticate(ctx context.Context, sid, secret string, g Grace, target string) (AuthResult, error)
	// Account and ManagedBrand resolve the account a path addresses.
	Account(ctx context.Context, id int64) (*Account, error)
	ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*Account, error)
	Brands(ctx context.Context, c *Call, p Page) ([]Account, int, error)
	Users(ctx context.Context, c *Call, p Page) ([]User, int, error)

	// Token reads one token of the addressed account (404 when not there), or takes
	// it from c.target when authentication read it.
	Token(ctx context.Context, c *Call, sid string) (*Token, error)
	// Secret reveals a token's secret, refused when it holds a scope the caller lacks.
	Secret(ctx context.Context, c *Call, sid string) (string, error)
	// Tokens lists one page and the total, read consistently.
	Tokens(ctx context.Context, c *Call, f TokenFilter, p Page) ([]Token, int, error)

	// Events lists the addressed account's events, or token sid's ("" all).
	Events(ctx context.Context, c *Call, sid string, f EventFilter) ([]Event, error)

	// Replay answers the stored reply to a keyed POST (nil when there is none).
	Replay(ctx context.Context, c *Call) (*Answer, error)

	Create(ctx context.Context, w Write, spec *TokenSpec) (*Answer, error)
	Duplicate(ctx context.Context, w Write, sid string, spec *TokenSpec) (*Answer, error)
	Update(ctx context.Context, w Write, sid string, p TokenPatch) (*Answer, error)
	SetScopes(ctx context.Context, w Write, sid string, scopes []string) (*Answer, error)
	SetEmails(ctx context.Context, w Write, sid string, emails []string) (*Answer, error)
	SetState(ctx context.Context, w Write, sid string, state string) (*Answer, error)
	Reset(ctx context.Context, w Write, sid string, o ResetOptions) (*Answer, error)
	// EndOverlap forgets a token's previous secret now; nothing to forget is no change.
	EndOverlap(ctx context.Context, w Write, sid string) (*Answer, error)
	Delete(ctx context.Context, w Write, sid string) (*Answer, error)
	// Bulk runs op for each SID, in order, inside one transaction: the same code a
	// single change runs, one outcome per SID.
	Bulk(ctx context.Context, w Write, op BulkOp, sids []string, o ResetOptions) (*Answer, error)
}

// AuthResult is who authenticated, and how.
type AuthResult struct {
	Token *Token
	// read is the target token when one was asked for (its token nil when none is).
	Read *targetRead
	// replayOnly: the secret a self-reset replaced, good only to replay that reset.
	ReplayOnly bool
	// previous: the secret an overlapping reset replaced, good for anything but
	// changing its own token.
	Previous bool
	// now is the store's clock the decision was made at (Unix seconds).
	Now int64
}

// ResetOptions is a reset's optional body: keep the previous secret working for
// previousValidFor seconds (0: refuse it at once, ending any overlap), and set a new
// expiry in the same step.
type ResetOptions struct {
	PreviousValidFor int64
	ExpiresAt        *Opt[int64] // nil: unchanged; a null value clears it
}

// Write is one change as the service receives it.
type Write struct {
	Call *Call
	// ifMatch is the If-Match the caller sent ("" none): the version it saw.
	IfMatch string
	// render turns the change's outcome into the reply, inside the transaction, so a
	// keyed change and its stored reply commit together.
	Render func(Outcome) (*Answer, error)
}

// Outcome is what a change did.
type Outcome struct {
	Token   *Token // the token afterwards; nil after a delete
	Secret  string // the new secret of a create, duplicate or reset
	Created bool
	Deleted bool
	Changed bool          // false for a change to nothing (already disabled, same name)
	Results []bulkOutcome // a bulk call's outcomes, in request order
}

// bulkOutcome is one SID's part of a bulk call: the outcome, or the refusal.
type bulkOutcome struct {
	Sid     string
	Outcome Outcome
	Message string // "disabled", "already disabled", "enabled", "deleted", "reset"
	Err     *APIError
}

// BulkOp is the action a bulk call applies to each SID.
type BulkOp int

const (
	BulkDisable BulkOp = iota
	BulkEnable
	BulkDelete
	BulkReset
)

// TokenPatch is a PATCH: only the fields set change. contact "" clears it.
type TokenPatch struct {
	Name, Description *string
	Version           *int
	Contact           *string
	ExpiresAt         *Opt[int64] // a null value clears it
}

// targetRead is the token a request addresses as authentication read it, in the
// same statement as the caller's: the read a GET would make a moment later.
type targetRead struct {
	sid   string
	token *Token // nil: no token has sid
}

// Grace is the request as authentication weighs it: its method (a GET may be
// answered from kept copies), and what it must match for a token's previous secret
// to replay its self-reset: the method, path and Idempotency-Key as stored (path and
// key only on the reset endpoints).
type Grace struct {
	Method, Path, Key string
}
