package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// ChangeStates disables, enables or deletes the selected tokens: a token
// already in the state asked for is left alone, and the token in use needs
// --yes. One result per token, in the order named.
func (r *Run) ChangeStates(ctx context.Context, action client.Action, sel Selection) error {
	toks, failed, err := r.SelectTokens(ctx, sel)
	if action == client.ActionDelete && r.IdempotencyKey != "" {
		failed, err = alreadyDeleted(sel, failed, err)
	}
	if err != nil {
		return err
	}
	verb, done := strings.ToLower(string(action)), pastTense(action)
	target, setsState := action.State()
	var p Plan
	var todo []*client.Token
	for _, tok := range toks {
		ch := Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: planAction(verb)}
		if setsState {
			if tok.State == target {
				p.Unchanged = append(p.Unchanged, ch)
				continue
			}
			ch.Fields = []FieldChange{{"State", string(tok.State), string(target)}}
		}
		if action != client.ActionEnable && r.IsInUse(tok.AccountSid) {
			ch.Warning = fmt.Sprintf("token %s is the one in use: once %s, this and every later command with it is refused", tok.AccountSid, done)
		}
		p.Changes = append(p.Changes, ch)
		todo = append(todo, tok)
	}
	p.Failed = PlanFailures(failed)
	switch {
	case len(toks) == 0 && len(failed) == 0:
		return r.NothingNamed(sel.All)
	case len(p.Changes) == 0 && len(p.Unchanged) > 0 && !r.DryRun:
		iostreams.Infof(r.IO.ErrOut, "nothing to change: %s already %s", pluralTokens(p.Unchanged), done)
	case len(p.Changes) > 0 || r.DryRun:
		question := fmt.Sprintf("%s %s?", strings.ToUpper(verb[:1])+verb[1:], cmdutil.Plural(len(p.Changes), "token"))
		if ok, err := r.Confirm(ctx, p, question); !ok {
			return DryRunOutcome(err, failed, len(toks)+len(failed))
		}
	}
	// One result per token, in the order they were named; after an
	// interruption too, so what was done is on record.
	bySID := map[string]Result{}
	for _, res := range r.Apply(ctx, action, todo, r.IdempotencyKey, sel.Concurrency) {
		if !setsState {
			res.ApiToken = nil
		}
		bySID[res.AccountSid] = res
	}
	results := make([]Result, 0, len(toks)+len(failed))
	for _, tok := range toks {
		res, ok := bySID[tok.AccountSid]
		if !ok {
			res = okResult(tok, "already "+done)
		}
		results = append(results, res)
	}
	err = r.PrintResults(append(results, failed...))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// alreadyDeleted counts, in a keyed delete run again, a token its first run
// deleted as done, not missing.
func alreadyDeleted(sel Selection, failed []Result, err error) ([]Result, error) {
	if ae, ok := cmdutil.AsAPIError(err); ok && ae.StatusCode == 404 && len(sel.SIDs) == 1 {
		failed, err = []Result{ErrResult(sel.SIDs[0], "", err)}, nil
	}
	for i, res := range failed {
		if res.StatusCode == 404 {
			failed[i] = Result{AccountSid: res.AccountSid, Status: "OK", StatusCode: 404, Message: "not found: already deleted"}
		}
	}
	return failed, err
}

func pluralTokens(cs []Change) string {
	if len(cs) == 1 {
		return "token " + cs[0].AccountSid + " is"
	}
	return fmt.Sprintf("all %d tokens are", len(cs))
}

// ResetTokens resets the selected tokens and delivers each new secret where
// s says. A keyed run whose own token was reset by an earlier run (its
// answer lost) replays that reset with the secret it replaced.
func (r *Run) ResetTokens(ctx context.Context, sel Selection, s *SecretFlags) error {
	toks, failed, err := r.SelectTokens(ctx, sel)
	if ae, ok := cmdutil.AsAPIError(err); ok && ae.StatusCode == 401 && r.IdempotencyKey != "" && len(sel.SIDs) == 1 && r.IsInUse(sel.SIDs[0]) {
		// The token in use may have reset itself in an earlier run whose
		// answer was lost: its old secret still replays that reset.
		if err := s.CheckSelf(r.InUse); err != nil {
			return err
		}
		return r.replaySelfReset(ctx, s, r.IdempotencyKey)
	}
	if err != nil {
		return err
	}
	s.one = len(sel.SIDs) == 1 && !sel.All && !sel.Stdin
	if len(toks) > 1 && s.File != "" && s.File != "-" {
		return cmdutil.UsageErrorf("--secret-file holds one Auth Token: with several tokens use --secret-dir DIR")
	}
	now, err := r.Now()
	if err != nil {
		return err
	}
	var p Plan
	for _, tok := range toks {
		if r.IsInUse(tok.AccountSid) && !r.DryRun {
			if err := s.CheckSelf(tok.AccountSid); err != nil {
				return err
			}
		}
		p.Changes = append(p.Changes, Change{AccountSid: tok.AccountSid, Name: tok.Name, Action: r.ResetWord,
			Fields: r.ResetFields(tok, now)})
	}
	p.Failed = PlanFailures(failed)
	if len(toks) == 0 && len(failed) == 0 {
		return r.NothingNamed(sel.All)
	}
	if len(p.Changes) > 0 || r.DryRun {
		if ok, err := r.Confirm(ctx, p, fmt.Sprintf("Reset %s?", cmdutil.Plural(len(p.Changes), "token"))); !ok {
			return DryRunOutcome(err, failed, len(toks)+len(failed))
		}
	}
	key := r.IdempotencyKey
	if key == "" {
		key = client.NewIdempotencyKey()
	}
	results := r.Apply(ctx, client.ActionReset, toks, key, sel.Concurrency)
	// Secrets the server already issued are saved even when the run was
	// cut short: a new secret is never lost.
	err = r.deliverResets(ctx, append(results, failed...), s, key)
	if ctx.Err() != nil {
		return fmt.Errorf("cut short: the resets that finished are saved and listed; run the same command again with --idempotency-key %s to finish without resetting any twice: %w", key, ctx.Err())
	}
	return err
}

// ResetFields are a reset's before → after: the secret, the previous secret
// (kept for the overlap, or refused at once, ending any overlap) and the
// expiry, in full times.
func (r *Run) ResetFields(tok *client.Token, now time.Time) []FieldChange {
	fields := []FieldChange{{"AuthToken", output.Hint(tok.AuthTokenHint), "(new)"}}
	before := "none"
	if tok.PreviousAuthTokenExpiresAt != nil {
		before = "works until " + *tok.PreviousAuthTokenExpiresAt
	}
	after := "none (refused at once)"
	if r.Reset != nil && r.Reset.PreviousValidFor > 0 {
		after = output.Hint(tok.AuthTokenHint) + " works until " + WireTime(now.Add(time.Duration(r.Reset.PreviousValidFor)*time.Second))
	}
	if before != "none" || after != "none (refused at once)" {
		fields = append(fields, FieldChange{"PreviousAuthToken", before, after})
	}
	if r.Reset != nil && r.Reset.ExpiresAt != "" && ExpiresDetail(tok.ExpiresAt) != r.Reset.ExpiresAt {
		fields = append(fields, FieldChange{"ExpiresAt", ExpiresDetail(tok.ExpiresAt), r.Reset.ExpiresAt})
	}
	return fields
}
