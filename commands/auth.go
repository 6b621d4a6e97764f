package commands

import (
	"github.com/spf13/cobra"
)

func newAuthCmd(f *Factory) *cobra.Command {
	return newGroupCmd("auth", "Log in, check, switch and log out stored credentials",
		newAuthLoginCmd(f, nil), newAuthStatusCmd(f, nil), newAuthLogoutCmd(f, nil), newAuthTokenCmd(f, nil), newAuthSwitchCmd(f, nil))
}
