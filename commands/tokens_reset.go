package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

// TokensResetOptions are `tokens reset`'s inputs.
type TokensResetOptions struct {
	Select bulkFlags
	Secret secretFlags
}

func newTokensResetCmd(f *Factory) *cobra.Command {
	opts := &TokensResetOptions{}
	cmd := &cobra.Command{
		Use:   "reset SID...",
		Short: "Reset (rotate) Auth Tokens: the old ones are refused at once",
		Long: `Reset (rotate) the Auth Token of one or more tokens. The old secret is
refused from the very next request.

The new secret goes where it is told: --secret-file PATH (one token),
--secret-dir DIR (one file per SID) or --reveal (stdout). On a terminal stdout
is the default; elsewhere, told nothing, the command refuses before changing
anything.

Resetting the token in use (CI's normal case) saves the new secret first,
checks that it works, then updates the stored profile; with environment
credentials it says which variable to update.`,
		Example: `  impactctl tokens reset IR… --yes --secret-file ci.secret
  impactctl tokens reset --all --not-reset-for 90d --secret-dir secrets/ --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return tokensResetRun(cmd.Context(), f, args, opts)
		},
	}
	opts.Select.register(cmd)
	opts.Secret.register(cmd, true)
	return cmd
}

func tokensResetRun(ctx context.Context, f *Factory, args []string, opts *TokensResetOptions) error {
	if !opts.Select.DryRun {
		if err := opts.Secret.check(f.IO, max(len(args), 1+btoi(opts.Select.Stdin || opts.Select.All))); err != nil {
			return err
		}
	}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	toks, failed, err := f.selectTokens(ctx, c, args, &opts.Select)
	if err != nil {
		return err
	}
	if len(toks) > 1 && opts.Secret.File != "" {
		return usageErrorf("--secret-file holds one Auth Token: with several tokens use --secret-dir DIR")
	}
	var p plan
	for _, tok := range toks {
		p.Changes = append(p.Changes, change{AccountSid: tok.AccountSid, Name: tok.Name, Action: "reset",
			Fields: []fieldChange{{"AuthToken", output.Hint(tok.AuthTokenHint), "(new)"}}})
	}
	if len(p.Changes) == 0 && len(failed) == 0 {
		return f.nothingToChange("no tokens match", nil)
	}
	if len(p.Changes) > 0 {
		ok, err := f.confirm(opts.Select.changeFlags, p, fmt.Sprintf("Reset %s?", plural(len(p.Changes), "token")))
		if !ok {
			return err
		}
	}
	creds, err := f.Credentials(ctx)
	if err != nil {
		return err
	}
	baseKey := opts.Select.IdempotencyKey
	if baseKey == "" {
		baseKey = newIdempotencyKey()
	}
	keyFor := func(sid string) string {
		if len(toks) == 1 {
			return baseKey
		}
		return baseKey + "-" + sid
	}
	if len(toks) == 1 && len(failed) == 0 {
		tok := toks[0]
		key := keyFor(tok.AccountSid)
		after, err := c.ResetToken(ctx, tok.AccountSid, client.WriteOptions{IfMatch: tok.ETag, IdempotencyKey: key})
		if err != nil {
			return staleHint(err, tok.AccountSid)
		}
		if err := f.deliverNewSecret(after, &opts.Secret, key, "reset"); err != nil {
			return err
		}
		if f.opts.Brand == "" && tok.AccountSid == creds.AccountSid {
			return f.finishSelfRotation(ctx, creds, after.AuthToken)
		}
		return nil
	}

	results := make([]result, len(toks))
	var self string
	forEach(len(toks), opts.Select.Concurrency, func(i int) {
		tok := toks[i]
		key := keyFor(tok.AccountSid)
		after, err := c.ResetToken(ctx, tok.AccountSid, client.WriteOptions{IfMatch: tok.ETag, IdempotencyKey: key})
		if err != nil {
			results[i] = errResult(tok.AccountSid, tok.Name, staleHint(err, tok.AccountSid))
			return
		}
		path, err := opts.Secret.save(after.AccountSid, after.AuthToken)
		if err != nil {
			results[i] = errResult(tok.AccountSid, tok.Name, fmt.Errorf("reset, but the new Auth Token could not be saved (%w): run again with --idempotency-key %s to get it back", err, baseKey))
			return
		}
		results[i] = okResult(after, "reset")
		if path != "" {
			results[i].Message = "reset; new Auth Token in " + path
		}
		if !opts.Secret.Reveal {
			shown := *after
			shown.AuthToken = ""
			results[i].ApiToken = &shown
		}
		if f.opts.Brand == "" && after.AccountSid == creds.AccountSid {
			self = after.AuthToken
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if opts.Secret.Reveal && f.Printer().Table() {
		// The result table has no room for secrets: show them as pairs.
		for i, r := range results {
			if r.ApiToken != nil {
				results[i].Message = "reset; new Auth Token " + r.ApiToken.AuthToken
			}
		}
	}
	err = f.printResults(append(results, failed...))
	if self != "" {
		if serr := f.finishSelfRotation(ctx, creds, self); serr != nil {
			return serr
		}
	}
	return err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// finishSelfRotation completes a reset of the token in use, after its new
// secret was saved where the user asked: it checks the new secret works,
// then rewrites the stored profile, or says which variable to update.
func (f *Factory) finishSelfRotation(ctx context.Context, creds *credentials, secret string) error {
	nc, err := f.newClient(creds.APIURL, creds.AccountSid, secret)
	if err != nil {
		return err
	}
	var verr error
	for attempt := 0; attempt < 3; attempt++ {
		if _, verr = nc.Current(ctx); verr == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	if verr != nil {
		return fmt.Errorf("the token in use was reset but its new Auth Token could not be verified: %w", verr)
	}
	switch {
	case creds.Profile != "":
		cfg, err := f.Config()
		if err != nil {
			return err
		}
		p := cfg.Profiles[creds.Profile]
		p.AuthToken = secret
		cfg.Profiles[creds.Profile] = p
		if err := cfg.Save(); err != nil {
			return fmt.Errorf("the new Auth Token works but profile %q could not be updated: %w", creds.Profile, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "verified the new Auth Token and updated profile %q\n", creds.Profile)
	case creds.SecretEnv != "":
		fmt.Fprintf(f.IO.ErrOut, "verified the new Auth Token; this token came from the environment: update %s before the next command\n", creds.SecretEnv)
	}
	return nil
}
