package commands

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/pipeline"
)

// registerSelection binds the selection flags: --stdin, --all, --concurrency
// and the list filters.
func registerSelection(b *pipeline.Selection, cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&b.Stdin, "stdin", false, "read Account SIDs from stdin, one a line")
	fl.BoolVar(&b.All, "all", false, "every token the list filters select (see tokens list)")
	fl.IntVar(&b.Concurrency, "concurrency", 4, "requests in flight at once")
	registerListFlags(&b.Filters, cmd)
	b.Filtered = func() bool {
		for _, name := range []string{"state", "name", "created-after", "created-before", "unused-for", "not-reset-for", "expiring-within", "limit", "page-size"} {
			if fl.Changed(name) {
				return true
			}
		}
		return false
	}
}

// registerSecretFlags binds where new secrets go; bulk adds --secret-dir.
func registerSecretFlags(s *pipeline.SecretFlags, cmd *cobra.Command, bulk bool) {
	s.Bulk = bulk
	cmd.Flags().StringVar(&s.File, "secret-file", "", "write the new Auth Token to this file (0600, atomically; - for stdout, the secret alone)")
	if bulk {
		cmd.Flags().StringVar(&s.Dir, "secret-dir", "", "write each new Auth Token to DIR/<SID> (0600)")
	}
	cmd.Flags().BoolVar(&s.Reveal, "reveal", false, "print the new Auth Token on stdout, alone (several tokens: SID<TAB>SECRET a line)")
	cmd.Flags().StringVar(&s.Cmd, "secret-cmd", "", "hand each new Auth Token to CMD on its stdin (after any file is written)")
	cmd.Flags().DurationVar(&s.CmdTimeout, "secret-cmd-timeout", time.Minute, "how long each --secret-cmd run may take before it is stopped and counts as failed")
}
