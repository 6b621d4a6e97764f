package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
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
	c, tok, err := readToken(ctx, e.Client, opts.SID)
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
		if err := checkSecret(secret.AuthToken, "the Auth Token of "+tok.AccountSid); err != nil {
			return err
		}
		tok.AuthToken = secret.AuthToken
		maskSecret(e.Msgs, inGitHubActions(e.Getenv), tok.AuthToken)
	}
	p := e.Printer
	if !p.Table() {
		return p.Object(tok)
	}
	return output.KeyValues(e.IO.Out, tokenDetails(tok))
}

// tokenDetails are the lines of `tokens show` for people.
func tokenDetails(t *client.Token) [][2]string {
	secret := output.Hint(t.AuthTokenHint)
	if t.AuthToken != "" {
		secret = t.AuthToken
	}
	version := fmt.Sprint(t.ApiVersion)
	if t.LatestApiVersion > t.ApiVersion {
		version += fmt.Sprintf(" (latest is %d)", t.LatestApiVersion)
	}
	return [][2]string{
		{"Account SID", t.AccountSid},
		{"Name", t.Name},
		{"Description", t.Description},
		{"State", string(t.State)},
		{"API version", version},
		{"Auth Token", secret},
		{"Primary contact", userLabel(t.PrimaryContact)},
		{"Developer emails", strings.Join(t.DeveloperEmails, ", ")},
		{"Scopes", strings.Join(t.Scopes, ", ")},
		{"Created", t.DateCreated},
		{"Updated", t.DateUpdated},
		{"Last used", orNever(cmdutil.Deref(t.DateLastUsed))},
		{"Auth Token reset", orNever(cmdutil.Deref(t.DateAuthTokenReset))},
		{"Expires", expiresDetail(t.ExpiresAt)},
		{"Previous Auth Token", previousDetail(t)},
	}
}

// previousDetail says until when an overlap's previous secret works, and
// when it was last used.
func previousDetail(t *client.Token) string {
	if t.PreviousAuthTokenExpiresAt == nil {
		return "none"
	}
	return fmt.Sprintf("works until %s; last used %s", *t.PreviousAuthTokenExpiresAt, orNever(cmdutil.Deref(t.PreviousAuthTokenLastUsed)))
}

func userLabel(u *client.User) string {
	if u == nil {
		return "none"
	}
	if u.Name == "" && u.Email == "" {
		return u.Id
	}
	return fmt.Sprintf("%s <%s> (%s)", u.Name, u.Email, u.Id)
}

func orNever(ts string) string {
	if ts == "" {
		return "never"
	}
	return ts
}
