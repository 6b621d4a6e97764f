package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/output"
)

func newScopesListCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the API scopes a token can hold, by category",
		Example: `  impactctl scopes list
  impactctl scopes list --jq '.Categories[].Id'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			cat, err := c.Scopes(ctx)
			if err != nil {
				return err
			}
			if !f.Printer().Table() {
				return f.Printer().Object(cat)
			}
			t := output.NewTable(f.IO.Out, "CATEGORY", "SCOPE", "METHOD", "OPERATION")
			for _, category := range cat.Categories {
				label := fmt.Sprintf("%s (%s.*)", category.Name, category.Id)
				for _, s := range category.Scopes {
					t.Row(label, s.Id, s.Method, s.Name)
					label = ""
				}
			}
			return t.Render()
		},
	}
}
