package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// Event is one change to a token as the server recorded it. It never holds a
// secret or any part of one.
type Event struct {
	Id         string
	Type       string
	Date       string
	AccountSid string // the token the event is about
	TokenName  string
	// Actor is who acted; nil for the server's own events.
	Actor         *EventActor
	ClientAddress *string
	RequestId     *string
	Changes       []EventChange
	// From is the source token of a duplicated event.
	From string `json:",omitempty"`
	// PreviousAuthTokenExpiresAt is set on reset events: when the previous secret
	// stops (nil: at once). json.RawMessage keeps the null.
	PreviousAuthTokenExpiresAt json.RawMessage `json:",omitempty"`
	// ExpiresAt is set on expiry_warning and expired events: the token's expiry.
	ExpiresAt     string `json:",omitempty"`
	Notifications []EventNotification
}

// EventActor is who made a change: a token of the account (AccountSid set), or
// another account, admin recover (AccountSid nil, named).
type EventActor struct {
	AccountSid *string
	Name       string
}

// EventChange is one item of an event's Changes: Before and After for a single
// value, Added and Removed for a list (Scopes, DeveloperEmails).
type EventChange struct {
	Field   string
	Before  json.RawMessage `json:",omitempty"`
	After   json.RawMessage `json:",omitempty"`
	Added   []string        `json:",omitempty"`
	Removed []string        `json:",omitempty"`
}

// EventNotification is one recipient of an event and the state of its message:
// PENDING, SENT, FAILED, SUPPRESSED or OFF.
type EventNotification struct {
	Email string
	State string
	Date  string
}

// EventListOptions filter an event listing. Zero values are not sent.
type EventListOptions struct {
	ListOptions
	// Sid is one token's events (GET ApiTokens/{Sid}/Events, a deleted token's
	// too); "" is the account's (GET ApiTokenEvents).
	Sid      string
	Type     string
	ActorSid string // the account's listing only
	// TokenSid narrows the account's listing to one token (its Sid filter).
	TokenSid string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
}

// Events lists events newest first, following @nextpageuri's anchors: a page
// never repeats or skips an event while new ones arrive.
func (c *Client) Events(ctx context.Context, o EventListOptions) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for raw, err := range c.EventsJSON(ctx, o) {
			if err != nil {
				yield(nil, err)
				return
			}
			var e Event
			if err := json.Unmarshal(raw, &e); err != nil {
				yield(nil, fmt.Errorf("reading Events: %w", err))
				return
			}
			if !yield(&e, nil) {
				return
			}
		}
	}
}

// EventsJSON lists events like Events, each as the server sent it.
func (c *Client) EventsJSON(ctx context.Context, o EventListOptions) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		root, err := c.root(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		rel := "/ApiTokenEvents"
		if o.Sid != "" {
			rel = "/ApiTokens/" + seg(o.Sid) + "/Events"
		}
		q := o.query()
		q.Set("PageSize", fmt.Sprint(o.pageSize()))
		next := c.url(&request{method: http.MethodGet, path: root + rel, query: q})
		seen := map[string]bool{}
		last := "" // the last Id read: every page must go further back
		n := 0
		for {
			seen[next.String()] = true
			res, err := c.do(ctx, &request{method: http.MethodGet, u: next})
			if err != nil {
				yield(nil, err)
				return
			}
			env, items, err := decodePage(res.body, "Events")
			if err != nil {
				yield(nil, fmt.Errorf("reading page of %s: %w", next.Path, err))
				return
			}
			for _, raw := range items {
				var id struct{ Id string }
				if err := json.Unmarshal(raw, &id); err != nil {
					yield(nil, fmt.Errorf("reading Events: %w", err))
					return
				}
				// Ids only grow and the list is newest first: an Id not below the
				// last one is a page repeated, and would page for ever.
				if last != "" && id.Id >= last {
					yield(nil, &PageChainError{Path: next.Path, Loops: true})
					return
				}
				last = id.Id
				if !yield(raw, nil) {
					return
				}
				if n++; o.Limit > 0 && n >= o.Limit {
					return
				}
			}
			if env.Next == "" || len(items) == 0 {
				return
			}
			u, err := c.nextURL(next, env.Next, q)
			if err != nil {
				yield(nil, err)
				return
			}
			if seen[u.String()] {
				yield(nil, &PageChainError{Path: u.Path, Loops: true})
				return
			}
			next = u
		}
	}
}

func (o EventListOptions) query() url.Values {
	q := url.Values{}
	if o.Type != "" {
		q.Set("Type", o.Type)
	}
	if o.Sid == "" {
		if o.TokenSid != "" {
			q.Set("Sid", o.TokenSid)
		}
		if o.ActorSid != "" {
			q.Set("ActorSid", o.ActorSid)
		}
	}
	if !o.Since.IsZero() {
		q.Set("Since", o.Since.UTC().Format(time.RFC3339))
	}
	if !o.Until.IsZero() {
		q.Set("Until", o.Until.UTC().Format(time.RFC3339))
	}
	return q
}
