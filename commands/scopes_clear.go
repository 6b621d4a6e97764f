package commands

import (
	"github.com/spf13/cobra"
)

func newScopesClearCmd(f *Factory) *cobra.Command {
	var flags changeFlags
	cmd := &cobra.Command{
		Use:   "clear SID",
		Short: "Remove every scope from a token (the web app's Clear All)",
		Example: `  impactctl scopes clear "$SID" --dry-run
  impactctl scopes clear "$SID" --yes`,
		Args: exactArgs(1, "one Account SID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, tok, err := f.readToken(ctx, args[0])
			if err != nil {
				return err
			}
			return f.applyScopes(ctx, c, tok, nil, flags)
		},
	}
	flags.register(cmd)
	return cmd
}
