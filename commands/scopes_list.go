package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/output"
)

// ScopesListOptions are `scopes list`'s inputs.
type ScopesListOptions struct {
	Env cmdEnv
}

func newScopesListCmd(f *Factory, runF func(*ScopesListOptions) error) *cobra.Command {
	opts := &ScopesListOptions{}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the API scopes a token can hold, by category",
		Example: `  impactctl scopes list
  impactctl scopes list --jq '.Categories[].Id'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return scopesListRun(cmd.Context(), opts)
		},
	}
}

// scopesListRun lists the scope catalog by category.
func scopesListRun(ctx context.Context, opts *ScopesListOptions) error {
	e := opts.Env
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	cat, err := c.Scopes(ctx)
	if err != nil {
		return err
	}
	if !e.Printer.Table() {
		return e.Printer.Object(cat)
	}
	t := output.NewTable(e.IO.Out, "CATEGORY", "SCOPE", "METHOD", "OPERATION")
	for _, category := range cat.Categories {
		label := fmt.Sprintf("%s (%s.*)", category.Name, category.Id)
		for _, s := range category.Scopes {
			t.Row(label, s.Id, s.Method, s.Name)
			label = ""
		}
	}
	return t.Render()
}
