package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// authStatus is `auth status`'s answer in JSON modes.
type authStatus struct {
	Source     string `json:"Source"`
	Profile    string `json:"Profile,omitempty"`
	ApiUrl     string `json:"ApiUrl"`
	AccountSid string `json:"AccountSid"`
	// SecretIn says where the Auth Token lives: the OS keyring, the config
	// file's path, or the environment variable holding it (or its file).
	SecretIn  string            `json:"SecretIn,omitempty"`
	Working   bool              `json:"Working"`
	Name      string            `json:"Name,omitempty"`
	State     client.State      `json:"State,omitempty"`
	Scopes    []string          `json:"Scopes,omitempty"`
	RateLimit *client.RateLimit `json:"RateLimit,omitempty"`
	// ExpiresAt is when the token stops working; absent: never.
	ExpiresAt *string `json:"ExpiresAt,omitempty"`
	// UsingPreviousAuthToken: the credentials hold the previous Auth Token
	// of an overlapping reset, which works until PreviousAuthTokenExpiresAt.
	UsingPreviousAuthToken     bool    `json:"UsingPreviousAuthToken,omitempty"`
	PreviousAuthTokenExpiresAt *string `json:"PreviousAuthTokenExpiresAt,omitempty"`
	Error                      string  `json:"Error,omitempty"`
}

// AuthStatusOptions are `auth status`'s inputs.
type AuthStatusOptions struct {
	Env cmdEnv
	// All is --all: every stored profile, not only the one in use.
	All bool
}

func newAuthStatusCmd(f *Factory, runF func(*AuthStatusOptions) error) *cobra.Command {
	opts := &AuthStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say where the credentials come from and whether they work",
		Long: `Say where the credentials come from (environment, profile or --local), the
Account SID, URL, the token's name, state, scopes and remaining rate budget,
its expiry, and whether they work: exit 0, 4 (refused, or expired) or 5
(disabled). The Auth Token is never printed. Credentials holding the previous
Auth Token of an overlapping reset work until the overlap ends: status says
so.`,
		Example: `  impactctl auth status
  impactctl auth status --all
  impactctl auth status -o json --jq .Scopes`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			if opts.All {
				return authStatusAllRun(cmd.Context(), opts.Env)
			}
			return authStatusRun(cmd.Context(), opts.Env)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "check every stored profile (and environment credentials), marking the one in use")
	return cmd
}

func authStatusRun(ctx context.Context, e cmdEnv) error {
	creds, err := e.Creds(ctx)
	if err != nil {
		return err
	}
	now, err := e.Now()
	if err != nil {
		return err
	}
	st := authStatus{Source: creds.Source, Profile: creds.Profile, ApiUrl: creds.APIURL, AccountSid: creds.AccountSid, SecretIn: secretIn(creds)}
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	cur, curErr := c.Current(ctx)
	if curErr == nil {
		st.Working = true
		st.Name, st.State, st.Scopes = cur.Name, cur.State, cur.Scopes
		rl := cur.RateLimit
		st.RateLimit = &rl
		st.ExpiresAt = cur.ExpiresAt
		if cur.UsingPreviousAuthToken {
			st.UsingPreviousAuthToken, st.PreviousAuthTokenExpiresAt = true, cur.PreviousAuthTokenExpiresAt
		}
	} else {
		st.Error = curErr.Error()
	}
	if !e.Printer.Table() {
		if err := e.Printer.Object(st); err != nil {
			return err
		}
	} else if err := output.KeyValues(e.IO.Out, authStatusPairs(st, curErr, now)); err != nil {
		return err
	}
	if curErr != nil {
		var ae *client.APIError
		if errors.As(curErr, &ae) {
			return curErr
		}
		return fmt.Errorf("checking the credentials: %w", curErr)
	}
	return nil
}

// authStatusPairs are the lines of `auth status` for people.
func authStatusPairs(st authStatus, curErr error, now time.Time) [][2]string {
	pairs := [][2]string{
		{"Credentials", st.Source},
		{"API URL", st.ApiUrl},
		{"Account SID", st.AccountSid},
	}
	if st.SecretIn != "" {
		pairs = append(pairs, [2]string{"Auth Token in", st.SecretIn})
	}
	if st.Working {
		pairs = append(pairs,
			[2]string{"Token", st.Name},
			[2]string{"State", string(st.State)},
			[2]string{"Scopes", strings.Join(st.Scopes, ", ")},
			[2]string{"Rate budget", rateBudget(*st.RateLimit)},
			[2]string{"Expires", expiryStatus(st.ExpiresAt, now)})
		if st.UsingPreviousAuthToken {
			pairs = append(pairs, [2]string{"Auth Token", "the previous one of an overlapping reset; it works until " +
				pipeline.ExpiresDetail(st.PreviousAuthTokenExpiresAt) + ": store the new one"})
		}
		pairs = append(pairs, [2]string{"Status", "working"})
	} else {
		status := "not working"
		if ae, ok := cmdutil.AsAPIError(curErr); ok && ae.Code == contract.CodeTokenExpired {
			status = "expired"
		}
		pairs = append(pairs, [2]string{"Status", status})
	}
	return pairs
}

// secretIn says where the credentials' Auth Token lives.
func secretIn(c *config.Credentials) string {
	switch {
	case c.SecretPlace != "":
		return c.SecretPlace
	case c.SecretFile != "":
		return c.SecretFile + " (" + c.SecretEnv + ")"
	}
	return c.SecretEnv
}

// expiryStatus is an expiry in full with how far off it is: "never", or
// "2026-12-31T00:00:00Z (in 12d)".
func expiryStatus(expiresAt *string, now time.Time) string {
	if expiresAt == nil {
		return "never"
	}
	return *expiresAt + " (" + expiresLabel(expiresAt, now) + ")"
}
