package server

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/impactcom/impactctl/server/service"
)

// recipients are the addresses told about an event on t: its developer e-mail
// addresses and its primary contact's, each once, in that order, plus extra (an
// address removed from the list, a replaced contact).
func recipients(t *service.Token, extra ...string) []string {
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
func (s *tokenService) actor(ctx context.Context, c *call, e *service.Event) error {
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
		e.RequestID = service.Nullable(c.requestID)
		return nil
	}
	e.Client = service.Nullable(c.client)
	e.RequestID = service.Nullable(c.requestID)
	return nil
}

// record writes the event typ on t (as it is after the change; as it was for a
// delete) in the change's transaction, with a notification for each of its
// recipients: PENDING when the server sends mail, OFF when it does not.
func (x *wtx) record(ctx context.Context, typ string, t *service.Token, changes []service.EventChange, extra service.EventExtra, also ...string) error {
	e := &service.Event{Type: typ, Date: x.now, AccountID: t.AccountID, TokenSID: t.SID, TokenName: t.Name,
		Changes: changes, Extra: extra}
	if err := x.s.actor(ctx, x.c, e); err != nil {
		return err
	}
	state := service.NotificationOff
	if x.s.mail {
		state = service.NotificationPending
	}
	for _, addr := range recipients(t, also...) {
		e.Notifications = append(e.Notifications, service.Notification{Email: addr, State: state, Date: x.now})
	}
	return x.AddEvent(ctx, e)
}

// recordEdit writes the event of an edit that changed something: before is the token
// as it was, t as it is now.
func (x *wtx) recordEdit(ctx context.Context, before, t *service.Token) error {
	switch {
	case before.State != t.State:
		typ := service.EvDisabled
		if t.Enabled() {
			typ = service.EvEnabled
		}
		return x.record(ctx, typ, t, nil, service.EventExtra{})
	case !slices.Equal(before.Scopes, t.Scopes):
		return x.record(ctx, service.EvScopesChanged, t, []service.EventChange{listChange("Scopes", before.Scopes, t.Scopes)}, service.EventExtra{})
	case !slices.Equal(before.Emails, t.Emails):
		// The addresses removed are told too, once, that they were removed.
		return x.record(ctx, service.EvEmailsChanged, t, []service.EventChange{listChange("DeveloperEmails", before.Emails, t.Emails)},
			service.EventExtra{}, before.Emails...)
	}
	var changes []service.EventChange
	if before.Name != t.Name {
		changes = append(changes, service.EventChange{Field: "Name", Before: before.Name, After: t.Name})
	}
	if before.Description != t.Description {
		changes = append(changes, service.EventChange{Field: "Description", Before: before.Description, After: t.Description})
	}
	if before.APIVersion != t.APIVersion {
		changes = append(changes, service.EventChange{Field: "ApiVersion", Before: before.APIVersion, After: t.APIVersion})
	}
	if c, ok := expiryChange(before, t); ok {
		changes = append(changes, c)
	}
	var also []string
	if before.ContactID != t.ContactID {
		changes = append(changes, service.EventChange{Field: "PrimaryContact", Before: contactOf(before), After: contactOf(t)})
		if before.ContactEmail.Valid {
			also = append(also, before.ContactEmail.String) // the replaced contact is told too
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return x.record(ctx, service.EvEdited, t, changes, service.EventExtra{}, also...)
}

// expiryChange is a moved ExpiresAt as an event shows it: times on the wire, null
// for never.
func expiryChange(before, t *service.Token) (service.EventChange, bool) {
	if before.ExpiresAt == t.ExpiresAt {
		return service.EventChange{}, false
	}
	at := func(n sql.NullInt64) any {
		if !n.Valid {
			return nil
		}
		return service.WireTime(n.Int64)
	}
	return service.EventChange{Field: "ExpiresAt", Before: at(before.ExpiresAt), After: at(t.ExpiresAt)}, true
}

func contactOf(t *service.Token) *service.UserBody {
	if !t.ContactID.Valid {
		return nil
	}
	return &service.UserBody{Id: t.ContactID.String, Name: t.ContactName.String, Email: t.ContactEmail.String}
}

// listChange is what changed between two lists: the items added and removed, each in
// the order of the list that holds it.
func listChange(field string, before, after []string) service.EventChange {
	c := service.EventChange{Field: field, List: true, Added: []string{}, Removed: []string{}}
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
func (s *tokenService) recordReveal(ctx context.Context, c *call, t *service.Token) error {
	return s.st.Update(ctx, c.account.ID, func(tx service.Tx) error {
		x := &wtx{Tx: tx, s: s, c: c, now: s.env.Clock().Unix()}
		return x.record(ctx, service.EvRevealed, t, nil, service.EventExtra{})
	})
}

// Events lists the account's events, or one token's (sid != ""): a token that is
// not there and has no events here is 404, so a deleted token's events stay readable
// and another account's token looks like none.
func (s *tokenService) Events(ctx context.Context, c *call, sid string, f service.EventFilter) ([]service.Event, error) {
	if sid != "" {
		f.TokenSID = sid
		if _, err := s.Token(ctx, c, sid); err != nil {
			if _, known := asAPIError(err); !known {
				return nil, err
			}
			any, err2 := s.st.Events(ctx, c.account.ID, service.EventFilter{TokenSID: sid, Limit: 1})
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

// eventRetentionBatch is how many events one pruning statement removes: small, so a
// prune never holds the writer long.
const eventRetentionBatch = 500

// pruneEvents removes the events older than retention in small batches until none is
// left or ctx ends, and answers how many went.
func pruneEvents(ctx context.Context, st service.Store, now time.Time, retention time.Duration) (int, error) {
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
func keepPruning(ctx context.Context, st service.Store, retention time.Duration, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	for {
		n, err := pruneEvents(ctx, st, st.Env().Now(), retention)
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
