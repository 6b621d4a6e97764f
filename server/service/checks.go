package service

import (
	"fmt"
	"strconv"
)

// Call is an authenticated, authorised request: who calls and which account the
// path addresses.
type Call struct {
	Caller  *Token
	Account *Account // the caller's own account, or the managed brand on the passthrough root
	Base    string   // the root as requested, e.g. "/Agencies/IR…/Advertisers/1048291"
	// replayOnly means the caller presented the secret its own reset replaced: the
	// request may only replay that reset's stored answer.
	ReplayOnly bool
	// previous means the caller presented the secret an overlapping reset replaced:
	// it may do anything the token may except change the token itself.
	Previous bool
	// now is the store's clock as authentication read it (Unix seconds).
	Now int64
	// idem is the POST's Idempotency-Key, when it has one.
	Idem *IdemKey
	// target is the addressed token as authentication read it, for a GET of it.
	Target *targetRead
	// requestID and client are the request's X-Request-Id and client address, as
	// the events it writes record them.
	RequestID, Client string
	// actorName names an actor that is no token (admin recover) in the events written.
	ActorName string
}

// mayActOn refuses escalation: a caller cannot act on a token holding a scope it lacks.
func mayActOn(caller, target *Token) error {
	for _, s := range target.Scopes {
		if !caller.HasScope(s) {
			return Escalation(s, "the token holds "+s+", which the calling token lacks")
		}
	}
	return nil
}

// TokenSpec is a create or duplicate request; nil fields were not given.
type TokenSpec struct {
	Name, Description *string
	Version           *int
	Contact           *string // "" means none
	Scopes, Emails    []string
	HasScopes         bool
	HasEmails         bool
	ExpiresAt         *int64 // nil: never
}

// checkVersion validates an API version for a token of kind.
func checkVersion(kind string, v int) error {
	r := apiVersions[kind]
	if v < r.min || v > r.max {
		api := "Agency"
		if kind == KindBrand {
			api = "Brand"
		}
		return BadRequest("ApiVersion", "must be from %d to %d for a token of the %s API", r.min, r.max, api)
	}
	return nil
}

// scopeField resolves requested scopes for kind, naming the first unknown one.
func scopeField(field, kind string, requested []string) ([]string, error) {
	scopes, bad := ExpandScopes(kind, requested)
	if bad != "" {
		return nil, BadRequest(field, "unknown scope %q; see ApiScopes for the catalog", bad)
	}
	return scopes, nil
}

// mayGrant refuses granting a scope the caller does not hold.
func mayGrant(caller *Token, scopes []string) error {
	for _, s := range scopes {
		if !caller.HasScope(s) {
			return Escalation(s, fmt.Sprintf("cannot grant %s, which the calling token lacks", s))
		}
	}
	return nil
}

// API versions per token kind: the Agency API and the Brand API.
var apiVersions = map[string]struct{ min, max int }{
	KindAgency: {2, 3},
	KindBrand:  {11, 14},
}

// LatestVersion is the newest API version a token of kind can have.
func LatestVersion(kind string) int { return apiVersions[kind].max }

// ETagOf is t's ETag: its version, quoted.
func ETagOf(t *Token) string { return `"` + strconv.FormatInt(t.Version, 10) + `"` }
