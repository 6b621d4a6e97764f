package server

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SettingsError says a server was started with settings other than those the database
// records: replicas sharing a database must agree on them.
type SettingsError struct {
	Setting  string // "mail", "event retention"
	Recorded string
	Given    string
}

// ExitCode is 2: the server was started wrongly, for its user to fix.
func (e *SettingsError) ExitCode() int { return 2 }

func (e *SettingsError) Error() string {
	return fmt.Sprintf("%s: %q on this database (recorded by the first server to start), %q on this server; start every server on one database with the same settings",
		e.Setting, e.Recorded, e.Given)
}

// agree records, on the first start, whether the server sends mail and how long it
// keeps events, and refuses a later start with other settings: a replica without mail
// would write notifications OFF that the others would send, and replicas pruning
// events at different ages would each undo the other's retention.
func agree(ctx context.Context, st Store, cfg Config) error {
	ob, ok := st.(mailOutbox)
	if !ok {
		return nil
	}
	mailOn := "off"
	if cfg.Mail {
		mailOn = "on"
	}
	want := map[string]string{"mail": mailOn, "event_retention": retentionSetting(cfg.EventRetention)}
	got, err := ob.Settle(ctx, want)
	if err != nil {
		return err
	}
	for _, k := range []string{"mail", "event_retention"} {
		if got[k] != want[k] {
			return &SettingsError{Setting: strings.ReplaceAll(k, "_", " "), Recorded: got[k], Given: want[k]}
		}
	}
	return nil
}

func retentionSetting(d time.Duration) string {
	if d <= 0 {
		return "forever"
	}
	return d.String()
}
