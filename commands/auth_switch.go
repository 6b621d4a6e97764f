package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
)

// AuthSwitchOptions are `auth switch`'s inputs.
type AuthSwitchOptions struct {
	Env     cmdEnv
	Profile string
}

func newAuthSwitchCmd(f *Factory, runF func(*AuthSwitchOptions) error) *cobra.Command {
	opts := &AuthSwitchOptions{}
	return &cobra.Command{
		Use:   "switch PROFILE",
		Short: "Make a stored profile the one commands use",
		Long: `Make a stored profile the one commands use when neither --profile nor
IMPACTCTL_PROFILE names one (instead of "default"). The choice is kept in the
config file. Environment credentials still win over any profile.`,
		Example: `  impactctl auth switch staging
  impactctl auth status --all`,
		Args: exactArgs(1, "one profile name (auth status --all lists them)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Profile = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return authSwitchRun(opts)
		},
	}
}

func authSwitchRun(opts *AuthSwitchOptions) error {
	e, name := opts.Env, opts.Profile
	if e.Settings.localMode() {
		return cmdutil.UsageErrorf("--local uses the embedded server's admin token: there is no profile to switch")
	}
	if e.Settings.profileFlag() != "" {
		return cmdutil.UsageErrorf("auth switch takes the profile as its argument: drop --profile")
	}
	cfg, err := e.UpdateConfig(func(cfg *config.Config) error {
		if _, ok := cfg.Profiles[name]; !ok {
			return unknownProfile(cfg, name)
		}
		cfg.Current = name
		return nil
	})
	if err != nil {
		return err
	}
	p := cfg.Profiles[name]
	iostreams.Infof(e.IO.ErrOut, "switched to profile %q (%s at %s)", name, p.AccountSid, config.ProfileURL(p))
	if v := e.Getenv("IMPACTCTL_PROFILE"); v != "" && v != name {
		iostreams.Infof(e.IO.ErrOut, "note: IMPACTCTL_PROFILE=%s is set and wins until it is unset", v)
	}
	if hasEnvCredentials(e.Getenv) {
		iostreams.Infof(e.IO.ErrOut, "note: IMPACTCTL_ACCOUNT_SID is set, so environment credentials win over every profile until it is unset")
	}
	return nil
}

// unknownProfile is the usage error for a profile the config does not
// hold, naming the ones it does.
func unknownProfile(cfg *config.Config, name string) error {
	names := cfg.ProfileNames()
	if len(names) == 0 {
		return cmdutil.UsageErrorf("no profile %q: %s holds none; store one with `impactctl auth login --profile %s`", name, cfg.Path(), name)
	}
	msg := fmt.Sprintf("no profile %q in %s", name, cfg.Path())
	if s := nearest(name, names); len(s) > 0 {
		msg += "; did you mean " + quoteJoin(s) + "?"
	}
	return cmdutil.UsageErrorf("%s (stored: %s)", msg, strings.Join(names, ", "))
}

// hasEnvCredentials reports whether any credential variable is set, which
// makes the environment the credentials' source.
func hasEnvCredentials(getenv func(string) string) bool {
	return getenv("IMPACTCTL_ACCOUNT_SID") != "" || getenv("IMPACTCTL_AUTH_TOKEN") != "" || getenv("IMPACTCTL_AUTH_TOKEN_FILE") != ""
}
