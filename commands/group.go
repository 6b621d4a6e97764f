package commands

import "github.com/spf13/cobra"

// newGroupCmd is a command that only holds subcommands. Unlike cobra's
// default, an unknown subcommand is a usage error (exit 2), not help and
// exit 0, so a typo in a script fails loudly.
func newGroupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, RunE: runGroup}
	cmd.AddCommand(subs...)
	return cmd
}

// runGroup is what a command holding only subcommands does when run itself:
// help, or a usage error for an unknown subcommand.
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(cmd, args[0])
	}
	return cmd.Help()
}
