package commands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/output"
)

func newAccountCmd(f *Factory) *cobra.Command {
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the account the credentials belong to (needs account.read)",
		Example: `  impactctl account show
  impactctl account show --jq .CompanyName`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := f.Client(ctx)
			if err != nil {
				return err
			}
			info, err := c.CompanyInformation(ctx)
			if err != nil {
				return err
			}
			if !f.Printer().Table() {
				return f.Printer().Object(info)
			}
			var pairs [][2]string
			for _, k := range []string{"Id", "CompanyName", "AccountType", "State", "Website", "Currency", "TimeZone"} {
				if v, ok := info[k]; ok && v != nil {
					pairs = append(pairs, [2]string{k, fmt.Sprint(v)})
				}
			}
			return output.KeyValues(f.IO.Out, pairs)
		},
	}
	return newGroupCmd("account", "The account (impact.com's CompanyInformation)", show)
}
