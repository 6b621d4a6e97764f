package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/pipeline"
)

// TokensHistoryOptions are `tokens history`'s inputs.
type TokensHistoryOptions struct {
	Env     cmdEnv
	SID     string
	Filters eventFlags
	// options reads the filters, given the clock (set by the constructor).
	options func() (eventOptions, error)
}

func newTokensHistoryCmd(f *Factory, runF func(*TokensHistoryOptions) error) *cobra.Command {
	opts := &TokensHistoryOptions{}
	cmd := &cobra.Command{
		Use:   "history SID",
		Short: "Show every change to one API token, newest first",
		Long: `Show the events of one API token, newest first: when it was created,
edited, reset, disabled, enabled or deleted, when its scopes or developer
e-mail addresses changed, and when its Auth Token was read; who did it, what
changed, and who was told. A deleted token's history stays readable. Needs
the apitokens.read scope. -o json writes the events as the API sends them.`,
		Example: `  impactctl tokens history "$SID"
  impactctl tokens history "$SID" --type reset --since 30d
  impactctl tokens history "$SID" -o json --jq '.[].RequestId'`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			opts.options = func() (eventOptions, error) { return readEventOptions(cmd, opts.Env.Now, &opts.Filters) }
			if runF != nil {
				return runF(opts)
			}
			return tokensHistoryRun(cmd.Context(), opts)
		},
	}
	opts.Filters.register(cmd)
	return cmd
}

func tokensHistoryRun(ctx context.Context, opts *TokensHistoryOptions) error {
	if err := pipeline.CheckTokenArg(opts.SID); err != nil {
		return err
	}
	o, err := opts.options()
	if err != nil {
		return err
	}
	c, err := opts.Env.Client(ctx)
	if err != nil {
		return err
	}
	// A deleted token has no name left: its history is asked for by SID.
	if o.Sid, err = pipeline.ResolveSID(ctx, c, opts.SID); err != nil {
		return err
	}
	return printEvents(ctx, opts.Env, c, o.EventListOptions)
}
