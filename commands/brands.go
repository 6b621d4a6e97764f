package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

// BrandsListOptions are `brands list`'s inputs.
type BrandsListOptions struct {
	Env  cmdEnv
	List client.ListOptions
}

// newBrandsCmd is `brands` with its one subcommand, `list`.
func newBrandsCmd(f *Factory) *cobra.Command {
	return newGroupCmd("brands", "The brands an agency manages (for --brand)", newBrandsListCmd(f, nil))
}

func newBrandsListCmd(f *Factory, runF func(*BrandsListOptions) error) *cobra.Command {
	opts := &BrandsListOptions{}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the managed brands",
		Example: `  impactctl brands list
  impactctl tokens list --brand "$(impactctl brands list --jq '.[0].Id')"`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return brandsListRun(cmd.Context(), opts)
		},
	}
	list.Flags().IntVarP(&opts.List.Limit, "limit", "L", 0, "at most N brands (0: all)")
	return list
}

func brandsListRun(ctx context.Context, opts *BrandsListOptions) error {
	e, lo := opts.Env, opts.List
	if lo.Limit < 0 {
		return cmdutil.UsageErrorf("invalid --limit %d: must be 0 (all) or more", lo.Limit)
	}
	if e.Brand != "" {
		return cmdutil.UsageErrorf("brands list lists the agency's brands: drop --brand")
	}
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	return printList(e, c.Advertisers(ctx, lo), columns{Header: []string{"ID", "NAME", "STATE"}}, func(a client.Advertiser) []string {
		return []string{a.Id, a.Name, a.State}
	})
}
