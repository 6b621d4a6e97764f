package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// AuthLoginOptions are `auth login`'s inputs.
type AuthLoginOptions struct {
	Env        cmdEnv
	AccountSid string
	WithToken  bool
	// InsecureStorage keeps the secret in the config file, not the OS keyring.
	InsecureStorage bool
}

func newAuthLoginCmd(f *Factory, runF func(*AuthLoginOptions) error) *cobra.Command {
	opts := &AuthLoginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Store an Account SID and Auth Token in a profile, once they work",
		Long: `Store an Account SID and Auth Token in a profile (default "default", or
--profile), with the API URL they were verified against.

The Auth Token goes into the OS keyring (macOS Keychain, Windows Credential
Manager, the Secret Service on Linux). Where none answers within 3 seconds it
goes into the config file (mode 0600) with a warning; --insecure-storage puts
it there without one, and IMPACTCTL_KEYRING=off turns the keyring off.

On a terminal it asks for both (the Auth Token without echo). In scripts, give
the SID with --account-sid and the secret on stdin with --with-token.`,
		Example: `  impactctl auth login
  impactctl auth login --profile staging --api-url https://api.staging.example.com
  printf '%s\n' "$TOKEN" | impactctl auth login --account-sid "$SID" --with-token`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return authLoginRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.AccountSid, "account-sid", "", "the token's Account SID")
	cmd.Flags().BoolVar(&opts.WithToken, "with-token", false, "read the Auth Token from stdin")
	cmd.Flags().BoolVar(&opts.InsecureStorage, "insecure-storage", false, "keep the Auth Token in the config file (mode 0600), not the OS keyring")
	return cmd
}

func authLoginRun(ctx context.Context, opts *AuthLoginOptions) error {
	e := opts.Env
	if e.Settings.localMode() {
		return cmdutil.UsageErrorf("--local needs no login: it uses the embedded server's admin token")
	}
	if !opts.WithToken && !e.IO.CanPrompt() {
		return cmdutil.UsageErrorf("not running interactively: pass --account-sid SID --with-token and the Auth Token on stdin")
	}
	sid, secret, err := readLogin(ctx, e.IO, opts)
	if err != nil {
		return err
	}
	return storeLogin(ctx, e, opts, sid, secret)
}

// readLogin reads the Account SID (--account-sid, else a prompt) and the
// Auth Token (stdin with --with-token, else a prompt without echo).
func readLogin(ctx context.Context, io *iostreams.IOStreams, opts *AuthLoginOptions) (sid, secret string, err error) {
	sid = opts.AccountSid
	if sid == "" {
		if opts.WithToken {
			return "", "", cmdutil.UsageErrorf("--with-token reads only the Auth Token: give the SID with --account-sid")
		}
		fmt.Fprint(io.ErrOut, "Account SID: ")
		line, err := io.ReadLine(ctx)
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		if err != nil {
			return "", "", cmdutil.UsageErrorf("no Account SID given")
		}
		sid = strings.TrimSpace(line)
	}
	if err := config.ValidSID(sid); err != nil {
		return "", "", err
	}
	if opts.WithToken && !io.IsStdinTTY() {
		secret, err = io.ReadLine(ctx)
		secret = strings.TrimSpace(secret)
	} else {
		// Typed at a terminal, with --with-token or not: never echoed.
		secret, err = io.ReadSecret(ctx, "Auth Token: ")
	}
	if ctx.Err() != nil {
		return "", "", ctx.Err()
	}
	if err != nil || secret == "" {
		return "", "", cmdutil.UsageErrorf("no Auth Token given")
	}
	return sid, secret, nil
}

// storeLogin checks the credentials against the API URL the profile will
// keep, then stores them in the profile.
func storeLogin(ctx context.Context, e cmdEnv, opts *AuthLoginOptions, sid, secret string) error {
	name := e.Settings.profileName()
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	apiURL, _ := e.Settings.apiURLSetting()
	if apiURL == "" {
		apiURL = cfg.Profiles[name].APIURL
	}
	if apiURL == "" {
		apiURL = config.DefaultAPIURL
	}
	if apiURL, err = config.NormalizeURL(apiURL); err != nil {
		return err
	}
	c, err := e.ClientFor(&config.Credentials{APIURL: apiURL, AccountSid: sid}, secret)
	if err != nil {
		return err
	}
	cur, err := c.Current(ctx)
	if err != nil {
		return fmt.Errorf("these credentials do not work at %s; nothing was stored: %w", apiURL, err)
	}
	kind, err := c.Kind(ctx) // known since Current: no request
	if err != nil {
		return err
	}
	p := config.StoreSecret(config.KeyringFor(e.Getenv), cfg.Path(), name, config.Profile{APIURL: apiURL, AccountSid: sid, Kind: kind}, secret, opts.InsecureStorage, e.IO.ErrOut)
	old := cfg.Profiles[name]
	cfg, err = e.UpdateConfig(func(cfg *config.Config) error {
		cfg.Profiles[name] = p
		return nil
	})
	if err != nil {
		return err
	}
	if old.SecretIn == config.SecretInKeyring && (p.SecretIn != config.SecretInKeyring || config.ProfileURL(old) != config.ProfileURL(p)) {
		// The profile's earlier secret must not linger in the keyring.
		_ = config.KeyringFor(e.Getenv).Delete(config.KeyringKey(cfg.Path(), name, config.ProfileURL(old)))
	}
	iostreams.Infof(e.IO.ErrOut, "logged in to %s as %s (%s); saved to profile %q in %s, the Auth Token in %s",
		apiURL, sid, output.Sanitize(cur.Name), name, cfg.Path(), config.SecretPlace(p, cfg.Path()))
	if e.Getenv("IMPACTCTL_ACCOUNT_SID") != "" {
		iostreams.Infof(e.IO.ErrOut, "note: IMPACTCTL_ACCOUNT_SID is set, so environment credentials win over this profile until it is unset")
	}
	return nil
}
