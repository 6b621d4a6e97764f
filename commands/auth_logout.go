package commands

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
)

// AuthLogoutOptions are `auth logout`'s inputs.
type AuthLogoutOptions struct {
	Env cmdEnv
}

func newAuthLogoutCmd(f *Factory, runF func(*AuthLogoutOptions) error) *cobra.Command {
	opts := &AuthLogoutOptions{}
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove a stored profile (default \"default\", or --profile)",
		Long: `Remove a stored profile from the config file, and its Auth Token from
the OS keyring when it was kept there. The token itself keeps
working: to stop it, use tokens disable or tokens delete.`,
		Example: `  impactctl auth logout
  impactctl auth logout --profile staging`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return authLogoutRun(opts)
		},
	}
}

// authLogoutRun removes the profile in use, and its Auth Token from the OS
// keyring when it was kept there.
func authLogoutRun(opts *AuthLogoutOptions) error {
	e := opts.Env
	name := e.Settings.profileName()
	cfg, err := e.Config()
	if err != nil {
		return err
	}
	if _, ok := cfg.Profiles[name]; !ok {
		iostreams.Infof(e.IO.ErrOut, "profile %q is not stored: nothing to remove", name)
		return nil
	}
	found := false
	var removed config.Profile
	cfg, err = e.UpdateConfig(func(cfg *config.Config) error {
		removed, found = cfg.Profiles[name]
		delete(cfg.Profiles, name)
		if cfg.Current == name {
			cfg.Current = ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		iostreams.Infof(e.IO.ErrOut, "profile %q is not stored: nothing to remove", name)
		return nil
	}
	if removed.SecretIn == config.SecretInKeyring {
		if err := config.KeyringFor(e.Getenv).Delete(config.KeyringKey(cfg.Path(), name, config.ProfileURL(removed))); err != nil {
			return fmt.Errorf("removed profile %q from %s, but not its Auth Token from the OS keyring: %w", name, cfg.Path(), err)
		}
		iostreams.Infof(e.IO.ErrOut, "removed profile %q from %s and its Auth Token from the OS keyring", name, cfg.Path())
		return nil
	}
	iostreams.Infof(e.IO.ErrOut, "removed profile %q from %s", name, cfg.Path())
	return nil
}

// rateBudget shows a token's request budget for people.
func rateBudget(rl client.RateLimit) string {
	if rl.Limit == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d of %d left, resets in %s", rl.Remaining, rl.Limit, time.Duration(rl.Reset)*time.Second)
}
