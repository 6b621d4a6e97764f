package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

func newAuthCmd(f *Factory) *cobra.Command {
	return newGroupCmd("auth", "Log in, check and log out stored credentials",
		newAuthLoginCmd(f), newAuthStatusCmd(f), newAuthLogoutCmd(f))
}

// AuthLoginOptions are `auth login`'s inputs.
type AuthLoginOptions struct {
	AccountSid string
	WithToken  bool
}

func newAuthLoginCmd(f *Factory) *cobra.Command {
	opts := &AuthLoginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Store an Account SID and Auth Token in a profile, once they work",
		Long: `Store an Account SID and Auth Token in a profile (default "default", or
--profile), with the API URL they were verified against.

On a terminal it asks for both (the Auth Token without echo). In scripts, give
the SID with --account-sid and the secret on stdin with --with-token.`,
		Example: `  impactctl auth login
  impactctl auth login --profile staging --api-url https://api.staging.example
  printf '%s\n' "$TOKEN" | impactctl auth login --account-sid IR… --with-token`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return authLoginRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.AccountSid, "account-sid", "", "the token's Account SID")
	cmd.Flags().BoolVar(&opts.WithToken, "with-token", false, "read the Auth Token from stdin")
	return cmd
}

func authLoginRun(ctx context.Context, f *Factory, opts *AuthLoginOptions) error {
	if f.localMode() {
		return usageErrorf("--local needs no login: it uses the embedded server's admin token")
	}
	if !opts.WithToken && !f.IO.CanPrompt() {
		return usageErrorf("not running interactively: pass --account-sid SID --with-token and the Auth Token on stdin")
	}
	sid := opts.AccountSid
	if sid == "" {
		if opts.WithToken {
			return usageErrorf("--with-token reads only the Auth Token: give the SID with --account-sid")
		}
		fmt.Fprint(f.IO.ErrOut, "Account SID: ")
		line, err := f.IO.ReadLine(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return usageErrorf("no Account SID given")
		}
		sid = strings.TrimSpace(line)
	}
	if err := validSID(sid); err != nil {
		return err
	}
	var secret string
	var err error
	if opts.WithToken && !f.IO.IsStdinTTY() {
		secret, err = f.IO.ReadLine(ctx)
		secret = strings.TrimSpace(secret)
	} else {
		// Typed at a terminal, with --with-token or not: never echoed.
		secret, err = f.IO.ReadSecret(ctx, "Auth Token: ")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil || secret == "" {
		return usageErrorf("no Auth Token given")
	}

	name := f.profileName()
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	apiURL, _ := f.apiURLSetting()
	if apiURL == "" {
		apiURL = cfg.Profiles[name].APIURL
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if apiURL, err = normalizeURL(apiURL); err != nil {
		return err
	}
	c, err := f.newClient(apiURL, sid, secret)
	if err != nil {
		return err
	}
	cur, err := c.Current(ctx)
	if err != nil {
		return fmt.Errorf("these credentials do not work at %s; nothing was stored: %w", apiURL, err)
	}
	cfg, err = f.UpdateConfig(func(cfg *Config) error {
		cfg.Profiles[name] = Profile{APIURL: apiURL, AccountSid: sid, AuthToken: secret}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "logged in to %s as %s (%s); saved to profile %q in %s\n",
		apiURL, sid, output.Sanitize(cur.Name), name, cfg.path)
	if f.getenv("IMPACTCTL_ACCOUNT_SID") != "" {
		fmt.Fprintln(f.IO.ErrOut, "note: IMPACTCTL_ACCOUNT_SID is set, so environment credentials win over this profile until it is unset")
	}
	return nil
}

// authStatus is `auth status`'s answer in JSON modes.
type authStatus struct {
	Source     string            `json:"Source"`
	Profile    string            `json:"Profile,omitempty"`
	ApiUrl     string            `json:"ApiUrl"`
	AccountSid string            `json:"AccountSid"`
	Working    bool              `json:"Working"`
	Name       string            `json:"Name,omitempty"`
	State      string            `json:"State,omitempty"`
	Scopes     []string          `json:"Scopes,omitempty"`
	RateLimit  *client.RateLimit `json:"RateLimit,omitempty"`
	Error      string            `json:"Error,omitempty"`
}

func newAuthStatusCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say where the credentials come from and whether they work",
		Long: `Say where the credentials come from (environment, profile or --local), the
Account SID, URL, the token's name, state, scopes and remaining rate budget,
and whether they work: exit 0, 4 (refused) or 5 (disabled). The Auth Token is
never printed.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return authStatusRun(cmd.Context(), f)
		},
	}
}

func authStatusRun(ctx context.Context, f *Factory) error {
	creds, err := f.Credentials(ctx)
	if err != nil {
		return err
	}
	st := authStatus{Source: creds.Source, Profile: creds.Profile, ApiUrl: creds.APIURL, AccountSid: creds.AccountSid}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	cur, curErr := c.Current(ctx)
	if curErr == nil {
		st.Working = true
		st.Name, st.State, st.Scopes = cur.Name, cur.State, cur.Scopes
		rl := cur.RateLimit
		st.RateLimit = &rl
	} else {
		st.Error = curErr.Error()
	}
	if !f.Printer().Table() {
		if err := f.Printer().Object(st); err != nil {
			return err
		}
	} else {
		pairs := [][2]string{
			{"Credentials", st.Source},
			{"API URL", st.ApiUrl},
			{"Account SID", st.AccountSid},
		}
		if st.Working {
			pairs = append(pairs,
				[2]string{"Token", st.Name},
				[2]string{"State", st.State},
				[2]string{"Scopes", strings.Join(st.Scopes, ", ")},
				[2]string{"Rate budget", rateBudget(*st.RateLimit)},
				[2]string{"Status", "working"})
		} else {
			pairs = append(pairs, [2]string{"Status", "not working"})
		}
		if err := output.KeyValues(f.IO.Out, pairs); err != nil {
			return err
		}
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

func newAuthLogoutCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove a stored profile (default \"default\", or --profile)",
		Long: `Remove a stored profile from the config file. The token itself keeps
working: to stop it, use tokens disable or tokens delete.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := f.profileName()
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if _, ok := cfg.Profiles[name]; !ok {
				fmt.Fprintf(f.IO.ErrOut, "profile %q is not stored: nothing to remove\n", name)
				return nil
			}
			found := false
			cfg, err = f.UpdateConfig(func(cfg *Config) error {
				_, found = cfg.Profiles[name]
				delete(cfg.Profiles, name)
				return nil
			})
			if err != nil {
				return err
			}
			if !found {
				fmt.Fprintf(f.IO.ErrOut, "profile %q is not stored: nothing to remove\n", name)
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "removed profile %q from %s\n", name, cfg.path)
			return nil
		},
	}
}

// rateBudget shows a token's request budget for people.
func rateBudget(rl client.RateLimit) string {
	if rl.Limit == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d of %d left, resets in %s", rl.Remaining, rl.Limit, time.Duration(rl.Reset)*time.Second)
}
