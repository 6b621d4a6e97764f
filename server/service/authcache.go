package service

import (
	"context"
	"crypto/hmac"
	"slices"
	"sync"
	"time"
)

// Generations is what a Store offers when every process serving its database shares
// a counter that each write transaction moves once it has ended, before its answer
// is sent (SQLite's generation file, PostgreSQL's auth_generation sequence). The
// value read must be no older than the call: it reflects every write answered
// before. ok is false when there is none, or it could not be read.
//
// With it, authentication keeps the tokens it read between requests (authCache):
// a copy is used only while the counter still holds the value read before the copy
// was, so a disable, delete, reset or scope change made by any process is seen on
// the very next request, as without copies.
type Generations interface {
	Generation(ctx context.Context) (n uint64, ok bool)
}

// keepAuth bounds how long a copy is used even while the counter stands still
// (Env.KeepAuth changes it): a write made around impactctl, such as SQL run on the
// database's file, is seen within it.
const keepAuth = time.Second

// authCacheMax bounds the copies kept; past it the cache starts again empty.
const authCacheMax = 1 << 14

// authCache keeps the tokens authentication read, by SID, each with the generation
// it was read at:
//
//   - callers: tokens that authenticated with their current secret. One is used only
//     for a request presenting that secret (its HMAC compared in constant time), so a
//     wrong secret or an unknown SID always reads the store as before, at the same
//     cost as ever: the cache tells a guesser nothing.
//   - targets: the tokens those callers' requests named (nil: none has the SID).
//
// Every use hands out a deep copy: a request may change its token.
type authCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	callers map[string]cachedToken
	targets map[string]cachedToken
}

type cachedToken struct {
	gen uint64
	at  time.Time // when it was read (monotonic)
	t   *Token
}

func newAuthCache(ttl time.Duration) *authCache {
	if ttl <= 0 {
		ttl = keepAuth
	}
	return &authCache{ttl: ttl, callers: map[string]cachedToken{}, targets: map[string]cachedToken{}}
}

// lookup answers copies of caller sid, authenticated by mac, and of target (""
// for none), when both are kept from generation gen and young enough.
func (c *authCache) lookup(gen uint64, now time.Time, sid string, mac []byte, target string) (t, other *Token, ok bool) {
	c.mu.RLock()
	caller, okCaller := c.callers[sid]
	tgt, okTarget := c.targets[target]
	c.mu.RUnlock()
	fresh := func(e cachedToken) bool { return e.gen == gen && now.Sub(e.at) < c.ttl }
	if !okCaller || !fresh(caller) || !hmac.Equal(mac, caller.t.SecretMAC) {
		return nil, nil, false
	}
	if target == "" {
		return caller.copyAt(now), nil, true
	}
	if !okTarget || !fresh(tgt) {
		return nil, nil, false
	}
	return caller.copyAt(now), tgt.copyAt(now), true
}

// copyAt is a copy of the kept token as of now: the store's clock read with it
// (PostgreSQL's, which decides expiry alike on every replica) moves on by the time
// since.
func (e cachedToken) copyAt(now time.Time) *Token {
	t := e.t.clone()
	if t != nil && t.StoreNow.Valid {
		t.StoreNow.V += int64(now.Sub(e.at) / time.Second)
	}
	return t
}

// keep stores copies of caller t and of target's read other, read at generation gen.
func (c *authCache) keep(gen uint64, at time.Time, t *Token, target string, other *Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.callers) >= authCacheMax || len(c.targets) >= authCacheMax {
		c.callers, c.targets = map[string]cachedToken{}, map[string]cachedToken{}
	}
	// A read that began before another one kept its copy never replaces it.
	if e, ok := c.callers[t.SID]; !ok || e.gen <= gen {
		c.callers[t.SID] = cachedToken{gen: gen, at: at, t: t.clone()}
	}
	if e, ok := c.targets[target]; target != "" && (!ok || e.gen <= gen) {
		c.targets[target] = cachedToken{gen: gen, at: at, t: other.clone()}
	}
}

// clone is a deep copy of t; nil stays nil.
func (t *Token) clone() *Token {
	if t == nil {
		return nil
	}
	c := *t
	c.Emails, c.Scopes = slices.Clone(t.Emails), slices.Clone(t.Scopes)
	c.SecretEnc, c.SecretMAC, c.PrevMAC = slices.Clone(t.SecretEnc), slices.Clone(t.SecretMAC), slices.Clone(t.PrevMAC)
	c.OverlapEnc, c.OverlapMAC = slices.Clone(t.OverlapEnc), slices.Clone(t.OverlapMAC)
	return &c
}

// used notes a use of token sid at now (its previous secret's, when previous) on the
// copies kept of it, as the store shows its own process's uses at once. A kept
// copy is never changed: the changed one replaces it.
func (c *authCache) used(sid string, now int64, previous bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range []map[string]cachedToken{c.callers, c.targets} {
		e, ok := m[sid]
		if !ok || e.t == nil {
			continue
		}
		nt := *e.t
		if previous {
			nt.OverlapLastUsed = Some(now)
		} else {
			nt.LastUsed = Some(now)
		}
		e.t = &nt
		m[sid] = e
	}
}
