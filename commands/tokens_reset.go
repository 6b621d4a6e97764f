package commands

import (
	"context"

	"github.com/spf13/cobra"
)

// TokensResetOptions are `tokens reset`'s inputs.
type TokensResetOptions struct {
	Env    changeEnv
	Select selection
	Secret secretFlags
	changeFlags
}

func newTokensResetCmd(f *Factory, runF func(*TokensResetOptions) error) *cobra.Command {
	opts := &TokensResetOptions{}
	cmd := &cobra.Command{
		Use:   "reset SID...",
		Short: "Reset (rotate) Auth Tokens: the old ones are refused at once",
		Long: `Reset (rotate) the Auth Token of one or more tokens. The old secret is
refused from the very next request.

The new secret goes where it is told: --secret-file PATH (one token; - for
stdout), --secret-dir DIR (one file per SID, named after the SIDs asked for)
or --reveal (stdout). On a terminal stdout is the default; elsewhere, told
nothing, the command refuses before changing anything.

--secret-cmd CMD also hands each new secret to CMD on its stdin, after any
file is written, with IMPACTCTL_SECRET_SID set. CMD is split into words as a
shell would (quotes honoured, nothing else: use sh -c '…' for more). If it
fails, the command exits 11 naming the --idempotency-key that hands the
secrets over again without resetting anything twice.

Resetting the token in use (CI's normal case) saves the new secret first,
checks that it works, then updates the stored profile; with environment
credentials it says which variable to update.`,
		Example: `  impactctl tokens reset "$SID" --yes --secret-file ci.secret
  impactctl tokens reset --all --not-reset-for 90d --secret-dir secrets/ --yes
  impactctl tokens reset "$SID" --yes --secret-cmd 'gh secret set IMPACT_AUTH_TOKEN'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Select.SIDs = f.changeEnv(), args
			if runF != nil {
				return runF(opts)
			}
			return tokensResetRun(cmd.Context(), opts)
		},
	}
	opts.Select.register(cmd)
	opts.changeFlags.register(cmd)
	opts.Secret.register(cmd, true)
	return cmd
}

func tokensResetRun(ctx context.Context, opts *TokensResetOptions) error {
	if opts.Secret.Dir != "" {
		opts.Select.SIDsOnly = "--secret-dir"
	}
	if !opts.DryRun {
		if err := opts.Secret.check(opts.Env.IO); err != nil {
			return err
		}
		defer opts.Secret.close()
	}
	r, _, err := opts.Env.begin(ctx, opts.changeFlags)
	if err != nil {
		return err
	}
	return r.resetTokens(ctx, opts.Select, &opts.Secret)
}
