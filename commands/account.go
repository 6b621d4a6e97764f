package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/output"
)

// AccountShowOptions are `account show`'s inputs.
type AccountShowOptions struct {
	Env cmdEnv
}

// newAccountCmd is `account` with its one subcommand, `show`.
func newAccountCmd(f *Factory) *cobra.Command {
	return newGroupCmd("account", "The account (impact.com's CompanyInformation)", newAccountShowCmd(f, nil))
}

func newAccountShowCmd(f *Factory, runF func(*AccountShowOptions) error) *cobra.Command {
	opts := &AccountShowOptions{}
	return &cobra.Command{
		Use:   "show",
		Short: "Show the account the credentials belong to (needs account.read)",
		Example: `  impactctl account show
  impactctl account show --jq .CompanyName`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return accountShowRun(cmd.Context(), opts)
		},
	}
}

func accountShowRun(ctx context.Context, opts *AccountShowOptions) error {
	e := opts.Env
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	info, err := c.CompanyInformation(ctx)
	if err != nil {
		return err
	}
	if !e.Printer.Table() {
		return e.Printer.Object(info)
	}
	var pairs [][2]string
	for _, k := range []string{"Id", "CompanyName", "AccountType", "State", "Website", "Currency", "TimeZone"} {
		if v, ok := info[k]; ok && v != nil {
			pairs = append(pairs, [2]string{k, fmt.Sprint(v)})
		}
	}
	return output.KeyValues(e.IO.Out, pairs)
}
