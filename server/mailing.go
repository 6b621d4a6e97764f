package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/impactcom/impactctl/server/mail"
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

// newMailer is the mail sender over st's outbox.
func newMailer(st service.Store, m *Mailing, log *slog.Logger) (*outbox.Sender, error) {
	ob, ok := st.(mailOutbox)
	if !ok {
		return nil, fmt.Errorf("mail: this store keeps no outbox")
	}
	return outbox.New(ob, m, st.Env().Clock, unsubscribeSigner(st.Env(), m.PublicURL), log), nil
}

// unsubscribeSigner signs the unsubscribe links with a key derived from the server's.
func unsubscribeSigner(env *service.Env, publicURL string) *mail.Signer {
	return mail.NewSigner(publicURL, env.Keys.UnsubscribeKey)
}

// mailOutbox is a store's outbox: what the mail sender works from, the unsubscribe
// links' suppressions, and the settings every start agrees on.
type mailOutbox interface {
	outbox.Store
	// Suppress stops email's updates about account's tokens; Suppressed reports it.
	Suppress(ctx context.Context, accountID int64, email string, at int64) error
	// Settle records settings on first start (every start when replace) and answers
	// what the database recorded before.
	Settle(ctx context.Context, want map[string]string, replace bool) (map[string]string, error)
}

var (
	_ mailOutbox = (*store.SQLiteStore)(nil)
	_ mailOutbox = (*store.PostgresStore)(nil)
)
