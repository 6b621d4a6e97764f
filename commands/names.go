package commands

import (
	"github.com/spf13/cobra"
)

// Where a command takes a token's Account SID it takes the token's name as
// well. An argument of the SID's shape (IR and 32 letters or digits) is a
// SID and is never looked up as a name; the server refuses names of that
// shape, so the two never meet. Anything else is a name, matched exactly
// (byte-equal once both are in Unicode NFC form) through the list's
// ExactName filter: one list request.

// namesHelp is what the help of every command naming a token by SID says
// about names.
const namesHelp = `A token is named by its Account SID or by its name. An argument of the SID's
shape (IR and 32 letters or digits) is always a SID; anything else is a token
name, matched exactly (case included, compared in Unicode NFC form) with one
list request. A name no token has is exit 6; a name several tokens share is
exit 2, listing their SIDs. --stdin lists and --secret-dir take SIDs only.`

// takesNames adds namesHelp to the help of cmd, a command that names a token
// by SID, and returns cmd.
func takesNames(cmd *cobra.Command) *cobra.Command {
	long := cmd.Long
	if long == "" {
		long = cmd.Short + "."
	}
	cmd.Long = long + "\n\n" + namesHelp
	return cmd
}
