package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// recipients are the addresses told about an event on t: its developer e-mail
// addresses and its primary contact's, each once, in that order, plus extra (an
// address removed from the list, a replaced contact).
func recipients(t *Token, extra ...string) []string {
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
		add(t.ContactEmail.V)
	}
	for _, e := range extra {
		add(e)
	}
	return out
}

// actor is who an event names as having acted: the calling token when it belongs to
// the token's account; an agency acting through passthrough by its account's name,
// with no client address; admin recover; nobody (the server) for a nil caller.
func (s *Rules) actor(ctx context.Context, c *Call, e *Event) error {
	switch {
	case c == nil:
		return nil
	case c.ActorName != "":
		e.ActorName = Some(c.ActorName)
		return nil
	case c.Caller == nil:
		return nil
	case c.Caller.AccountID == e.AccountID:
		e.ActorSID = Some(c.Caller.SID)
		e.ActorName = Some(c.Caller.Name)
	default:
		a, err := s.st.Account(ctx, c.Caller.AccountID)
		if err != nil {
			return fmt.Errorf("event actor: %w", err)
		}
		e.ActorName = Some(a.Name + " (agency)")
		e.RequestID = Nullable(c.RequestID)
		return nil
	}
	e.Client = Nullable(c.Client)
	e.RequestID = Nullable(c.RequestID)
	return nil
}

// record writes the event typ on t (as it is after the change; as it was for a
// delete) in the change's transaction, with a notification for each of its
// recipients: PENDING when the server sends mail, OFF when it does not.
func (x *WriteTx) record(ctx context.Context, typ string, t *Token, changes []EventChange, extra EventExtra, also ...string) error {
	e := &Event{Type: typ, Date: x.Now, AccountID: t.AccountID, TokenSID: t.SID, TokenName: t.Name,
		Changes: changes, Extra: extra}
	if err := x.Svc.actor(ctx, x.Call, e); err != nil {
		return err
	}
	state := NotificationOff
	if x.Svc.Mail {
		state = NotificationPending
	}
	for _, addr := range recipients(t, also...) {
		e.Notifications = append(e.Notifications, Notification{Email: addr, State: state, Date: x.Now})
	}
	return x.AddEvent(ctx, e)
}

// recordEdit writes the event of an edit that changed something: before is the token
// as it was, t as it is now.
func (x *WriteTx) recordEdit(ctx context.Context, before, t *Token) error {
	switch {
	case before.State != t.State:
		typ := EvDisabled
		if t.Enabled() {
			typ = EvEnabled
		}
		return x.record(ctx, typ, t, nil, EventExtra{})
	case !slices.Equal(before.Scopes, t.Scopes):
		return x.record(ctx, EvScopesChanged, t, []EventChange{listChange("Scopes", before.Scopes, t.Scopes)}, EventExtra{})
	case !slices.Equal(before.Emails, t.Emails):
		// The addresses removed are told too, once, that they were removed.
		return x.record(ctx, EvEmailsChanged, t, []EventChange{listChange("DeveloperEmails", before.Emails, t.Emails)},
			EventExtra{}, before.Emails...)
	}
	var changes []EventChange
	if before.Name != t.Name {
		changes = append(changes, EventChange{Field: "Name", Before: before.Name, After: t.Name})
	}
	if before.Description != t.Description {
		changes = append(changes, EventChange{Field: "Description", Before: before.Description, After: t.Description})
	}
	if before.APIVersion != t.APIVersion {
		changes = append(changes, EventChange{Field: "ApiVersion", Before: before.APIVersion, After: t.APIVersion})
	}
	if c, ok := expiryChange(before, t); ok {
		changes = append(changes, c)
	}
	var also []string
	if before.ContactID != t.ContactID {
		changes = append(changes, EventChange{Field: "PrimaryContact", Before: contactOf(before), After: contactOf(t)})
		if before.ContactEmail.Valid {
			also = append(also, before.ContactEmail.V) // the replaced contact is told too
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return x.record(ctx, EvEdited, t, changes, EventExtra{}, also...)
}

// expiryChange is a moved ExpiresAt as an event shows it: times on the wire, null
// for never.
func expiryChange(before, t *Token) (EventChange, bool) {
	if before.ExpiresAt == t.ExpiresAt {
		return EventChange{}, false
	}
	at := func(n Opt[int64]) any {
		if !n.Valid {
			return nil
		}
		return WireTime(n.V)
	}
	return EventChange{Field: "ExpiresAt", Before: at(before.ExpiresAt), After: at(t.ExpiresAt)}, true
}

func contactOf(t *Token) *UserBody {
	if !t.ContactID.Valid {
		return nil
	}
	return &UserBody{Id: t.ContactID.V, Name: t.ContactName.V, Email: t.ContactEmail.V}
}

// listChange is what changed between two lists: the items added and removed, each in
// the order of the list that holds it.
func listChange(field string, before, after []string) EventChange {
	c := EventChange{Field: field, List: true, Added: []string{}, Removed: []string{}}
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
func (s *Rules) recordReveal(ctx context.Context, c *Call, t *Token) error {
	return s.st.Update(ctx, c.Account.ID, func(tx Tx) error {
		x := &WriteTx{Tx: tx, Svc: s, Call: c, Now: s.Env.Clock().Unix()}
		return x.record(ctx, EvRevealed, t, nil, EventExtra{})
	})
}

// Events lists the account's events, or one token's (sid != ""): a token that is
// not there and has no events here is 404, so a deleted token's events stay readable
// and another account's token looks like none.
func (s *Rules) Events(ctx context.Context, c *Call, sid string, f EventFilter) ([]Event, error) {
	if sid != "" {
		f.TokenSID = sid
		if _, err := s.Token(ctx, c, sid); err != nil {
			var refused *APIError
			if !errors.As(err, &refused) {
				return nil, err
			}
			any, err2 := s.st.Events(ctx, c.Account.ID, EventFilter{TokenSID: sid, Limit: 1})
			if err2 != nil {
				return nil, err2
			}
			if len(any) == 0 {
				return nil, err
			}
		}
	}
	return s.st.Events(ctx, c.Account.ID, f)
}

// eventRetentionBatch is how many events one pruning statement removes: small, so a
// prune never holds the writer long.
const eventRetentionBatch = 500

// PruneEvents removes the events older than retention in small batches until none is
// left or ctx ends, and answers how many went.
func PruneEvents(ctx context.Context, st Store, now time.Time, retention time.Duration) (int, error) {
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

// KeepPruning prunes events older than retention (by the clock now) now and then every
// pruneEvery, until ctx ends; retention 0 keeps every event.
func KeepPruning(ctx context.Context, st Store, now func() time.Time, retention time.Duration, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	for {
		n, err := PruneEvents(ctx, st, now(), retention)
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
