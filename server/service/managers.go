package service

import (
	"context"
	"slices"
)

// Holder is a token as the last-manager rule sees it.
type Holder struct {
	SID     string
	Enabled bool
	Scopes  []string
	Expires int64 // ExpiresAt in Unix seconds; 0 when the token never expires
}

// A manager is an enabled token that has not expired, holding apitokens.write and
// every scope held by any token of its account, enabled or disabled: a token that
// can still manage every other. A change that leaves an account without one, when
// it had one, is refused: otherwise a leaked token could be beyond anyone's reach
// through the API. So is a change that leaves it without a permanent manager (one
// without ExpiresAt) when it had one, setting or moving ExpiresAt on the last such
// manager included: time alone never orphans an account that had a permanent
// manager. An account that has none already is not blocked (`impactctl admin
// recover` mends it). Each account counts alone: an agency's passthrough does not
// manage a brand.

// The rule never reads the account's tokens: a token's scopes are all among those
// its account's tokens hold, so a manager is an enabled token holding
// apitokens.write and as many scopes as the account's tokens hold together. The
// store counts the holders of each scope in the write transaction (ScopeHolders)
// and finds such a token through an index (ManagerCandidate); a write costs the
// same in an account of a hundred tokens and of a hundred thousand.

// managers is what the last-manager rule knows of the account during one write
// transaction: the tokens the transaction changed, as they are now (their rows may
// not be written yet), how many tokens hold each scope, read once and kept current,
// and, by number of scopes, a manager among the tokens it did not change.
type managers struct {
	changed map[string]*Holder // SID → the token now; nil once deleted
	holders map[string]int     // scope → tokens holding it; nil until the rule needs it
	scopes  int                // the scopes with a holder
	// witness maps a number of scopes (and whether only a token without an expiry
	// counts) to the SID of an unchanged enabled token holding apitokens.write and
	// that many scopes ("": none). A SID stays a witness until the transaction
	// changes that token; "none" stays true, as the unchanged tokens only become
	// fewer (and the transaction's clock does not move).
	witness map[witnessKey]string
}

// witnessKey is what a witness was found for.
type witnessKey struct {
	scopes    int
	permanent bool
}

// keepManager refuses a change of one token from before to after (nil before: a new
// token; nil after: deleted) that would leave the account without a manager, or
// without a permanent one. It asks the store only when the change can matter: it
// takes a manager's state, scopes, permanence or existence away, or grants a scope.
func (x *WriteTx) keepManager(ctx context.Context, before, after *Token) error {
	m := &x.mgr
	if !TouchesManager(before, after) {
		m.apply(before, after)
		return nil
	}
	if m.holders == nil {
		h, err := x.ScopeHolders(ctx, x.Call.Account.ID)
		if err != nil {
			return err
		}
		m.holders, m.scopes, m.witness = h, 0, map[witnessKey]string{}
		for _, n := range h {
			if n > 0 {
				m.scopes++
			}
		}
	}
	if before != nil {
		// The token is counted from here on as the transaction sees it, not as its
		// row may say, before and after the change alike.
		m.apply(before, before)
	}
	had, err := x.hasManager(ctx, x.Now)
	if err != nil {
		return err
	}
	hadPermanent, err := x.hasManager(ctx, 0)
	if err != nil {
		return err
	}
	m.apply(before, after)
	has, err := x.hasManager(ctx, x.Now)
	if err != nil {
		return err
	}
	hasPermanent, err := x.hasManager(ctx, 0)
	if err != nil {
		return err
	}
	switch {
	case had && !has:
		m.apply(after, before)
		return noManagerLeft()
	case hadPermanent && !hasPermanent:
		m.apply(after, before)
		return noPermanentManagerLeft()
	}
	return nil
}

// apply records the change of one token from before to after (nil: none).
func (m *managers) apply(before, after *Token) {
	if m.changed == nil {
		m.changed = map[string]*Holder{}
	}
	if before != nil {
		m.changed[before.SID] = nil
		if m.holders != nil {
			for _, s := range Distinct(before.Scopes) {
				if m.holders[s]--; m.holders[s] == 0 {
					m.scopes--
				}
			}
		}
	}
	if after != nil {
		m.changed[after.SID] = &Holder{SID: after.SID, Enabled: after.Enabled(), Scopes: slices.Clone(after.Scopes),
			Expires: after.ExpiresAt.V}
		if m.holders != nil {
			for _, s := range Distinct(after.Scopes) {
				if m.holders[s]++; m.holders[s] == 1 {
					m.scopes++
				}
			}
		}
	}
}

// hasManager reports whether the account has a manager at now (Unix seconds): an
// enabled token, not expired then, holding apitokens.write and as many scopes as
// the account's tokens hold together. now 0 asks for a permanent manager: one
// without an expiry.
func (x *WriteTx) hasManager(ctx context.Context, now int64) (bool, error) {
	m := &x.mgr
	n := m.scopes
	for _, h := range m.changed {
		if h != nil && h.Enabled && len(h.Scopes) == n && slices.Contains(h.Scopes, ScopeTokensWrite) && h.ManagesAt(now) {
			return true, nil
		}
	}
	key := witnessKey{scopes: n, permanent: now == 0}
	if sid, ok := m.witness[key]; ok {
		if _, gone := m.changed[sid]; sid == "" || !gone {
			return sid != "", nil
		}
	}
	skip := make([]string, 0, len(m.changed))
	for sid := range m.changed {
		skip = append(skip, sid)
	}
	sid, err := x.ManagerCandidate(ctx, x.Call.Account.ID, n, skip, now)
	if err != nil {
		return false, err
	}
	m.witness[key] = sid
	return sid != "", nil
}

// ManagesAt reports whether h's expiry lets it be a manager at now (0: only a
// token without an expiry).
func (h *Holder) ManagesAt(now int64) bool {
	return h.Expires == 0 || now != 0 && now < h.Expires
}

// Distinct answers scopes without repeats, as the store counts holders.
func Distinct(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// noManagerLeft is the last-manager rule's refusal.
func noManagerLeft() *APIError {
	e := LastAdmin("give another enabled token apitokens.write and every scope the account's tokens hold first; " +
		"impactctl admin recover mends an account that has no manager")
	e.Message = "Conflict: the account would have no manager (an enabled token holding apitokens.write and every scope its tokens hold)"
	return e
}

// noPermanentManagerLeft refuses a change that leaves no manager without an expiry.
func noPermanentManagerLeft() *APIError {
	e := LastAdmin("give another enabled token without ExpiresAt apitokens.write and every scope the account's tokens hold first")
	e.Message = "Conflict: the account would have no manager without an expiry, so time alone would leave it without one"
	return e
}

// TouchesManager reports whether a change can reduce the account's managers: it
// disables, deletes or de-scopes a token that could be one, or grants a scope (which
// may be one no manager holds).
func TouchesManager(before, after *Token) bool {
	if after != nil {
		for _, s := range after.Scopes {
			if before == nil || !before.HasScope(s) {
				return true
			}
		}
	}
	if before == nil || !before.Enabled() || !before.HasScope(ScopeTokensWrite) {
		return false
	}
	if after == nil || !after.Enabled() || after.ExpiresAt != before.ExpiresAt {
		return true
	}
	return len(after.Scopes) < len(before.Scopes)
}
