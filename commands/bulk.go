package commands

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/output"
)

// Selection is how a many-token command names its tokens: SIDs or token
// names as arguments, --stdin (SIDs, one a line), or --all with list filters.
type Selection struct {
	// SIDs are the arguments: Account SIDs or token names.
	SIDs []string
	// SIDsOnly, when set, names the flag that refuses token names among the
	// arguments (--secret-dir: its files are named after the SIDs).
	SIDsOnly    string
	Stdin       bool
	All         bool
	Filters     ListFlags
	Concurrency int
	// Filtered reports whether any list filter was given.
	Filtered func() bool
}

// Result is the outcome for one token, the bulk endpoints' shape.
type Result struct {
	AccountSid string        `json:"AccountSid"`
	Status     string        `json:"Status"`
	StatusCode int           `json:"StatusCode,omitempty"`
	Message    string        `json:"Message,omitempty"`
	ApiToken   *client.Token `json:"ApiToken,omitempty"`

	Name string
	Err  error
}

func okResult(tok *client.Token, msg string) Result {
	return Result{AccountSid: tok.AccountSid, Status: "OK", StatusCode: 200, Message: msg, ApiToken: tok, Name: tok.Name}
}

func ErrResult(sid, name string, err error) Result {
	r := Result{AccountSid: sid, Status: "ERROR", Message: err.Error(), Name: name, Err: err}
	if ae, ok := cmdutil.AsAPIError(err); ok {
		r.StatusCode = ae.StatusCode
	}
	return r
}

// SelectTokens gathers the tokens to act on: SIDs from arguments or stdin
// (every one checked before any request), or --all with list filters. It
// reads each named token, so the plan can show its state; tokens that
// cannot be read become failed results.
func (r *Run) SelectTokens(ctx context.Context, b Selection) ([]*client.Token, []Result, error) {
	args := b.SIDs
	var sids []string
	filtered := b.Filtered != nil && b.Filtered()
	switch {
	case b.All && (len(args) > 0 || b.Stdin):
		return nil, nil, cmdutil.UsageErrorf("--all selects tokens by filters: drop the SIDs and --stdin")
	case filtered && !b.All:
		return nil, nil, cmdutil.UsageErrorf("list filters select tokens only with --all")
	case b.Stdin && len(args) > 0:
		return nil, nil, cmdutil.UsageErrorf("give SIDs as arguments or with --stdin, not both")
	case b.Stdin:
		var err error
		if sids, err = r.readStdinSIDs(ctx); err != nil {
			return nil, nil, err
		}
	case !b.All && len(args) == 0:
		return nil, nil, cmdutil.UsageErrorf("name the tokens: SIDs as arguments, --stdin, or --all with filters")
	}
	if b.Concurrency < 1 || b.Concurrency > 32 {
		return nil, nil, cmdutil.UsageErrorf("invalid --concurrency %d: must be 1 to 32", b.Concurrency)
	}
	if b.All {
		toks, err := r.selectAll(ctx, b)
		return toks, nil, err
	}
	unique, err := r.resolveArgs(ctx, b, sids)
	if err != nil {
		return nil, nil, err
	}
	return r.readSelected(ctx, unique)
}

// readStdinSIDs reads --stdin's Account SIDs, one a line; blank lines and
// lines starting with # are skipped.
func (r *Run) readStdinSIDs(ctx context.Context) ([]string, error) {
	var sids []string
	for {
		line, err := r.IO.ReadLine(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading SIDs from stdin: %w", err)
		}
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			if !contract.ValidSID(line) {
				return nil, refuseName(line, "--stdin", "the list is read as Account SIDs, one a line")
			}
			sids = append(sids, line)
		}
	}
	return sids, nil
}

// selectAll reads the tokens --all's filters select, refusing a list that
// names anything the filters do not select.
func (r *Run) selectAll(ctx context.Context, b Selection) ([]*client.Token, error) {
	c := r.API
	now, err := r.Now()
	if err != nil {
		return nil, err
	}
	lo, err := b.Filters.Options(now)
	if err != nil {
		return nil, err
	}
	var toks []*client.Token
	for tok, err := range c.Tokens(ctx, lo) {
		if err != nil {
			return nil, err
		}
		if !contract.ValidSID(tok.AccountSid) {
			// These SIDs become requests and file names.
			return nil, refuseSelectionf("its list names %q, which is not an Account SID", tok.AccountSid)
		}
		if field := lo.Excludes(tok); field != "" {
			// A server that dropped a filter (in a page's
			// @nextpageuri, say) would have the change reach tokens
			// the user did not select.
			return nil, refuseSelectionf("its list holds %s, which the filters do not select (by its %s)", tok.AccountSid, field)
		}
		toks = append(toks, tok)
	}
	if err := BudgetWithinReach(c.LastRateLimit()); err != nil {
		return nil, err
	}
	return toks, nil
}

// resolveArgs turns the SIDs and names asked for (after sids, read from
// stdin) into SIDs, each once, in the order given.
func (r *Run) resolveArgs(ctx context.Context, b Selection, sids []string) ([]string, error) {
	c, args := r.API, b.SIDs
	// Names are refused where SIDs only are taken before any request; then
	// each name costs one list request.
	for _, arg := range args {
		if !contract.ValidSID(arg) && b.SIDsOnly != "" {
			return nil, refuseName(arg, b.SIDsOnly, "its files are named after the SIDs asked for")
		}
		if err := CheckTokenArg(arg); err != nil {
			return nil, err
		}
	}
	for _, arg := range args {
		sid, err := ResolveSID(ctx, c, arg)
		if err != nil {
			return nil, err
		}
		sids = append(sids, sid)
	}
	seen := map[string]bool{}
	var unique []string
	for _, sid := range sids {
		if !seen[sid] {
			seen[sid] = true
			unique = append(unique, sid)
		}
	}
	return unique, nil
}

// readSelected reads the tokens named by SID: one on its own, with the
// ETag its change will carry, many from list pages.
func (r *Run) readSelected(ctx context.Context, unique []string) ([]*client.Token, []Result, error) {
	c := r.API
	if len(unique) == 0 {
		// An empty list (a filter upstream that matched nothing) is a
		// change to nothing.
		return nil, nil, nil
	}
	if len(unique) == 1 {
		// One token: read it, with the ETag its change will carry.
		tok, err := c.Token(ctx, unique[0])
		if err != nil {
			return nil, nil, BrandHint(ctx, c, unique[0], err)
		}
		if tok.AccountSid != unique[0] {
			return nil, nil, refuseSelectionf("it names token %q where %s was asked for", tok.AccountSid, unique[0])
		}
		return []*client.Token{tok}, nil, nil
	}
	// Many tokens: read them from list pages (a request per 1,000 tokens,
	// not one per SID), so collecting them spends little of the rate budget.
	want := map[string]*client.Token{}
	for _, sid := range unique {
		want[sid] = nil
	}
	left := len(unique)
	for tok, err := range c.Tokens(ctx, client.TokenListOptions{}) {
		if err != nil {
			return nil, nil, err
		}
		if t, named := want[tok.AccountSid]; named && t == nil {
			want[tok.AccountSid] = tok
			if left--; left == 0 {
				break
			}
		}
	}
	// A budget that refills only hours from now is refused before the
	// question: the change could not be made anyway.
	if err := BudgetWithinReach(c.LastRateLimit()); err != nil {
		return nil, nil, err
	}
	var found []*client.Token
	var failed []Result
	for _, sid := range unique {
		if tok := want[sid]; tok != nil {
			found = append(found, tok)
			continue
		}
		failed = append(failed, ErrResult(sid, "", &client.APIError{StatusCode: 404, Message: "no such token in this account"}))
	}
	return found, failed, nil
}

// refuseSelectionf refuses an answer read while selecting the tokens to
// change: exit 9, before anything changed.
func refuseSelectionf(format string, a ...any) error {
	return &cmdutil.ExitError{Code: cmdutil.ExitUnavailable, Kind: "invalid_answer", Err: fmt.Errorf("refusing the server's answer: "+format+"; nothing was changed", a...)}
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

// Failures counts the failed results.
func Failures(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Status != "OK" {
			n++
		}
	}
	return n
}

func failAll(sids []string, names map[string]string, err error) []Result {
	rs := make([]Result, len(sids))
	for i, sid := range sids {
		rs[i] = ErrResult(sid, names[sid], err)
	}
	return rs
}

// pastTense is what a token is once action is done: "disabled", "reset".
func pastTense(action client.Action) string {
	switch action {
	case client.ActionReset:
		return "reset"
	case client.ActionDelete:
		return "deleted"
	}
	return strings.ToLower(string(action)) + "d"
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

// PrintResults writes one result per token and returns the error the run
// ends with: nil when all succeeded, the single failure's own error when
// there was one token, else exit 10.
func (r *Run) PrintResults(results []Result) error {
	return r.printResultsTo(r.IO.Out, results)
}

// printResultsTo is printResults writing a table to w (stdout, or stderr
// when stdout carries the new secrets); JSON always goes to stdout.
func (r *Run) printResultsTo(w io.Writer, results []Result) error {
	failed := 0
	var last error
	for _, res := range results {
		if res.Status != "OK" {
			failed++
			last = res.Err
		}
	}
	if len(results) == 1 && failed == 1 {
		return last
	}
	p := r.Printer
	if p.Table() {
		t := output.NewTable(w, "ACCOUNT SID", "NAME", "RESULT")
		for _, res := range results {
			msg := res.Message
			if res.Status != "OK" {
				msg = "error: " + msg
			}
			t.Row(res.AccountSid, res.Name, msg)
		}
		if err := t.Render(); err != nil {
			return err
		}
	} else {
		lw := p.List()
		for _, res := range results {
			if err := lw.Add(res); err != nil {
				return err
			}
		}
		if err := lw.Close(); err != nil {
			return err
		}
	}
	if failed > 0 {
		msg := fmt.Sprintf("%d of %s failed", failed, cmdutil.Plural(len(results), "token"))
		if failed < len(results) {
			msg += "; the others finished"
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitPartial, Err: errors.New(msg)}
	}
	return nil
}
