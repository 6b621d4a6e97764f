package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/impactcom/impactctl/server/outbox"
)

// Event types: every change to a token writes exactly one, in the change's transaction.
const (
	evCreated         = "created"
	evDuplicated      = "duplicated"
	evEdited          = "edited"
	evScopesChanged   = "scopes_changed"
	evEmailsChanged   = "developer_emails_changed"
	evReset           = "reset"
	evDisabled        = "disabled"
	evEnabled         = "enabled"
	evDeleted         = "deleted"
	evRevealed        = "revealed"
	evRecovered       = "recovered"
	evOverlapEnded    = "overlap_ended"
	evExpiryWarning   = "expiry_warning"
	evExpired         = "expired"
	adminRecoverActor = "admin recover"
)

// EventTypes are the values an event's Type takes, in the order the docs list them.
var EventTypes = []string{evCreated, evDuplicated, evEdited, evScopesChanged, evEmailsChanged, evReset,
	evOverlapEnded, evDisabled, evEnabled, evDeleted, evRevealed, evRecovered, evExpiryWarning, evExpired}

// Notification states. OFF: the server sends no mail, so nothing waits to be sent.
const (
	NotificationPending    = outbox.NotificationPending
	NotificationSent       = outbox.NotificationSent
	NotificationFailed     = outbox.NotificationFailed
	NotificationSuppressed = outbox.NotificationSuppressed
	NotificationOff        = outbox.NotificationOff
)

// event is one change to a token as stored. It never holds a secret or any part of one.
type event struct {
	ID        int64 // assigned by the store; grows with every event
	Type      string
	Date      int64
	AccountID int64 // the account holding the token
	TokenSID  string
	TokenName string
	ActorSID  sql.NullString // the calling token, when it belongs to the same account
	ActorName sql.NullString // null: the server's own event
	Client    sql.NullString
	RequestID sql.NullString
	Changes   []eventChange
	Extra     eventExtra
	// Notifications are the event's recipients and what became of each message.
	Notifications []notification
}

// eventExtra is what some types carry besides Changes.
type eventExtra struct {
	From                       string `json:"From,omitempty"` // duplicated: the source token
	PreviousAuthTokenExpiresAt *int64 `json:"PreviousAuthTokenExpiresAt,omitempty"`
	ExpiresAt                  *int64 `json:"ExpiresAt,omitempty"` // expiry_warning, expired: the token's expiry
}

// eventChange is one item of Changes: Before → After for a single value, Added and
// Removed for a list (Scopes, DeveloperEmails).
type eventChange struct {
	Field   string
	Before  any
	After   any
	List    bool
	Added   []string
	Removed []string
}

func (c eventChange) MarshalJSON() ([]byte, error) {
	if c.List {
		return json.Marshal(struct {
			Field   string   `json:"Field"`
			Added   []string `json:"Added"`
			Removed []string `json:"Removed"`
		}{c.Field, nonNil(c.Added), nonNil(c.Removed)})
	}
	return json.Marshal(struct {
		Field  string `json:"Field"`
		Before any    `json:"Before"`
		After  any    `json:"After"`
	}{c.Field, c.Before, c.After})
}

func (c *eventChange) UnmarshalJSON(b []byte) error {
	var raw struct {
		Field   string          `json:"Field"`
		Before  json.RawMessage `json:"Before"` // kept as written: objects keep their field order
		After   json.RawMessage `json:"After"`
		Added   *[]string       `json:"Added"`
		Removed *[]string       `json:"Removed"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = eventChange{Field: raw.Field, Before: rawOrNull(raw.Before), After: rawOrNull(raw.After)}
	if raw.Added != nil || raw.Removed != nil {
		c.List = true
		if raw.Added != nil {
			c.Added = *raw.Added
		}
		if raw.Removed != nil {
			c.Removed = *raw.Removed
		}
	}
	return nil
}

func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// notification is one recipient of an event and the state of its message.
type notification struct {
	Email string
	State string
	Date  int64 // when the state was set
}

// eventFilter narrows an event list; zero fields do not filter.
type eventFilter struct {
	TokenSID string
	Type     string
	ActorSID string
	Since    int64 // inclusive, Unix seconds; 0 none
	Until    int64 // exclusive; 0 none
	// Before and After are anchors (exclusive): Before lists older events newest
	// first, After newer events oldest first.
	Before, After *eventAnchor
	Limit         int
}

// eventAnchor is an event's place in the order (Date, Id).
type eventAnchor struct{ date, id int64 }

// eventID is an event's Id on the wire: "EV", then its Date and its row id, each as 16
// hexadecimal digits. Ids only grow, and comparing two compares their (Date, row id),
// so an Id alone anchors a page.
func eventID(date, id int64) string { return fmt.Sprintf("EV%016X%016X", uint64(date), uint64(id)) }

// parseEventID reads an Id eventID wrote.
func parseEventID(s string) (*eventAnchor, bool) {
	if len(s) != 34 || !strings.HasPrefix(s, "EV") {
		return nil, false
	}
	d, err1 := strconv.ParseUint(s[2:18], 16, 63)
	n, err2 := strconv.ParseUint(s[18:], 16, 63)
	if err1 != nil || err2 != nil || strings.ToUpper(s) != s {
		return nil, false
	}
	return &eventAnchor{date: int64(d), id: int64(n)}, true
}

// recipients are the addresses told about an event on t: its developer e-mail
// addresses and its primary contact's, each once, in that order, plus extra (an
// address removed from the list, a replaced contact).
func recipients(t *token, extra ...string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(e string) {
		k := strings.ToLower(strings.TrimSpace(e))
		if k == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, e)
	}
	for _, e := range t.Emails {
		add(e)
	}
	if t.ContactEmail.Valid {
		add(t.ContactEmail.String)
	}
	for _, e := range extra {
		add(e)
	}
	return out
}

// actor is who an event names as having acted: the calling token when it belongs to
// the token's account; an agency acting through passthrough by its account's name,
// with no client address; admin recover; nobody (the server) for a nil caller.
func (s *service) actor(ctx context.Context, c *call, e *event) error {
	switch {
	case c == nil:
		return nil
	case c.actorName != "":
		e.ActorName = sql.NullString{String: c.actorName, Valid: true}
		return nil
	case c.caller == nil:
		return nil
	case c.caller.AccountID == e.AccountID:
		e.ActorSID = sql.NullString{String: c.caller.SID, Valid: true}
		e.ActorName = sql.NullString{String: c.caller.Name, Valid: true}
	default:
		a, err := s.st.Account(ctx, c.caller.AccountID)
		if err != nil {
			return fmt.Errorf("event actor: %w", err)
		}
		e.ActorName = sql.NullString{String: a.Name + " (agency)", Valid: true}
		e.RequestID = nullable(c.requestID)
		return nil
	}
	e.Client = nullable(c.client)
	e.RequestID = nullable(c.requestID)
	return nil
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// record writes the event typ on t (as it is after the change; as it was for a
// delete) in the change's transaction, with a notification for each of its
// recipients: PENDING when the server sends mail, OFF when it does not.
func (x *wtx) record(ctx context.Context, typ string, t *token, changes []eventChange, extra eventExtra, also ...string) error {
	e := &event{Type: typ, Date: x.now, AccountID: t.AccountID, TokenSID: t.SID, TokenName: t.Name,
		Changes: changes, Extra: extra}
	if err := x.s.actor(ctx, x.c, e); err != nil {
		return err
	}
	state := NotificationOff
	if x.s.mail {
		state = NotificationPending
	}
	for _, addr := range recipients(t, also...) {
		e.Notifications = append(e.Notifications, notification{Email: addr, State: state, Date: x.now})
	}
	return x.AddEvent(ctx, e)
}

// recordEdit writes the event of an edit that changed something: before is the token
// as it was, t as it is now.
func (x *wtx) recordEdit(ctx context.Context, before, t *token) error {
	switch {
	case before.State != t.State:
		typ := evDisabled
		if t.enabled() {
			typ = evEnabled
		}
		return x.record(ctx, typ, t, nil, eventExtra{})
	case !slices.Equal(before.Scopes, t.Scopes):
		return x.record(ctx, evScopesChanged, t, []eventChange{listChange("Scopes", before.Scopes, t.Scopes)}, eventExtra{})
	case !slices.Equal(before.Emails, t.Emails):
		// The addresses removed are told too, once, that they were removed.
		return x.record(ctx, evEmailsChanged, t, []eventChange{listChange("DeveloperEmails", before.Emails, t.Emails)},
			eventExtra{}, before.Emails...)
	}
	var changes []eventChange
	if before.Name != t.Name {
		changes = append(changes, eventChange{Field: "Name", Before: before.Name, After: t.Name})
	}
	if before.Description != t.Description {
		changes = append(changes, eventChange{Field: "Description", Before: before.Description, After: t.Description})
	}
	if before.APIVersion != t.APIVersion {
		changes = append(changes, eventChange{Field: "ApiVersion", Before: before.APIVersion, After: t.APIVersion})
	}
	if c, ok := expiryChange(before, t); ok {
		changes = append(changes, c)
	}
	var also []string
	if before.ContactID != t.ContactID {
		changes = append(changes, eventChange{Field: "PrimaryContact", Before: contactOf(before), After: contactOf(t)})
		if before.ContactEmail.Valid {
			also = append(also, before.ContactEmail.String) // the replaced contact is told too
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return x.record(ctx, evEdited, t, changes, eventExtra{}, also...)
}

// expiryChange is a moved ExpiresAt as an event shows it: times on the wire, null
// for never.
func expiryChange(before, t *token) (eventChange, bool) {
	if before.ExpiresAt == t.ExpiresAt {
		return eventChange{}, false
	}
	at := func(n sql.NullInt64) any {
		if !n.Valid {
			return nil
		}
		return wireTime(n.Int64)
	}
	return eventChange{Field: "ExpiresAt", Before: at(before.ExpiresAt), After: at(t.ExpiresAt)}, true
}

func contactOf(t *token) *userBody {
	if !t.ContactID.Valid {
		return nil
	}
	return &userBody{Id: t.ContactID.String, Name: t.ContactName.String, Email: t.ContactEmail.String}
}

// listChange is what changed between two lists: the items added and removed, each in
// the order of the list that holds it.
func listChange(field string, before, after []string) eventChange {
	c := eventChange{Field: field, List: true, Added: []string{}, Removed: []string{}}
	for _, v := range after {
		if !slices.Contains(before, v) {
			c.Added = append(c.Added, v)
		}
	}
	for _, v := range before {
		if !slices.Contains(after, v) {
			c.Removed = append(c.Removed, v)
		}
	}
	return c
}

// recordReveal writes the revealed event: who read a token's secret is an event too.
// It is written before the secret is answered; when it cannot be, the secret is not.
func (s *service) recordReveal(ctx context.Context, c *call, t *token) error {
	return s.st.Update(ctx, c.account.ID, func(tx Tx) error {
		x := &wtx{Tx: tx, s: s, c: c, now: s.env.clock().Unix()}
		return x.record(ctx, evRevealed, t, nil, eventExtra{})
	})
}

// Events lists the account's events, or one token's (sid != ""): a token that is
// not there and has no events here is 404, so a deleted token's events stay readable
// and another account's token looks like none.
func (s *service) Events(ctx context.Context, c *call, sid string, f eventFilter) ([]event, error) {
	if sid != "" {
		f.TokenSID = sid
		if _, err := s.Token(ctx, c, sid); err != nil {
			if _, known := asAPIError(err); !known {
				return nil, err
			}
			any, err2 := s.st.Events(ctx, c.account.ID, eventFilter{TokenSID: sid, Limit: 1})
			if err2 != nil {
				return nil, err2
			}
			if len(any) == 0 {
				return nil, err
			}
		}
	}
	return s.st.Events(ctx, c.account.ID, f)
}

// eventBody is an event on the wire.
type eventBody struct {
	Id            string             `json:"Id"`
	Type          string             `json:"Type"`
	Date          string             `json:"Date"`
	AccountSid    string             `json:"AccountSid"`
	TokenName     string             `json:"TokenName"`
	Actor         *actorBody         `json:"Actor"`
	ClientAddress *string            `json:"ClientAddress"`
	RequestId     *string            `json:"RequestId"`
	Changes       []eventChange      `json:"Changes"`
	From          string             `json:"From,omitempty"`
	PreviousAuth  json.RawMessage    `json:"PreviousAuthTokenExpiresAt,omitempty"`
	ExpiresAt     *string            `json:"ExpiresAt,omitempty"`
	Notifications []notificationBody `json:"Notifications"`
}

type actorBody struct {
	AccountSid *string `json:"AccountSid"`
	Name       string  `json:"Name"`
}

type notificationBody struct {
	Email string `json:"Email"`
	State string `json:"State"`
	Date  string `json:"Date"`
}

func strOrNil(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func eventBodyOf(e *event) eventBody {
	b := eventBody{Id: eventID(e.Date, e.ID), Type: e.Type, Date: wireTime(e.Date), AccountSid: e.TokenSID,
		TokenName: e.TokenName, ClientAddress: strOrNil(e.Client), RequestId: strOrNil(e.RequestID),
		Changes: e.Changes, From: e.Extra.From, Notifications: make([]notificationBody, 0, len(e.Notifications))}
	if b.Changes == nil {
		b.Changes = []eventChange{}
	}
	if e.ActorName.Valid {
		b.Actor = &actorBody{AccountSid: strOrNil(e.ActorSID), Name: e.ActorName.String}
	}
	switch {
	case e.Type == evReset:
		b.PreviousAuth = json.RawMessage("null")
		if p := e.Extra.PreviousAuthTokenExpiresAt; p != nil {
			b.PreviousAuth, _ = json.Marshal(wireTime(*p))
		}
	case e.Type == evOverlapEnded && e.Extra.PreviousAuthTokenExpiresAt != nil:
		// Ended by the server: when the previous secret ran out.
		b.PreviousAuth, _ = json.Marshal(wireTime(*e.Extra.PreviousAuthTokenExpiresAt))
	}
	if p := e.Extra.ExpiresAt; p != nil && (e.Type == evExpiryWarning || e.Type == evExpired) {
		s := wireTime(*p)
		b.ExpiresAt = &s
	}
	for _, n := range e.Notifications {
		b.Notifications = append(b.Notifications, notificationBody{Email: n.Email, State: n.State, Date: wireTime(n.Date)})
	}
	return b
}

// eventRetentionBatch is how many events one pruning statement removes: small, so a
// prune never holds the writer long.
const eventRetentionBatch = 500

// pruneEvents removes the events older than retention in small batches until none is
// left or ctx ends, and answers how many went.
func pruneEvents(ctx context.Context, st Store, now time.Time, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, nil
	}
	before := now.Add(-retention).Unix()
	total := 0
	for {
		n, err := st.PruneEvents(ctx, before, eventRetentionBatch)
		total += n
		if err != nil || n < eventRetentionBatch {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(10 * time.Millisecond): // let requests' writes through
		}
	}
}

// DefaultEventRetention is how long a server keeps events unless told otherwise.
const DefaultEventRetention = 400 * 24 * time.Hour

// pruneEvery is how often the server looks for events past the retention.
const pruneEvery = time.Hour

// keepPruning prunes events older than retention now and then every pruneEvery,
// until ctx ends; retention 0 keeps every event.
func keepPruning(ctx context.Context, st Store, retention time.Duration, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	for {
		n, err := pruneEvents(ctx, st, st.Env().now(), retention)
		if err != nil && ctx.Err() == nil {
			log.Error("prune events", "error", err)
		} else if n > 0 {
			log.Info("pruned events", "count", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pruneEvery):
		}
	}
}
