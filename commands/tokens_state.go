package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// TokensStateOptions are the inputs of `tokens disable`, `tokens enable`
// and `tokens delete`.
type TokensStateOptions struct {
	Env    cmdEnv
	Action client.Action
	Select pipeline.Selection
	pipeline.ChangeFlags
}

func newTokensStateCmd(f *Factory, action client.Action, short string, runF func(*TokensStateOptions) error) *cobra.Command {
	opts := &TokensStateOptions{Action: action}
	verb := strings.ToLower(string(action))
	cmd := &cobra.Command{
		Use:   verb + " SID...",
		Short: short,
		Example: fmt.Sprintf(`  impactctl tokens %[1]s "$SID" --yes

  # Tokens created over 180 days ago and not used since: look first, then act.
  impactctl tokens %[1]s --all --unused-for 180d --dry-run
  impactctl tokens %[1]s --all --unused-for 180d --yes

  impactctl tokens list --name temp --jq '.[].AccountSid' | impactctl tokens %[1]s --stdin --dry-run`, verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Select.SIDs = f.env(), args
			if runF != nil {
				return runF(opts)
			}
			return tokensStateRun(cmd.Context(), opts)
		},
	}
	if action == client.ActionDelete {
		cmd.Aliases = []string{"rm"}
	}
	registerSelection(&opts.Select, cmd)
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func tokensStateRun(ctx context.Context, opts *TokensStateOptions) error {
	r, _, err := opts.Env.begin(ctx, opts.ChangeFlags)
	if err != nil {
		return err
	}
	return r.ChangeStates(ctx, opts.Action, opts.Select)
}
