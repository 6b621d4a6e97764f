package server

import (
	"context"
	"slices"
)

// A manager is an enabled token holding apitokens.write and every scope held by any
// token of its account, enabled or disabled: a token that can still manage every
// other. A change that leaves an account without one, when it had one, is refused:
// otherwise a leaked token could be beyond anyone's reach through the API. An
// account that has none already is not blocked (`impactctl admin recover` mends it).
// Each account counts alone: an agency's passthrough does not manage a brand.

// keepManager refuses a change of one token from before to after (nil before: a new
// token; nil after: deleted) that would leave the account without a manager. It reads
// the account's roster only when the change can matter: it takes a manager's state,
// scopes or existence away, or grants a scope.
func (x *wtx) keepManager(ctx context.Context, before, after *token) error {
	if !touchesManager(before, after) {
		x.note(before, after)
		return nil
	}
	if x.roster == nil {
		r, err := x.Roster(ctx, x.c.account.ID)
		if err != nil {
			return err
		}
		x.roster = r
	}
	next := applyTo(x.roster, before, after)
	if hasManager(x.roster) && !hasManager(next) {
		return noManagerLeft()
	}
	x.roster = next
	return nil
}

// note keeps a roster already read current with a change the rule did not need to see.
func (x *wtx) note(before, after *token) {
	if x.roster != nil {
		x.roster = applyTo(x.roster, before, after)
	}
}

// noManagerLeft is the last-manager rule's refusal.
func noManagerLeft() *apiError {
	e := lastAdmin("give another enabled token apitokens.write and every scope the account's tokens hold first; " +
		"impactctl admin recover mends an account that has no manager")
	e.Message = "Conflict: the account would have no manager (an enabled token holding apitokens.write and every scope its tokens hold)"
	return e
}

// touchesManager reports whether a change can reduce the account's managers: it
// disables, deletes or de-scopes a token that could be one, or grants a scope (which
// may be one no manager holds).
func touchesManager(before, after *token) bool {
	if after != nil {
		for _, s := range after.Scopes {
			if before == nil || !before.hasScope(s) {
				return true
			}
		}
	}
	if before == nil || !before.enabled() || !before.hasScope(scopeTokensWrite) {
		return false
	}
	if after == nil || !after.enabled() {
		return true
	}
	return len(after.Scopes) < len(before.Scopes)
}

// applyTo answers roster with before replaced by after.
func applyTo(roster []holder, before, after *token) []holder {
	next := make([]holder, 0, len(roster)+1)
	for _, h := range roster {
		if before == nil || h.SID != before.SID {
			next = append(next, h)
		}
	}
	if after != nil {
		next = append(next, holder{SID: after.SID, Enabled: after.enabled(), Scopes: slices.Clone(after.Scopes)})
	}
	return next
}

// hasManager reports whether some enabled token in roster holds apitokens.write and
// every scope any token holds.
func hasManager(roster []holder) bool {
	all := map[string]bool{}
	for _, h := range roster {
		for _, s := range h.Scopes {
			all[s] = true
		}
	}
	for _, h := range roster {
		if !h.Enabled || !slices.Contains(h.Scopes, scopeTokensWrite) {
			continue
		}
		n := 0
		for _, s := range h.Scopes {
			if all[s] {
				n++
			}
		}
		if n == len(all) {
			return true
		}
	}
	return false
}
