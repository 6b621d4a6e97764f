package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
)

func newBrandsCmd(f *Factory) *cobra.Command {
	var lo client.ListOptions
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the managed brands",
		Example: `  impactctl brands list
  impactctl tokens list --brand "$(impactctl brands list --jq '.[0].Id')"`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return brandsListRun(cmd.Context(), f, lo)
		},
	}
	list.Flags().IntVarP(&lo.Limit, "limit", "L", 0, "at most N brands (0: all)")
	return newGroupCmd("brands", "The brands an agency manages (for --brand)", list)
}

func brandsListRun(ctx context.Context, f *Factory, lo client.ListOptions) error {
	if lo.Limit < 0 {
		return usageErrorf("invalid --limit %d: must be 0 (all) or more", lo.Limit)
	}
	if f.opts.Brand != "" {
		return usageErrorf("brands list lists the agency's brands: drop --brand")
	}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	return printList(f, c.Advertisers(ctx, lo), columns{Header: []string{"ID", "NAME", "STATE"}}, func(a client.Advertiser) []string {
		return []string{a.Id, a.Name, a.State}
	})
}
