package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/output"
)

func newContactsChangeCmd(f *Factory, add bool) *cobra.Command {
	var flags changeFlags
	verb, short := "remove", "Remove developer e-mail addresses from a token"
	if add {
		verb, short = "add", "Add developer e-mail addresses to a token"
	}
	cmd := &cobra.Command{
		Use:   verb + " SID EMAIL...",
		Short: short,
		Example: fmt.Sprintf(`  impactctl contacts %[1]s "$SID" dev@example.com --yes
  impactctl contacts %[1]s "$SID" dev@example.com ops@example.com --dry-run`, verb),
		Args: minArgs(2, "an Account SID and at least one e-mail address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return contactsChangeRun(cmd.Context(), f, add, args[0], args[1:], flags)
		},
	}
	flags.register(cmd)
	return cmd
}

func contactsChangeRun(ctx context.Context, f *Factory, add bool, sid string, emails []string, flags changeFlags) error {
	if err := validSID(sid); err != nil {
		return err
	}
	var named []string
	for _, e := range emails {
		if err := checkEmail(e); err != nil {
			return err
		}
		if !slices.ContainsFunc(named, func(x string) bool { return strings.EqualFold(x, e) }) {
			named = append(named, e)
		}
	}
	emails = named
	c, tok, err := f.readToken(ctx, sid)
	if err != nil {
		return err
	}
	has := func(list []string, e string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, e) })
	}
	next := slices.Clone(tok.DeveloperEmails)
	var skipped []string
	for _, e := range emails {
		switch {
		case add && !has(next, e):
			next = append(next, e)
		case !add && has(next, e):
			next = slices.DeleteFunc(next, func(x string) bool { return strings.EqualFold(x, e) })
		default:
			skipped = append(skipped, e)
		}
	}
	for _, e := range skipped {
		if add {
			fmt.Fprintf(f.IO.ErrOut, "%s is already on the list\n", e)
		} else {
			fmt.Fprintf(f.IO.ErrOut, "%s is not on the list\n", e)
		}
	}
	if len(skipped) == len(emails) {
		return f.nothingToChange(fmt.Sprintf("developer e-mails of token %s", tok.AccountSid), tok)
	}
	if len(next) > contract.MaxEmails {
		return usageErrorf("a token has at most %d developer e-mail addresses: this would make %d; nothing changed", contract.MaxEmails, len(next))
	}
	ch := change{AccountSid: tok.AccountSid, Name: tok.Name, Action: "set developer e-mails of",
		Fields: []fieldChange{{"DeveloperEmails", sortedCopy(tok.DeveloperEmails), sortedCopy(next)}}}
	if add {
		ch.Added = slices.DeleteFunc(slices.Clone(emails), func(e string) bool { return slices.Contains(skipped, e) })
	} else {
		ch.Removed = slices.DeleteFunc(slices.Clone(emails), func(e string) bool { return slices.Contains(skipped, e) })
	}
	ok, err := f.confirm(ctx, flags, plan{Changes: []change{ch}}, "Change this token's developer e-mails?")
	if !ok {
		return err
	}
	if next == nil {
		next = []string{}
	}
	updated, err := c.SetDeveloperEmails(ctx, tok.AccountSid, next, client.WriteOptions{IfMatch: tok.ETag})
	if err != nil {
		return staleHint(err, tok.AccountSid)
	}
	fmt.Fprintf(f.IO.ErrOut, "token %s now has %s\n", updated.AccountSid, plural(len(updated.DeveloperEmails), "developer e-mail"))
	if !f.Printer().Table() {
		return f.Printer().Object(updated)
	}
	return output.KeyValues(f.IO.Out, [][2]string{{"Account SID", updated.AccountSid}, {"Developer emails", strings.Join(updated.DeveloperEmails, ", ")}})
}
