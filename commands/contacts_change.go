package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// ContactsChangeOptions are the inputs of `contacts add` and `contacts remove`.
type ContactsChangeOptions struct {
	Env    cmdEnv
	Add    bool
	SID    string
	Emails []string
	pipeline.ChangeFlags
}

func newContactsChangeCmd(f *Factory, add bool, runF func(*ContactsChangeOptions) error) *cobra.Command {
	opts := &ContactsChangeOptions{Add: add}
	verb, short := "remove", "Remove developer e-mail addresses from a token"
	if add {
		verb, short = "add", "Add developer e-mail addresses to a token"
	}
	cmd := &cobra.Command{
		Use:   verb + " SID EMAIL...",
		Short: short,
		Example: fmt.Sprintf(`  impactctl contacts %[1]s "$SID" dev@example.com --yes
  impactctl contacts %[1]s "$SID" dev@example.com ops@example.com --dry-run`, verb),
		Args: minArgs(2, "a token (its Account SID or name) and at least one e-mail address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID, opts.Emails = f.env(), args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return contactsChangeRun(cmd.Context(), opts)
		},
	}
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func contactsChangeRun(ctx context.Context, opts *ContactsChangeOptions) error {
	var emails []string
	for _, e := range opts.Emails {
		if err := checkEmail(e); err != nil {
			return err
		}
		if !hasEmail(emails, e) {
			emails = append(emails, e)
		}
	}
	r, _, tok, err := opts.Env.beginEdit(ctx, opts.ChangeFlags, opts.SID)
	if err != nil {
		return err
	}
	next, changed, err := nextEmails(r, tok.DeveloperEmails, emails, opts.Add)
	if err != nil {
		return err
	}
	e := pipeline.Edit{Tok: tok, Question: "Change this token's developer e-mails?",
		Unchanged: fmt.Sprintf("developer e-mails of token %s", tok.AccountSid),
		Apply: func(ctx context.Context, w client.WriteOptions) (*client.Token, error) {
			return r.API.SetDeveloperEmails(ctx, tok.AccountSid, next, w)
		},
		Report: func(t *client.Token) (string, [][2]string) {
			return fmt.Sprintf("token %s now has %s", t.AccountSid, cmdutil.Plural(len(t.DeveloperEmails), "developer e-mail")),
				[][2]string{{"Account SID", t.AccountSid}, {"Developer emails", strings.Join(t.DeveloperEmails, ", ")}}
		},
	}
	if len(changed) > 0 {
		e.Change = pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionDeveloperEmails,
			Fields: []pipeline.FieldChange{{Field: "DeveloperEmails", Before: sortedCopy(tok.DeveloperEmails), After: sortedCopy(next)}}}
		if opts.Add {
			e.Change.Added = changed
		} else {
			e.Change.Removed = changed
		}
	}
	return r.ChangeOne(ctx, e)
}

// nextEmails is the list after adding (or removing) emails, and the ones
// that change it; it says which are already on (or not on) the list, and
// refuses a list over the limit.
func nextEmails(r *pipeline.Run, list, emails []string, add bool) (next, changed []string, err error) {
	next = slices.Clone(list)
	for _, e := range emails {
		switch {
		case add && !hasEmail(next, e):
			next = append(next, e)
		case !add && hasEmail(next, e):
			next = slices.DeleteFunc(next, func(x string) bool { return strings.EqualFold(x, e) })
		case add:
			iostreams.Infof(r.IO.ErrOut, "%s is already on the list", e)
			continue
		default:
			iostreams.Infof(r.IO.ErrOut, "%s is not on the list", e)
			continue
		}
		changed = append(changed, e)
	}
	if len(changed) > 0 && len(next) > contract.MaxEmails {
		return nil, nil, cmdutil.UsageErrorf("a token has at most %d developer e-mail addresses: this would make %d; nothing changed", contract.MaxEmails, len(next))
	}
	if next == nil {
		next = []string{}
	}
	return next, changed, nil
}

// hasEmail reports whether list holds e, whatever its case.
func hasEmail(list []string, e string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, e) })
}
