// Package service is the Token API server's domain and its rules: tokens, accounts,
// users, events and their notifications, list filters and pages, idempotency records;
// the Store and Tx interfaces every store implements; the token service (Rules) that
// decides every change and runs it in one Store.Update; the keys that seal secrets at
// rest, the random source of SIDs and secrets, and the refusals (APIError).
package service

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"time"
)

// Store keeps accounts, tokens and idempotency records. It owns every transaction
// and knows no rule: the token service decides, the store reads and writes rows.
// Reads outside Update see committed data and never wait for a writer. Every
// method returns errNotFound for a row that does not exist.
type Store interface {
	TokenBySID(ctx context.Context, sid string) (*Token, error)
	// TokenBySIDWith is TokenBySID that also reads token also (of any account; nil
	// when there is none) in the same statement, at the same cost whether or not sid
	// exists; nothing of also is answered when sid is not found.
	TokenBySIDWith(ctx context.Context, sid, also string) (t, other *Token, err error)
	// Token finds sid within account accountID; another account's token is errNotFound.
	Token(ctx context.Context, accountID int64, sid string) (*Token, error)
	// Tokens lists one page of an account's tokens in the order DateCreated, then SID,
	// with the total, both from one consistent read.
	Tokens(ctx context.Context, accountID int64, f TokenFilter, p Page) ([]Token, int, error)

	Account(ctx context.Context, id int64) (*Account, error)
	// AccountByPublicID finds an account by its impact.com Id (CompanyInformation's).
	AccountByPublicID(ctx context.Context, publicID string) (*Account, error)
	// ManagedBrand finds the brand publicID of agency agencyID; another agency's
	// brand is errNotFound.
	ManagedBrand(ctx context.Context, agencyID int64, publicID string) (*Account, error)
	// Brands lists an agency's brands and Users an account's users, by Id.
	Brands(ctx context.Context, agencyID int64, p Page) ([]Account, int, error)
	Users(ctx context.Context, accountID int64, p Page) ([]User, int, error)

	// Idempotency finds the stored reply to a keyed POST that has not expired at now.
	Idempotency(ctx context.Context, k *IdemKey, now int64) (*IdemRecord, error)
	// DemoRoles maps seeded roles to their tokens' SIDs; Seeded says how the
	// database was first filled ("demo", "bootstrap", or "").
	DemoRoles(ctx context.Context) (map[string]string, error)
	Seeded(ctx context.Context) (string, error)

	// Events lists an account's events as f asks (see eventFilter), each with its
	// notifications; PruneEvents removes up to limit events dated before before,
	// oldest first, and answers how many went.
	Events(ctx context.Context, accountID int64, f EventFilter) ([]Event, error)
	PruneEvents(ctx context.Context, before int64, limit int) (int, error)
	// DueNotices lists up to limit tokens with a lifecycle event due at at (Unix
	// seconds; 0: the store's own clock), by account (see writeNotices).
	DueNotices(ctx context.Context, at int64, limit int) ([]DueNotice, error)

	// Touch records that token sid was used at the Unix time at. It never blocks
	// and never changes the token's version; it may be written a moment later.
	Touch(sid string, at int64)

	// Update runs fn in one write transaction, committing when fn returns nil.
	// Writes to one account are serialised; they never fail because another write is
	// in progress (they wait, as long as ctx allows). fn may run more than once when
	// the store retries a transaction, so it must do nothing but call tx.
	// accountID 0 serialises against every account (seeding).
	Update(ctx context.Context, accountID int64, fn func(tx Tx) error) error

	Close() error
}

// DatabaseClock is a Store whose clock is the database's (PostgreSQL's now()), the
// same on every replica: its DueNotices reads that clock when asked at 0.
type DatabaseClock interface{ DatabaseClock() }

// Tx is a write transaction of a Store.
type Tx interface {
	Token(ctx context.Context, accountID int64, sid string) (*Token, error)
	// Tokens reads the tokens of sids that account accountID holds, in one statement;
	// a SID it does not hold is left out.
	Tokens(ctx context.Context, accountID int64, sids []string) ([]*Token, error)
	// ScopeHolders counts, for each scope the tokens of account accountID hold, the
	// tokens holding it: the account's scopes without reading its tokens.
	ScopeHolders(ctx context.Context, accountID int64) (map[string]int, error)
	// ManagerCandidate finds an enabled token of account accountID holding
	// apitokens.write and exactly n scopes, none of the SIDs in skip, without
	// reading the account's other tokens: its SID, or "" when there is none.
	// A token that has expired at at (Unix seconds) is none; at 0 asks for one
	// without an expiry.
	ManagerCandidate(ctx context.Context, accountID int64, n int, skip []string, at int64) (string, error)
	User(ctx context.Context, accountID int64, id string) (*User, error)
	Idempotency(ctx context.Context, k *IdemKey, now int64) (*IdemRecord, error)

	InsertToken(ctx context.Context, t *Token) error
	// UpdateToken writes every mutable column of t.
	UpdateToken(ctx context.Context, t *Token) error
	DeleteToken(ctx context.Context, sid string) error
	// AddEvent writes an event and its notifications with the transaction, setting e.ID.
	AddEvent(ctx context.Context, e *Event) error
	// SaveIdempotency stores rec under k (replacing an expired one) and may drop
	// records expired at rec.created.
	SaveIdempotency(ctx context.Context, k *IdemKey, rec *IdemRecord) error

	// Seeding.
	HasAccounts(ctx context.Context) (bool, error)
	InsertAccount(ctx context.Context, a *Account) (int64, error)
	InsertUser(ctx context.Context, u *User) error
	SetDemoRole(ctx context.Context, role, sid string) error
	SetSeeded(ctx context.Context, kind string) error
}

// Env is what the service works with: the keys that protect secrets at rest, the
// source of SIDs and secrets, and the clock. The composition root builds it (NewEnv)
// and hands it to the service; no store holds one.
type Env struct {
	Keys *keyring
	Rand *RandSource
	Now  func() time.Time
	// FixedClock: a clock was given (tests), which then decides expiry on every
	// store, PostgreSQL too.
	FixedClock bool
	// KeepAuth is how long authentication may use a token it read while the
	// store's generation stands still (see Generations); 0 means a second.
	KeepAuth time.Duration
}

// NewEnv derives the keys from the master key; random nil means crypto/rand and now
// nil means time.Now.
func NewEnv(master []byte, random io.Reader, now func() time.Time) (*Env, error) {
	keys, err := NewKeyring(master)
	if err != nil {
		return nil, err
	}
	e := &Env{Keys: keys, Rand: &RandSource{R: random}, Now: now, FixedClock: now != nil}
	if e.Rand.R == nil {
		e.Rand.R = rand.Reader
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	return e, nil
}

// Clock is the current time in whole seconds, the precision of every date on the wire.
func (e *Env) Clock() time.Time { return e.Now().UTC().Truncate(time.Second) }

// StoreClock is the store's time when t was read, Unix seconds: PostgreSQL's now()
// as the row came back, the process clock on SQLite (or when a clock was injected).
func (e *Env) StoreClock(t *Token) int64 {
	if t != nil && t.StoreNow.Valid && !e.FixedClock {
		return t.StoreNow.V
	}
	return e.Clock().Unix()
}

// ErrNotFound is what a Store answers for a row that does not exist.
var ErrNotFound = errors.New("not found")

// Opt is a value that may be absent: a token never used has no LastUsed, one that
// never expires no ExpiresAt. The zero Opt is absent.
type Opt[T any] struct {
	V     T
	Valid bool // false: absent, and V is T's zero value
}

// Some is v, present.
func Some[T any](v T) Opt[T] { return Opt[T]{V: v, Valid: true} }

// Ptr is a pointer to a copy of the value, or nil when it is absent.
func (o Opt[T]) Ptr() *T {
	if !o.Valid {
		return nil
	}
	v := o.V
	return &v
}

// Token is one API token as stored.
type Token struct {
	SID          string
	AccountID    int64
	Kind         string // the account's kind: kindAgency or kindBrand
	Name         string
	Description  string
	State        string
	APIVersion   int
	ContactID    Opt[string]
	ContactName  Opt[string]
	ContactEmail Opt[string]
	Emails       []string
	Scopes       []string
	SecretEnc    []byte
	SecretMAC    []byte
	Hint         string
	ResetCount   int64
	Version      int64
	Created      int64
	Updated      int64
	LastUsed     Opt[int64]
	AuthReset    int64
	// After a self-reset: the previous secret, good until PrevExpires only to replay
	// the reset made with PrevResetKey at PrevResetPath.
	PrevMAC       []byte
	PrevExpires   Opt[int64]
	PrevResetKey  Opt[string]
	PrevResetPath Opt[string]

	// ExpiresAt is when the token stops authenticating (null: never).
	ExpiresAt Opt[int64]
	// The expiry notices written, so each is written once across replicas: set in
	// the transaction that writes the notice, cleared when ExpiresAt moves (re-armed).
	Warned14d, Warned1d, ExpiredNoted Opt[int64]

	// After a reset with an overlap: the previous secret, in a slot of its own
	// (sealed and HMACed as the current one is), good until OverlapExpires.
	OverlapEnc      []byte
	OverlapMAC      []byte
	OverlapExpires  Opt[int64]
	OverlapLastUsed Opt[int64]

	// StoreNow is the store's clock when the row was read (PostgreSQL's now(), so
	// every replica decides expiry alike); not stored, null where the process
	// clock is the store's (SQLite).
	StoreNow Opt[int64]
}

// SetExpiry moves ExpiresAt, re-arming the expiry notices when it changed.
func (t *Token) SetExpiry(at Opt[int64]) bool {
	if at == t.ExpiresAt {
		return false
	}
	t.ExpiresAt = at
	t.Warned14d, t.Warned1d, t.ExpiredNoted = Opt[int64]{}, Opt[int64]{}, Opt[int64]{}
	return true
}

// ExpiredAt reports whether t has expired at now (Unix seconds).
func (t *Token) ExpiredAt(now int64) bool { return t.ExpiresAt.Valid && now >= t.ExpiresAt.V }

// OverlapAt reports whether t's previous secret still works at now.
func (t *Token) OverlapAt(now int64) bool {
	return t.OverlapMAC != nil && t.OverlapExpires.Valid && now < t.OverlapExpires.V
}

func (t *Token) ClearOverlap() bool {
	had := t.OverlapMAC != nil || t.OverlapExpires.Valid
	t.OverlapEnc, t.OverlapMAC, t.OverlapExpires, t.OverlapLastUsed = nil, nil, Opt[int64]{}, Opt[int64]{}
	return had
}

const (
	StateEnabled  = "ENABLED"
	StateDisabled = "DISABLED"
)

func (t *Token) Enabled() bool { return t.State == StateEnabled }

func (t *Token) HasScope(scope string) bool {
	for _, s := range t.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// TokenFilter narrows a token list; zero fields do not filter.
type TokenFilter struct {
	State          string
	Name           string // case-insensitive substring
	ExactName      string // the whole name, in NFC form, compared with names' NFC forms
	CreatedAfter   time.Time
	CreatedBefore  time.Time
	LastUsedBefore time.Time // never-used tokens match too
	ResetBefore    time.Time
	ExpiresBefore  time.Time // only tokens with an ExpiresAt before it, expired ones included
}

// Page is a 1-based page of a list.
type Page struct {
	Number int
	Size   int
}

func (p Page) Offset() int { return (p.Number - 1) * p.Size }

// Account is an agency or a brand (impact.com's Advertiser).
type Account struct {
	ID           int64
	Kind         string // kindAgency or kindBrand
	ParentID     Opt[int64]
	PublicID     string
	Name         string
	State        string
	Website      string
	Phone        string
	PhoneCountry string
	Currency     string
	Timezone     string
	OrgType      string
	Address1     string
	Address2     string
	City         string
	Region       string
	PostalCode   string
	Country      string
	Created      int64
}

const (
	KindAgency = "agency"
	KindBrand  = "brand"
)

// User is a person of an account: a primary-contact choice.
type User struct {
	ID        string
	AccountID int64
	Name      string
	Email     string
}

// IdemKey identifies a keyed POST: (caller, method, path, key) plus its body's hash.
type IdemKey struct {
	Caller, Method, Path, Key string
	Hash                      []byte
}

func (k *IdemKey) AD() string { return k.Caller + "\x00" + k.Method + "\x00" + k.Path + "\x00" + k.Key }

// IdemRecord is a stored reply to a keyed POST; bodyEnc is sealed (it may hold a secret).
type IdemRecord struct {
	Hash    []byte
	Status  int
	Header  http.Header
	BodyEnc []byte // empty when the reply had no body
	Resets  []ResetMark
	Created int64
	Expires int64
}

// ResetMark records that a stored reply handed out a token's secret as of ResetCount.
type ResetMark struct {
	Sid        string `json:"Sid"`
	ResetCount int64  `json:"ResetCount"`
}

// Answer is a reply a change produces, kept whole so a keyed POST can replay it.
type Answer struct {
	Status   int
	Header   http.Header
	Body     []byte // nil: no body
	Resets   []ResetMark
	Replayed bool
}

// PreviousUse is the prefix of a toucher key that notes a use of a token's previous
// secret (PreviousAuthTokenLastUsed) rather than of the token: no SID holds it.
const PreviousUse = "~"
