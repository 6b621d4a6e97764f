package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// selfResetGrace is how long a token's previous secret may replay its own reset.
const selfResetGrace = 10 * time.Minute

// idempotencyTTL is how long a reply to a keyed POST is kept.
const idempotencyTTL = 24 * time.Hour

// tokenService is the TokenService over any Store: every rule lives here, once.
type tokenService struct {
	st  service.Store
	env *service.Env
	// mail says whether the server sends updates by mail: new notifications are
	// PENDING then, else OFF.
	mail bool
}

func newService(st service.Store) *tokenService { return &tokenService{st: st, env: st.Env()} }

var _ TokenService = (*tokenService)(nil)

// Authenticate finds the token and compares an HMAC of the secret in constant time
// with both slots, the current secret and an overlap's previous one (a dummy when
// there is none), so an overlap costs nothing a caller could time; an unknown SID
// spends the same compares. Then expiry (told only after the secret matched, so it
// tells a guesser nothing). The previous secret of a self-reset authenticates only
// to replay that reset (replayOnly), matching g.
func (s *tokenService) Authenticate(ctx context.Context, sid, secret string, g grace, target string) (authResult, error) {
	if !contract.ValidSID(sid) {
		sid = "" // no token has it; looked up all the same, at the same cost
	}
	var t, other *service.Token
	var err error
	if contract.ValidSID(target) {
		t, other, err = s.st.TokenBySIDWith(ctx, sid, target)
	} else {
		t, err = s.st.TokenBySID(ctx, sid)
		target = ""
	}
	if errors.Is(err, service.ErrNotFound) {
		t = nil
	} else if err != nil {
		return authResult{}, err
	}
	res := authResult{token: t}
	if target != "" {
		res.read = &targetRead{sid: target, token: other}
	}
	res.now = s.env.StoreClock(t)
	current, previous := s.secretMatches(t, secret)
	if !current && !previous {
		if t != nil && s.previousSecretReplays(t, secret, g) {
			if t.ExpiredAt(res.now) {
				return authResult{}, service.TokenExpired()
			}
			res.replayOnly = true
			return res, nil
		}
		return authResult{}, service.Unauthorized()
	}
	if t.ExpiredAt(res.now) {
		return authResult{}, service.TokenExpired()
	}
	if previous {
		res.previous = true
		s.touchPrevious(t)
		return res, nil
	}
	if t.PrevMAC != nil {
		if err := s.endGrace(ctx, t); err != nil {
			return authResult{}, err
		}
	}
	s.touch(t)
	return res, nil
}

// touchPrevious records a use of t's previous secret (PreviousAuthTokenLastUsed),
// at most once a minute, never changing the ETag.
func (s *tokenService) touchPrevious(t *service.Token) {
	now := s.env.Clock().Unix()
	if t.OverlapLastUsed.Valid && now-t.OverlapLastUsed.Int64 < 60 {
		return
	}
	s.st.Touch(service.PreviousUse+t.SID, now)
	t.OverlapLastUsed = sql.NullInt64{Int64: now, Valid: true}
}

// touch records a use, at most once a minute per token, never changing the ETag.
func (s *tokenService) touch(t *service.Token) {
	now := s.env.Clock().Unix()
	if t.LastUsed.Valid && now-t.LastUsed.Int64 < 60 {
		return
	}
	s.st.Touch(t.SID, now)
	t.LastUsed = sql.NullInt64{Int64: now, Valid: true}
}

// secretMatches compares the secret's HMAC with t's current secret and with its
// overlap slot, both always and in constant time: the slot's MAC when an overlap is
// running at the store's clock, a dummy otherwise. t nil (an unknown SID) spends the
// same two compares.
func (s *tokenService) secretMatches(t *service.Token, secret string) (current, previous bool) {
	mac := s.env.Keys.MAC(secret)
	if t == nil {
		hmac.Equal(mac, s.env.Keys.DummyMAC)
		hmac.Equal(mac, s.env.Keys.DummyMAC)
		return false, false
	}
	slot, live := s.env.Keys.DummyMAC, t.OverlapAt(s.env.StoreClock(t))
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
func (s *tokenService) previousSecretReplays(t *service.Token, secret string, g grace) bool {
	if t.PrevMAC == nil || !t.PrevExpires.Valid || !t.PrevResetKey.Valid || !t.PrevResetPath.Valid {
		return false
	}
	if s.env.Clock().Unix() >= t.PrevExpires.Int64 {
		return false
	}
	macOK := hmac.Equal(s.env.Keys.MAC(secret), t.PrevMAC)
	return macOK && g.method == http.MethodPost && g.key != "" &&
		g.key == t.PrevResetKey.String && g.path == t.PrevResetPath.String
}

// endGrace forgets a token's previous secret: the new one is in use, so a lost
// answer is no longer possible.
func (s *tokenService) endGrace(ctx context.Context, t *service.Token) error {
	err := s.st.Update(ctx, t.AccountID, func(tx service.Tx) error {
		cur, err := tx.Token(ctx, t.AccountID, t.SID)
		if err != nil || cur.PrevMAC == nil {
			return err
		}
		clearGrace(cur)
		return tx.UpdateToken(ctx, cur)
	})
	if err != nil && !errors.Is(err, service.ErrNotFound) {
		return err
	}
	clearGrace(t)
	return nil
}

func clearGrace(t *service.Token) {
	t.PrevMAC, t.PrevExpires, t.PrevResetKey, t.PrevResetPath = nil, sql.NullInt64{}, sql.NullString{}, sql.NullString{}
}

func (s *tokenService) Account(ctx context.Context, id int64) (*service.Account, error) {
	return s.st.Account(ctx, id)
}

func (s *tokenService) ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*service.Account, error) {
	a, err := s.st.ManagedBrand(ctx, agencyID, publicID)
	if errors.Is(err, service.ErrNotFound) {
		return nil, service.NotFound()
	}
	return a, err
}

func (s *tokenService) Brands(ctx context.Context, c *call, p service.Page) ([]service.Account, int, error) {
	return s.st.Brands(ctx, c.account.ID, p)
}

func (s *tokenService) Users(ctx context.Context, c *call, p service.Page) ([]service.User, int, error) {
	return s.st.Users(ctx, c.account.ID, p)
}

func (s *tokenService) Token(ctx context.Context, c *call, sid string) (*service.Token, error) {
	if r := c.target; r != nil && r.sid == sid {
		if r.token == nil || r.token.AccountID != c.account.ID {
			return nil, service.NotFound()
		}
		return r.token, nil
	}
	t, err := s.st.Token(ctx, c.account.ID, sid)
	if errors.Is(err, service.ErrNotFound) {
		return nil, service.NotFound()
	}
	return t, err
}

// Secret reveals a token's secret; revealing a token that holds a scope the caller
// lacks would be escalation.
func (s *tokenService) Secret(ctx context.Context, c *call, sid string) (string, error) {
	t, err := s.Token(ctx, c, sid)
	if err != nil {
		return "", err
	}
	if err := mayActOn(c.caller, t); err != nil {
		return "", err
	}
	plain, err := s.env.Keys.Open(t.SecretEnc, t.SID)
	if err != nil {
		return "", fmt.Errorf("token %s secret: %w", t.SID, err)
	}
	if err := s.recordReveal(ctx, c, t); err != nil {
		return "", err
	}
	return string(plain), nil
}

func (s *tokenService) Tokens(ctx context.Context, c *call, f service.TokenFilter, p service.Page) ([]service.Token, int, error) {
	return s.st.Tokens(ctx, c.account.ID, f, p)
}

// Replay answers the stored reply to the call's keyed POST, or nil when there is
// none. The previous secret of a self-reset gets nothing else.
func (s *tokenService) Replay(ctx context.Context, c *call) (*service.Answer, error) {
	if c.idem == nil {
		if c.replayOnly {
			return nil, service.Unauthorized()
		}
		return nil, nil
	}
	rec, err := s.st.Idempotency(ctx, c.idem, s.env.Clock().Unix())
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if c.replayOnly {
			return nil, service.Unauthorized()
		}
		return nil, nil
	}
	return s.replay(ctx, c, rec)
}

// replay answers a stored record, unless the body differs (422; 401 for the previous
// secret of a self-reset, which must not learn that its guess of the key was right)
// or a later reset has superseded a secret it hands out (409).
func (s *tokenService) replay(ctx context.Context, c *call, rec *service.IdemRecord) (*service.Answer, error) {
	if !bytes.Equal(rec.Hash, c.idem.Hash) {
		if c.replayOnly {
			return nil, service.Unauthorized()
		}
		return nil, service.IdempotencyMismatch()
	}
	for _, m := range rec.Resets {
		t, err := s.st.TokenBySID(ctx, m.Sid)
		if err != nil && !errors.Is(err, service.ErrNotFound) {
			return nil, err
		}
		if t == nil || t.ResetCount != m.ResetCount {
			return nil, service.Conflict("Idempotency-Key", "a later change superseded the reset this key made; its secret is no longer valid")
		}
	}
	a := &service.Answer{Status: rec.Status, Header: rec.Header.Clone(), Replayed: true}
	if len(rec.BodyEnc) > 0 {
		body, err := s.env.Keys.Open(rec.BodyEnc, c.idem.AD())
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
func (s *tokenService) change(ctx context.Context, w write, op func(x *wtx) (outcome, error)) (*service.Answer, error) {
	c := w.c
	var ans *service.Answer
	var stored *service.IdemRecord
	err := s.st.Update(ctx, c.account.ID, func(tx service.Tx) error {
		ans, stored = nil, nil
		now := s.env.Clock()
		if c.idem != nil {
			rec, err := tx.Idempotency(ctx, c.idem, now.Unix())
			if err != nil {
				return err
			}
			if rec != nil {
				stored = rec
				return nil
			}
		}
		if c.replayOnly {
			return service.Unauthorized()
		}
		x := &wtx{Tx: tx, s: s, c: c, now: now.Unix()}
		// A store with a clock of its own (PostgreSQL's now()) decides the change's
		// time, so every replica judges expiry alike.
		if sc, ok := tx.(interface{ StoreNow() (int64, bool) }); ok && !s.env.FixedClock {
			if n, valid := sc.StoreNow(); valid {
				x.now = n
			}
		}
		out, err := op(x)
		if err != nil {
			return err
		}
		a, err := w.render(out)
		if err != nil {
			return err
		}
		a.Resets = resetsOf(out)
		if c.idem != nil {
			if err := s.save(ctx, tx, c.idem, a, now); err != nil {
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
func (s *tokenService) save(ctx context.Context, tx service.Tx, k *service.IdemKey, a *service.Answer, now time.Time) error {
	rec := &service.IdemRecord{Hash: k.Hash, Status: a.Status, Header: a.Header, Resets: a.Resets,
		Created: now.Unix(), Expires: now.Add(idempotencyTTL).Unix()}
	if a.Body != nil {
		enc, err := s.env.Keys.Seal(a.Body, k.AD())
		if err != nil {
			return err
		}
		rec.BodyEnc = enc
	}
	return tx.SaveIdempotency(ctx, k, rec)
}

// resetsOf lists the secrets an outcome hands out, so a replay after a later reset
// is refused rather than handing out a dead secret.
func resetsOf(out outcome) []service.ResetMark {
	var marks []service.ResetMark
	if out.Secret != "" && out.Token != nil {
		marks = append(marks, service.ResetMark{Sid: out.Token.SID, ResetCount: out.Token.ResetCount})
	}
	for _, r := range out.Results {
		marks = append(marks, resetsOf(r.Outcome)...)
	}
	return marks
}

// wtx is one change's transaction with what the rules need along the way: the caller
// and what the last-manager rule knows of the account, kept current as the change
// proceeds.
type wtx struct {
	service.Tx
	s   *tokenService
	c   *call
	now int64
	mgr managers
	// pre holds tokens read ahead, all at once, for the changes about to name them;
	// target takes each out as it is used, so a token is read ahead at most once.
	pre map[string]*service.Token
}

// readAhead reads the tokens of sids, for target to find without a statement each:
// a bulk call names up to a hundred. Under the transaction's lock on the account no
// one else changes them meanwhile.
func (x *wtx) readAhead(ctx context.Context, sids []string) error {
	toks, err := x.Tokens(ctx, x.c.account.ID, sids)
	if err != nil {
		return err
	}
	x.pre = make(map[string]*service.Token, len(toks))
	for _, t := range toks {
		x.pre[t.SID] = t
	}
	return nil
}

// target finds the token a change names: 404 when it is not the caller's to see,
// 403 when it holds a scope the caller lacks (no escalation), 412 when ifMatch is
// stale.
func (x *wtx) target(ctx context.Context, sid, ifMatch string) (*service.Token, error) {
	var t *service.Token
	var err error
	if pre, ok := x.pre[sid]; ok {
		delete(x.pre, sid)
		t = pre
	} else {
		t, err = x.Token(ctx, x.c.account.ID, sid)
	}
	if errors.Is(err, service.ErrNotFound) {
		return nil, service.NotFound()
	}
	if err != nil {
		return nil, err
	}
	if err := mayActOn(x.c.caller, t); err != nil {
		return nil, err
	}
	if err := checkIfMatch(ifMatch, t); err != nil {
		return nil, err
	}
	return t, nil
}

// edit runs a change to one token: find it, apply, and when anything changed, check
// the last-manager rule, move the version (the ETag) and DateUpdated, and write it.
func (x *wtx) edit(ctx context.Context, sid, ifMatch string, apply func(t *service.Token) (bool, error)) (outcome, error) {
	t, err := x.changing(ctx, sid, ifMatch)
	if err != nil {
		return outcome{}, err
	}
	before := snapshotOf(t)
	changed, err := apply(t)
	if err != nil {
		return outcome{}, err
	}
	if changed {
		if err := x.keepManager(ctx, &before, t); err != nil {
			return outcome{}, err
		}
		t.Version++
		t.Updated = x.now
		if err := x.UpdateToken(ctx, t); err != nil {
			return outcome{}, err
		}
		if err := x.recordEdit(ctx, &before, t); err != nil {
			return outcome{}, err
		}
	}
	return outcome{Token: t, Changed: changed}, nil
}

// changing is target for a change to the token itself: the previous secret of an
// overlap may change any token but its own (403), so a leaked old secret can never
// outlive the rotation.
func (x *wtx) changing(ctx context.Context, sid, ifMatch string) (*service.Token, error) {
	t, err := x.target(ctx, sid, ifMatch)
	if err != nil {
		return nil, err
	}
	if x.c.previous && t.SID == x.c.caller.SID {
		return nil, service.PreviousSecret()
	}
	return t, nil
}

// setExpiry gives t the expiry at (null: never): it must lie in the future, and a
// token may not move its own expiry later or clear it. The last-manager rule is the
// caller's (edit runs it on every change).
func (x *wtx) setExpiry(t *service.Token, at sql.NullInt64) (bool, error) {
	if at.Valid && at.Int64 <= x.now {
		return false, service.BadRequest("ExpiresAt", "must lie in the future")
	}
	if t.SID == x.c.caller.SID && t.ExpiresAt.Valid && (!at.Valid || at.Int64 > t.ExpiresAt.Int64) {
		return false, service.SelfExtension()
	}
	// Moving the expiry re-arms the expiry_warning and expired notices (setExpiry
	// clears their marks).
	return t.SetExpiry(at), nil
}

func snapshotOf(t *service.Token) service.Token {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	c.Emails = slices.Clone(t.Emails)
	return c
}

func (s *tokenService) Update(ctx context.Context, w write, sid string, p tokenPatch) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		return x.edit(ctx, sid, w.ifMatch, func(t *service.Token) (bool, error) {
			changed := false
			if p.name != nil && *p.name != t.Name {
				t.Name, changed = *p.name, true
			}
			if p.description != nil && *p.description != t.Description {
				t.Description, changed = *p.description, true
			}
			if p.version != nil {
				v := *p.version
				if err := checkVersion(t.Kind, v); err != nil {
					return false, err
				}
				if v < t.APIVersion {
					return false, service.BadRequest("ApiVersion", "can only go up; the token is at %d", t.APIVersion)
				}
				if v != t.APIVersion {
					t.APIVersion, changed = v, true
				}
			}
			if p.contact != nil {
				ch, err := x.setContact(ctx, t, *p.contact)
				if err != nil {
					return false, err
				}
				changed = changed || ch
			}
			if p.expiresAt != nil {
				ch, err := x.setExpiry(t, *p.expiresAt)
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
func (x *wtx) setContact(ctx context.Context, t *service.Token, id string) (bool, error) {
	if id == "" {
		if !t.ContactID.Valid {
			return false, nil
		}
		t.ContactID, t.ContactName, t.ContactEmail = sql.NullString{}, sql.NullString{}, sql.NullString{}
		return true, nil
	}
	u, err := x.User(ctx, t.AccountID, id)
	if errors.Is(err, service.ErrNotFound) {
		return false, service.BadRequest("PrimaryContactId", "%q is not a user of this account; see Users", id)
	}
	if err != nil {
		return false, err
	}
	if t.ContactID.Valid && t.ContactID.String == u.ID {
		return false, nil
	}
	t.ContactID = sql.NullString{String: u.ID, Valid: true}
	t.ContactName = sql.NullString{String: u.Name, Valid: true}
	t.ContactEmail = sql.NullString{String: u.Email, Valid: true}
	return true, nil
}

// SetScopes replaces a token's scopes; "category.*" names a whole category.
func (s *tokenService) SetScopes(ctx context.Context, w write, sid string, requested []string) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		return x.edit(ctx, sid, w.ifMatch, func(t *service.Token) (bool, error) {
			scopes, err := scopeField("Scopes", t.Kind, requested)
			if err != nil {
				return false, err
			}
			if err := mayGrant(x.c.caller, scopes); err != nil {
				return false, err
			}
			return replaceList(&t.Scopes, scopes), nil
		})
	})
}

// SetEmails replaces the whole developer e-mail list.
func (s *tokenService) SetEmails(ctx context.Context, w write, sid string, emails []string) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		return x.edit(ctx, sid, w.ifMatch, func(t *service.Token) (bool, error) {
			return replaceList(&t.Emails, emails), nil
		})
	})
}

// SetState disables or enables a token; already so is a no-op.
func (s *tokenService) SetState(ctx context.Context, w write, sid string, state string) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) { return x.setState(ctx, sid, w.ifMatch, state) })
}

func (x *wtx) setState(ctx context.Context, sid, ifMatch, state string) (outcome, error) {
	return x.edit(ctx, sid, ifMatch, func(t *service.Token) (bool, error) {
		if t.State == state {
			return false, nil
		}
		t.State = state
		return true, nil
	})
}

// Delete removes a token; its credentials are refused from the next request.
func (s *tokenService) Delete(ctx context.Context, w write, sid string) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) { return x.delete(ctx, sid, w.ifMatch) })
}

func (x *wtx) delete(ctx context.Context, sid, ifMatch string) (outcome, error) {
	t, err := x.changing(ctx, sid, ifMatch)
	if err != nil {
		return outcome{}, err
	}
	if err := x.keepManager(ctx, t, nil); err != nil {
		return outcome{}, err
	}
	if err := x.DeleteToken(ctx, t.SID); err != nil {
		return outcome{}, err
	}
	if err := x.record(ctx, service.EvDeleted, t, nil, service.EventExtra{}); err != nil {
		return outcome{}, err
	}
	return outcome{Deleted: true, Changed: true}, nil
}

// Reset gives a token a new secret. Without an overlap the old one is refused from
// the next request (ending any overlap), except, after a self-reset made with an
// Idempotency-Key, to replay that very request for selfResetGrace. With one, the
// old secret keeps working beside the new one for o.previousValidFor seconds, in
// the overlap slot (replacing an earlier previous secret: never more than two).
func (s *tokenService) Reset(ctx context.Context, w write, sid string, o resetOptions) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) { return x.reset(ctx, sid, w.ifMatch, o) })
}

func (x *wtx) reset(ctx context.Context, sid, ifMatch string, o resetOptions) (outcome, error) {
	t, err := x.changing(ctx, sid, ifMatch)
	if err != nil {
		return outcome{}, err
	}
	before := snapshotOf(t)
	if o.expiresAt != nil {
		if _, err := x.setExpiry(t, *o.expiresAt); err != nil {
			return outcome{}, err
		}
	}
	oldEnc, oldMAC := t.SecretEnc, t.SecretMAC
	secret, err := x.s.newSecret(t)
	if err != nil {
		return outcome{}, err
	}
	t.ResetCount++
	t.Version++
	t.Updated, t.AuthReset = x.now, x.now
	clearGrace(t)
	// An earlier overlap ends here, replaced or refused at once: where an
	// overlap_ended notice belongs when clearOverlap reports one.
	t.ClearOverlap()
	switch {
	case o.previousValidFor > 0:
		t.OverlapEnc, t.OverlapMAC = oldEnc, oldMAC
		t.OverlapExpires = sql.NullInt64{Int64: x.now + o.previousValidFor, Valid: true}
	case t.SID == x.c.caller.SID && x.c.idem != nil:
		t.PrevMAC = oldMAC
		t.PrevExpires = sql.NullInt64{Int64: x.now + int64(selfResetGrace/time.Second), Valid: true}
		t.PrevResetKey = sql.NullString{String: x.c.idem.Key, Valid: true}
		t.PrevResetPath = sql.NullString{String: x.c.idem.Path, Valid: true}
	}
	if err := x.keepManager(ctx, &before, t); err != nil {
		return outcome{}, err
	}
	if err := x.UpdateToken(ctx, t); err != nil {
		return outcome{}, err
	}
	// The event says until when the previous secret works, with an overlap.
	var extra service.EventExtra
	if t.OverlapExpires.Valid {
		at := t.OverlapExpires.Int64
		extra.PreviousAuthTokenExpiresAt = &at
	}
	var changes []service.EventChange
	if c, ok := expiryChange(&before, t); ok {
		changes = append(changes, c)
	}
	if err := x.record(ctx, service.EvReset, t, changes, extra); err != nil {
		return outcome{}, err
	}
	return outcome{Token: t, Secret: secret, Changed: true}, nil
}

// EndOverlap forgets a token's previous secret: refused from the next request.
func (s *tokenService) EndOverlap(ctx context.Context, w write, sid string) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		out, err := x.edit(ctx, sid, w.ifMatch, func(t *service.Token) (bool, error) {
			return t.ClearOverlap(), nil
		})
		if err == nil && out.Changed {
			// Ended by request; one that runs out is told by the server.
			err = x.record(ctx, service.EvOverlapEnded, out.Token, nil, service.EventExtra{})
		}
		return out, err
	})
}

// newSecret gives t a fresh secret (sealed, its HMAC and hint) and returns it.
func (s *tokenService) newSecret(t *service.Token) (string, error) {
	secret, err := s.env.Rand.Secret()
	if err != nil {
		return "", err
	}
	enc, err := s.env.Keys.Seal([]byte(secret), t.SID)
	if err != nil {
		return "", err
	}
	t.SecretEnc, t.SecretMAC, t.Hint = enc, s.env.Keys.MAC(secret), secret[len(secret)-4:]
	return secret, nil
}

// Create makes a new token (always ENABLED; ApiVersion defaults to the latest).
func (s *tokenService) Create(ctx context.Context, w write, spec *tokenSpec) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		a := x.c.account
		t := &service.Token{AccountID: a.ID, Kind: a.Kind, APIVersion: latestVersion(a.Kind), Emails: []string{}, Scopes: []string{}}
		if err := x.apply(ctx, spec, t); err != nil {
			return outcome{}, err
		}
		return x.insertRecorded(ctx, t, service.EvCreated, service.EventExtra{})
	})
}

// insertRecorded inserts t and writes its event typ.
func (x *wtx) insertRecorded(ctx context.Context, t *service.Token, typ string, extra service.EventExtra) (outcome, error) {
	out, err := x.insert(ctx, t)
	if err != nil {
		return outcome{}, err
	}
	if err := x.record(ctx, typ, t, nil, extra); err != nil {
		return outcome{}, err
	}
	return out, nil
}

// Duplicate makes a new token with the source's settings, spec overriding them; the
// name defaults to "<Name> (copy)" and the state is ENABLED.
func (s *tokenService) Duplicate(ctx context.Context, w write, sid string, spec *tokenSpec) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		src, err := x.target(ctx, sid, "")
		if err != nil {
			return outcome{}, err
		}
		t := &service.Token{AccountID: src.AccountID, Kind: src.Kind, Name: src.Name + " (copy)",
			Description: src.Description, APIVersion: src.APIVersion, ContactID: src.ContactID,
			ContactName: src.ContactName, ContactEmail: src.ContactEmail,
			Emails: slices.Clone(src.Emails), Scopes: slices.Clone(src.Scopes)}
		if err := x.apply(ctx, spec, t); err != nil {
			return outcome{}, err
		}
		return x.insertRecorded(ctx, t, service.EvDuplicated, service.EventExtra{From: src.SID})
	})
}

// apply lays spec over t (a fresh token or a copy of the source), validating what
// needs the database and refusing scopes the caller cannot grant.
func (x *wtx) apply(ctx context.Context, s *tokenSpec, t *service.Token) error {
	if s.name != nil {
		t.Name = *s.name
	}
	if s.description != nil {
		t.Description = *s.description
	}
	if s.version != nil {
		if err := checkVersion(t.Kind, *s.version); err != nil {
			return err
		}
		t.APIVersion = *s.version
	}
	if s.contact != nil {
		if _, err := x.setContact(ctx, t, *s.contact); err != nil {
			return err
		}
	}
	if s.hasScopes {
		scopes, err := scopeField("Scopes", t.Kind, s.scopes)
		if err != nil {
			return err
		}
		t.Scopes = scopes
	}
	if err := mayGrant(x.c.caller, t.Scopes); err != nil {
		return err
	}
	if s.hasEmails {
		t.Emails = s.emails
	}
	if s.expiresAt != nil {
		if *s.expiresAt <= x.now {
			return service.BadRequest("ExpiresAt", "must lie in the future")
		}
		t.SetExpiry(sql.NullInt64{Int64: *s.expiresAt, Valid: true})
	}
	return nil
}

// insert gives t a SID, a secret and its dates, and stores it.
func (x *wtx) insert(ctx context.Context, t *service.Token) (outcome, error) {
	sid, err := x.s.env.Rand.SID()
	if err != nil {
		return outcome{}, err
	}
	t.SID, t.State, t.Version, t.ResetCount = sid, service.StateEnabled, 1, 0
	t.Created, t.Updated, t.AuthReset = x.now, x.now, x.now
	t.LastUsed = sql.NullInt64{}
	clearGrace(t)
	t.ClearOverlap()
	secret, err := x.s.newSecret(t)
	if err != nil {
		return outcome{}, err
	}
	if err := x.keepManager(ctx, nil, t); err != nil {
		return outcome{}, err
	}
	if err := x.InsertToken(ctx, t); err != nil {
		return outcome{}, err
	}
	return outcome{Token: t, Secret: secret, Created: true, Changed: true}, nil
}

// Bulk runs op for each SID in request order, in one transaction, through the same
// code as the single-token call, so the last-manager rule sees the earlier ones; one
// SID's refusal does not stop the rest.
func (s *tokenService) Bulk(ctx context.Context, w write, op bulkOp, sids []string, o resetOptions) (*service.Answer, error) {
	return s.change(ctx, w, func(x *wtx) (outcome, error) {
		if err := x.readAhead(ctx, sids); err != nil {
			return outcome{}, err
		}
		results := make([]bulkOutcome, 0, len(sids))
		for _, sid := range sids {
			var out outcome
			var err error
			switch op {
			case bulkDisable:
				out, err = x.setState(ctx, sid, "", service.StateDisabled)
			case bulkEnable:
				out, err = x.setState(ctx, sid, "", service.StateEnabled)
			case bulkDelete:
				out, err = x.delete(ctx, sid, "")
			case bulkReset:
				out, err = x.reset(ctx, sid, "", o)
			}
			r := bulkOutcome{Sid: sid, Outcome: out, Message: bulkMessage(op, out.Changed)}
			if err != nil {
				var ae *service.APIError
				if !errors.As(err, &ae) {
					return outcome{}, err // the store failed: nothing is kept
				}
				r.Err = ae
			}
			results = append(results, r)
		}
		return outcome{Results: results}, nil
	})
}

func bulkMessage(op bulkOp, changed bool) string {
	switch op {
	case bulkDisable:
		if !changed {
			return "already disabled"
		}
		return "disabled"
	case bulkEnable:
		if !changed {
			return "already enabled"
		}
		return "enabled"
	case bulkDelete:
		return "deleted"
	default:
		return "reset"
	}
}

// checkIfMatch compares an If-Match header, when present, with the token's ETag.
func checkIfMatch(im string, t *service.Token) error {
	im = strings.TrimSpace(im)
	if im == "" || im == "*" {
		return nil
	}
	want := etagOf(t)
	for _, tag := range strings.Split(im, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == want {
			return nil
		}
	}
	return service.PreconditionFailed()
}

// replaceList sets *dst to v, reporting whether it differed.
func replaceList(dst *[]string, v []string) bool {
	if slices.Equal(*dst, v) {
		return false
	}
	*dst = v
	return true
}
