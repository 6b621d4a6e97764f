package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

func registerListFlags(l *pipeline.ListFlags, cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&l.State, "state", "", "only tokens in this state: enabled or disabled")
	fl.StringVar(&l.Name, "name", "", "only tokens whose name contains TEXT")
	fl.StringVar(&l.CreatedAfter, "created-after", "", "only tokens created after a date, a time or an age such as 30d (ago)")
	fl.StringVar(&l.CreatedBefore, "created-before", "", "only tokens created before a date, a time or an age such as 30d (ago)")
	fl.StringVar(&l.UnusedFor, "unused-for", "", "only tokens created more than an age such as 90d ago and not used since (never used counts)")
	fl.StringVar(&l.NotResetFor, "not-reset-for", "", "only tokens whose Auth Token was not reset for an age such as 90d")
	fl.StringVar(&l.ExpiringIn, "expiring-within", "", "only tokens that expire within an age such as 14d (expired ones included)")
	fl.IntVarP(&l.Limit, "limit", "L", 0, "at most N tokens (0: all)")
	fl.IntVar(&l.PageSize, "page-size", 0, "tokens per request, 1 to 1000 (default 1000, or --limit when smaller)")
	l.PageSizeSet = func() bool { return fl.Changed("page-size") }
	l.Given = fl.Changed
}

// TokensListOptions are `tokens list`'s inputs.
type TokensListOptions struct {
	Env     cmdEnv
	Filters pipeline.ListFlags
}

func newTokensListCmd(f *Factory, runF func(*TokensListOptions) error) *cobra.Command {
	opts := &TokensListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the account's API tokens",
		Example: `  impactctl tokens list --state disabled
  impactctl tokens list --unused-for 90d -o json
  impactctl tokens list --expiring-within 14d
  impactctl tokens list --name deploy --jq '.[].AccountSid'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return tokensListRun(cmd.Context(), opts)
		},
	}
	registerListFlags(&opts.Filters, cmd)
	return cmd
}

func tokensListRun(ctx context.Context, opts *TokensListOptions) error {
	e := opts.Env
	now, err := e.Now()
	if err != nil {
		return err
	}
	lo, err := opts.Filters.Options(now)
	if err != nil {
		return err
	}
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	if p := e.Printer; !p.Table() {
		// JSON as the server wrote it where that is what encoding the
		// decoded token would write: no decode and encode per token.
		lw := p.List()
		for b, err := range c.TokensJSON(ctx, lo) {
			if err != nil {
				// Not closed: see printList.
				_ = lw.Flush() // the items before it; the listing's error is the one to report
				return err
			}
			if err := lw.AddJSON(b); err != nil {
				_ = lw.Flush()
				return err
			}
		}
		return lw.Close()
	}
	return printList(e, c.Tokens(ctx, lo), tokenColumns, func(t *client.Token) []string { return tokenRow(t, now) })
}

// tokenColumns are the token table's: at 80 columns a terminal shows the
// whole SID, a readable name, the state and the last use; a wider one the
// expiry too, before the creation date and the hint.
var tokenColumns = columns{
	Header:    []string{"ACCOUNT SID", "NAME", "STATE", "API", "SCOPES", "AUTH TOKEN", "CREATED", "LAST USED", "EXPIRES"},
	DropFirst: []string{"SCOPES", "API", "CREATED", "AUTH TOKEN", "EXPIRES"},
	Paint:     paintState(2),
}

// paintState colours a table's state column: enabled green, disabled red.
func paintState(col int) func(int, string) string {
	return func(c int, cell string) string {
		switch {
		case c != col:
		case cell == string(client.StateEnabled):
			return iostreams.ColorGreen + cell + iostreams.ColorReset
		case cell == string(client.StateDisabled):
			return iostreams.ColorRed + cell + iostreams.ColorReset
		}
		return cell
	}
}

// tokenRow is a token as a table row; its expiry counted from now.
func tokenRow(t *client.Token, now time.Time) []string {
	return []string{
		t.AccountSid,
		t.Name,
		string(t.State),
		strconv.Itoa(t.ApiVersion),
		strconv.Itoa(len(t.Scopes)),
		output.Hint(t.AuthTokenHint),
		cmdutil.ShortDate(t.DateCreated),
		cmdutil.ShortDate(cmdutil.Deref(t.DateLastUsed)),
		expiresLabel(t.ExpiresAt, now),
	}
}
