package commands

import (
	"context"
	"slices"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// ScopesSetOptions are `scopes set`'s inputs.
type ScopesSetOptions struct {
	Env    cmdEnv
	SID    string
	Scopes []string
	Add    []string
	Remove []string
	pipeline.ChangeFlags
}

func newScopesSetCmd(f *Factory, runF func(*ScopesSetOptions) error) *cobra.Command {
	opts := &ScopesSetOptions{}
	cmd := &cobra.Command{
		Use:   "set SID [SCOPE...]",
		Short: "Replace a token's scopes, or add and remove some",
		Long: `Replace a token's scopes with the ones named, or change them with --add and
--remove. A name such as reports.* is a whole category (the web app's toggle).
See the catalog with: impactctl scopes list`,
		Example: `  impactctl scopes set "$SID" 'reports.*' account.read
  impactctl scopes set "$SID" --add apitokens.read --remove reports.export`,
		Args: minArgs(1, "a token (its Account SID or name) and the scopes"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID, opts.Scopes = f.env(), args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return scopesSetRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Add, "add", nil, "add a scope or category (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Remove, "remove", nil, "remove a scope or category (repeatable)")
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func scopesSetRun(ctx context.Context, opts *ScopesSetOptions) error {
	if len(opts.Scopes) == 0 && len(opts.Add) == 0 && len(opts.Remove) == 0 {
		return cmdutil.UsageErrorf("name the scopes, or give --add or --remove (to remove them all: impactctl scopes clear %s)", pipeline.ArgWord(opts.SID))
	}
	if len(opts.Scopes) > 0 && (len(opts.Add) > 0 || len(opts.Remove) > 0) {
		return cmdutil.UsageErrorf("either name the whole set of scopes, or change it with --add/--remove, not both")
	}
	r, c, err := opts.Env.begin(ctx, opts.ChangeFlags)
	if err != nil {
		return err
	}
	cat, err := c.Scopes(ctx)
	if err != nil {
		return err
	}
	var named, add, remove []string
	for _, e := range []struct {
		names []string
		into  *[]string
	}{{opts.Scopes, &named}, {opts.Add, &add}, {opts.Remove, &remove}} {
		if *e.into, err = expandScopes(cat, e.names); err != nil {
			return err
		}
	}
	tok, err := pipeline.ReadNamed(ctx, c, opts.SID)
	if err != nil {
		return err
	}
	next := named
	if len(opts.Scopes) == 0 {
		next = union(tok.Scopes, add)
		next = slices.DeleteFunc(next, func(s string) bool { return slices.Contains(remove, s) })
	}
	return r.ChangeOne(ctx, scopesEdit(r, tok, next))
}
