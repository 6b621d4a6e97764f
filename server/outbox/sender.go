// Package outbox is the server's mail sender: after a change commits, it claims the
// PENDING notifications the change wrote, composes them with package mail and sends
// them, within each account's and each recipient's hourly limits. Nothing is sent
// inside a transaction.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/mail"
)

// Mailing turns on updates by mail (serve --smtp): the notifications events write
// are PENDING, and a background sender delivers them after commit.
type Mailing struct {
	// Sender delivers one message; *mail.Sender over SMTP.
	Sender MessageSender
	// From is the sender address of every message.
	From string
	// PublicURL is the base of the unsubscribe links: the server's address as its
	// readers reach it.
	PublicURL string
	// Rate is the most messages one account sends an hour; 0 means DefaultMailRate.
	Rate int
	// Poll is how often the outbox is read; 0 means two seconds.
	Poll time.Duration
}

// MessageSender delivers one message and says what to do next.
type MessageSender interface {
	Send(ctx context.Context, m *gomail.Msg) mail.Result
}

const (
	// DefaultMailRate is the most messages an account sends an hour.
	DefaultMailRate = 1000
	// RecipientHourlyLimit is the most messages one address gets from one account an
	// hour; past it, updates are held and sent as one digest when the hour ends.
	RecipientHourlyLimit = mail.HourlyLimit
	// Lease is how long a claimed message is a sender's: far beyond one SMTP
	// conversation (each step times out after mail.DefaultTimeout), so a live sender
	// never loses its claim, and a dead one's is taken over after it.
	Lease = 10 * time.Minute
	// mailClaim is how many recipients one claim takes.
	mailClaim = 8
)

// Notification states, as the contract names them. OFF: the server sends no mail, so
// nothing waits to be sent.
const (
	NotificationPending    = contract.NotificationPending
	NotificationSent       = contract.NotificationSent
	NotificationFailed     = contract.NotificationFailed
	NotificationSuppressed = contract.NotificationSuppressed
	NotificationOff        = contract.NotificationOff
)

// PendingNotification is one message an outbox sender may have to send: a recipient
// of an event whose notification is PENDING.
type PendingNotification struct {
	ID        int64  // the notification row's id
	EventID   string // the event's wire Id
	AccountID int64  // the account of the token
	Email     string
	Attempts  int
	// Event is the event as the Token API shows it (its Notifications left out).
	Event json.RawMessage
	// RequestID groups a request's messages: one message per recipient per request.
	RequestID string
	// Held marks a notification held back by the recipient's hourly limit: the held
	// ones are sent together, as one digest.
	Held bool
}

// Store is what a sender works from, over the notifications table: PENDING rows due
// now, claimed with a lease so one sender (one replica) sends each, then marked SENT
// or FAILED (or PENDING again, with a later next attempt), and the counts the hourly
// limits need. The store writes the rows in the change's transaction; a sender reads
// them after commit.
type Store interface {
	// ClaimNotifications claims up to limit PENDING notifications whose next attempt
	// is due at now (Unix seconds) and whose lease has ended, leasing them until leaseUntil.
	ClaimNotifications(ctx context.Context, now, leaseUntil int64, limit int) ([]PendingNotification, error)
	// SetNotificationState records the outcome of an attempt on notifications ids:
	// state (SENT, FAILED, SUPPRESSED, or PENDING to retry at nextAttempt), at now,
	// with errText ("" none; never a message body), releasing the lease.
	SetNotificationState(ctx context.Context, ids []int64, state string, now, nextAttempt int64, errText string) error
	// DeferNotifications puts ids back to PENDING until until without counting an
	// attempt: held (for the recipient's hourly digest) or waiting for the account's
	// hourly budget.
	DeferNotifications(ctx context.Context, ids []int64, until int64, held bool) error
	// MailSent records one message sent to email for account at at.
	MailSent(ctx context.Context, accountID int64, email string, at int64) error
	// MailCounts counts the messages sent since since: to email from account, and
	// from account to anyone.
	MailCounts(ctx context.Context, accountID int64, email string, since int64) (toRecipient, fromAccount int, err error)
	// PruneMailSent forgets messages sent before before.
	PruneMailSent(ctx context.Context, before int64) error
	// Suppressed reports whether email stopped updates about account's tokens.
	Suppressed(ctx context.Context, accountID int64, email string) (bool, error)
}

// Sender is the background sender over a store's outbox.
type Sender struct {
	st       Store
	clock    func() time.Time
	send     MessageSender
	composer *mail.Composer
	rate     int
	poll     time.Duration
	log      *slog.Logger

	mu     sync.Mutex
	warned map[int64]int64 // account → the hour its rate warning was logged
}

// New is a sender over st, composing with m's sender address and unsubscribe links
// signed by unsubscribe; clock is the server's clock in whole seconds.
func New(st Store, m *Mailing, clock func() time.Time, unsubscribe *mail.Signer, log *slog.Logger) *Sender {
	rate := m.Rate
	if rate <= 0 {
		rate = DefaultMailRate
	}
	poll := m.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{st: st, clock: clock, send: m.Sender, rate: rate, poll: poll, log: log, warned: map[int64]int64{},
		composer: &mail.Composer{From: m.From, Unsubscribe: unsubscribe}}
}

// Run sends what the outbox holds every poll until ctx ends.
func (m *Sender) Run(ctx context.Context) {
	t := time.NewTicker(m.poll)
	defer t.Stop()
	for {
		if err := m.Drain(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("mail: outbox", "error", err)
		}
		m.prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prune forgets the messages counted for limits once they are two hours old.
func (m *Sender) prune(ctx context.Context) {
	if err := m.st.PruneMailSent(ctx, m.clock().Add(-2*time.Hour).Unix()); err != nil && ctx.Err() == nil {
		m.log.Warn("mail: prune the sent log", "error", err)
	}
}

// Drain sends every message due now, claim by claim.
func (m *Sender) Drain(ctx context.Context) error {
	for ctx.Err() == nil {
		now := m.clock()
		claimed, err := m.st.ClaimNotifications(ctx, now.Unix(), now.Add(Lease).Unix(), mailClaim)
		if err != nil {
			return err
		}
		if len(claimed) == 0 {
			return nil
		}
		// The claim is ours until the lease ends; what cannot be sent well inside it
		// goes back to the outbox.
		giveBack := time.Now().Add(Lease / 2)
		for _, r := range byRecipient(claimed) {
			if time.Now().After(giveBack) || ctx.Err() != nil {
				m.release(r)
				continue
			}
			if err := m.deliver(ctx, r); err != nil {
				m.release(r)
				return err
			}
		}
	}
	return ctx.Err()
}

// release gives claimed rows back to the outbox, due at once, keeping their hold.
func (m *Sender) release(rows []PendingNotification) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := m.clock().Unix()
	var held, other []int64
	for _, p := range rows {
		if p.Held {
			held = append(held, p.ID)
		} else {
			other = append(other, p.ID)
		}
	}
	if err := m.st.DeferNotifications(ctx, held, now, true); err != nil {
		m.log.Warn("mail: release", "error", err)
	}
	if err := m.st.DeferNotifications(ctx, other, now, false); err != nil {
		m.log.Warn("mail: release", "error", err)
	}
}

// byRecipient groups claimed rows by (account, address), in claim order.
func byRecipient(rows []PendingNotification) [][]PendingNotification {
	type key struct {
		account int64
		email   string
	}
	var order []key
	groups := map[key][]PendingNotification{}
	for _, p := range rows {
		k := key{p.AccountID, strings.ToLower(p.Email)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	out := make([][]PendingNotification, 0, len(order))
	for _, k := range order {
		out = append(out, groups[k])
	}
	return out
}

// outMessage is one message to send: one request's rows, or the held ones as a digest.
type outMessage struct {
	rows   []PendingNotification
	digest bool
}

// deliver sends one recipient's due messages: one per request, the held ones as one
// digest, within the hourly limits.
func (m *Sender) deliver(ctx context.Context, rows []PendingNotification) error {
	first := rows[0]
	ids := func(rs []PendingNotification) []int64 {
		out := make([]int64, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	now := m.clock()
	sup, err := m.st.Suppressed(ctx, first.AccountID, first.Email)
	if err != nil {
		return err
	}
	if sup {
		return m.st.SetNotificationState(ctx, ids(rows), NotificationSuppressed, now.Unix(), 0, "")
	}
	var msgs []outMessage
	var held []PendingNotification
	at := map[string]int{}
	for _, p := range rows {
		if p.Held {
			held = append(held, p)
			continue
		}
		i, ok := at[p.RequestID]
		if !ok {
			i = len(msgs)
			at[p.RequestID] = i
			msgs = append(msgs, outMessage{})
		}
		msgs[i].rows = append(msgs[i].rows, p)
	}
	if len(held) > 0 {
		msgs = append([]outMessage{{rows: held, digest: true}}, msgs...)
	}
	hour := now.Truncate(time.Hour)
	next := hour.Add(time.Hour)
	toRecipient, fromAccount, err := m.st.MailCounts(ctx, first.AccountID, first.Email, hour.Unix())
	if err != nil {
		return err
	}
	for _, msg := range msgs {
		if fromAccount >= m.rate {
			m.warnRate(first.AccountID, hour.Unix())
			if err := m.st.DeferNotifications(ctx, ids(msg.rows), next.Unix(), msg.digest); err != nil {
				return err
			}
			continue
		}
		if toRecipient >= RecipientHourlyLimit {
			// Held for the digest at the end of the hour.
			if err := m.st.DeferNotifications(ctx, ids(msg.rows), next.Unix(), true); err != nil {
				return err
			}
			continue
		}
		if err := m.sendOne(ctx, msg, now); err != nil {
			return err
		}
		toRecipient++
		fromAccount++
	}
	return nil
}

func (m *Sender) warnRate(account, hour int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.warned[account] == hour {
		return
	}
	m.warned[account] = hour
	m.log.Warn("mail: an account reached its hourly message limit (--mail-rate); its updates wait for the next hour",
		"account_id", account, "limit", m.rate)
}

// sendOne composes and sends one message and records what became of it. A message
// that was not sent and whose oldest update is a day old is FAILED.
func (m *Sender) sendOne(ctx context.Context, msg outMessage, now time.Time) error {
	ids := make([]int64, len(msg.rows))
	for i, r := range msg.rows {
		ids[i] = r.ID
	}
	updates, oldest, err := UpdatesOf(msg.rows)
	if err != nil {
		// An event this sender cannot read is not retried forever.
		m.log.Error("mail: unreadable event", "error", err)
		return m.st.SetNotificationState(ctx, ids, NotificationFailed, now.Unix(), 0, "unreadable event")
	}
	var composed *gomail.Msg
	if msg.digest {
		composed, err = m.composer.ComposeDigest(updates)
	} else {
		composed, err = m.composer.Compose(updates[0])
	}
	if err != nil {
		m.log.Error("mail: compose", "error", err)
		return m.st.SetNotificationState(ctx, ids, NotificationFailed, now.Unix(), 0, "cannot compose: "+err.Error())
	}
	r := m.send.Send(ctx, composed)
	done := m.clock()
	// The outcome is recorded even when ctx ended during the attempt (a shutdown).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch r.Outcome {
	case mail.Sent:
		first := msg.rows[0]
		if err := m.st.MailSent(ctx, first.AccountID, first.Email, done.Unix()); err != nil {
			m.log.Warn("mail: record a sent message", "error", err)
		}
		return m.st.SetNotificationState(ctx, ids, NotificationSent, done.Unix(), 0, "")
	case mail.Failed:
		return m.st.SetNotificationState(ctx, ids, NotificationFailed, done.Unix(), 0, errText(r))
	}
	if done.Sub(oldest) >= mail.RetryFor {
		return m.st.SetNotificationState(ctx, ids, NotificationFailed, done.Unix(), 0, errText(r))
	}
	attempts := 0
	for _, p := range msg.rows {
		attempts = max(attempts, p.Attempts)
	}
	return m.st.SetNotificationState(ctx, ids, NotificationPending, done.Unix(), done.Add(mail.Backoff(attempts+1)).Unix(), errText(r))
}

// errText is what the outbox keeps of a failed attempt: the SMTP code and the error,
// cut short (never a message body: the SMTP errors hold none).
func errText(r mail.Result) string {
	s := "unknown error"
	if r.Err != nil {
		s = r.Err.Error()
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// UpdatesOf turns one message's rows into the updates it tells, one per request, and
// the date of the oldest.
func UpdatesOf(rows []PendingNotification) ([]mail.Update, time.Time, error) {
	var out []mail.Update
	at := map[string]int{}
	var oldest time.Time
	for _, p := range rows {
		var e storedEvent
		if err := json.Unmarshal(p.Event, &e); err != nil {
			return nil, time.Time{}, fmt.Errorf("event %s: %w", p.EventID, err)
		}
		date, err := time.Parse(time.RFC3339, e.Date)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("event %s date: %w", p.EventID, err)
		}
		if oldest.IsZero() || date.Before(oldest) {
			oldest = date
		}
		i, ok := at[p.RequestID]
		if !ok {
			i = len(out)
			at[p.RequestID] = i
			actor := ""
			if e.Actor != nil {
				actor = e.Actor.Name
			}
			out = append(out, mail.Update{RequestID: p.RequestID, Date: date, Account: strconv.FormatInt(p.AccountID, 10),
				Actor: actor, Recipient: p.Email})
		}
		out[i].Tokens = append(out[i].Tokens, tokenUpdateOf(e, p.Email))
	}
	return out, oldest, nil
}

func tokenUpdateOf(e storedEvent, recipient string) mail.TokenUpdate {
	t := mail.TokenUpdate{TokenSid: e.AccountSid, TokenName: e.TokenName, Type: e.Type}
	for _, c := range e.Changes {
		mc := mail.Change{Field: c.Field}
		if c.List {
			mc.Added, mc.Removed = nonNil(c.Added), nonNil(c.Removed)
			if e.Type == "developer_emails_changed" && c.Field == "DeveloperEmails" &&
				slices.ContainsFunc(c.Removed, func(s string) bool { return strings.EqualFold(s, recipient) }) {
				t.Removed = true
			}
		} else {
			mc.Before, mc.After = changeValue(c.Before), changeValue(c.After)
		}
		t.Changes = append(t.Changes, mc)
	}
	if e.ExpiresAt != nil {
		t.ExpiresAt, _ = time.Parse(time.RFC3339, *e.ExpiresAt)
	}
	if (e.Type == "reset" || e.Type == "overlap_ended") && len(e.PreviousAuth) > 0 {
		var s *string
		if json.Unmarshal(e.PreviousAuth, &s) == nil && s != nil {
			t.PreviousExpires, _ = time.Parse(time.RFC3339, *s)
		}
	}
	return t
}

// changeValue writes a change's value for a mail: a user by name (Id), others as they are.
func changeValue(v any) string {
	if raw, ok := v.(json.RawMessage); ok {
		// As stored: decode it first.
		var d any
		if err := json.Unmarshal(raw, &d); err != nil {
			return ""
		}
		v = d
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		name, _ := x["Name"].(string)
		id, _ := x["Id"].(string)
		if name == "" {
			return id
		}
		return name + " (" + id + ")"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// storedEvent is the part of an event, as the Token API shows it and the outbox keeps
// it, that a message tells.
type storedEvent struct {
	Type         string                 `json:"Type"`
	Date         string                 `json:"Date"`
	AccountSid   string                 `json:"AccountSid"`
	TokenName    string                 `json:"TokenName"`
	Actor        *struct{ Name string } `json:"Actor"`
	Changes      []contract.EventChange `json:"Changes"`
	PreviousAuth json.RawMessage        `json:"PreviousAuthTokenExpiresAt,omitempty"`
	ExpiresAt    *string                `json:"ExpiresAt,omitempty"`
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
