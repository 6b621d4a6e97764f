package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// AuthTokenOptions are `auth token`'s inputs.
type AuthTokenOptions struct {
	Env cmdEnv
}

func newAuthTokenCmd(f *Factory, runF func(*AuthTokenOptions) error) *cobra.Command {
	opts := &AuthTokenOptions{}
	return &cobra.Command{
		Use:   "token",
		Short: "Print the Auth Token in use, for scripts",
		Long: `Print the Auth Token of the credentials in use (environment, profile or
--local) on stdout, for a script that calls the API by other means. It sends
no request: auth status says whether the credentials work. With -o json it
prints {"AccountSid","AuthToken"}. With GITHUB_ACTIONS=true an ::add-mask::
line goes to stderr first, so the job's log hides the secret; stdout holds
the data alone.`,
		Example: `  IMPACT_AUTH_TOKEN=$(impactctl auth token)
  impactctl auth token --profile staging | gh secret set IMPACT_AUTH_TOKEN`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return authTokenRun(cmd.Context(), opts)
		},
	}
}

func authTokenRun(ctx context.Context, opts *AuthTokenOptions) error {
	e := opts.Env
	creds, err := e.Creds(ctx)
	if err != nil {
		return err
	}
	if !contract.ValidAuthToken(creds.AuthToken) {
		// Printed as it is, a malformed secret could carry workflow
		// commands into a CI log or slip past its mask.
		return cmdutil.UsageErrorf("the Auth Token of the credentials in use (%s) is not an Auth Token (%d letters, digits, '.', '_' or '-'): fix it, or log in again; nothing printed",
			creds.Source, contract.AuthTokenLength)
	}
	pipeline.MaskSecret(e.Msgs, pipeline.InGitHubActions(e.Getenv), creds.AuthToken)
	if !e.Printer.Table() {
		return e.Printer.Object(struct{ AccountSid, AuthToken string }{creds.AccountSid, creds.AuthToken})
	}
	_, err = fmt.Fprintln(e.IO.Out, creds.AuthToken)
	return err
}
