package commands

import (
	"context"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/pipeline"

	"github.com/spf13/cobra"
)

// TokensResetOptions are `tokens reset`'s inputs.
type TokensResetOptions struct {
	Env    cmdEnv
	Select pipeline.Selection
	Secret pipeline.SecretFlags
	// Overlap is --overlap: how long the old secret keeps working.
	Overlap string
	pipeline.ChangeFlags
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

--overlap D (1s to 7d: 90s, 30m, 1h, 2d) keeps the old secret working beside
the new one for D, so whatever still holds it keeps working while the new one
is handed out; tokens end-overlap SID ends it sooner. Only two secrets ever
work: a later reset with an overlap replaces the previous secret, and a reset
without one refuses every earlier secret at once (an emergency reset always
works). The previous secret may do anything the token may except change its
own token.

Resetting the token in use (CI's normal case) saves the new secret first,
checks that it works, then updates the stored profile; with environment
credentials it says which variable to update.

--secret-cmd-timeout D (default 1m) stops a --secret-cmd that hangs; it then
counts as a failed hand-off (exit 11).`,
		Example: `  impactctl tokens reset "$SID" --yes --secret-file ci.secret
  impactctl tokens reset --all --not-reset-for 90d --secret-dir secrets/ --yes
  impactctl tokens reset "$SID" --yes --secret-cmd 'gh secret set IMPACT_AUTH_TOKEN'
  impactctl tokens reset "$SID" --overlap 1h --yes --secret-file ci.secret`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Select.SIDs = f.env(), args
			if runF != nil {
				return runF(opts)
			}
			return tokensResetRun(cmd.Context(), opts)
		},
	}
	registerSelection(&opts.Select, cmd)
	registerChangeFlags(&opts.ChangeFlags, cmd)
	registerSecretFlags(&opts.Secret, cmd, true)
	cmd.Flags().StringVar(&opts.Overlap, "overlap", "0", "keep the old Auth Token working for D beside the new one (0: refused at once)")
	return cmd
}

func tokensResetRun(ctx context.Context, opts *TokensResetOptions) error {
	overlap, err := parseOverlap("--overlap", opts.Overlap)
	if err != nil {
		return err
	}
	if opts.Secret.Dir != "" {
		opts.Select.SIDsOnly = "--secret-dir"
	}
	if !opts.DryRun {
		if err := opts.Secret.Check(opts.Env.IO); err != nil {
			return err
		}
		defer opts.Secret.Close()
	}
	r, _, err := opts.Env.begin(ctx, opts.ChangeFlags)
	if err != nil {
		return err
	}
	if overlap > 0 {
		r.Reset = &client.ResetOptions{PreviousValidFor: int(overlap / time.Second)}
	}
	return r.ResetTokens(ctx, opts.Select, &opts.Secret)
}
