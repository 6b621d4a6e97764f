package commands

import "github.com/spf13/cobra"

func newTokensCmd(f *Factory) *cobra.Command {
	return newGroupCmd("tokens", "List, read and change API tokens",
		newTokensListCmd(f),
		newTokensShowCmd(f),
		newTokensCreateCmd(f),
		newTokensEditCmd(f),
		newTokensResetCmd(f),
		newTokensStateCmd(f, disableAction, "Disable tokens: new requests with them are refused at once"),
		newTokensStateCmd(f, enableAction, "Enable disabled tokens"),
		newTokensStateCmd(f, deleteAction, "Delete tokens: their credentials are refused at once"),
	)
}
