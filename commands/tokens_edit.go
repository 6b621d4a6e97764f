package commands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

// TokensEditOptions are `tokens edit`'s inputs.
type TokensEditOptions struct {
	Env    changeEnv
	SID    string
	Fields tokenFields
	changeFlags
}

func newTokensEditCmd(f *Factory, runF func(*TokensEditOptions) error) *cobra.Command {
	opts := &TokensEditOptions{}
	cmd := &cobra.Command{
		Use:   "edit SID",
		Short: "Edit a token's name, description, API version or primary contact",
		Example: `  impactctl tokens edit "$SID" --name "CI deploys" --api-version latest
  impactctl tokens edit "$SID" --primary-contact ada@example.com --yes`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.changeEnv(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return tokensEditRun(cmd.Context(), opts)
		},
	}
	opts.Fields.register(cmd, true)
	opts.changeFlags.register(cmd)
	return cmd
}

func tokensEditRun(ctx context.Context, opts *TokensEditOptions) error {
	fl := opts.Fields
	if !fl.set("name") && !fl.set("description") && !fl.set("api-version") && !fl.set("primary-contact") {
		return usageErrorf("nothing to edit: give --name, --description, --api-version or --primary-contact")
	}
	if err := fl.check(); err != nil {
		return err
	}
	r, c, tok, err := opts.Env.beginEdit(ctx, opts.changeFlags, opts.SID)
	if err != nil {
		return err
	}
	upd, ch, err := planEdit(ctx, c, tok, fl)
	if err != nil {
		return err
	}
	return r.changeOne(ctx, edit{tok: tok, change: ch, question: "Edit this token?",
		unchanged: fmt.Sprintf("token %s already has these values", tok.AccountSid),
		apply: func(ctx context.Context, w client.WriteOptions) (*client.Token, error) {
			return c.UpdateToken(ctx, tok.AccountSid, upd, w)
		},
		report: func(t *client.Token) (string, [][2]string) {
			return fmt.Sprintf("edited token %s (%s)", t.AccountSid, output.Sanitize(t.Name)), tokenDetails(t)
		},
	})
}

// planEdit turns the flags into a PATCH and its before → after, leaving out
// fields that already have the asked value.
func planEdit(ctx context.Context, c *client.Client, tok *client.Token, fl tokenFields) (client.TokenUpdate, change, error) {
	var upd client.TokenUpdate
	ch := change{AccountSid: tok.AccountSid, Name: tok.Name, Action: actionEdit}
	if fl.set("name") && fl.Name != tok.Name {
		upd.Name = &fl.Name
		ch.Fields = append(ch.Fields, fieldChange{"Name", tok.Name, fl.Name})
	}
	if fl.set("description") && fl.Description != tok.Description {
		if fl.Description == "" {
			upd.ClearDescription = true
		} else {
			upd.Description = &fl.Description
		}
		ch.Fields = append(ch.Fields, fieldChange{"Description", tok.Description, fl.Description})
	}
	if fl.set("api-version") {
		v, err := wantedVersion(tok, fl.APIVersion)
		if err != nil {
			return upd, ch, err
		}
		if v != tok.ApiVersion {
			upd.ApiVersion = &v
			ch.Fields = append(ch.Fields, fieldChange{"ApiVersion", tok.ApiVersion, v})
		}
	}
	if fl.set("primary-contact") {
		before := contactID(tok.PrimaryContact)
		if fl.PrimaryContact == "" {
			if before != "" {
				upd.ClearPrimaryContact = true
				ch.Fields = append(ch.Fields, fieldChange{"PrimaryContact", userLabel(tok.PrimaryContact), nil})
			}
		} else {
			u, err := findUser(ctx, c, fl.PrimaryContact)
			if err != nil {
				return upd, ch, err
			}
			if u.Id != before {
				upd.PrimaryContactId = &u.Id
				ch.Fields = append(ch.Fields, fieldChange{"PrimaryContact", userLabel(tok.PrimaryContact), userLabel(u)})
			}
		}
	}
	return upd, ch, nil
}
