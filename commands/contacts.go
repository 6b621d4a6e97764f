package commands

import (
	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

func newContactsCmd(f *Factory) *cobra.Command {
	return newGroupCmd("contacts", "The developer e-mail addresses told about a token's changes",
		takesNames(newContactsListCmd(f, nil)), takesNames(newContactsChangeCmd(f, true, nil)), takesNames(newContactsChangeCmd(f, false, nil)))
}

// checkEmail accepts a bare address such as dev@example.com, by the rule the
// server applies.
func checkEmail(e string) error {
	if !contract.ValidEmail(e) {
		return cmdutil.UsageErrorf("invalid e-mail address %q: expected a bare address such as dev@example.com; nothing changed", e)
	}
	return nil
}

// checkText refuses a flag's value the server would refuse (empty when
// required, too long, or holding a character that does not show as itself),
// before any question is asked. The value is not echoed: it may be long or
// hold control characters.
func checkText(flag, value string, required bool, max int) error {
	if err := contract.CheckText(value, required, max); err != nil {
		return cmdutil.UsageErrorf("invalid %s: %v; nothing changed", flag, err)
	}
	return nil
}
