package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
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
	// The list stops once every SID is found: pages are read one ahead only.
	for tok, err := range c.Tokens(ctx, client.TokenListOptions{ListOptions: client.ListOptions{MayStopEarly: true}}) {
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

// ListFlags are the list filters, shared by `tokens list` and the bulk
// commands' --all.
type ListFlags struct {
	State         string
	Name          string
	CreatedAfter  string
	CreatedBefore string
	UnusedFor     string
	NotResetFor   string
	ExpiringIn    string
	Limit         int
	PageSize      int
	// PageSizeSet reports whether --page-size was given.
	PageSizeSet func() bool
	// Given reports whether the flag name was Given.
	Given func(name string) bool
}

// textFilters are the list filters given as text: none may be given empty.
var textFilters = []string{"state", "name", "created-after", "created-before", "unused-for", "not-reset-for", "expiring-within"}

// Options turns the flags into the client's list Options, refusing bad
// values before any request.
func (l *ListFlags) Options(now time.Time) (client.TokenListOptions, error) {
	var o client.TokenListOptions
	// An empty filter (an unset variable: --name "$UNSET") would select every
	// token; it is refused rather than taken as no filter.
	values := map[string]string{"state": l.State, "name": l.Name, "created-after": l.CreatedAfter,
		"created-before": l.CreatedBefore, "unused-for": l.UnusedFor, "not-reset-for": l.NotResetFor,
		"expiring-within": l.ExpiringIn}
	for _, name := range textFilters {
		if l.Given != nil && l.Given(name) && values[name] == "" {
			return o, cmdutil.UsageErrorf("invalid --%s \"\": an empty filter would select every token; leave the flag out for no filter", name)
		}
	}
	switch strings.ToLower(l.State) {
	case "":
	case "enabled", "disabled":
		o.State = client.State(strings.ToUpper(l.State))
	default:
		return o, cmdutil.UsageErrorf("invalid --state %q: use enabled or disabled", l.State)
	}
	o.Name = l.Name
	var err error
	if l.CreatedAfter != "" {
		if o.CreatedAfter, err = cmdutil.ParsePastTime("--created-after", l.CreatedAfter, now); err != nil {
			return o, err
		}
	}
	if l.CreatedBefore != "" {
		if o.CreatedBefore, err = cmdutil.ParsePastTime("--created-before", l.CreatedBefore, now); err != nil {
			return o, err
		}
	}
	if l.UnusedFor != "" {
		age, err := cmdutil.ParseAge("--unused-for", l.UnusedFor)
		if err != nil {
			return o, err
		}
		// Unused for D: not used in the last D (never used counts) and
		// created more than D ago, so a token made today is never "unused
		// for 90 days".
		cutoff := now.Add(-age)
		o.LastUsedBefore = cutoff
		if o.CreatedBefore.IsZero() || cutoff.Before(o.CreatedBefore) {
			o.CreatedBefore = cutoff
		}
	}
	if l.NotResetFor != "" {
		age, err := cmdutil.ParseAge("--not-reset-for", l.NotResetFor)
		if err != nil {
			return o, err
		}
		o.ResetBefore = now.Add(-age)
	}
	if l.ExpiringIn != "" {
		age, err := cmdutil.ParseAge("--expiring-within", l.ExpiringIn)
		if err != nil {
			return o, err
		}
		o.ExpiresBefore = now.Add(age)
	}
	if l.Limit < 0 {
		return o, cmdutil.UsageErrorf("invalid --limit %d: must be 0 (all) or more", l.Limit)
	}
	if l.PageSizeSet() && (l.PageSize < 1 || l.PageSize > contract.MaxPageSize) {
		return o, cmdutil.UsageErrorf("invalid --page-size %d: must be 1 to %d", l.PageSize, contract.MaxPageSize)
	}
	o.Limit, o.PageSize = l.Limit, l.PageSize
	return o, nil
}
