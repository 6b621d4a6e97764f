package pipeline

import (
	"context"
	"iter"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// TokenAPI is every call a changing command makes to change tokens: the
// reads the pipeline selects with, the actions (one token or in bulk), and
// the writes of create, duplicate, edit, scopes and developer e-mails. The
// real *client.Client satisfies it, and so does the pipeline tests' fake,
// so every change can run through either.
type TokenAPI interface {
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

// Run is one run of the change pipeline: select the tokens, plan,
// confirm, apply (one token on its own endpoint with its ETag, or many in
// bulk), deliver new secrets, report, and choose the exit code. Every input
// is explicit, so a test builds one without a Factory.
type Run struct {
	IO      *iostreams.IOStreams
	Msgs    *iostreams.Messages
	Printer *output.Printer
	// Yes is --yes: proceed without asking.
	Yes bool
	ChangeFlags
	// InUse is the SID of the token the command runs with; "" under
	// --brand, where the tokens changed are a managed brand's.
	InUse string
	// Self completes a reset of the token in use; nil under --brand.
	Self *SelfRotation
	API  TokenAPI
	// Now is the clock list filters count from.
	Now func() (time.Time, error)
	// MaskSecrets is set under GitHub Actions: a secret printed to stdout
	// is masked in the job's log first.
	MaskSecrets bool
	// SecretInUse is the Auth Token the command runs with: no variable
	// holding it reaches --secret-cmd.
	SecretInUse string
	Clock       clock
	// Reset is the body of every reset this run makes: an overlap and a new
	// expiry; nil sends none (every earlier secret refused at once).
	Reset *client.ResetOptions
	// ResetWord names a reset in plans: "reset", or "rotate".
	ResetWord planAction
}

// WriteOptions are the options of one change by action: a reset carries the
// run's reset body.
func (r *Run) WriteOptions(action client.Action, w client.WriteOptions) client.WriteOptions {
	if action == client.ActionReset {
		w.Reset = r.Reset
	}
	return w
}

// IsInUse reports whether sid is the token the command runs with: the one
// place that rule lives.
func (r *Run) IsInUse(sid string) bool { return r.InUse != "" && sid == r.InUse }

// Edit is a change to one token the command has read: its plan and how it
// is made.
type Edit struct {
	Tok *client.Token
	// Change is the before → after; with no field, addition or removal
	// there is nothing to change, and Unchanged says what.
	Change    Change
	Unchanged string
	Question  string
	// Apply makes the change, guarded by the ETag the token was read with.
	Apply func(ctx context.Context, w client.WriteOptions) (*client.Token, error)
	// Report says what changed (to stderr) and the rows a table shows.
	Report func(updated *client.Token) (string, [][2]string)
}

// ChangeOne runs an edit through the pipeline: nothing to change is exit 0
// with no question; else it confirms, applies with the ETag, and prints the
// token as it now is.
func (r *Run) ChangeOne(ctx context.Context, e Edit) error {
	ch := e.Change
	if len(ch.Fields) == 0 && len(ch.Added) == 0 && len(ch.Removed) == 0 {
		return r.nothingToChange(e.Unchanged, e.Tok)
	}
	ok, err := r.Confirm(ctx, Plan{Changes: []Change{ch}}, e.Question)
	if !ok {
		return err
	}
	updated, err := e.Apply(ctx, client.WriteOptions{IfMatch: e.Tok.ETag})
	if err != nil {
		return staleHint(err, e.Tok.AccountSid)
	}
	line, rows := e.Report(updated)
	iostreams.Infof(r.IO.ErrOut, "%s", line)
	if !r.Printer.Table() {
		return r.Printer.Object(updated)
	}
	return output.KeyValues(r.IO.Out, rows)
}

// ReadToken resolves arg (an Account SID or a token name), then reads the
// token, with its ETag.
func ReadToken(ctx context.Context, newClient func(context.Context) (*client.Client, error), arg string) (*client.Client, *client.Token, error) {
	c, err := newClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	tok, err := ReadNamed(ctx, c, arg)
	if err != nil {
		return nil, nil, err
	}
	return c, tok, nil
}
