package commands

import (
	"context"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// begin starts a change: it resolves the client and the credentials in use
// and returns the pipeline's run, and the client for the calls only this
// command makes.
func (e cmdEnv) begin(ctx context.Context, flags pipeline.ChangeFlags) (*pipeline.Run, *client.Client, error) {
	c, err := e.Client(ctx)
	if err != nil {
		return nil, nil, err
	}
	creds, err := e.Creds(ctx)
	if err != nil {
		return nil, nil, err
	}
	r := &pipeline.Run{
		IO: e.IO, Msgs: e.Msgs, Printer: e.Printer, Yes: e.Yes, ChangeFlags: flags, API: c, Now: e.Now,
		MaskSecrets: pipeline.InGitHubActions(e.Getenv),
		SecretInUse: creds.AuthToken,
		Clock:       pipeline.SystemClock{},
		ResetWord:   pipeline.ActionReset,
	}
	if e.Brand == "" {
		// A managed brand's token is never the one in use.
		r.InUse = creds.AccountSid
		r.Self = &pipeline.SelfRotation{Creds: creds, ClientFor: e.ClientFor, UpdateConfig: e.UpdateConfig, Keyring: config.KeyringFor(e.Getenv)}
	}
	return r, c, nil
}

// beginEdit starts a change to one token: it begins, resolves arg (an
// Account SID or a token name) and reads the token, with the ETag its change
// will carry.
func (e cmdEnv) beginEdit(ctx context.Context, flags pipeline.ChangeFlags, arg string) (*pipeline.Run, *client.Client, *client.Token, error) {
	r, c, err := e.begin(ctx, flags)
	if err != nil {
		return nil, nil, nil, err
	}
	tok, err := pipeline.ReadNamed(ctx, c, arg)
	if err != nil {
		return nil, nil, nil, err
	}
	return r, c, tok, nil
}
