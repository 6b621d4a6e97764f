package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
)

// Token is an API access token as the server describes it. It never holds
// the secret except in the answers of create, duplicate and reset.
type Token struct {
	AccountSid       string
	Name             string
	Description      string
	State            State
	ApiVersion       int
	LatestApiVersion int
	AuthTokenHint    string
	PrimaryContact   *User
	DeveloperEmails  []string
	Scopes           []string
	DateCreated      string
	DateUpdated      string
	// DateLastUsed is nil when the token was never used.
	DateLastUsed *string
	// DateAuthTokenReset is when the current secret was made: the creation
	// time until the first reset. A pointer, as a server may send null.
	DateAuthTokenReset *string
	// ExpiresAt is when the token stops authenticating; nil: never.
	ExpiresAt *string
	// PreviousAuthTokenExpiresAt is, after a reset with an overlap, until
	// when the previous secret still works; nil when none does.
	// PreviousAuthTokenLastUsed is when that secret was last used.
	PreviousAuthTokenExpiresAt *string
	PreviousAuthTokenLastUsed  *string
	Uri                        string
	// AuthToken is the secret, set only by CreateToken, DuplicateToken,
	// ResetToken and bulk resets.
	AuthToken string `json:"AuthToken,omitempty"`
	// ETag is the token's version from the answer's ETag header, to send
	// back as WriteOptions.IfMatch.
	ETag string `json:"-"`
	// Replayed is set when the answer is the stored answer of an earlier
	// request with the same Idempotency-Key (nothing changed this time).
	Replayed bool `json:"-"`
}

// RateLimit is a token's request budget.
type RateLimit struct {
	Limit     int
	Remaining int
	// Reset is the number of seconds until the budget is refilled.
	Reset int
	// At is when the answer carrying the budget arrived, the time Reset
	// counts from; zero for a budget read from a body.
	At time.Time `json:"-"`
}

// UnmarshalJSON accepts the numbers as JSON numbers or numeric strings.
func (r *RateLimit) UnmarshalJSON(b []byte) error {
	var raw struct{ Limit, Remaining, Reset flexInt }
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	r.Limit, r.Remaining, r.Reset = int(raw.Limit), int(raw.Remaining), int(raw.Reset)
	if r.Reset > 1e9 {
		r.Reset = max(0, r.Reset-int(time.Now().Unix()))
	}
	return nil
}

// CurrentToken is the caller's own token with its rate budget.
type CurrentToken struct {
	Token
	RateLimit RateLimit
	// UsingPreviousAuthToken is set when the caller authenticated with the
	// previous secret of an overlapping reset.
	UsingPreviousAuthToken bool `json:",omitempty"`
}

// Secret is a token's credentials.
type Secret struct {
	AccountSid string
	AuthToken  string
}

// User is a user of an account, a possible primary contact.
type User struct {
	Id    string
	Name  string
	Email string
}

// UnmarshalJSON accepts Id as a string or a number.
func (u *User) UnmarshalJSON(b []byte) error {
	var raw struct {
		Id          flexString
		Name, Email string
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*u = User{Id: string(raw.Id), Name: raw.Name, Email: raw.Email}
	return nil
}

// Advertiser is a brand an agency manages, impact.com's Advertiser. It
// keeps the server's JSON so that re-encoding shows every field.
type Advertiser struct {
	Id    string
	Name  string
	State string
	// Raw is the object as the server sent it.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the whole object and reads Id as a string or number.
func (a *Advertiser) UnmarshalJSON(b []byte) error {
	var raw struct {
		Id          flexString
		Name, State string
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = Advertiser{Id: string(raw.Id), Name: raw.Name, State: raw.State, Raw: append(json.RawMessage(nil), b...)}
	return nil
}

// MarshalJSON writes the server's object unchanged when there is one.
func (a Advertiser) MarshalJSON() ([]byte, error) {
	if len(a.Raw) > 0 {
		return a.Raw, nil
	}
	return json.Marshal(struct{ Id, Name, State string }{a.Id, a.Name, a.State})
}

// Catalog is the scope catalog: categories (the web app's toggles), each
// with its scopes.
type Catalog struct {
	Categories []Category
}

// Category is a group of scopes; "<Id>.*" names all of them.
type Category = contract.Category

// Scope is one permission, named after the operation it allows.
type Scope = contract.Scope

// TokenCreate holds the settings of a new token, or the overrides of a
// duplicate. Empty fields are not sent.
type TokenCreate struct {
	Name             string   `json:",omitempty"`
	Description      string   `json:",omitempty"`
	PrimaryContactId string   `json:",omitempty"`
	ApiVersion       int      `json:",omitempty"`
	Scopes           []string `json:",omitempty"`
	DeveloperEmails  []string `json:",omitempty"`
	// ExpiresAt is when the new token stops authenticating (RFC 3339);
	// empty: never.
	ExpiresAt string `json:",omitempty"`
}

// TokenUpdate names the fields a PATCH changes; nil fields stay as they
// are. ClearDescription and ClearPrimaryContact send JSON null.
type TokenUpdate struct {
	Name                *string
	Description         *string
	ClearDescription    bool
	ApiVersion          *int
	PrimaryContactId    *string
	ClearPrimaryContact bool
	// ExpiresAt sets the expiry (RFC 3339); ClearExpiresAt sends null
	// (never expires).
	ExpiresAt      *string
	ClearExpiresAt bool
}

// Empty reports whether the update names no field.
func (u TokenUpdate) Empty() bool {
	return u.Name == nil && u.Description == nil && !u.ClearDescription &&
		u.ApiVersion == nil && u.PrimaryContactId == nil && !u.ClearPrimaryContact &&
		u.ExpiresAt == nil && !u.ClearExpiresAt
}

// MarshalJSON writes only the named fields, in a fixed order.
func (u TokenUpdate) MarshalJSON() ([]byte, error) {
	if u.ClearDescription && u.Description != nil {
		return nil, errors.New("client: TokenUpdate sets and clears Description")
	}
	if u.ClearPrimaryContact && u.PrimaryContactId != nil {
		return nil, errors.New("client: TokenUpdate sets and clears PrimaryContactId")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(name string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		enc, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(enc)
		return nil
	}
	var err error
	set := func(name string, v any) {
		if err == nil {
			err = field(name, v)
		}
	}
	if u.Name != nil {
		set("Name", *u.Name)
	}
	if u.Description != nil {
		set("Description", *u.Description)
	}
	if u.ClearDescription {
		set("Description", nil)
	}
	if u.ApiVersion != nil {
		set("ApiVersion", *u.ApiVersion)
	}
	if u.PrimaryContactId != nil {
		set("PrimaryContactId", *u.PrimaryContactId)
	}
	if u.ClearPrimaryContact {
		set("PrimaryContactId", nil)
	}
	if u.ExpiresAt != nil && u.ClearExpiresAt {
		return nil, errors.New("client: TokenUpdate sets and clears ExpiresAt")
	}
	if u.ExpiresAt != nil {
		set("ExpiresAt", *u.ExpiresAt)
	}
	if u.ClearExpiresAt {
		set("ExpiresAt", nil)
	}
	if err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// matches reports whether t already has every value u asks for.
func (u TokenUpdate) matches(t *Token) bool {
	if u.Name != nil && t.Name != *u.Name {
		return false
	}
	if u.Description != nil && t.Description != *u.Description {
		return false
	}
	if u.ClearDescription && t.Description != "" {
		return false
	}
	if u.ApiVersion != nil && t.ApiVersion != *u.ApiVersion {
		return false
	}
	if u.PrimaryContactId != nil && (t.PrimaryContact == nil || t.PrimaryContact.Id != *u.PrimaryContactId) {
		return false
	}
	if u.ClearPrimaryContact && t.PrimaryContact != nil && t.PrimaryContact.Id != "" {
		return false
	}
	if u.ExpiresAt != nil && (t.ExpiresAt == nil || !sameInstant(*t.ExpiresAt, *u.ExpiresAt)) {
		return false
	}
	if u.ClearExpiresAt && t.ExpiresAt != nil {
		return false
	}
	return true
}

// WriteOptions carry the concurrency and idempotency headers of a change.
type WriteOptions struct {
	// IfMatch is the ETag the change is based on; the server answers 412
	// when the token changed since. Empty sends no If-Match.
	IfMatch string
	// IdempotencyKey is sent with every POST; when empty the client makes
	// one up. Every retry of one call reuses the same key.
	IdempotencyKey string
	// Paced says the caller paces its requests on the rate budget itself:
	// a 429 comes back at once, as an *APIError with its RetryAfter,
	// instead of being tried again after Retry-After.
	Paced bool
	// RateLimit, when not nil, receives the rate budget the last answer to
	// this call carried (the zero RateLimit when none did), where
	// LastRateLimit is that of whichever call's answer came last.
	RateLimit *RateLimit
	// Reset is a reset's optional body (ActionReset, alone or in bulk):
	// nil sends none, and every earlier secret is refused at once.
	Reset *ResetOptions
}

// ResetOptions is a reset's optional body: keep the previous secret working
// for PreviousValidFor seconds (1 to 604800; 0 refuses it at once and ends
// any overlap), and set the token's expiry in the same step.
type ResetOptions struct {
	PreviousValidFor int    `json:",omitempty"`
	ExpiresAt        string `json:",omitempty"` // RFC 3339; empty leaves it
}

// sameInstant reports whether two API timestamps name the same second.
func sameInstant(a, b string) bool {
	ta, okA := parseDate(a)
	tb, okB := parseDate(b)
	return okA && okB && ta.Equal(tb)
}

// ListOptions control paging.
type ListOptions struct {
	// PageSize is the page size to ask for; 0 asks for the largest page
	// (contract.MaxPageSize), or for Limit when that is smaller: the
	// fewest requests of the rate budget.
	PageSize int
	// Limit stops the listing after that many items; 0 lists every page.
	Limit int
	// MayStopEarly reads one page ahead only, never two at once: for a
	// caller that is likely to stop before the last page (a page read
	// ahead and not used is the server's work for nothing).
	MayStopEarly bool
}

// pageSize is the PageSize a listing asks for.
func (lo ListOptions) pageSize() int {
	if lo.PageSize > 0 {
		return lo.PageSize
	}
	if lo.Limit > 0 && lo.Limit < contract.MaxPageSize {
		return lo.Limit
	}
	return contract.MaxPageSize
}

// TokenListOptions filter a token listing. Zero values are not sent.
type TokenListOptions struct {
	ListOptions
	// State is StateEnabled or StateDisabled; empty lists both.
	State State
	// Name matches token names containing the text.
	Name string
	// ExactName matches the tokens whose whole name is the text, compared in
	// Unicode NFC form (see contract.NormalName).
	ExactName      string
	CreatedAfter   time.Time
	CreatedBefore  time.Time
	LastUsedBefore time.Time
	ResetBefore    time.Time
	// ExpiresBefore lists only tokens with an ExpiresAt before it, expired
	// ones included.
	ExpiresBefore time.Time
}

// Excludes names the field of t that fails a filter of o ("State", "Name",
// "DateCreated", "DateLastUsed" or "DateAuthTokenReset"), or returns "" when
// o selects t. It applies the filters as the server is asked to, to the
// second, so a caller can refuse a list whose server ignored them. A date
// that does not parse fails its filter; a missing DateAuthTokenReset counts
// as DateCreated (the secret is as old as the token).
func (o TokenListOptions) Excludes(t *Token) string {
	created, createdOK := parseDate(t.DateCreated)
	switch {
	case o.State != "" && !strings.EqualFold(string(t.State), string(o.State)):
		return "State"
	case o.Name != "" && !strings.Contains(strings.ToLower(t.Name), strings.ToLower(o.Name)):
		return "Name"
	case o.ExactName != "" && contract.NormalName(t.Name) != contract.NormalName(o.ExactName):
		return "Name"
	case !o.CreatedAfter.IsZero() && (!createdOK || created.Unix() < o.CreatedAfter.Unix()),
		!o.CreatedBefore.IsZero() && (!createdOK || created.Unix() >= o.CreatedBefore.Unix()):
		return "DateCreated"
	}
	if !o.LastUsedBefore.IsZero() && t.DateLastUsed != nil && *t.DateLastUsed != "" {
		used, ok := parseDate(*t.DateLastUsed)
		if !ok || used.Unix() >= o.LastUsedBefore.Unix() {
			return "DateLastUsed"
		}
	}
	if !o.ResetBefore.IsZero() {
		reset, ok := created, createdOK
		if t.DateAuthTokenReset != nil {
			reset, ok = parseDate(*t.DateAuthTokenReset)
		}
		if !ok || reset.Unix() >= o.ResetBefore.Unix() {
			return "DateAuthTokenReset"
		}
	}
	if !o.ExpiresBefore.IsZero() {
		var at time.Time
		ok := t.ExpiresAt != nil
		if ok {
			at, ok = parseDate(*t.ExpiresAt)
		}
		if !ok || at.Unix() >= o.ExpiresBefore.Unix() {
			return "ExpiresAt"
		}
	}
	return ""
}

// parseDate reads an API timestamp.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// State is a token's state.
type State string

// The states of a token.
const (
	StateEnabled  State = "ENABLED"
	StateDisabled State = "DISABLED"
)

// Action is a change with endpoints of its own: one token's (POST
// ApiTokens/{Sid}/{Action}, or DELETE ApiTokens/{Sid} for ActionDelete) and
// the bulk one (POST ApiTokens/{Action}).
type Action string

// The actions.
const (
	ActionDisable Action = "Disable"
	ActionEnable  Action = "Enable"
	ActionDelete  Action = "Delete"
	ActionReset   Action = "Reset"
)

// State is the state a token is in after a, and whether a sets one.
func (a Action) State() (State, bool) {
	switch a {
	case ActionDisable:
		return StateDisabled, true
	case ActionEnable:
		return StateEnabled, true
	}
	return "", false
}

// BulkResult is the outcome for one SID of a bulk call.
type BulkResult struct {
	AccountSid string
	// Status is "OK" or "ERROR".
	Status     string
	StatusCode int
	// Code, Scope and Errors describe a failure as an *APIError does.
	Code    contract.ErrorCode `json:",omitempty"`
	Scope   string             `json:",omitempty"`
	Message string
	Errors  []FieldError `json:",omitempty"`
	// ApiToken is the token after the change (with its new AuthToken for
	// a reset); nil for deletes and failures.
	ApiToken *Token `json:",omitempty"`
}

// UnmarshalJSON accepts StatusCode as a number or a numeric string.
func (r *BulkResult) UnmarshalJSON(b []byte) error {
	var fast BulkResult
	if decodeBulkResult(b, &fast) {
		*r = fast
		return nil
	}
	var raw struct {
		AccountSid, Status, Message string
		Code                        contract.ErrorCode
		Scope                       string
		StatusCode                  flexInt
		Errors                      []FieldError
		ApiToken                    *Token
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = BulkResult{AccountSid: raw.AccountSid, Status: raw.Status, StatusCode: int(raw.StatusCode), Code: raw.Code,
		Scope: raw.Scope, Message: raw.Message, Errors: raw.Errors, ApiToken: raw.ApiToken}
	return nil
}

// flexInt decodes a JSON number or a numeric string, as impact.com sends
// numbers in its envelopes. Null and "" are 0.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*n = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		// A number too large for an int64 is clamped to its end (ParseInt did
		// so); a float is cut to a whole number and clamped the same way.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil && !errors.Is(ferr, strconv.ErrRange) || math.IsNaN(f) {
			return fmt.Errorf("not a number: %q", s)
		}
		switch {
		case f >= math.MaxInt64:
			v = math.MaxInt64
		case f <= math.MinInt64:
			v = math.MinInt64
		default:
			v = int64(f)
		}
	}
	*n = flexInt(v)
	return nil
}

// flexString decodes a JSON string or number as a string.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = flexString(n.String())
	return nil
}
