package commands

import (
	"context"
	"iter"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// UsersListOptions are `users list`'s inputs.
type UsersListOptions struct {
	Env  cmdEnv
	List client.ListOptions
}

// newUsersCmd is `users` with its one subcommand, `list`.
func newUsersCmd(f *Factory) *cobra.Command {
	return newGroupCmd("users", "The account's users (primary-contact choices)", newUsersListCmd(f, nil))
}

func newUsersListCmd(f *Factory, runF func(*UsersListOptions) error) *cobra.Command {
	opts := &UsersListOptions{}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the account's users",
		Example: `  impactctl users list
  impactctl users list --jq '.[] | select(.Email | endswith("@example.com")) | .Id'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return usersListRun(cmd.Context(), opts)
		},
	}
	list.Flags().IntVarP(&opts.List.Limit, "limit", "L", 0, "at most N users (0: all)")
	return list
}

func usersListRun(ctx context.Context, opts *UsersListOptions) error {
	e, lo := opts.Env, opts.List
	if lo.Limit < 0 {
		return cmdutil.UsageErrorf("invalid --limit %d: must be 0 (all) or more", lo.Limit)
	}
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	return printList(e, c.Users(ctx, lo), columns{Header: []string{"ID", "NAME", "EMAIL"}}, func(u client.User) []string {
		return []string{u.Id, u.Name, u.Email}
	})
}

// columns are a table's header and the columns a narrow terminal leaves
// out first, least useful first.
type columns struct {
	Header    []string
	DropFirst []string
	// Paint colours a cell on a terminal that takes colour; nil: none.
	Paint func(col int, cell string) string
}

// printList writes a list as it arrives: rows of a table, or JSON items.
func printList[T any](e cmdEnv, items iter.Seq2[T, error], cols columns, row func(T) []string) error {
	p := e.Printer
	if !p.Table() {
		lw := p.List()
		for it, err := range items {
			if err != nil {
				// Not closed: a list that fails part-way stays invalid JSON,
				// so no script mistakes it for the whole list.
				return err
			}
			if err := lw.Add(it); err != nil {
				return err
			}
		}
		return lw.Close()
	}
	// Rows are written as they come, widths settled by the first page,
	// so a long listing never sits in memory.
	t := output.NewTableWriter(e.IO.Out, cols.Header...).DropFirst(cols.DropFirst...)
	if cols.Paint != nil && p.Colored() {
		t.Paint(cols.Paint)
	}
	n := 0
	for it, err := range items {
		if err != nil {
			return err
		}
		if err := t.Row(row(it)...); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		iostreams.Infof(e.IO.ErrOut, "no results")
	}
	return t.Close()
}
