package commands

import (
	"context"
	"iter"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// tokenAPI is every call a changing command makes to change tokens: the
// reads the pipeline selects with, the actions (one token or in bulk), and
// the writes of create, duplicate, edit, scopes and developer e-mails. The
// real *client.Client satisfies it, and so does the pipeline tests' fake,
// so every change can run through either.
type tokenAPI interface {
	Token(ctx context.Context, sid string) (*client.Token, error)
	Tokens(ctx context.Context, o client.TokenListOptions) iter.Seq2[*client.Token, error]
	Act(ctx context.Context, a client.Action, sid string, wo client.WriteOptions) (*client.Token, error)
	Bulk(ctx context.Context, a client.Action, sids []string, wo client.WriteOptions) ([]client.BulkResult, error)
	EndOverlap(ctx context.Context, sid string, wo client.WriteOptions) error
	CreateToken(ctx context.Context, t client.TokenCreate, wo client.WriteOptions) (*client.Token, error)
	DuplicateToken(ctx context.Context, sid string, t client.TokenCreate, wo client.WriteOptions) (*client.Token, error)
	UpdateToken(ctx context.Context, sid string, u client.TokenUpdate, wo client.WriteOptions) (*client.Token, error)
	SetScopes(ctx context.Context, sid string, scopes []string, wo client.WriteOptions) (*client.Token, error)
	ClearScopes(ctx context.Context, sid string, wo client.WriteOptions) (*client.Token, error)
	SetDeveloperEmails(ctx context.Context, sid string, emails []string, wo client.WriteOptions) (*client.Token, error)
	LastRateLimit() client.RateLimit
}

// changeRun is one run of the change pipeline: select the tokens, plan,
// confirm, apply (one token on its own endpoint with its ETag, or many in
// bulk), deliver new secrets, report, and choose the exit code. Every input
// is explicit, so a test builds one without a Factory.
type changeRun struct {
	IO      *iostreams.IOStreams
	Msgs    *iostreams.Messages
	Printer *output.Printer
	// Yes is --yes: proceed without asking.
	Yes bool
	changeFlags
	// InUse is the SID of the token the command runs with; "" under
	// --brand, where the tokens changed are a managed brand's.
	InUse string
	// Self completes a reset of the token in use; nil under --brand.
	Self *selfRotation
	API  tokenAPI
	// Now is the clock list filters count from.
	Now func() (time.Time, error)
	// MaskSecrets is set under GitHub Actions: a secret printed to stdout
	// is masked in the job's log first.
	MaskSecrets bool
	// SecretInUse is the Auth Token the command runs with: no variable
	// holding it reaches --secret-cmd.
	SecretInUse string
	clock       clock
	// Reset is the body of every reset this run makes: an overlap and a new
	// expiry; nil sends none (every earlier secret refused at once).
	Reset *client.ResetOptions
	// resetWord names a reset in plans: "reset", or "rotate".
	resetWord planAction
}

// writeOptions are the options of one change by action: a reset carries the
// run's reset body.
func (r *changeRun) writeOptions(action client.Action, w client.WriteOptions) client.WriteOptions {
	if action == client.ActionReset {
		w.Reset = r.Reset
	}
	return w
}

// inUse reports whether sid is the token the command runs with: the one
// place that rule lives.
func (r *changeRun) inUse(sid string) bool { return r.InUse != "" && sid == r.InUse }

// edit is a change to one token the command has read: its plan and how it
// is made.
type edit struct {
	tok *client.Token
	// change is the before → after; with no field, addition or removal
	// there is nothing to change, and unchanged says what.
	change    change
	unchanged string
	question  string
	// apply makes the change, guarded by the ETag the token was read with.
	apply func(ctx context.Context, w client.WriteOptions) (*client.Token, error)
	// report says what changed (to stderr) and the rows a table shows.
	report func(updated *client.Token) (string, [][2]string)
}

// changeOne runs an edit through the pipeline: nothing to change is exit 0
// with no question; else it confirms, applies with the ETag, and prints the
// token as it now is.
func (r *changeRun) changeOne(ctx context.Context, e edit) error {
	ch := e.change
	if len(ch.Fields) == 0 && len(ch.Added) == 0 && len(ch.Removed) == 0 {
		return r.nothingToChange(e.unchanged, e.tok)
	}
	ok, err := r.confirm(ctx, plan{Changes: []change{ch}}, e.question)
	if !ok {
		return err
	}
	updated, err := e.apply(ctx, client.WriteOptions{IfMatch: e.tok.ETag})
	if err != nil {
		return staleHint(err, e.tok.AccountSid)
	}
	line, rows := e.report(updated)
	iostreams.Infof(r.IO.ErrOut, "%s", line)
	if !r.Printer.Table() {
		return r.Printer.Object(updated)
	}
	return output.KeyValues(r.IO.Out, rows)
}

// readToken resolves arg (an Account SID or a token name), then reads the
// token, with its ETag.
func readToken(ctx context.Context, newClient func(context.Context) (*client.Client, error), arg string) (*client.Client, *client.Token, error) {
	c, err := newClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	tok, err := readNamed(ctx, c, arg)
	if err != nil {
		return nil, nil, err
	}
	return c, tok, nil
}
