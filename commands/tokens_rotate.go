package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// TokensRotateOptions are `tokens rotate`'s inputs.
type TokensRotateOptions struct {
	Env     cmdEnv
	Select  pipeline.Selection
	Secret  pipeline.SecretFlags
	Overlap string
	// ExpiresIn is --expires-in: the new expiry, set with the reset.
	ExpiresIn  string
	EndOverlap bool
	pipeline.ChangeFlags
}

func newTokensRotateCmd(f *Factory, runF func(*TokensRotateOptions) error) *cobra.Command {
	opts := &TokensRotateOptions{}
	cmd := &cobra.Command{
		Use:   "rotate SID... | --all [filters]",
		Short: "Rotate tokens without downtime: reset with an overlap, hand off, prove",
		Long: `Rotate tokens the way a CI job should: for each token, reset it keeping the
old Auth Token working for --overlap (default 1h; 0 for none), hand the new
one off (--secret-file for one token, --secret-dir, --secret-cmd), then prove
it: ApiTokens/Current with the new Auth Token answering anything but 401.
Whatever still holds the old Auth Token keeps working until the overlap ends,
so no job sees a refused request while the new one reaches it.

Tokens are named as SIDs or selected with --all and the list filters, such
as --not-reset-for 90d, --expiring-within 14d or --name TEXT. --expires-in D
gives each token a new expiry in the same step (an age in days or weeks is
counted to the following 00:00:00Z, in hours to the following whole hour,
so a re-run the same day sends the same request).

Before the first reset it prints the --idempotency-key it uses to stderr.
Running the same command again with that key within 24 hours resets nothing
twice: the server answers each reset as before, and the secrets are handed
off and proven again.

--end-overlap ends each token's overlap once its new Auth Token was handed
off and proven. A token whose hand-off or proof failed keeps its old Auth
Token until the overlap ends.

One result per token: -o json gives [{"AccountSid","Name","Rotated",
"PreviousAuthTokenExpiresAt","HandedOff","Verified","Status","Code",
"Message"}]. Exit 11 when any hand-off or proof failed (it wins over 10),
naming the tokens and the key that replays them; exit 10 when only resets
failed.`,
		Example: `  impactctl tokens rotate "$SID" --secret-file ci.secret --yes
  impactctl tokens rotate --all --not-reset-for 90d --secret-dir secrets/ --yes
  impactctl tokens rotate "$SID" --overlap 2h --expires-in 90d --yes --secret-cmd 'gh secret set IMPACT_AUTH_TOKEN'
  impactctl tokens rotate --all --expiring-within 14d --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env, opts.Select.SIDs = f.env(), args
			if runF != nil {
				return runF(opts)
			}
			return tokensRotateRun(cmd.Context(), opts)
		},
	}
	registerSelection(&opts.Select, cmd)
	registerChangeFlags(&opts.ChangeFlags, cmd)
	registerSecretFlags(&opts.Secret, cmd, true)
	cmd.Flags().StringVar(&opts.Overlap, "overlap", "1h", "keep the old Auth Token working for D beside the new one (0: refused at once)")
	cmd.Flags().StringVar(&opts.ExpiresIn, "expires-in", "", "give each token a new expiry this far ahead, such as 90d")
	cmd.Flags().BoolVar(&opts.EndOverlap, "end-overlap", false, "end each overlap once the new Auth Token was handed off and proven")
	return cmd
}

// rotation is one token's outcome.
type rotation struct {
	AccountSid                 string             `json:"AccountSid"`
	Name                       string             `json:"Name"`
	Rotated                    bool               `json:"Rotated"`
	PreviousAuthTokenExpiresAt *string            `json:"PreviousAuthTokenExpiresAt"`
	HandedOff                  bool               `json:"HandedOff"`
	Verified                   bool               `json:"Verified"`
	Status                     string             `json:"Status"`
	Code                       contract.ErrorCode `json:"Code,omitempty"`
	Message                    string             `json:"Message"`
}

func tokensRotateRun(ctx context.Context, opts *TokensRotateOptions) error {
	overlap, err := parseOverlap("--overlap", opts.Overlap)
	if err != nil {
		return err
	}
	if opts.EndOverlap && overlap == 0 {
		return cmdutil.UsageErrorf("--end-overlap ends an overlap: with --overlap 0 there is none")
	}
	var expiresIn time.Duration
	if opts.ExpiresIn != "" {
		if expiresIn, err = cmdutil.ParseAge("--expires-in", opts.ExpiresIn); err != nil {
			return err
		}
	}
	// A rotation hands its secrets off; it never prints them.
	if sf := opts.Secret; sf.Reveal || sf.File == "-" || (sf.File == "" && sf.Dir == "" && sf.Cmd == "" && !opts.DryRun) {
		return cmdutil.UsageErrorf("tokens rotate hands each new Auth Token off: give --secret-file PATH (one token), --secret-dir DIR or --secret-cmd CMD; nothing changed")
	}
	if opts.Secret.Dir != "" {
		opts.Select.SIDsOnly = "--secret-dir"
	}
	if !opts.DryRun {
		if err := opts.Secret.Check(opts.Env.IO); err != nil {
			return err
		}
		defer opts.Secret.Close()
	}
	r, _, err := opts.Env.begin(ctx, opts.ChangeFlags)
	if err != nil {
		return err
	}
	now, err := r.Now()
	if err != nil {
		return err
	}
	body := &client.ResetOptions{PreviousValidFor: int(overlap / time.Second)}
	if expiresIn > 0 {
		body.ExpiresAt = pipeline.WireTime(roundedExpiry(now, opts.ExpiresIn, expiresIn))
	}
	r.Reset, r.ResetWord = body, pipeline.ActionRotate
	creds, err := opts.Env.Creds(ctx)
	if err != nil {
		return err
	}
	return runRotation(r, ctx, opts, creds)
}

// roundedExpiry is now+age, moved on to the next 00:00:00Z for an age in days
// or weeks, or the next whole hour for one in hours: a re-run the same day
// (or hour) asks for the very same expiry, so its keyed resets replay.
func roundedExpiry(now time.Time, flag string, age time.Duration) time.Time {
	at := now.UTC().Add(age)
	unit := time.Hour
	if !strings.HasSuffix(strings.TrimSpace(flag), "h") {
		unit = 24 * time.Hour
	}
	if t := at.Truncate(unit); !t.Equal(at) {
		return t.Add(unit)
	}
	return at
}

// runRotation runs the rotation: select, plan, confirm, reset (the bulk pipeline),
// then for each token hand off, prove and, with --end-overlap, end the
// overlap; one result per token.
func runRotation(r *pipeline.Run, ctx context.Context, opts *TokensRotateOptions, creds *config.Credentials) error {
	s, sel := &opts.Secret, opts.Select
	toks, failed, err := r.SelectTokens(ctx, sel)
	if err != nil {
		return err
	}
	if ok, err := planRotation(r, ctx, s, sel, toks, failed); !ok {
		return err
	}
	key := r.IdempotencyKey
	if key == "" {
		key = client.NewIdempotencyKey()
	}
	// Said before the first reset: should the run be cut short, the key
	// finishes it without resetting any token twice.
	iostreams.Infof(r.IO.ErrOut, "rotating with --idempotency-key %s (run the same command again with it to finish without resetting any token twice)", key)
	results := r.Apply(ctx, client.ActionReset, toks, key, sel.Concurrency)
	if err := pipeline.CheckResetAnswers(results); err != nil {
		return err
	}
	kind := creds.Kind
	if r.InUse == "" {
		kind = "brand" // under --brand, a managed brand's tokens
	}
	out := make([]rotation, 0, len(results)+len(failed))
	var self, selfPath string
	for _, res := range results {
		rot := rotation{AccountSid: res.AccountSid, Name: res.Name, Status: "OK"}
		if res.Status != "OK" {
			out = append(out, failedRotation(rot, res.Err))
			continue
		}
		rot, path := rotateOne(r, ctx, opts, creds, res, rot, key, kind)
		if rot.HandedOff && rot.Verified && r.IsInUse(res.AccountSid) {
			self, selfPath = res.ApiToken.AuthToken, path
		}
		out = append(out, rot)
	}
	for _, res := range failed {
		out = append(out, failedRotation(rotation{AccountSid: res.AccountSid, Name: res.Name}, res.Err))
	}
	err = printRotations(r, out)
	if self != "" && r.Self != nil {
		if serr := r.Self.Finish(ctx, r.IO.ErrOut, self, selfPath); serr != nil && err == nil {
			err = serr
		}
	}
	return rotationOutcome(out, key, err)
}

// planRotation refuses a rotation the secret flags cannot take, plans it
// and asks; it reports whether to go on, and otherwise what to return.
func planRotation(r *pipeline.Run, ctx context.Context, s *pipeline.SecretFlags, sel pipeline.Selection, toks []*client.Token, failed []pipeline.Result) (bool, error) {
	if len(toks) > 1 && s.File != "" && s.File != "-" {
		return false, cmdutil.UsageErrorf("--secret-file holds one Auth Token: with several tokens use --secret-dir DIR")
	}
	if len(toks) == 0 && len(failed) == 0 {
		return false, r.NothingNamed(sel.All)
	}
	now, err := r.Now()
	if err != nil {
		return false, err
	}
	var p pipeline.Plan
	for _, tok := range toks {
		if r.IsInUse(tok.AccountSid) && !r.DryRun {
			if err := s.CheckSelf(tok.AccountSid); err != nil {
				return false, err
			}
		}
		p.Changes = append(p.Changes, pipeline.Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: pipeline.ActionRotate, Fields: r.ResetFields(tok, now)})
	}
	p.Failed = pipeline.PlanFailures(failed)
	if len(p.Changes) > 0 || r.DryRun {
		if ok, err := r.Confirm(ctx, p, fmt.Sprintf("Rotate %s?", cmdutil.Plural(len(p.Changes), "token"))); !ok {
			return false, pipeline.DryRunOutcome(err, failed, len(toks)+len(failed))
		}
	}
	return true, nil
}

// rotateOne completes the rotation of one token reset: it hands the new
// secret over, proves it, and ends the overlap when asked. It returns the
// rotation and the file the secret went to.
func rotateOne(r *pipeline.Run, ctx context.Context, opts *TokensRotateOptions, creds *config.Credentials, res pipeline.Result, rot rotation, key, kind string) (rotation, string) {
	s := &opts.Secret
	tok := res.ApiToken
	rot.Rotated, rot.PreviousAuthTokenExpiresAt = true, tok.PreviousAuthTokenExpiresAt
	var notes []string
	if tok.Replayed {
		notes = append(notes, "reset earlier with this --idempotency-key (replayed)")
	} else {
		notes = append(notes, "reset")
	}
	path, handErr, err := r.HandOver(ctx, res, s, key)
	switch {
	case err != nil:
		notes = append(notes, err.Error())
	case handErr != nil:
		notes = append(notes, "not handed to --secret-cmd ("+handErr.Error()+")")
	default:
		rot.HandedOff = true
		if path != "" {
			notes = append(notes, "new Auth Token in "+path)
		}
		if len(s.Argv) > 0 {
			notes = append(notes, "handed to --secret-cmd")
		}
	}
	if rot.HandedOff {
		verr := prove(r, ctx, opts.Env, creds, res.AccountSid, tok.AuthToken, kind)
		if verr != nil {
			notes = append(notes, "not proven: "+verr.Error())
		} else {
			rot.Verified = true
			notes = append(notes, "proven")
		}
	}
	if rot.Verified && opts.EndOverlap && rot.PreviousAuthTokenExpiresAt != nil {
		if err := endOverlap(r, ctx, opts.Env, creds, res.AccountSid, tok.AuthToken, kind); err != nil {
			rot.Status, rot.Message = "ERROR", strings.Join(append(notes, "overlap not ended: "+err.Error()), "; ")
			if ae, ok := cmdutil.AsAPIError(err); ok {
				rot.Code = ae.Code
			}
			return rot, path
		}
		rot.PreviousAuthTokenExpiresAt = nil
		notes = append(notes, "overlap ended")
	}
	if !rot.HandedOff || !rot.Verified {
		rot.Status = "ERROR"
	}
	rot.Message = strings.Join(notes, "; ")
	return rot, path
}

func failedRotation(rot rotation, err error) rotation {
	rot.Status = "ERROR"
	if err != nil {
		rot.Message = err.Error()
	}
	if ae, ok := cmdutil.AsAPIError(err); ok {
		rot.Code = ae.Code
	}
	return rot
}

// prove asks ApiTokens/Current with the new secret: anything but 401 proves
// the secret matched (a 403 or 429 too). A network failure proves nothing
// and is tried again, a few times.
func prove(r *pipeline.Run, ctx context.Context, env cmdEnv, creds *config.Credentials, sid, secret, kind string) error {
	c, err := env.TokenClient(creds, sid, secret, kind)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		_, err = c.Current(ctx)
		if ae, ok := cmdutil.AsAPIError(err); err == nil || ok && ae.StatusCode != http.StatusUnauthorized {
			return nil
		} else if ok {
			return fmt.Errorf("the new Auth Token was refused (401)")
		}
		if attempt == 2 || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
}

// endOverlap ends sid's overlap. The token in use asks with its new secret:
// its previous one, which these credentials hold, may not end its own overlap.
func endOverlap(r *pipeline.Run, ctx context.Context, env cmdEnv, creds *config.Credentials, sid, secret, kind string) error {
	if !r.IsInUse(sid) {
		return r.API.EndOverlap(ctx, sid, client.WriteOptions{})
	}
	c, err := env.TokenClient(creds, sid, secret, kind)
	if err != nil {
		return err
	}
	return c.EndOverlap(ctx, sid, client.WriteOptions{})
}

// printRotations writes one row or object per token.
func printRotations(r *pipeline.Run, out []rotation) error {
	p := r.Printer
	if !p.Table() {
		lw := p.List()
		for _, rot := range out {
			if err := lw.Add(rot); err != nil {
				return err
			}
		}
		return lw.Close()
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	t := output.NewTable(r.IO.Out, "ACCOUNT SID", "NAME", "ROTATED", "HANDED OFF", "VERIFIED", "RESULT")
	for _, rot := range out {
		msg := rot.Message
		if rot.Status != "OK" {
			msg = "error: " + msg
		}
		t.Row(rot.AccountSid, rot.Name, yes(rot.Rotated), yes(rot.HandedOff), yes(rot.Verified), msg)
	}
	return t.Render()
}

// rotationOutcome is the exit of a rotation: 11 when a token was reset but
// its new secret was not handed off or not proven (it names them and the
// key that replays them), else 10 when a reset failed, else printErr.
func rotationOutcome(out []rotation, key string, printErr error) error {
	var unproven, failedResets []string
	for _, rot := range out {
		switch {
		case rot.Rotated && (!rot.HandedOff || !rot.Verified):
			unproven = append(unproven, rot.AccountSid)
		case rot.Status != "OK":
			failedResets = append(failedResets, rot.AccountSid)
		}
	}
	if len(unproven) > 0 {
		msg := fmt.Sprintf("%s rotated, but the new Auth Token of %s was not handed off or not proven: each keeps its old Auth Token until its overlap ends; run the same command again with --idempotency-key %s within 24 hours to hand them off and prove them again (nothing is reset twice)",
			cmdutil.Plural(len(unproven), "token"), strings.Join(unproven, ", "), key)
		if len(failedResets) > 0 {
			msg += fmt.Sprintf("; also, %s could not be reset: %s", cmdutil.Plural(len(failedResets), "token"), strings.Join(failedResets, ", "))
		}
		if printErr != nil {
			msg += "; also: " + printErr.Error()
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitSecretCmd, Err: errors.New(msg)}
	}
	if len(failedResets) > 0 {
		msg := fmt.Sprintf("%d of %s could not be reset: %s", len(failedResets), cmdutil.Plural(len(out), "token"), strings.Join(failedResets, ", "))
		if len(failedResets) < len(out) {
			msg += "; the others were rotated"
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitPartial, Err: errors.New(msg)}
	}
	return printErr
}
