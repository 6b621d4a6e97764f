package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// SettingsError says a server was started with settings other than those its
// PostgreSQL database records: replicas sharing a database must agree on them.
type SettingsError struct {
	Setting  string // "mail", "event_retention"
	Recorded string
	Given    string
}

// ExitCode is 2: the server was started wrongly, for its user to fix.
func (e *SettingsError) ExitCode() int { return 2 }

func (e *SettingsError) Error() string {
	return fmt.Sprintf("%s: %q on this database (recorded by the first server to start), %q on this server; "+
		"start every server on one database with the same settings (to change one, stop them all, run "+
		"DELETE FROM meta WHERE key = '%s' on the database, and start them with the new setting)",
		e.Setting, e.Recorded, e.Given, e.Setting)
}

// settingKeys are the settings every server on one database must share, in the order
// they are checked.
var settingKeys = []string{"mail", "event_retention"}

// agree records whether the server sends mail and how long it keeps events, and on
// PostgreSQL refuses a start with other settings than the database records: a
// replica without mail would write notifications OFF that the others would send, and
// replicas pruning at different ages would each undo the other's retention. A SQLite
// database has one server, so its latest start decides, with a warning.
func agree(ctx context.Context, st service.Store, cfg Config, log *slog.Logger) error {
	ob, ok := st.(MailOutbox)
	if !ok {
		return nil
	}
	mailOn := "off"
	if cfg.Mail {
		mailOn = "on"
	}
	want := map[string]string{"mail": mailOn, "event_retention": retentionSetting(cfg.EventRetention)}
	_, shared := st.(*store.PostgresStore)
	got, err := ob.Settle(ctx, want, !shared)
	if err != nil {
		return err
	}
	for _, k := range settingKeys {
		if got[k] == want[k] {
			continue
		}
		if shared {
			return &SettingsError{Setting: k, Recorded: got[k], Given: want[k]}
		}
		log.Warn("a setting changed since this database's last start", "setting", k, "was", got[k], "now", want[k])
	}
	return nil
}

func retentionSetting(d time.Duration) string {
	if d <= 0 {
		return "forever"
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
