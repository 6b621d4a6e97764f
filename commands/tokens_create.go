package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// TokensCreateOptions are `tokens create`'s inputs.
type TokensCreateOptions struct {
	Env             cmdEnv
	Fields          tokenFields
	Scopes          []string
	DeveloperEmails []string
	From            string
	Expiry          expiryFlags
	Secret          pipeline.SecretFlags
	pipeline.ChangeFlags
}

func newTokensCreateCmd(f *Factory, runF func(*TokensCreateOptions) error) *cobra.Command {
	opts := &TokensCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a token, or duplicate one with --from",
		Long: `Create a token, or duplicate one with --from SID (its settings, with the
flags given as overrides; the name defaults to "<Name> (copy)").

The new Auth Token goes where it is told: --secret-file PATH (- for stdout)
or --reveal (stdout), and, with --secret-cmd CMD, to CMD on its stdin after
any file is written. On a terminal stdout is the default; elsewhere, told
nothing, the command refuses before creating anything.

--expires-in D (90d, 2w, 36h from now) or --expires-at DATE (00:00:00Z that
day) give the token an expiry: from then on it is refused (exit 4), until
another token gives it a new one with tokens edit. A duplicate does not
copy the source's expiry.`,
		Example: `  impactctl tokens create --name "CI deploys" --scope 'reports.*' --secret-file ci.secret --yes
  impactctl tokens create --name "Quarterly export" --expires-in 90d --reveal
  impactctl tokens create --from "$SID" --name "CI deploys (staging)" --reveal`,
		Args: exactArgs(0, "no arguments (the settings are flags)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return tokensCreateRun(cmd.Context(), opts)
		},
	}
	opts.Fields.register(cmd, false)
	cmd.Flags().StringArrayVar(&opts.Scopes, "scope", nil, "a scope or category.* (repeatable)")
	cmd.Flags().StringArrayVar(&opts.DeveloperEmails, "developer-email", nil, "a developer e-mail address (repeatable)")
	cmd.Flags().StringVar(&opts.From, "from", "", "duplicate this token (the web app's Duplicate)")
	opts.Expiry.register(cmd, false)
	registerSecretFlags(&opts.Secret, cmd, false)
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func tokensCreateRun(ctx context.Context, opts *TokensCreateOptions) error {
	fl := opts.Fields
	if opts.From == "" && strings.TrimSpace(fl.Name) == "" {
		return cmdutil.UsageErrorf("a new token needs --name (or --from SID to duplicate one)")
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
		return cmdutil.UsageErrorf("a token has at most %d developer e-mail addresses", contract.MaxEmails)
	}
	var expires time.Time
	if opts.Expiry.given() {
		now, err := opts.Env.Now()
		if err != nil {
			return err
		}
		if expires, _, _, err = opts.Expiry.resolve(now); err != nil {
			return err
		}
	}
	if !opts.DryRun {
		if err := opts.Secret.Check(opts.Env.IO); err != nil {
			return err
		}
	}
	r, c, err := opts.Env.begin(ctx, opts.ChangeFlags)
	if err != nil {
		return err
	}
	if opts.From != "" {
		// The source, by SID or by name: the plan and the request name it by SID.
		if opts.From, err = pipeline.ResolveSID(ctx, c, opts.From); err != nil {
			return err
		}
	}
	req, ch, err := planCreate(ctx, c, opts, opts.Env.Brand != "")
	if err != nil {
		return err
	}
	if !expires.IsZero() {
		req.ExpiresAt = pipeline.WireTime(expires)
		ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "ExpiresAt", Before: nil, After: req.ExpiresAt})
	}
	return runCreate(r, ctx, ch, "Create this token?", &opts.Secret, func(ctx context.Context, w client.WriteOptions) (*client.Token, error) {
		if opts.From != "" {
			return r.API.DuplicateToken(ctx, opts.From, req, w)
		}
		return r.API.CreateToken(ctx, req, w)
	})
}

// planCreate turns the flags into the new token's settings, checked against
// the catalog, the API versions and the account's users, and its plan.
func planCreate(ctx context.Context, c *client.Client, opts *TokensCreateOptions, brand bool) (client.TokenCreate, pipeline.Change, error) {
	fl := opts.Fields
	var ch pipeline.Change
	var err error
	req := client.TokenCreate{Name: fl.Name, Description: fl.Description, DeveloperEmails: opts.DeveloperEmails}
	if len(opts.Scopes) > 0 {
		cat, err := c.Scopes(ctx)
		if err != nil {
			return req, ch, err
		}
		if req.Scopes, err = expandScopes(cat, opts.Scopes); err != nil {
			return req, ch, err
		}
	}
	if fl.set("api-version") && !strings.EqualFold(fl.APIVersion, "latest") {
		if req.ApiVersion, err = newAPIVersion(ctx, c, fl.APIVersion, brand); err != nil {
			return req, ch, err
		}
	}
	if fl.set("primary-contact") && fl.PrimaryContact != "" {
		u, err := findUser(ctx, c, fl.PrimaryContact)
		if err != nil {
			return req, ch, err
		}
		req.PrimaryContactId = u.Id
	}

	ch = pipeline.Change{Name: fl.Name, Action: pipeline.ActionCreate}
	if opts.From != "" {
		src, err := c.Token(ctx, opts.From)
		if err != nil {
			return req, ch, pipeline.BrandHint(ctx, c, opts.From, err)
		}
		ch.Action, ch.From = pipeline.ActionDuplicate, src.AccountSid
		ch.Name = src.Name + " (copy)"
		if req.Name != "" {
			ch.Name = req.Name
		}
	}
	ch.Fields = append(ch.Fields, createFields(ch.Name, req)...)
	return req, ch, nil
}

// newAPIVersion reads --api-version v, a number within the versions of the
// token's API: a brand's when brand is set or the token in use is one.
func newAPIVersion(ctx context.Context, c *client.Client, v string, brand bool) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, cmdutil.UsageErrorf("invalid --api-version %q: use a number or latest", v)
	}
	kind, err := c.Kind(ctx)
	if err != nil {
		return 0, err
	}
	brand = brand || kind == "brand"
	lowest, latest := contract.APIVersions(brand)
	if n < lowest || n > latest {
		api := "Agency"
		if brand {
			api = "Brand"
		}
		return 0, cmdutil.UsageErrorf("invalid --api-version %d: a token of the %s API is at version %d to %d", n, api, lowest, latest)
	}
	return n, nil
}

// createFields are the fields a create's plan shows for the new token named
// name: what req sets.
func createFields(name string, req client.TokenCreate) []pipeline.FieldChange {
	var fields []pipeline.FieldChange
	// The plan names what the new token gets; what is left out is the
	// server's default (or, with --from, the source token's value).
	fields = append(fields, pipeline.FieldChange{Field: "Name", Before: nil, After: name})
	if req.Description != "" {
		fields = append(fields, pipeline.FieldChange{Field: "Description", Before: nil, After: req.Description})
	}
	if req.ApiVersion != 0 {
		fields = append(fields, pipeline.FieldChange{Field: "ApiVersion", Before: nil, After: req.ApiVersion})
	}
	if req.PrimaryContactId != "" {
		fields = append(fields, pipeline.FieldChange{Field: "PrimaryContactId", Before: nil, After: req.PrimaryContactId})
	}
	if len(req.Scopes) > 0 {
		fields = append(fields, pipeline.FieldChange{Field: "Scopes", Before: nil, After: req.Scopes})
	}
	if len(req.DeveloperEmails) > 0 {
		fields = append(fields, pipeline.FieldChange{Field: "DeveloperEmails", Before: nil, After: req.DeveloperEmails})
	}
	return fields
}

// runCreate confirms a new token's plan, makes it with apply (keyed, so a
// re-run creates nothing twice), and delivers its secret.
func runCreate(r *pipeline.Run, ctx context.Context, ch pipeline.Change, question string, s *pipeline.SecretFlags, apply func(context.Context, client.WriteOptions) (*client.Token, error)) error {
	ok, err := r.Confirm(ctx, pipeline.Plan{Changes: []pipeline.Change{ch}}, question)
	if !ok {
		return err
	}
	key := r.IdempotencyKey
	if key == "" {
		key = client.NewIdempotencyKey()
	}
	tok, err := apply(ctx, client.WriteOptions{IdempotencyKey: key})
	if err != nil {
		return err
	}
	return r.DeliverNewSecret(ctx, tok, s, key, "created")
}
