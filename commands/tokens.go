package commands

import (
	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
)

func newTokensCmd(f *Factory) *cobra.Command {
	return newGroupCmd("tokens", "List, read and change API tokens",
		newTokensListCmd(f, nil),
		takesNames(newTokensShowCmd(f, nil)),
		takesNames(newTokensHistoryCmd(f, nil)),
		takesNames(newTokensCreateCmd(f, nil)),
		takesNames(newTokensEditCmd(f, nil)),
		takesNames(newTokensResetCmd(f, nil)),
		takesNames(newTokensRotateCmd(f, nil)),
		takesNames(newTokensEndOverlapCmd(f, nil)),
		takesNames(newTokensStateCmd(f, client.ActionDisable, "Disable tokens: new requests with them are refused at once", nil)),
		takesNames(newTokensStateCmd(f, client.ActionEnable, "Enable disabled tokens", nil)),
		takesNames(newTokensStateCmd(f, client.ActionDelete, "Delete tokens: their credentials are refused at once", nil)),
	)
}
