package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/pipeline"
)

// ScopesClearOptions are `scopes clear`'s inputs.
type ScopesClearOptions struct {
	Env cmdEnv
	SID string
	pipeline.ChangeFlags
}

func newScopesClearCmd(f *Factory, runF func(*ScopesClearOptions) error) *cobra.Command {
	opts := &ScopesClearOptions{}
	cmd := &cobra.Command{
		Use:   "clear SID",
		Short: "Remove every scope from a token (the web app's Clear All)",
		Example: `  impactctl scopes clear "$SID" --dry-run
  impactctl scopes clear "$SID" --yes`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return scopesClearRun(cmd.Context(), opts)
		},
	}
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func scopesClearRun(ctx context.Context, opts *ScopesClearOptions) error {
	r, _, tok, err := opts.Env.beginEdit(ctx, opts.ChangeFlags, opts.SID)
	if err != nil {
		return err
	}
	return r.ChangeOne(ctx, scopesEdit(r, tok, nil))
}
