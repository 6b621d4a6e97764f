package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
)

// selfResetGrace is how long a token's previous secret may replay its own reset.
const selfResetGrace = 10 * time.Minute

// idempotencyTTL is how long a reply to a keyed POST is kept.
const idempotencyTTL = 24 * time.Hour

// Rules is the TokenService over any Store: every rule lives here, once.
type Rules struct {
	st  Store
	Env *Env
	// mail says whether the server sends updates by mail: new notifications are
	// PENDING then, else OFF.
	Mail bool
	// gens and cache keep authentication's reads between requests, when st offers
	// a shared generation (see Generations); nil otherwise.
	gens  Generations
	cache *authCache
}

// NewRules is the token service over st, with env's keys, random source and clock.
func NewRules(st Store, env *Env) *Rules {
	s := &Rules{st: st, Env: env}
	if g, ok := st.(Generations); ok && env != nil {
		s.gens, s.cache = g, newAuthCache(env.KeepAuth)
	}
	return s
}

var _ TokenService = (*Rules)(nil)

// Authenticate finds the token and compares an HMAC of the secret in constant time
// with both slots, the current secret and an overlap's previous one (a dummy when
// there is none), so an overlap costs nothing a caller could time; an unknown SID
// spends the same compares. Then expiry (told only after the secret matched, so it
// tells a guesser nothing). The previous secret of a self-reset authenticates only
// to replay that reset (replayOnly), matching g. For a GET, the token and the
// target come from the store, or from the copies an earlier request of the same
// caller, with the same secret, read at the generation still current (see
// authCache).
func (s *Rules) Authenticate(ctx context.Context, sid, secret string, g Grace, target string) (AuthResult, error) {
	if !contract.ValidSID(sid) {
		sid = "" // no token has it; looked up all the same, at the same cost
	}
	if !contract.ValidSID(target) {
		target = ""
	}
	mac := s.Env.Keys.MAC(secret)
	var gen uint64
	var kept bool
	readAt := time.Now()
	if s.cache != nil && (g.Method == http.MethodGet || g.Method == http.MethodHead) {
		// Copies serve reads; a write reads its caller from the store, sparing
		// PostgreSQL the counter's round trip on a path that moves it anyway.
		gen, kept = s.gens.Generation(ctx)
	}
	var t, other *Token
	hit := false
	if kept {
		t, other, hit = s.cache.lookup(gen, readAt, sid, mac, target)
	}
	if !hit {
		var err error
		if target != "" {
			t, other, err = s.st.TokenBySIDWith(ctx, sid, target)
		} else {
			t, err = s.st.TokenBySID(ctx, sid)
		}
		if errors.Is(err, ErrNotFound) {
			t = nil
		} else if err != nil {
			return AuthResult{}, err
		}
	}
	res := AuthResult{Token: t}
	if target != "" {
		res.Read = &targetRead{sid: target, token: other}
	}
	res.Now = s.Env.StoreClock(t)
	current, previous := s.secretMatchesMAC(t, mac)
	if !current && !previous {
		if t != nil && s.previousSecretReplays(t, secret, g) {
			if t.ExpiredAt(res.Now) {
				return AuthResult{}, TokenExpired()
			}
			res.ReplayOnly = true
			return res, nil
		}
		return AuthResult{}, Unauthorized()
	}
	if t.ExpiredAt(res.Now) {
		return AuthResult{}, TokenExpired()
	}
	if previous {
		res.Previous = true
		s.touchPrevious(t)
		return res, nil
	}
	if t.PrevMAC != nil {
		// Ending the grace writes, which moves the generation: nothing to keep.
		if err := s.endGrace(ctx, t); err != nil {
			return AuthResult{}, err
		}
		kept = false
	}
	s.touch(t)
	if kept && !hit {
		s.cache.keep(gen, readAt, t, target, other)
	}
	return res, nil
}

// touchPrevious records a use of t's previous secret (PreviousAuthTokenLastUsed),
// at most once a minute, never changing the ETag.
func (s *Rules) touchPrevious(t *Token) {
	now := s.Env.Clock().Unix()
	if t.OverlapLastUsed.Valid && now-t.OverlapLastUsed.V < 60 {
		return
	}
	s.st.Touch(PreviousUse+t.SID, now)
	t.OverlapLastUsed = Some(now)
	if s.cache != nil {
		s.cache.used(t.SID, now, true)
	}
}

// touch records a use, at most once a minute per token, never changing the ETag.
func (s *Rules) touch(t *Token) {
	now := s.Env.Clock().Unix()
	if t.LastUsed.Valid && now-t.LastUsed.V < 60 {
		return
	}
	s.st.Touch(t.SID, now)
	t.LastUsed = Some(now)
	if s.cache != nil {
		s.cache.used(t.SID, now, false)
	}
}

// SecretMatches compares the secret's HMAC with t's current secret and with its
// overlap slot, both always and in constant time: the slot's MAC when an overlap is
// running at the store's clock, a dummy otherwise. t nil (an unknown SID) spends the
// same two compares.
func (s *Rules) SecretMatches(t *Token, secret string) (current, previous bool) {
	return s.secretMatchesMAC(t, s.Env.Keys.MAC(secret))
}

// secretMatchesMAC is SecretMatches with the secret's HMAC already made.
func (s *Rules) secretMatchesMAC(t *Token, mac []byte) (current, previous bool) {
	if t == nil {
		hmac.Equal(mac, s.Env.Keys.DummyMAC)
		hmac.Equal(mac, s.Env.Keys.DummyMAC)
		return false, false
	}
	slot, live := s.Env.Keys.DummyMAC, t.OverlapAt(s.Env.StoreClock(t))
	if live {
		slot = t.OverlapMAC
	}
	current = hmac.Equal(mac, t.SecretMAC)
	previous = hmac.Equal(mac, slot) && live
	return current, previous
}

// previousSecretReplays reports whether secret is t's pre-reset secret, inside its
// grace period, presented on the very request of the self-reset that replaced it:
// POST, the same path and the same Idempotency-Key.
func (s *Rules) previousSecretReplays(t *Token, secret string, g Grace) bool {
	if t.PrevMAC == nil || !t.PrevExpires.Valid || !t.PrevResetKey.Valid || !t.PrevResetPath.Valid {
		return false
	}
	if s.Env.Clock().Unix() >= t.PrevExpires.V {
		return false
	}
	macOK := hmac.Equal(s.Env.Keys.MAC(secret), t.PrevMAC)
	return macOK && g.Method == http.MethodPost && g.Key != "" &&
		g.Key == t.PrevResetKey.V && g.Path == t.PrevResetPath.V
}

// endGrace forgets a token's previous secret: the new one is in use, so a lost
// answer is no longer possible.
func (s *Rules) endGrace(ctx context.Context, t *Token) error {
	err := s.st.Update(ctx, t.AccountID, func(tx Tx) error {
		cur, err := tx.Token(ctx, t.AccountID, t.SID)
		if err != nil || cur.PrevMAC == nil {
			return err
		}
		clearGrace(cur)
		return tx.UpdateToken(ctx, cur)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	clearGrace(t)
	return nil
}

func clearGrace(t *Token) {
	t.PrevMAC, t.PrevExpires, t.PrevResetKey, t.PrevResetPath = nil, Opt[int64]{}, Opt[string]{}, Opt[string]{}
}

func (s *Rules) Account(ctx context.Context, id int64) (*Account, error) {
	return s.st.Account(ctx, id)
}

func (s *Rules) ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*Account, error) {
	a, err := s.st.ManagedBrand(ctx, agencyID, publicID)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound()
	}
	return a, err
}

func (s *Rules) Brands(ctx context.Context, c *Call, p Page) ([]Account, int, error) {
	return s.st.Brands(ctx, c.Account.ID, p)
}

func (s *Rules) Users(ctx context.Context, c *Call, p Page) ([]User, int, error) {
	return s.st.Users(ctx, c.Account.ID, p)
}

func (s *Rules) Token(ctx context.Context, c *Call, sid string) (*Token, error) {
	if r := c.Target; r != nil && r.sid == sid {
		if r.token == nil || r.token.AccountID != c.Account.ID {
			return nil, NotFound()
		}
		return r.token, nil
	}
	t, err := s.st.Token(ctx, c.Account.ID, sid)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound()
	}
	return t, err
}

// Secret reveals a token's secret; revealing a token that holds a scope the caller
// lacks would be escalation.
func (s *Rules) Secret(ctx context.Context, c *Call, sid string) (string, error) {
	t, err := s.Token(ctx, c, sid)
	if err != nil {
		return "", err
	}
	if err := mayActOn(c.Caller, t); err != nil {
		return "", err
	}
	plain, err := s.Env.Keys.Open(t.SecretEnc, t.SID)
	if err != nil {
		return "", fmt.Errorf("token %s secret: %w", t.SID, err)
	}
	if err := s.recordReveal(ctx, c, t); err != nil {
		return "", err
	}
	return string(plain), nil
}

func (s *Rules) Tokens(ctx context.Context, c *Call, f TokenFilter, p Page) ([]Token, int, error) {
	return s.st.Tokens(ctx, c.Account.ID, f, p)
}

// Replay answers the stored reply to the call's keyed POST, or nil when there is
// none. The previous secret of a self-reset gets nothing else.
func (s *Rules) Replay(ctx context.Context, c *Call) (*Answer, error) {
	if c.Idem == nil {
		if c.ReplayOnly {
			return nil, Unauthorized()
		}
		return nil, nil
	}
	rec, err := s.st.Idempotency(ctx, c.Idem, s.Env.Clock().Unix())
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if c.ReplayOnly {
			return nil, Unauthorized()
		}
		return nil, nil
	}
	return s.replay(ctx, c, rec)
}

// replay answers a stored record, unless the body differs (422; 401 for the previous
// secret of a self-reset, which must not learn that its guess of the key was right)
// or a later reset has superseded a secret it hands out (409).
func (s *Rules) replay(ctx context.Context, c *Call, rec *IdemRecord) (*Answer, error) {
	if !bytes.Equal(rec.Hash, c.Idem.Hash) {
		if c.ReplayOnly {
			return nil, Unauthorized()
		}
		return nil, IdempotencyMismatch()
	}
	for _, m := range rec.Resets {
		t, err := s.st.TokenBySID(ctx, m.Sid)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if t == nil || t.ResetCount != m.ResetCount {
			return nil, Conflict("Idempotency-Key", "a later change superseded the reset this key made; its secret is no longer valid")
		}
	}
	a := &Answer{Status: rec.Status, Header: rec.Header.Clone(), Replayed: true}
	if len(rec.BodyEnc) > 0 {
		body, err := s.Env.Keys.Open(rec.BodyEnc, c.Idem.AD())
		if err != nil {
			return nil, fmt.Errorf("read idempotency record: %w", err)
		}
		a.Body = body
	}
	return a, nil
}

// change runs op in one write transaction of the addressed account and answers its
// rendered outcome. With an Idempotency-Key the reply is stored in that same
// transaction, so a change and its record are never apart; a record that appeared
// while this request queued for the writer (a duplicate in flight) is replayed
// instead of changing anything twice.
func (s *Rules) change(ctx context.Context, w Write, op func(x *WriteTx) (Outcome, error)) (*Answer, error) {
	c := w.Call
	var ans *Answer
	var stored *IdemRecord
	err := s.st.Update(ctx, c.Account.ID, func(tx Tx) error {
		ans, stored = nil, nil
		now := s.Env.Clock()
		if c.Idem != nil {
			rec, err := tx.Idempotency(ctx, c.Idem, now.Unix())
			if err != nil {
				return err
			}
			if rec != nil {
				stored = rec
				return nil
			}
		}
		if c.ReplayOnly {
			return Unauthorized()
		}
		x := &WriteTx{Tx: tx, Svc: s, Call: c, Now: now.Unix()}
		// A store with a clock of its own (PostgreSQL's now()) decides the change's
		// time, so every replica judges expiry alike.
		if sc, ok := tx.(interface{ StoreNow() (int64, bool) }); ok && !s.Env.FixedClock {
			if n, valid := sc.StoreNow(); valid {
				x.Now = n
			}
		}
		out, err := op(x)
		if err != nil {
			return err
		}
		a, err := w.Render(out)
		if err != nil {
			return err
		}
		a.Resets = resetsOf(out)
		if c.Idem != nil {
			if err := s.save(ctx, tx, c.Idem, a, now); err != nil {
				return err
			}
		}
		ans = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if stored != nil {
		return s.replay(ctx, c, stored)
	}
	return ans, nil
}

// save stores a reply for its Idempotency-Key, the body sealed (it may hold a secret).
func (s *Rules) save(ctx context.Context, tx Tx, k *IdemKey, a *Answer, now time.Time) error {
	rec := &IdemRecord{Hash: k.Hash, Status: a.Status, Header: a.Header, Resets: a.Resets,
		Created: now.Unix(), Expires: now.Add(idempotencyTTL).Unix()}
	if a.Body != nil {
		enc, err := s.Env.Keys.Seal(a.Body, k.AD())
		if err != nil {
			return err
		}
		rec.BodyEnc = enc
	}
	return tx.SaveIdempotency(ctx, k, rec)
}

// resetsOf lists the secrets an outcome hands out, so a replay after a later reset
// is refused rather than handing out a dead secret.
func resetsOf(out Outcome) []ResetMark {
	var marks []ResetMark
	if out.Secret != "" && out.Token != nil {
		marks = append(marks, ResetMark{Sid: out.Token.SID, ResetCount: out.Token.ResetCount})
	}
	for _, r := range out.Results {
		marks = append(marks, resetsOf(r.Outcome)...)
	}
	return marks
}

// WriteTx is one change's transaction with what the rules need along the way: the caller
// and what the last-manager rule knows of the account, kept current as the change
// proceeds.
type WriteTx struct {
	Tx
	Svc  *Rules
	Call *Call
	Now  int64
	mgr  managers
	// pre holds tokens read ahead, all at once, for the changes about to name them;
	// target takes each out as it is used, so a token is read ahead at most once.
	pre map[string]*Token
}

// readAhead reads the tokens of sids, for target to find without a statement each:
// a bulk call names up to a hundred. Under the transaction's lock on the account no
// one else changes them meanwhile.
func (x *WriteTx) readAhead(ctx context.Context, sids []string) error {
	toks, err := x.Tokens(ctx, x.Call.Account.ID, sids)
	if err != nil {
		return err
	}
	x.pre = make(map[string]*Token, len(toks))
	for _, t := range toks {
		x.pre[t.SID] = t
	}
	return nil
}

// target finds the token a change names: 404 when it is not the caller's to see,
// 403 when it holds a scope the caller lacks (no escalation), 412 when ifMatch is
// stale.
func (x *WriteTx) target(ctx context.Context, sid, ifMatch string) (*Token, error) {
	var t *Token
	var err error
	if pre, ok := x.pre[sid]; ok {
		delete(x.pre, sid)
		t = pre
	} else {
		t, err = x.Token(ctx, x.Call.Account.ID, sid)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound()
	}
	if err != nil {
		return nil, err
	}
	if err := mayActOn(x.Call.Caller, t); err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, t); err != nil {
		return nil, err
	}
	return t, nil
}

// edit runs a change to one token: find it, apply, and when anything changed, check
// the last-manager rule, move the version (the ETag) and DateUpdated, and write it.
func (x *WriteTx) edit(ctx context.Context, sid, ifMatch string, apply func(t *Token) (bool, error)) (Outcome, error) {
	t, err := x.changing(ctx, sid, ifMatch)
	if err != nil {
		return Outcome{}, err
	}
	before := SnapshotOf(t)
	changed, err := apply(t)
	if err != nil {
		return Outcome{}, err
	}
	if changed {
		if err := x.keepManager(ctx, &before, t); err != nil {
			return Outcome{}, err
		}
		t.Version++
		t.Updated = x.Now
		if err := x.write(ctx, &before, t); err != nil {
			return Outcome{}, err
		}
		if err := x.recordEdit(ctx, &before, t); err != nil {
			return Outcome{}, err
		}
	}
	return Outcome{Token: t, Changed: changed}, nil
}

// stateWriter is a transaction that can write a change of a token's state alone
// (SQLite: the state, version and date_updated columns only, so a bulk disable
// writes no other column and keeps no index on one).
type stateWriter interface {
	UpdateState(ctx context.Context, t *Token) error
}

// write stores an edit of t, read as before: a change of state alone, where the
// store can, as such; anything else as the whole token.
func (x *WriteTx) write(ctx context.Context, before, t *Token) error {
	if sw, ok := x.Tx.(stateWriter); ok && onlyStateMoved(before, t) {
		return sw.UpdateState(ctx, t)
	}
	return x.UpdateToken(ctx, t)
}

// onlyStateMoved reports whether t differs from before in its state, version and
// date_updated alone: every other field, stored or not, compares equal.
func onlyStateMoved(before, t *Token) bool {
	c := *t
	c.State, c.Version, c.Updated = before.State, before.Version, before.Updated
	return reflect.DeepEqual(&c, before)
}

// changing is target for a change to the token itself: the previous secret of an
// overlap may change any token but its own (403), so a leaked old secret can never
// outlive the rotation.
func (x *WriteTx) changing(ctx context.Context, sid, ifMatch string) (*Token, error) {
	t, err := x.target(ctx, sid, ifMatch)
	if err != nil {
		return nil, err
	}
	if x.Call.Previous && t.SID == x.Call.Caller.SID {
		return nil, PreviousSecret()
	}
	return t, nil
}

// setExpiry gives t the expiry at (null: never): it must lie in the future, and a
// token may not move its own expiry later or clear it. The last-manager rule is the
// caller's (edit runs it on every change).
func (x *WriteTx) setExpiry(t *Token, at Opt[int64]) (bool, error) {
	if at.Valid && at.V <= x.Now {
		return false, BadRequest("ExpiresAt", "must lie in the future")
	}
	if t.SID == x.Call.Caller.SID && t.ExpiresAt.Valid && (!at.Valid || at.V > t.ExpiresAt.V) {
		return false, SelfExtension()
	}
	// Moving the expiry re-arms the expiry_warning and expired notices (setExpiry
	// clears their marks).
	return t.SetExpiry(at), nil
}

// SnapshotOf is a copy of t whose lists a change to t cannot reach.
func SnapshotOf(t *Token) Token {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	c.Emails = slices.Clone(t.Emails)
	return c
}

func (s *Rules) Update(ctx context.Context, w Write, sid string, p TokenPatch) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		return x.edit(ctx, sid, w.IfMatch, func(t *Token) (bool, error) {
			changed := false
			if p.Name != nil && *p.Name != t.Name {
				t.Name, changed = *p.Name, true
			}
			if p.Description != nil && *p.Description != t.Description {
				t.Description, changed = *p.Description, true
			}
			if p.Version != nil {
				v := *p.Version
				if err := checkVersion(t.Kind, v); err != nil {
					return false, err
				}
				if v < t.APIVersion {
					return false, BadRequest("ApiVersion", "can only go up; the token is at %d", t.APIVersion)
				}
				if v != t.APIVersion {
					t.APIVersion, changed = v, true
				}
			}
			if p.Contact != nil {
				ch, err := x.setContact(ctx, t, *p.Contact)
				if err != nil {
					return false, err
				}
				changed = changed || ch
			}
			if p.ExpiresAt != nil {
				ch, err := x.setExpiry(t, *p.ExpiresAt)
				if err != nil {
					return false, err
				}
				changed = changed || ch
			}
			return changed, nil
		})
	})
}

// setContact sets t's primary contact to user id ("" clears it). A user of another
// account gets exactly the answer of a user that does not exist.
func (x *WriteTx) setContact(ctx context.Context, t *Token, id string) (bool, error) {
	if id == "" {
		if !t.ContactID.Valid {
			return false, nil
		}
		t.ContactID, t.ContactName, t.ContactEmail = Opt[string]{}, Opt[string]{}, Opt[string]{}
		return true, nil
	}
	u, err := x.User(ctx, t.AccountID, id)
	if errors.Is(err, ErrNotFound) {
		return false, BadRequest("PrimaryContactId", "%q is not a user of this account; see Users", id)
	}
	if err != nil {
		return false, err
	}
	if t.ContactID.Valid && t.ContactID.V == u.ID {
		return false, nil
	}
	t.ContactID = Some(u.ID)
	t.ContactName = Some(u.Name)
	t.ContactEmail = Some(u.Email)
	return true, nil
}

// SetScopes replaces a token's scopes; "category.*" names a whole category.
func (s *Rules) SetScopes(ctx context.Context, w Write, sid string, requested []string) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		return x.edit(ctx, sid, w.IfMatch, func(t *Token) (bool, error) {
			scopes, err := scopeField("Scopes", t.Kind, requested)
			if err != nil {
				return false, err
			}
			if err := mayGrant(x.Call.Caller, scopes); err != nil {
				return false, err
			}
			return replaceList(&t.Scopes, scopes), nil
		})
	})
}

// SetEmails replaces the whole developer e-mail list.
func (s *Rules) SetEmails(ctx context.Context, w Write, sid string, emails []string) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		return x.edit(ctx, sid, w.IfMatch, func(t *Token) (bool, error) {
			return replaceList(&t.Emails, emails), nil
		})
	})
}

// SetState disables or enables a token; already so is a no-op.
func (s *Rules) SetState(ctx context.Context, w Write, sid string, state string) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) { return x.setState(ctx, sid, w.IfMatch, state) })
}

func (x *WriteTx) setState(ctx context.Context, sid, ifMatch, state string) (Outcome, error) {
	return x.edit(ctx, sid, ifMatch, func(t *Token) (bool, error) {
		if t.State == state {
			return false, nil
		}
		t.State = state
		return true, nil
	})
}

// Delete removes a token; its credentials are refused from the next request.
func (s *Rules) Delete(ctx context.Context, w Write, sid string) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) { return x.delete(ctx, sid, w.IfMatch) })
}

func (x *WriteTx) delete(ctx context.Context, sid, ifMatch string) (Outcome, error) {
	t, err := x.changing(ctx, sid, ifMatch)
	if err != nil {
		return Outcome{}, err
	}
	if err := x.keepManager(ctx, t, nil); err != nil {
		return Outcome{}, err
	}
	if err := x.DeleteToken(ctx, t.SID); err != nil {
		return Outcome{}, err
	}
	if err := x.record(ctx, EvDeleted, t, nil, EventExtra{}); err != nil {
		return Outcome{}, err
	}
	return Outcome{Deleted: true, Changed: true}, nil
}

// Reset gives a token a new secret. Without an overlap the old one is refused from
// the next request (ending any overlap), except, after a self-reset made with an
// Idempotency-Key, to replay that very request for selfResetGrace. With one, the
// old secret keeps working beside the new one for o.previousValidFor seconds, in
// the overlap slot (replacing an earlier previous secret: never more than two).
func (s *Rules) Reset(ctx context.Context, w Write, sid string, o ResetOptions) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) { return x.reset(ctx, sid, w.IfMatch, o) })
}

func (x *WriteTx) reset(ctx context.Context, sid, ifMatch string, o ResetOptions) (Outcome, error) {
	t, err := x.changing(ctx, sid, ifMatch)
	if err != nil {
		return Outcome{}, err
	}
	before := SnapshotOf(t)
	if o.ExpiresAt != nil {
		if _, err := x.setExpiry(t, *o.ExpiresAt); err != nil {
			return Outcome{}, err
		}
	}
	oldEnc, oldMAC := t.SecretEnc, t.SecretMAC
	secret, err := x.Svc.NewSecret(t)
	if err != nil {
		return Outcome{}, err
	}
	t.ResetCount++
	t.Version++
	t.Updated, t.AuthReset = x.Now, x.Now
	clearGrace(t)
	// An earlier overlap ends here, replaced or refused at once: where an
	// overlap_ended notice belongs when clearOverlap reports one.
	t.ClearOverlap()
	switch {
	case o.PreviousValidFor > 0:
		t.OverlapEnc, t.OverlapMAC = oldEnc, oldMAC
		t.OverlapExpires = Some(x.Now + o.PreviousValidFor)
	case t.SID == x.Call.Caller.SID && x.Call.Idem != nil:
		t.PrevMAC = oldMAC
		t.PrevExpires = Some(x.Now + int64(selfResetGrace/time.Second))
		t.PrevResetKey = Some(x.Call.Idem.Key)
		t.PrevResetPath = Some(x.Call.Idem.Path)
	}
	if err := x.keepManager(ctx, &before, t); err != nil {
		return Outcome{}, err
	}
	if err := x.UpdateToken(ctx, t); err != nil {
		return Outcome{}, err
	}
	// The event says until when the previous secret works, with an overlap.
	var extra EventExtra
	if t.OverlapExpires.Valid {
		at := t.OverlapExpires.V
		extra.PreviousAuthTokenExpiresAt = &at
	}
	var changes []EventChange
	if c, ok := expiryChange(&before, t); ok {
		changes = append(changes, c)
	}
	if err := x.record(ctx, EvReset, t, changes, extra); err != nil {
		return Outcome{}, err
	}
	return Outcome{Token: t, Secret: secret, Changed: true}, nil
}

// EndOverlap forgets a token's previous secret: refused from the next request.
func (s *Rules) EndOverlap(ctx context.Context, w Write, sid string) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		out, err := x.edit(ctx, sid, w.IfMatch, func(t *Token) (bool, error) {
			return t.ClearOverlap(), nil
		})
		if err == nil && out.Changed {
			// Ended by request; one that runs out is told by the server.
			err = x.record(ctx, EvOverlapEnded, out.Token, nil, EventExtra{})
		}
		return out, err
	})
}

// NewSecret gives t a fresh secret (sealed, its HMAC and hint) and returns it.
func (s *Rules) NewSecret(t *Token) (string, error) {
	secret, err := s.Env.Rand.Secret()
	if err != nil {
		return "", err
	}
	enc, err := s.Env.Keys.Seal([]byte(secret), t.SID)
	if err != nil {
		return "", err
	}
	t.SecretEnc, t.SecretMAC, t.Hint = enc, s.Env.Keys.MAC(secret), secret[len(secret)-4:]
	return secret, nil
}

// Create makes a new token (always ENABLED; ApiVersion defaults to the latest).
func (s *Rules) Create(ctx context.Context, w Write, spec *TokenSpec) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		a := x.Call.Account
		t := &Token{AccountID: a.ID, Kind: a.Kind, APIVersion: LatestVersion(a.Kind), Emails: []string{}, Scopes: []string{}}
		if err := x.apply(ctx, spec, t); err != nil {
			return Outcome{}, err
		}
		return x.InsertRecorded(ctx, t, EvCreated, EventExtra{})
	})
}

// InsertRecorded inserts t and writes its event typ.
func (x *WriteTx) InsertRecorded(ctx context.Context, t *Token, typ string, extra EventExtra) (Outcome, error) {
	out, err := x.Insert(ctx, t)
	if err != nil {
		return Outcome{}, err
	}
	if err := x.record(ctx, typ, t, nil, extra); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// Duplicate makes a new token with the source's settings, spec overriding them; the
// name defaults to "<Name> (copy)" and the state is ENABLED.
func (s *Rules) Duplicate(ctx context.Context, w Write, sid string, spec *TokenSpec) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		src, err := x.target(ctx, sid, "")
		if err != nil {
			return Outcome{}, err
		}
		t := &Token{AccountID: src.AccountID, Kind: src.Kind, Name: src.Name + " (copy)",
			Description: src.Description, APIVersion: src.APIVersion, ContactID: src.ContactID,
			ContactName: src.ContactName, ContactEmail: src.ContactEmail,
			Emails: slices.Clone(src.Emails), Scopes: slices.Clone(src.Scopes)}
		if err := x.apply(ctx, spec, t); err != nil {
			return Outcome{}, err
		}
		return x.InsertRecorded(ctx, t, EvDuplicated, EventExtra{From: src.SID})
	})
}

// apply lays spec over t (a fresh token or a copy of the source), validating what
// needs the database and refusing scopes the caller cannot grant.
func (x *WriteTx) apply(ctx context.Context, s *TokenSpec, t *Token) error {
	if s.Name != nil {
		t.Name = *s.Name
	}
	if s.Description != nil {
		t.Description = *s.Description
	}
	if s.Version != nil {
		if err := checkVersion(t.Kind, *s.Version); err != nil {
			return err
		}
		t.APIVersion = *s.Version
	}
	if s.Contact != nil {
		if _, err := x.setContact(ctx, t, *s.Contact); err != nil {
			return err
		}
	}
	if s.HasScopes {
		scopes, err := scopeField("Scopes", t.Kind, s.Scopes)
		if err != nil {
			return err
		}
		t.Scopes = scopes
	}
	if err := mayGrant(x.Call.Caller, t.Scopes); err != nil {
		return err
	}
	if s.HasEmails {
		t.Emails = s.Emails
	}
	if s.ExpiresAt != nil {
		if *s.ExpiresAt <= x.Now {
			return BadRequest("ExpiresAt", "must lie in the future")
		}
		t.SetExpiry(Some(*s.ExpiresAt))
	}
	return nil
}

// insert gives t a SID, a secret and its dates, and stores it.
func (x *WriteTx) Insert(ctx context.Context, t *Token) (Outcome, error) {
	sid, err := x.Svc.Env.Rand.SID()
	if err != nil {
		return Outcome{}, err
	}
	t.SID, t.State, t.Version, t.ResetCount = sid, StateEnabled, 1, 0
	t.Created, t.Updated, t.AuthReset = x.Now, x.Now, x.Now
	t.LastUsed = Opt[int64]{}
	clearGrace(t)
	t.ClearOverlap()
	secret, err := x.Svc.NewSecret(t)
	if err != nil {
		return Outcome{}, err
	}
	if err := x.keepManager(ctx, nil, t); err != nil {
		return Outcome{}, err
	}
	if err := x.InsertToken(ctx, t); err != nil {
		return Outcome{}, err
	}
	return Outcome{Token: t, Secret: secret, Created: true, Changed: true}, nil
}

// Bulk runs op for each SID in request order, in one transaction, through the same
// code as the single-token call, so the last-manager rule sees the earlier ones; one
// SID's refusal does not stop the rest.
func (s *Rules) Bulk(ctx context.Context, w Write, op BulkOp, sids []string, o ResetOptions) (*Answer, error) {
	return s.change(ctx, w, func(x *WriteTx) (Outcome, error) {
		if err := x.readAhead(ctx, sids); err != nil {
			return Outcome{}, err
		}
		results := make([]bulkOutcome, 0, len(sids))
		for _, sid := range sids {
			var out Outcome
			var err error
			switch op {
			case BulkDisable:
				out, err = x.setState(ctx, sid, "", StateDisabled)
			case BulkEnable:
				out, err = x.setState(ctx, sid, "", StateEnabled)
			case BulkDelete:
				out, err = x.delete(ctx, sid, "")
			case BulkReset:
				out, err = x.reset(ctx, sid, "", o)
			}
			r := bulkOutcome{Sid: sid, Outcome: out, Message: bulkMessage(op, out.Changed)}
			if err != nil {
				var ae *APIError
				if !errors.As(err, &ae) {
					return Outcome{}, err // the store failed: nothing is kept
				}
				r.Err = ae
			}
			results = append(results, r)
		}
		return Outcome{Results: results}, nil
	})
}

func bulkMessage(op BulkOp, changed bool) string {
	switch op {
	case BulkDisable:
		if !changed {
			return "already disabled"
		}
		return "disabled"
	case BulkEnable:
		if !changed {
			return "already enabled"
		}
		return "enabled"
	case BulkDelete:
		return "deleted"
	default:
		return "reset"
	}
}

// checkIfMatch compares an If-Match header, when present, with the token's ETag.
func checkIfMatch(im string, t *Token) error {
	im = strings.TrimSpace(im)
	if im == "" || im == "*" {
		return nil
	}
	want := ETagOf(t)
	for _, tag := range strings.Split(im, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == want {
			return nil
		}
	}
	return PreconditionFailed()
}

// replaceList sets *dst to v, reporting whether it differed.
func replaceList(dst *[]string, v []string) bool {
	if slices.Equal(*dst, v) {
		return false
	}
	*dst = v
	return true
}
