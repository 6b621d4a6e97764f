package service

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
)

// Event types: every change to a token writes exactly one, in the change's transaction.
const (
	EvCreated         = "created"
	EvDuplicated      = "duplicated"
	EvEdited          = "edited"
	EvScopesChanged   = "scopes_changed"
	EvEmailsChanged   = "developer_emails_changed"
	EvReset           = "reset"
	EvDisabled        = "disabled"
	EvEnabled         = "enabled"
	EvDeleted         = "deleted"
	EvRevealed        = "revealed"
	EvRecovered       = "recovered"
	EvOverlapEnded    = "overlap_ended"
	EvExpiryWarning   = "expiry_warning"
	EvExpired         = "expired"
	AdminRecoverActor = "admin recover"
)

// EventTypes are the values an event's Type takes, in the order the docs list them.
var EventTypes = []string{EvCreated, EvDuplicated, EvEdited, EvScopesChanged, EvEmailsChanged, EvReset,
	EvOverlapEnded, EvDisabled, EvEnabled, EvDeleted, EvRevealed, EvRecovered, EvExpiryWarning, EvExpired}

// Notification states, as the contract names them. OFF: the server sends no mail, so
// nothing waits to be sent.
const (
	NotificationPending    = contract.NotificationPending
	NotificationSent       = contract.NotificationSent
	NotificationFailed     = contract.NotificationFailed
	NotificationSuppressed = contract.NotificationSuppressed
	NotificationOff        = contract.NotificationOff
)

// Event is one change to a token as stored. It never holds a secret or any part of one.
type Event struct {
	ID        int64 // assigned by the store; grows with every event
	Type      string
	Date      int64
	AccountID int64 // the account holding the token
	TokenSID  string
	TokenName string
	ActorSID  Opt[string] // the calling token, when it belongs to the same account
	ActorName Opt[string] // null: the server's own event
	Client    Opt[string]
	RequestID Opt[string]
	Changes   []EventChange
	Extra     EventExtra
	// Notifications are the event's recipients and what became of each message.
	Notifications []Notification
}

// EventExtra is what some types carry besides Changes.
type EventExtra struct {
	From                       string `json:"From,omitempty"` // duplicated: the source token
	PreviousAuthTokenExpiresAt *int64 `json:"PreviousAuthTokenExpiresAt,omitempty"`
	ExpiresAt                  *int64 `json:"ExpiresAt,omitempty"` // expiry_warning, expired: the token's expiry
}

// EventChange is one item of Changes: Before → After for a single value, Added and
// Removed for a list (Scopes, DeveloperEmails). Its stored form is its wire form.
type EventChange = contract.EventChange

// Notification is one recipient of an event and the state of its message.
type Notification struct {
	Email string
	State string
	Date  int64 // when the state was set
}

// EventFilter narrows an event list; zero fields do not filter.
type EventFilter struct {
	TokenSID string
	Type     string
	ActorSID string
	Since    int64 // inclusive, Unix seconds; 0 none
	Until    int64 // exclusive; 0 none
	// Before and After are anchors (exclusive): Before lists older events newest
	// first, After newer events oldest first.
	Before, After *EventAnchor
	Limit         int
}

// EventAnchor is an event's place in the order (Date, Id).
type EventAnchor struct{ Date, ID int64 }

// EventID is an event's Id on the wire: "EV", then its Date and its row id, each as 16
// hexadecimal digits. Ids only grow, and comparing two compares their (Date, row id),
// so an Id alone anchors a page.
func EventID(date, id int64) string { return fmt.Sprintf("EV%016X%016X", uint64(date), uint64(id)) }

// ParseEventID reads an Id eventID wrote.
func ParseEventID(s string) (*EventAnchor, bool) {
	if len(s) != 34 || !strings.HasPrefix(s, "EV") {
		return nil, false
	}
	d, err1 := strconv.ParseUint(s[2:18], 16, 63)
	n, err2 := strconv.ParseUint(s[18:], 16, 63)
	if err1 != nil || err2 != nil || strings.ToUpper(s) != s {
		return nil, false
	}
	return &EventAnchor{Date: int64(d), ID: int64(n)}, true
}

// Nullable is s as a nullable column: null when empty.
func Nullable(s string) Opt[string] { return Opt[string]{V: s, Valid: s != ""} }

// EventBody is an event on the wire.
type EventBody struct {
	Id            string             `json:"Id"`
	Type          string             `json:"Type"`
	Date          string             `json:"Date"`
	AccountSid    string             `json:"AccountSid"`
	TokenName     string             `json:"TokenName"`
	Actor         *actorBody         `json:"Actor"`
	ClientAddress *string            `json:"ClientAddress"`
	RequestId     *string            `json:"RequestId"`
	Changes       []EventChange      `json:"Changes"`
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

func strOrNil(s Opt[string]) *string {
	if !s.Valid {
		return nil
	}
	return &s.V
}

// EventBodyOf is e as the Token API shows it.
func EventBodyOf(e *Event) EventBody {
	b := EventBody{Id: EventID(e.Date, e.ID), Type: e.Type, Date: WireTime(e.Date), AccountSid: e.TokenSID,
		TokenName: e.TokenName, ClientAddress: strOrNil(e.Client), RequestId: strOrNil(e.RequestID),
		Changes: e.Changes, From: e.Extra.From, Notifications: make([]notificationBody, 0, len(e.Notifications))}
	if b.Changes == nil {
		b.Changes = []EventChange{}
	}
	if e.ActorName.Valid {
		b.Actor = &actorBody{AccountSid: strOrNil(e.ActorSID), Name: e.ActorName.V}
	}
	switch {
	case e.Type == EvReset:
		b.PreviousAuth = json.RawMessage("null")
		if p := e.Extra.PreviousAuthTokenExpiresAt; p != nil {
			b.PreviousAuth, _ = json.Marshal(WireTime(*p))
		}
	case e.Type == EvOverlapEnded && e.Extra.PreviousAuthTokenExpiresAt != nil:
		// Ended by the server: when the previous secret ran out.
		b.PreviousAuth, _ = json.Marshal(WireTime(*e.Extra.PreviousAuthTokenExpiresAt))
	}
	if p := e.Extra.ExpiresAt; p != nil && (e.Type == EvExpiryWarning || e.Type == EvExpired) {
		s := WireTime(*p)
		b.ExpiresAt = &s
	}
	for _, n := range e.Notifications {
		b.Notifications = append(b.Notifications, notificationBody{Email: n.Email, State: n.State, Date: WireTime(n.Date)})
	}
	return b
}

// DueNotice is a token with a lifecycle event due.
type DueNotice struct {
	AccountID int64
	SID       string
}

// UserBody is a user on the wire (a primary contact, a Users item).
type UserBody struct {
	Id    string `json:"Id"`
	Name  string `json:"Name"`
	Email string `json:"Email"`
}

// WireTime is a Unix time as every date on the wire: RFC 3339 in UTC, whole seconds.
func WireTime(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
