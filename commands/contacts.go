package commands

import (
	"net/mail"
	"strings"

	"github.com/spf13/cobra"
)

// maxDeveloperEmails is the Token API's limit on a token's list.
const maxDeveloperEmails = 50

func newContactsCmd(f *Factory) *cobra.Command {
	return newGroupCmd("contacts", "The developer e-mail addresses told about a token's changes",
		newContactsListCmd(f), newContactsChangeCmd(f, true), newContactsChangeCmd(f, false))
}

// checkEmail accepts a bare address such as dev@example.com.
func checkEmail(e string) error {
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndex(e, "@")+1:], ".") {
		return usageErrorf("invalid e-mail address %q: expected a bare address such as dev@example.com; nothing changed", e)
	}
	return nil
}
