package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/output"
)

func newContactsListCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list SID",
		Aliases: []string{"ls"},
		Short:   "List a token's developer e-mail addresses",
		Example: `  impactctl contacts list "$SID"
  impactctl contacts list "$SID" -o json`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			_, tok, err := readToken(ctx, f.Client, args[0])
			if err != nil {
				return err
			}
			emails := tok.DeveloperEmails
			if emails == nil {
				emails = []string{}
			}
			if !f.Printer().Table() {
				lw := f.Printer().List()
				for _, e := range emails {
					if err := lw.Add(e); err != nil {
						return err
					}
				}
				return lw.Close()
			}
			if len(emails) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "token %s has no developer e-mail addresses\n", tok.AccountSid)
				return nil
			}
			t := output.NewTable(f.IO.Out, "EMAIL")
			for _, e := range emails {
				t.Row(e)
			}
			return t.Render()
		},
	}
}
