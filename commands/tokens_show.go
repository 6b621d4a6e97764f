package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// TokensShowOptions are `tokens show`'s inputs.
type TokensShowOptions struct {
	Env    cmdEnv
	SID    string
	Reveal bool
}

func newTokensShowCmd(f *Factory, runF func(*TokensShowOptions) error) *cobra.Command {
	opts := &TokensShowOptions{}
	cmd := &cobra.Command{
		Use:     "show SID",
		Aliases: []string{"view"},
		Short:   "Show one API token",
		Long: `Show one API token. The Auth Token is shown as its last four characters
unless --reveal is given (which needs the apitokens.reveal scope).`,
		Example: `  impactctl tokens show "$SID"
  impactctl tokens show 'CI deploys'
  impactctl tokens show "$SID" -o json --jq '.Scopes[]'
  impactctl tokens show "$SID" --reveal --jq .AuthToken > ci.secret`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return tokensShowRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Reveal, "reveal", false, "show the Auth Token itself")
	return cmd
}

func tokensShowRun(ctx context.Context, opts *TokensShowOptions) error {
	e := opts.Env
	c, tok, err := pipeline.ReadToken(ctx, e.Client, opts.SID)
	if err != nil {
		return err
	}
	// A token read never carries its secret; one that does is not shown:
	// only --reveal's answer, checked, is.
	tok.AuthToken = ""
	if opts.Reveal {
		secret, err := c.AuthToken(ctx, tok.AccountSid)
		if err != nil {
			return err
		}
		if err := pipeline.CheckSecret(secret.AuthToken, "the Auth Token of "+tok.AccountSid); err != nil {
			return err
		}
		tok.AuthToken = secret.AuthToken
		pipeline.MaskSecret(e.Msgs, pipeline.InGitHubActions(e.Getenv), tok.AuthToken)
	}
	p := e.Printer
	if !p.Table() {
		return p.Object(tok)
	}
	return output.KeyValues(e.IO.Out, pipeline.TokenDetails(tok))
}
