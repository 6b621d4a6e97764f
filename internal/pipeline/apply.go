package pipeline

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
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

// Apply makes action to the tokens: one token on its own endpoint, guarded
// by the ETag it was read with; many through the bulk endpoint. It returns
// one result per token, in order, each OK one saying done.
func (r *Run) Apply(ctx context.Context, action client.Action, toks []*client.Token, key string, concurrency int) []Result {
	var results []Result
	switch len(toks) {
	case 0:
	case 1:
		tok := toks[0]
		after, err := r.API.Act(ctx, action, tok.AccountSid, r.WriteOptions(action, client.WriteOptions{IfMatch: tok.ETag, IdempotencyKey: key}))
		if err != nil {
			return []Result{ErrResult(tok.AccountSid, tok.Name, staleHint(err, tok.AccountSid))}
		}
		if after == nil {
			after = tok
		}
		// The result is the token asked for; what the answer holds is
		// checked where it matters (a new secret is delivered only for it).
		res := okResult(after, "")
		res.AccountSid, res.Name = tok.AccountSid, tok.Name
		results = []Result{res}
	default:
		results = r.runBulk(ctx, action, toks, key, concurrency)
	}
	for i := range results {
		if results[i].Status == "OK" {
			results[i].Message = pastTense(action)
		}
	}
	return results
}

// runBulk applies action to the tokens through the bulk endpoint, at most
// contract.MaxBulk SIDs a request and concurrency requests at once, pacing
// on the rate-limit headers. It returns one result per token, in order; a
// request that fails as a whole fails each of its tokens.
func (r *Run) runBulk(ctx context.Context, action client.Action, toks []*client.Token, key string, concurrency int) []Result {
	var chunks [][]*client.Token
	for i := 0; i < len(toks); i += contract.MaxBulk {
		chunks = append(chunks, toks[i:min(i+contract.MaxBulk, len(toks))])
	}
	prog := NewProgress(r.IO, r.Msgs, action, len(toks))
	defer prog.Finish()
	pace := NewPacer(r.Clock, prog.Wait)
	if c, ok := r.API.(interface{ WaitBudget() *client.WaitBudget }); ok {
		// The command's waits, shared with its client's.
		pace.Budget = c.WaitBudget()
	}
	pace.Note(r.API.LastRateLimit())
	out := make([][]Result, len(chunks))
	forEach(len(chunks), concurrency, func(i int) {
		chunk := chunks[i]
		defer func() { prog.Add(len(chunk), Failures(out[i]), r.API.LastRateLimit()) }()
		sids := make([]string, len(chunk))
		names := map[string]string{}
		for j, t := range chunk {
			sids[j] = t.AccountSid
			names[t.AccountSid] = t.Name
		}
		// Every request has its own key, the same each time it is sent: a
		// request sent again after a 429 or a lost answer is made once.
		w := r.WriteOptions(action, client.WriteOptions{Paced: true, IdempotencyKey: client.NewIdempotencyKey()})
		if key != "" {
			// From the run's key and the SIDs it carries: the same request
			// in a re-run replays, another one is new.
			sum := sha256.Sum256([]byte(strings.Join(sids, ",")))
			w.IdempotencyKey = fmt.Sprintf("%s-%x", key, sum[:6])
		}
		got, err := r.sendBulk(ctx, pace, action, sids, w)
		if err != nil {
			out[i] = failAll(sids, names, err)
			return
		}
		out[i] = bulkResults(sids, names, got)
	})
	var results []Result
	for _, rs := range out {
		results = append(results, rs...)
	}
	return results
}

// MaxRefusals is how many 429s in a row one bulk request takes before it
// fails: with the pacer waiting for each refill, a server that keeps
// refusing is not counting the way its headers say.
const MaxRefusals = 5

// sendBulk sends one bulk request when the pacer has a unit of the budget
// for it. A 429 is the budget spent: the pacer learns until when, and the
// same request, with the same Idempotency-Key, goes again once it refills.
func (r *Run) sendBulk(ctx context.Context, pace *Pacer, action client.Action, sids []string, w client.WriteOptions) ([]client.BulkResult, error) {
	for refusals := 1; ; refusals++ {
		t, err := pace.Wait(ctx)
		if err != nil {
			return nil, err
		}
		var rl client.RateLimit
		w.RateLimit = &rl
		got, err := r.API.Bulk(ctx, action, sids, w)
		if ae, ok := cmdutil.AsAPIError(err); ok && ae.StatusCode == http.StatusTooManyRequests && refusals < MaxRefusals {
			pace.Refused(t, rl, ae.RetryAfter)
			continue
		}
		pace.Done(t, rl)
		return got, err
	}
}

// bulkResults turns a bulk answer into one result per SID asked for, in
// order. An answer naming a SID nobody asked for fails them all: nothing in
// it is trusted.
func bulkResults(sids []string, names map[string]string, got []client.BulkResult) []Result {
	bySID := map[string]client.BulkResult{}
	for _, r := range got {
		if _, asked := names[r.AccountSid]; !asked {
			return failAll(sids, names, badAnswerf("it names %q, which was not asked for", r.AccountSid))
		}
		bySID[r.AccountSid] = r
	}
	var out []Result
	for _, sid := range sids {
		r, ok := bySID[sid]
		switch {
		case !ok:
			out = append(out, ErrResult(sid, names[sid], fmt.Errorf("the server gave no result for this token")))
		case r.Status == "OK":
			out = append(out, Result{AccountSid: sid, Status: "OK", StatusCode: r.StatusCode, ApiToken: r.ApiToken, Name: names[sid]})
		default:
			err := &client.APIError{StatusCode: r.StatusCode, Code: r.Code, Scope: r.Scope, Message: r.Message, Errors: r.Errors}
			out = append(out, ErrResult(sid, names[sid], err))
		}
	}
	return out
}

func failAll(sids []string, names map[string]string, err error) []Result {
	rs := make([]Result, len(sids))
	for i, sid := range sids {
		rs[i] = ErrResult(sid, names[sid], err)
	}
	return rs
}

// forEach runs fn(0..n-1) with at most limit calls at once.
func forEach(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
