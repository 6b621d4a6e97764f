package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/outbox"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// Mailing turns on updates by mail (serve --smtp): the notifications events write
// are PENDING, and a background sender delivers them after commit.
type Mailing = outbox.Mailing

// MessageSender delivers one message and says what to do next.
type MessageSender = outbox.MessageSender

const (
	// DefaultMailRate is the most messages an account sends an hour.
	DefaultMailRate = outbox.DefaultMailRate
	// RecipientHourlyLimit is the most messages one address gets from one account an
	// hour; past it, updates are held and sent as one digest when the hour ends.
	RecipientHourlyLimit = outbox.RecipientHourlyLimit
)

// MailOutbox is a store's outbox: what the mail sender works from, the unsubscribe
// links' suppressions, and the settings every start agrees on.
type MailOutbox interface {
	outbox.Store
	// Suppress stops email's updates about account's tokens; Suppressed reports it.
	Suppress(ctx context.Context, accountID int64, email string, at int64) error
	// Settle records settings on first start (every start when replace) and answers
	// what the database recorded before.
	Settle(ctx context.Context, want map[string]string, replace bool) (map[string]string, error)
}

// newMailer is the mail sender over st's outbox.
func newMailer(st service.Store, env *service.Env, m *Mailing, log *slog.Logger) (*outbox.Sender, error) {
	ob, ok := st.(MailOutbox)
	if !ok {
		return nil, fmt.Errorf("mail: this store keeps no outbox")
	}
	return outbox.New(ob, m, env.Clock, httpapi.UnsubscribeSigner(env, m.PublicURL), log), nil
}

var (
	_ MailOutbox = (*store.SQLiteStore)(nil)
	_ MailOutbox = (*store.PostgresStore)(nil)
)
