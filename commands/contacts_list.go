package commands

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// ContactsListOptions are `contacts list`'s inputs.
type ContactsListOptions struct {
	Env cmdEnv
	SID string
}

func newContactsListCmd(f *Factory, runF func(*ContactsListOptions) error) *cobra.Command {
	opts := &ContactsListOptions{}
	return &cobra.Command{
		Use:     "list SID",
		Aliases: []string{"ls"},
		Short:   "List a token's developer e-mail addresses",
		Example: `  impactctl contacts list "$SID"
  impactctl contacts list "$SID" -o json`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return contactsListRun(cmd.Context(), opts)
		},
	}
}

// contactsListRun lists the developer e-mail addresses of one token.
func contactsListRun(ctx context.Context, opts *ContactsListOptions) error {
	e := opts.Env
	_, tok, err := pipeline.ReadToken(ctx, e.Client, opts.SID)
	if err != nil {
		return err
	}
	emails := tok.DeveloperEmails
	if emails == nil {
		emails = []string{}
	}
	if !e.Printer.Table() {
		lw := e.Printer.List()
		for _, e := range emails {
			if err := lw.Add(e); err != nil {
				return err
			}
		}
		return lw.Close()
	}
	if len(emails) == 0 {
		iostreams.Infof(e.IO.ErrOut, "token %s has no developer e-mail addresses", tok.AccountSid)
		return nil
	}
	t := output.NewTable(e.IO.Out, "EMAIL")
	for _, e := range emails {
		t.Row(e)
	}
	return t.Render()
}
