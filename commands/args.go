package commands

import (
	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// exactArgs is cobra.ExactArgs with a usage error (exit 2) that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return cmdutil.UsageErrorf("%s takes %s (got %d argument(s))", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// minArgs requires at least n arguments.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return cmdutil.UsageErrorf("%s takes %s", cmd.CommandPath(), what)
		}
		return nil
	}
}
