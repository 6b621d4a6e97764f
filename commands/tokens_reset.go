package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
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

The new secret goes where it is told: --secret-file PATH (one token; - for
stdout), --secret-dir DIR (one file per SID, named after the SIDs asked for)
or --reveal (stdout). On a terminal stdout is the default; elsewhere, told
nothing, the command refuses before changing anything.

--secret-cmd CMD also hands each new secret to CMD on its stdin, after any
file is written, with IMPACTCTL_SECRET_SID set. CMD is split into words as a
shell would (quotes honoured, nothing else: use sh -c '…' for more). If it
fails, the command exits 11 naming the --idempotency-key that hands the
secrets over again without resetting anything twice.

Resetting the token in use (CI's normal case) saves the new secret first,
checks that it works, then updates the stored profile; with environment
credentials it says which variable to update.`,
		Example: `  impactctl tokens reset "$SID" --yes --secret-file ci.secret
  impactctl tokens reset --all --not-reset-for 90d --secret-dir secrets/ --yes
  impactctl tokens reset "$SID" --yes --secret-cmd 'gh secret set IMPACT_AUTH_TOKEN'`,
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
		if err := opts.Secret.check(f.IO); err != nil {
			return err
		}
	}
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	toks, failed, err := f.selectTokens(ctx, c, args, &opts.Select)
	if ae, ok := asAPIError(err); ok && ae.StatusCode == 401 && opts.Select.IdempotencyKey != "" && len(args) == 1 {
		// The token in use may have reset itself in an earlier run whose
		// answer was lost: its old secret still replays that reset.
		if creds, cerr := f.Credentials(ctx); cerr == nil && creds.AccountSid == args[0] && f.opts.Brand == "" {
			if err := opts.Secret.checkSelf(creds.AccountSid); err != nil {
				return err
			}
			return f.replaySelfReset(ctx, c, &opts.Secret, opts.Select.IdempotencyKey)
		}
	}
	if err != nil {
		return err
	}
	if len(toks) > 1 && opts.Secret.File != "" && opts.Secret.File != "-" {
		return usageErrorf("--secret-file holds one Auth Token: with several tokens use --secret-dir DIR")
	}
	if creds, err := f.Credentials(ctx); err == nil && f.opts.Brand == "" && !opts.Select.DryRun {
		for _, tok := range toks {
			if tok.AccountSid == creds.AccountSid {
				if err := opts.Secret.checkSelf(tok.AccountSid); err != nil {
					return err
				}
			}
		}
	}
	var p plan
	for _, tok := range toks {
		p.Changes = append(p.Changes, change{AccountSid: tok.AccountSid, Name: tok.Name, Action: "reset",
			Fields: []fieldChange{{"AuthToken", output.Hint(tok.AuthTokenHint), "(new)"}}})
	}
	p.Failed = planFailures(failed)
	if len(toks) == 0 && len(failed) == 0 {
		return f.nothingNamed(opts.Select.All)
	}
	if len(p.Changes) > 0 || opts.Select.DryRun {
		ok, err := f.confirm(ctx, opts.Select.changeFlags, p, fmt.Sprintf("Reset %s?", plural(len(p.Changes), "token")))
		if !ok {
			return dryRunOutcome(err, failed, len(toks)+len(failed))
		}
	}
	key := opts.Select.IdempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	var results []result
	switch len(toks) {
	case 0:
	case 1:
		// One token: its own endpoint, guarded by the ETag just read.
		tok := toks[0]
		after, err := c.ResetToken(ctx, tok.AccountSid, client.WriteOptions{IfMatch: tok.ETag, IdempotencyKey: key})
		if err != nil {
			results = []result{errResult(tok.AccountSid, tok.Name, staleHint(err, tok.AccountSid))}
		} else if err := checkIssued(after, tok.AccountSid); err != nil {
			return err
		} else {
			results = []result{okResult(after, "reset")}
		}
	default:
		results = f.runBulk(ctx, c, client.BulkReset, toks, key, opts.Select.Concurrency)
	}
	// Secrets the server already issued are saved even when the run was
	// cut short: a new secret is never lost.
	err = f.deliverResets(ctx, append(results, failed...), &opts.Secret, key)
	if ctx.Err() != nil {
		return fmt.Errorf("cut short: the resets that finished are saved and listed; run the same command again with --idempotency-key %s to finish without resetting any twice: %w", key, ctx.Err())
	}
	return err
}

// deliverResets puts each new secret where it was told, prints one result
// per token and, when the token in use was among them, completes its
// self-rotation.
func (f *Factory) deliverResets(ctx context.Context, results []result, s *secretFlags, key string) error {
	creds, err := f.Credentials(ctx)
	if err != nil {
		return err
	}
	// Every answer is checked before any secret is written: one naming
	// other tokens than those asked for, or a malformed SID, is refused.
	for _, r := range results {
		var ua *untrustedAnswer
		if errors.As(r.err, &ua) {
			return r.err
		}
		if r.Status == "OK" {
			if err := checkIssued(r.ApiToken, r.AccountSid); err != nil {
				return err
			}
		}
	}
	var self, selfPath string
	var notHanded []string
	for i, r := range results {
		if r.Status != "OK" {
			continue
		}
		secret := r.ApiToken.AuthToken
		path, err := s.save(r.AccountSid, secret)
		if err != nil {
			results[i] = errResult(r.AccountSid, r.name, fmt.Errorf("reset, but the new Auth Token could not be saved (%w): run the same command again with --idempotency-key %s to get it back", err, key))
			continue
		}
		handErr := s.handOff(ctx, f, r.AccountSid, secret)
		results[i].Message = "reset"
		if r.ApiToken.Replayed {
			// The same key as an earlier run: its answer again, no new reset.
			results[i].Message = "reset earlier with this --idempotency-key (replayed; nothing reset now)"
		}
		switch {
		case path != "":
			results[i].Message += "; new Auth Token in " + path
		case s.Reveal && f.Printer().Table():
			// A table has no column for secrets: it goes in the message.
			results[i].Message += "; new Auth Token " + secret
		}
		switch {
		case handErr != nil:
			results[i].Message += "; not handed to --secret-cmd (" + handErr.Error() + ")"
			notHanded = append(notHanded, r.AccountSid)
		case len(s.argv) > 0:
			results[i].Message += "; handed to --secret-cmd"
		}
		if s.Reveal {
			f.maskSecret(secret)
		} else {
			shown := *r.ApiToken
			shown.AuthToken = ""
			results[i].ApiToken = &shown
		}
		if f.opts.Brand == "" && r.AccountSid == creds.AccountSid {
			self, selfPath = secret, path
		}
	}
	err = f.printResults(results)
	if self != "" {
		if serr := f.finishSelfRotation(ctx, creds, self, selfPath); serr != nil {
			err = serr
		}
	}
	if len(notHanded) > 0 {
		return handOffError(notHanded, "reset", "with the same SIDs and ", key, nil, err)
	}
	return err
}

// handOffError is exit 11: tokens changed, but --secret-cmd did not take
// their new secrets. Re-running with the same key replays the server's
// answers (kept 24 hours) without changing anything twice. Other failures
// of the run are named too.
func handOffError(sids []string, done, same, key string, why, other error) error {
	them, their := "them", "their answers"
	if len(sids) == 1 {
		them, their = "it", "its answer"
	}
	because := ""
	if why != nil {
		because = " (" + why.Error() + ")"
	}
	msg := fmt.Sprintf("%s %s, but --secret-cmd failed for %s%s: run the same command again %s--idempotency-key %s within 24 hours to hand %s off again (the server replays %s; nothing is %s twice)",
		plural(len(sids), "token"), done, strings.Join(sids, ", "), because, same, key, them, their, done)
	if other != nil {
		msg += "; also: " + other.Error()
	}
	return &ExitError{Code: ExitSecretCmd, Err: errors.New(msg)}
}

// replaySelfReset asks the server again for the answer of a self-reset made
// with key, using the secret that reset replaced, and completes it.
func (f *Factory) replaySelfReset(ctx context.Context, c *client.Client, s *secretFlags, key string) error {
	creds, err := f.Credentials(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "the Auth Token in use was refused: replaying an earlier reset of %s with --idempotency-key %s\n", creds.AccountSid, key)
	after, err := c.ResetToken(ctx, creds.AccountSid, client.WriteOptions{IdempotencyKey: key})
	if err != nil {
		return err
	}
	if err := checkIssued(after, creds.AccountSid); err != nil {
		return err
	}
	return f.deliverResets(ctx, []result{okResult(after, "reset")}, s, key)
}

// finishSelfRotation completes a reset of the token in use, after its new
// secret was saved where the user asked: it checks the new secret works,
// then rewrites the stored profile, or says which variable to update.
func (f *Factory) finishSelfRotation(ctx context.Context, creds *credentials, secret, savedTo string) error {
	nc, err := f.newClient(creds.APIURL, creds.AccountSid, secret, creds.Kind)
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
		_, err := f.UpdateConfig(func(cfg *Config) error {
			p, ok := cfg.Profiles[creds.Profile]
			if !ok || p.AccountSid != creds.AccountSid {
				return fmt.Errorf("profile %q changed while the token was reset", creds.Profile)
			}
			p.AuthToken = secret
			cfg.Profiles[creds.Profile] = p
			return nil
		})
		if err != nil {
			return fmt.Errorf("the new Auth Token works but profile %q could not be updated: %w", creds.Profile, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "verified the new Auth Token and updated profile %q\n", creds.Profile)
	case creds.SecretFile != "" && sameFile(creds.SecretFile, savedTo):
		fmt.Fprintf(f.IO.ErrOut, "verified the new Auth Token; %s names the file that now holds it\n", creds.SecretEnv)
	case creds.SecretEnv != "":
		fmt.Fprintf(f.IO.ErrOut, "verified the new Auth Token; this token came from the environment: update %s before the next command\n", creds.SecretEnv)
	}
	return nil
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
