package commands

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
)

func newAuthLogoutCmd(f *Factory) *cobra.Command {
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
			name := f.settings.profileName()
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if _, ok := cfg.Profiles[name]; !ok {
				fmt.Fprintf(f.IO.ErrOut, "profile %q is not stored: nothing to remove\n", name)
				return nil
			}
			found := false
			var removed Profile
			cfg, err = f.UpdateConfig(func(cfg *Config) error {
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
				fmt.Fprintf(f.IO.ErrOut, "profile %q is not stored: nothing to remove\n", name)
				return nil
			}
			if removed.SecretIn == secretInKeyring {
				if err := keyringFor(f.getenv).Delete(keyringKey(cfg.path, name, profileURL(removed))); err != nil {
					return fmt.Errorf("removed profile %q from %s, but not its Auth Token from the OS keyring: %w", name, cfg.path, err)
				}
				fmt.Fprintf(f.IO.ErrOut, "removed profile %q from %s and its Auth Token from the OS keyring\n", name, cfg.path)
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
