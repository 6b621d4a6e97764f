package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
)

// stateAction is disable, enable or delete: what it does to one token.
type stateAction struct {
	verb   string // "disable"
	done   string // "disabled"
	target string // the State afterwards; "" for delete
	bulk   client.BulkAction
	call   func(ctx context.Context, c *client.Client, sid string, w client.WriteOptions) (*client.Token, error)
}

var (
	disableAction = stateAction{verb: "disable", done: "disabled", target: "DISABLED", bulk: client.BulkDisable,
		call: func(ctx context.Context, c *client.Client, sid string, w client.WriteOptions) (*client.Token, error) {
			return c.DisableToken(ctx, sid, w)
		}}
	enableAction = stateAction{verb: "enable", done: "enabled", target: "ENABLED", bulk: client.BulkEnable,
		call: func(ctx context.Context, c *client.Client, sid string, w client.WriteOptions) (*client.Token, error) {
			return c.EnableToken(ctx, sid, w)
		}}
	deleteAction = stateAction{verb: "delete", done: "deleted", bulk: client.BulkDelete,
		call: func(ctx context.Context, c *client.Client, sid string, w client.WriteOptions) (*client.Token, error) {
			return nil, c.DeleteToken(ctx, sid, w)
		}}
)

func newTokensStateCmd(f *Factory, a stateAction, short string) *cobra.Command {
	b := &bulkFlags{}
	cmd := &cobra.Command{
		Use:   a.verb + " SID...",
		Short: short,
		Example: fmt.Sprintf(`  impactctl tokens %[1]s "$SID" --yes

  # Tokens created over 180 days ago and not used since: look first, then act.
  impactctl tokens %[1]s --all --unused-for 180d --dry-run
  impactctl tokens %[1]s --all --unused-for 180d --yes

  impactctl tokens list --name temp --jq '.[].AccountSid' | impactctl tokens %[1]s --stdin --dry-run`, a.verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			return tokensStateRun(cmd.Context(), f, a, args, b)
		},
	}
	b.register(cmd)
	return cmd
}

func tokensStateRun(ctx context.Context, f *Factory, a stateAction, args []string, b *bulkFlags) error {
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	toks, failed, err := f.selectTokens(ctx, c, args, b)
	if a.target == "" && b.IdempotencyKey != "" {
		// A keyed job run again: a token its first run deleted is done,
		// not missing.
		if ae, ok := asAPIError(err); ok && ae.StatusCode == 404 && len(args) == 1 {
			failed, err = []result{errResult(args[0], "", err)}, nil
		}
		for i, r := range failed {
			if r.StatusCode == 404 {
				failed[i] = result{AccountSid: r.AccountSid, Status: "OK", StatusCode: 404, Message: "not found: already deleted"}
			}
		}
	}
	if err != nil {
		return err
	}
	creds, err := f.Credentials(ctx)
	if err != nil {
		return err
	}
	var p plan
	var todo []*client.Token
	for _, tok := range toks {
		ch := change{AccountSid: tok.AccountSid, Name: tok.Name, Action: a.verb}
		if a.target != "" {
			if tok.State == a.target {
				p.Unchanged = append(p.Unchanged, ch)
				continue
			}
			ch.Fields = []fieldChange{{"State", tok.State, a.target}}
		}
		if a.verb != "enable" && f.opts.Brand == "" && tok.AccountSid == creds.AccountSid {
			ch.Warning = fmt.Sprintf("token %s is the one in use: once %s, this and every later command with it is refused", tok.AccountSid, a.done)
		}
		p.Changes = append(p.Changes, ch)
		todo = append(todo, tok)
	}
	p.Failed = planFailures(failed)
	switch {
	case len(toks) == 0 && len(failed) == 0:
		return f.nothingNamed(b.All)
	case len(p.Changes) == 0 && len(p.Unchanged) > 0 && !b.DryRun:
		fmt.Fprintf(f.IO.ErrOut, "nothing to change: %s already %s\n", pluralTokens(p.Unchanged), a.done)
	case len(p.Changes) > 0 || b.DryRun:
		question := fmt.Sprintf("%s %s?", strings.ToUpper(a.verb[:1])+a.verb[1:], plural(len(p.Changes), "token"))
		ok, err := f.confirm(ctx, b.changeFlags, p, question)
		if !ok {
			return dryRunOutcome(err, failed, len(toks)+len(failed))
		}
	}
	var done []result
	switch len(todo) {
	case 0:
	case 1:
		// One token: its own endpoint, guarded by the ETag just read.
		tok := todo[0]
		after, err := a.call(ctx, c, tok.AccountSid, client.WriteOptions{IfMatch: tok.ETag, IdempotencyKey: b.IdempotencyKey})
		if err != nil {
			done = []result{errResult(tok.AccountSid, tok.Name, staleHint(err, tok.AccountSid))}
		} else {
			if after == nil {
				after = tok
			}
			done = []result{okResult(after, a.done)}
		}
	default:
		done = f.runBulk(ctx, c, a.bulk, todo, b.IdempotencyKey, b.Concurrency)
	}
	for i := range done {
		if done[i].Status == "OK" {
			done[i].Message = a.done
		}
		if a.target == "" {
			done[i].ApiToken = nil
		}
	}
	// One result per token, in the order they were named; after an
	// interruption too, so what was done is on record.
	bySID := map[string]result{}
	for _, r := range done {
		bySID[r.AccountSid] = r
	}
	for _, tok := range toks {
		if tok.State == a.target {
			bySID[tok.AccountSid] = okResult(tok, "already "+a.done)
		}
	}
	results := make([]result, 0, len(toks)+len(failed))
	for _, tok := range toks {
		results = append(results, bySID[tok.AccountSid])
	}
	err = f.printResults(append(results, failed...))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func pluralTokens(cs []change) string {
	if len(cs) == 1 {
		return "token " + cs[0].AccountSid + " is"
	}
	return fmt.Sprintf("all %d tokens are", len(cs))
}
