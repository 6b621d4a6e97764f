package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// TokensEndOverlapOptions are `tokens end-overlap`'s inputs.
type TokensEndOverlapOptions struct {
	Env cmdEnv
	SID string
	pipeline.ChangeFlags
}

func newTokensEndOverlapCmd(f *Factory, runF func(*TokensEndOverlapOptions) error) *cobra.Command {
	opts := &TokensEndOverlapOptions{}
	cmd := &cobra.Command{
		Use:   "end-overlap SID",
		Short: "Refuse a token's previous Auth Token now, ending the overlap of a reset",
		Long: `After tokens reset --overlap (or tokens rotate), the old Auth Token keeps
working beside the new one until the overlap ends. end-overlap ends it now:
the previous Auth Token is refused from the next request. tokens show tells
when the previous Auth Token was last used, so you can see when nothing uses
it any more.

When the token is the one this command runs with, it needs --yes: should
these credentials still hold the previous Auth Token, the server refuses
(the previous Auth Token may not change its own token); store the new one
first. A token without a previous Auth Token is left alone (exit 0).`,
		Example: `  impactctl tokens show "$SID"    # see "Previous Auth Token": until when it works, when last used
  impactctl tokens end-overlap "$SID" --yes`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return tokensEndOverlapRun(cmd.Context(), opts)
		},
	}
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func tokensEndOverlapRun(ctx context.Context, opts *TokensEndOverlapOptions) error {
	r, c, tok, err := opts.Env.beginEdit(ctx, opts.ChangeFlags, opts.SID)
	if err != nil {
		return err
	}
	ch := pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionEndOverlap}
	if tok.PreviousAuthTokenExpiresAt != nil {
		ch.Fields = []pipeline.FieldChange{{Field: "PreviousAuthToken", Before: "works until " + *tok.PreviousAuthTokenExpiresAt, After: "none (refused from the next request)"}}
	}
	if r.IsInUse(tok.AccountSid) {
		ch.Warning = fmt.Sprintf("token %s is the one in use: if these credentials still hold its previous Auth Token, they are refused from the next request", tok.AccountSid)
	}
	return r.ChangeOne(ctx, pipeline.Edit{Tok: tok, Change: ch, Question: "End the overlap now?",
		Unchanged: fmt.Sprintf("token %s has no previous Auth Token that works", tok.AccountSid),
		Apply: func(ctx context.Context, w client.WriteOptions) (*client.Token, error) {
			if err := c.EndOverlap(ctx, tok.AccountSid, w); err != nil {
				return nil, err
			}
			after := *tok
			after.PreviousAuthTokenExpiresAt, after.PreviousAuthTokenLastUsed, after.ETag = nil, nil, ""
			return &after, nil
		},
		Report: func(t *client.Token) (string, [][2]string) {
			return fmt.Sprintf("ended the overlap of token %s (%s): its previous Auth Token is refused", t.AccountSid, output.Sanitize(t.Name)), pipeline.TokenDetails(t)
		},
	})
}
