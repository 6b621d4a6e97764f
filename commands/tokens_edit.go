package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// TokensEditOptions are `tokens edit`'s inputs.
type TokensEditOptions struct {
	Env    cmdEnv
	SID    string
	Fields tokenFields
	Expiry expiryFlags
	pipeline.ChangeFlags
}

func newTokensEditCmd(f *Factory, runF func(*TokensEditOptions) error) *cobra.Command {
	opts := &TokensEditOptions{}
	cmd := &cobra.Command{
		Use:   "edit SID",
		Short: "Edit a token's name, description, API version, primary contact or expiry",
		Long: `Edit a token's name, description, API version, primary contact or expiry.

--expires-in D (90d, 2w, 36h from now), --expires-at DATE (00:00:00Z that
day) or --no-expiry set when the token stops working. The new expiry must
lie in the future. A token may shorten its own expiry but never move it
later or clear it (exit 5): another token does that. The account's last
manager without an expiry cannot be given one (exit 7), so time alone never
leaves the account without a manager.`,
		Example: `  impactctl tokens edit "$SID" --name "CI deploys" --api-version latest
  impactctl tokens edit "$SID" --primary-contact ada@example.com --yes
  impactctl tokens edit "$SID" --expires-in 90d --yes
  impactctl tokens edit "$SID" --no-expiry --yes`,
		Args: exactArgs(1, "one token: its Account SID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.SID = f.env(), args[0]
			if runF != nil {
				return runF(opts)
			}
			return tokensEditRun(cmd.Context(), opts)
		},
	}
	opts.Fields.register(cmd, true)
	opts.Expiry.register(cmd, true)
	registerChangeFlags(&opts.ChangeFlags, cmd)
	return cmd
}

func tokensEditRun(ctx context.Context, opts *TokensEditOptions) error {
	fl := opts.Fields
	if !fl.set("name") && !fl.set("description") && !fl.set("api-version") && !fl.set("primary-contact") && !opts.Expiry.given() {
		return cmdutil.UsageErrorf("nothing to edit: give --name, --description, --api-version, --primary-contact, --expires-in, --expires-at or --no-expiry")
	}
	if err := fl.check(); err != nil {
		return err
	}
	var expires time.Time
	var noExpiry bool
	if opts.Expiry.given() {
		now, err := opts.Env.Now()
		if err != nil {
			return err
		}
		if expires, noExpiry, _, err = opts.Expiry.resolve(now); err != nil {
			return err
		}
	}
	r, c, tok, err := opts.Env.beginEdit(ctx, opts.ChangeFlags, opts.SID)
	if err != nil {
		return err
	}
	upd, ch, err := planEdit(ctx, c, tok, fl)
	if err != nil {
		return err
	}
	planExpiry(&upd, &ch, tok, expires, noExpiry)
	return r.ChangeOne(ctx, tokenEdit(r, tok, upd, ch))
}

// tokenEdit is the edit that PATCHes tok with upd, planned as ch.
func tokenEdit(r *pipeline.Run, tok *client.Token, upd client.TokenUpdate, ch pipeline.Change) pipeline.Edit {
	return pipeline.Edit{Tok: tok, Change: ch, Question: "Edit this token?",
		Unchanged: fmt.Sprintf("token %s already has these values", tok.AccountSid),
		Apply: func(ctx context.Context, w client.WriteOptions) (*client.Token, error) {
			return r.API.UpdateToken(ctx, tok.AccountSid, upd, w)
		},
		Report: func(t *client.Token) (string, [][2]string) {
			return fmt.Sprintf("edited token %s (%s)", t.AccountSid, output.Sanitize(t.Name)), pipeline.TokenDetails(t)
		},
	}
}

// planExpiry adds a new expiry (or none, with noExpiry) to an edit's PATCH
// and its plan, in full times, when it differs from the token's.
func planExpiry(upd *client.TokenUpdate, ch *pipeline.Change, tok *client.Token, expires time.Time, noExpiry bool) {
	before := pipeline.ExpiresDetail(tok.ExpiresAt)
	switch {
	case noExpiry && tok.ExpiresAt != nil:
		upd.ClearExpiresAt = true
		ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "ExpiresAt", Before: before, After: "never"})
	case !expires.IsZero() && before != pipeline.WireTime(expires):
		at := pipeline.WireTime(expires)
		upd.ExpiresAt = &at
		ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "ExpiresAt", Before: before, After: at})
	}
}

// planEdit turns the flags into a PATCH and its before → after, leaving out
// fields that already have the asked value.
func planEdit(ctx context.Context, c *client.Client, tok *client.Token, fl tokenFields) (client.TokenUpdate, pipeline.Change, error) {
	var upd client.TokenUpdate
	ch := pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionEdit}
	if fl.set("name") && fl.Name != tok.Name {
		upd.Name = &fl.Name
		ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "Name", Before: tok.Name, After: fl.Name})
	}
	if fl.set("description") && fl.Description != tok.Description {
		if fl.Description == "" {
			upd.ClearDescription = true
		} else {
			upd.Description = &fl.Description
		}
		ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "Description", Before: tok.Description, After: fl.Description})
	}
	if fl.set("api-version") {
		v, err := wantedVersion(tok, fl.APIVersion)
		if err != nil {
			return upd, ch, err
		}
		if v != tok.ApiVersion {
			upd.ApiVersion = &v
			ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "ApiVersion", Before: tok.ApiVersion, After: v})
		}
	}
	if fl.set("primary-contact") {
		before := contactID(tok.PrimaryContact)
		if fl.PrimaryContact == "" {
			if before != "" {
				upd.ClearPrimaryContact = true
				ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "PrimaryContact", Before: pipeline.UserLabel(tok.PrimaryContact), After: nil})
			}
		} else {
			u, err := findUser(ctx, c, fl.PrimaryContact)
			if err != nil {
				return upd, ch, err
			}
			if u.Id != before {
				upd.PrimaryContactId = &u.Id
				ch.Fields = append(ch.Fields, pipeline.FieldChange{Field: "PrimaryContact", Before: pipeline.UserLabel(tok.PrimaryContact), After: pipeline.UserLabel(u)})
			}
		}
	}
	return upd, ch, nil
}
