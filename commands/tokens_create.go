package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/output"
)

// TokensCreateOptions are `tokens create`'s inputs.
type TokensCreateOptions struct {
	Fields          tokenFields
	Scopes          []string
	DeveloperEmails []string
	From            string
	Secret          secretFlags
	changeFlags
}

func newTokensCreateCmd(f *Factory) *cobra.Command {
	opts := &TokensCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a token, or duplicate one with --from",
		Long: `Create a token, or duplicate one with --from SID (its settings, with the
flags given as overrides; the name defaults to "<Name> (copy)").

The new Auth Token goes where it is told: --secret-file PATH (- for stdout)
or --reveal (stdout), and, with --secret-cmd CMD, to CMD on its stdin after
any file is written. On a terminal stdout is the default; elsewhere, told
nothing, the command refuses before creating anything.`,
		Example: `  impactctl tokens create --name "CI deploys" --scope 'reports.*' --secret-file ci.secret --yes
  impactctl tokens create --from "$SID" --name "CI deploys (staging)" --reveal`,
		Args: exactArgs(0, "no arguments (the settings are flags)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return tokensCreateRun(cmd.Context(), f, opts)
		},
	}
	opts.Fields.register(cmd, false)
	cmd.Flags().StringArrayVar(&opts.Scopes, "scope", nil, "a scope or category.* (repeatable)")
	cmd.Flags().StringArrayVar(&opts.DeveloperEmails, "developer-email", nil, "a developer e-mail address (repeatable)")
	cmd.Flags().StringVar(&opts.From, "from", "", "duplicate this token (the web app's Duplicate)")
	opts.Secret.register(cmd, false)
	opts.changeFlags.register(cmd)
	return cmd
}

func tokensCreateRun(ctx context.Context, f *Factory, opts *TokensCreateOptions) error {
	fl := opts.Fields
	if opts.From != "" {
		if err := validSID(opts.From); err != nil {
			return err
		}
	} else if strings.TrimSpace(fl.Name) == "" {
		return usageErrorf("a new token needs --name (or --from SID to duplicate one)")
	}
	if err := fl.check(); err != nil {
		return err
	}
	for _, e := range opts.DeveloperEmails {
		if err := checkEmail(e); err != nil {
			return err
		}
	}
	if len(opts.DeveloperEmails) > contract.MaxEmails {
		return usageErrorf("a token has at most %d developer e-mail addresses", contract.MaxEmails)
	}
	if !opts.DryRun {
		if err := opts.Secret.check(f.IO); err != nil {
			return err
		}
	}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	req := client.TokenCreate{Name: fl.Name, Description: fl.Description, DeveloperEmails: opts.DeveloperEmails}
	if len(opts.Scopes) > 0 {
		cat, err := c.Scopes(ctx)
		if err != nil {
			return err
		}
		if req.Scopes, err = expandScopes(cat, opts.Scopes); err != nil {
			return err
		}
	}
	if fl.set("api-version") && !strings.EqualFold(fl.APIVersion, "latest") {
		if req.ApiVersion, err = strconv.Atoi(fl.APIVersion); err != nil {
			return usageErrorf("invalid --api-version %q: use a number or latest", fl.APIVersion)
		}
		kind, err := c.Kind(ctx)
		if err != nil {
			return err
		}
		brand := kind == "brand" || f.opts.Brand != ""
		lowest, latest := contract.APIVersions(brand)
		if req.ApiVersion < lowest || req.ApiVersion > latest {
			api := "Agency"
			if brand {
				api = "Brand"
			}
			return usageErrorf("invalid --api-version %d: a token of the %s API is at version %d to %d", req.ApiVersion, api, lowest, latest)
		}
	}
	if fl.set("primary-contact") && fl.PrimaryContact != "" {
		u, err := findUser(ctx, c, fl.PrimaryContact)
		if err != nil {
			return err
		}
		req.PrimaryContactId = u.Id
	}

	ch := change{Name: fl.Name, Action: "create"}
	if opts.From != "" {
		src, err := c.Token(ctx, opts.From)
		if err != nil {
			return err
		}
		ch.Action = "duplicate " + src.AccountSid + " as"
		ch.Name = src.Name + " (copy)"
		if req.Name != "" {
			ch.Name = req.Name
		}
	}
	// The plan names what the new token gets; what is left out is the
	// server's default (or, with --from, the source token's value).
	ch.Fields = append(ch.Fields, fieldChange{"Name", nil, ch.Name})
	if req.Description != "" {
		ch.Fields = append(ch.Fields, fieldChange{"Description", nil, req.Description})
	}
	if req.ApiVersion != 0 {
		ch.Fields = append(ch.Fields, fieldChange{"ApiVersion", nil, req.ApiVersion})
	}
	if req.PrimaryContactId != "" {
		ch.Fields = append(ch.Fields, fieldChange{"PrimaryContactId", nil, req.PrimaryContactId})
	}
	if len(req.Scopes) > 0 {
		ch.Fields = append(ch.Fields, fieldChange{"Scopes", nil, req.Scopes})
	}
	if len(req.DeveloperEmails) > 0 {
		ch.Fields = append(ch.Fields, fieldChange{"DeveloperEmails", nil, req.DeveloperEmails})
	}
	ok, err := f.confirm(ctx, opts.changeFlags, plan{Changes: []change{ch}}, "Create this token?")
	if !ok {
		return err
	}
	key := opts.IdempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	w := client.WriteOptions{IdempotencyKey: key}
	var tok *client.Token
	if opts.From != "" {
		tok, err = c.DuplicateToken(ctx, opts.From, req, w)
	} else {
		tok, err = c.CreateToken(ctx, req, w)
	}
	if err != nil {
		return err
	}
	return f.deliverNewSecret(ctx, tok, &opts.Secret, key, "created")
}

// deliverNewSecret puts a fresh secret where it was told (its file, then
// --secret-cmd) and prints the token: the secret itself only with --reveal.
func (f *Factory) deliverNewSecret(ctx context.Context, tok *client.Token, s *secretFlags, key, done string) error {
	if err := checkIssued(tok, ""); err != nil {
		return err
	}
	path, err := s.save(tok.AccountSid, tok.AuthToken)
	if err != nil {
		return fmt.Errorf("token %s was %s but its new Auth Token could not be saved (%w): run the same command again with --idempotency-key %s to get it back",
			tok.AccountSid, done, err, key)
	}
	handErr := s.handOff(ctx, f, tok.AccountSid, tok.AuthToken)
	fmt.Fprintf(f.IO.ErrOut, "%s token %s (%s)\n", done, tok.AccountSid, output.Sanitize(tok.Name))
	if path != "" {
		fmt.Fprintf(f.IO.ErrOut, "the new Auth Token is in %s\n", path)
	}
	if handErr == nil && len(s.argv) > 0 {
		fmt.Fprintln(f.IO.ErrOut, "the new Auth Token was handed to --secret-cmd")
	}
	shown := *tok
	if s.Reveal {
		f.maskSecret(tok.AuthToken)
	} else {
		shown.AuthToken = ""
	}
	if !f.Printer().Table() {
		err = f.Printer().Object(&shown)
	} else {
		err = output.KeyValues(f.IO.Out, tokenDetails(&shown))
	}
	if handErr != nil {
		return handOffError([]string{tok.AccountSid}, done, "with ", key, handErr, err)
	}
	return err
}
