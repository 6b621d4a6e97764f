package commands

import (
	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
)

func newTokensCmd(f *Factory) *cobra.Command {
	return newGroupCmd("tokens", "List, read and change API tokens",
		newTokensListCmd(f),
		newTokensShowCmd(f),
		newTokensHistoryCmd(f, nil),
		newTokensCreateCmd(f, nil),
		newTokensEditCmd(f, nil),
		newTokensResetCmd(f, nil),
		newTokensStateCmd(f, client.ActionDisable, "Disable tokens: new requests with them are refused at once", nil),
		newTokensStateCmd(f, client.ActionEnable, "Enable disabled tokens", nil),
		newTokensStateCmd(f, client.ActionDelete, "Delete tokens: their credentials are refused at once", nil),
	)
}
