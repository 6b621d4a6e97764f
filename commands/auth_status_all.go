package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/output"
)

// authStatusEntry is one line of `auth status --all`.
type authStatusEntry struct {
	authStatus
	// Active marks the credentials commands use now.
	Active bool `json:"Active"`

	err error
}

// authStatusAllRun checks the environment's credentials, when set, and
// every stored profile, each against its own URL, all at once. It exits 0
// when all of them work, else with the first failure's code.
func authStatusAllRun(ctx context.Context, env cmdEnv) error {
	if env.Settings.localMode() {
		return cmdutil.UsageErrorf("--all checks the stored profiles; --local has none: drop one of them")
	}
	if env.Settings.profileFlag() != "" {
		return cmdutil.UsageErrorf("--all checks every profile: drop --profile")
	}
	var entries []*authStatusEntry
	var list []*config.Credentials
	envCreds := hasEnvCredentials(env.Getenv)
	if envCreds {
		u, from := env.Settings.apiURLSetting()
		creds, err := config.ResolveCredentials(config.CredentialSettings{Getenv: env.Getenv, APIURL: u, URLFrom: from, LoadConfig: env.Config, Warn: env.IO.ErrOut, Keyring: config.KeyringFor(env.Getenv)})
		if err != nil {
			return err
		}
		list = append(list, creds)
		entries = append(entries, &authStatusEntry{authStatus: authStatus{Source: creds.Source}, Active: true})
	}
	cfg, err := env.Config()
	if err != nil {
		return err
	}
	active := ""
	if !envCreds {
		active = env.Settings.profileName()
	}
	noEnv := func(string) string { return "" }
	for _, name := range cfg.ProfileNames() {
		// Each profile with its own URL: nothing is sent elsewhere.
		creds, err := config.ResolveCredentials(config.CredentialSettings{Getenv: noEnv, Profile: name, LoadConfig: env.Config, Warn: env.IO.ErrOut, Keyring: config.KeyringFor(env.Getenv)})
		e := &authStatusEntry{authStatus: authStatus{Source: fmt.Sprintf("profile %q in %s", name, cfg.Path()), Profile: name}, Active: name == active}
		if err != nil {
			e.Error, e.err = err.Error(), err
			creds = nil
		}
		list = append(list, creds)
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitAuth, Err: fmt.Errorf(
			"no credentials: %s holds no profile and IMPACTCTL_ACCOUNT_SID is not set; run `impactctl auth login`, or try --local", cfg.Path())}
	}

	var wg sync.WaitGroup
	for i, creds := range list {
		if creds == nil {
			continue
		}
		e := entries[i]
		e.ApiUrl, e.AccountSid = creds.APIURL, creds.AccountSid
		wg.Go(func() { checkCredentials(ctx, env.ClientFor, creds, e) })
	}
	wg.Wait()

	if err := printAuthStatusAll(env, entries); err != nil {
		return err
	}
	for _, e := range entries {
		if e.err != nil {
			return &cmdutil.ExitError{Code: cmdutil.ExitCode(e.err), Err: fmt.Errorf("%s: %w", e.Source, e.err)}
		}
	}
	return nil
}

// checkCredentials asks the server about the credentials' own token, through
// a client clientFor builds for them.
func checkCredentials(ctx context.Context, clientFor func(creds *config.Credentials, secret string) (*client.Client, error), creds *config.Credentials, e *authStatusEntry) {
	c, err := clientFor(creds, creds.AuthToken)
	if err == nil {
		var cur *client.CurrentToken
		if cur, err = c.Current(ctx); err == nil {
			e.Working = true
			e.Name, e.State, e.Scopes = cur.Name, cur.State, cur.Scopes
			rl := cur.RateLimit
			e.RateLimit = &rl
			return
		}
	}
	e.Error, e.err = err.Error(), err
}

func printAuthStatusAll(env cmdEnv, entries []*authStatusEntry) error {
	p := env.Printer
	if !p.Table() {
		lw := p.List()
		for _, e := range entries {
			if err := lw.Add(e); err != nil {
				return err
			}
		}
		return lw.Close()
	}
	t := output.NewTable(env.IO.Out, "PROFILE", "ACTIVE", "ACCOUNT SID", "API URL", "TOKEN", "STATUS")
	for _, e := range entries {
		name := e.Profile
		if name == "" {
			name = "(environment)"
		}
		active := ""
		if e.Active {
			active = "*"
		}
		t.Row(name, active, e.AccountSid, e.ApiUrl, e.Name, statusWord(e))
	}
	return t.Render()
}

// statusWord sums up an entry for the table: "working", "refused (401)",
// "disabled (403)", "unreachable", ….
func statusWord(e *authStatusEntry) string {
	if e.Working {
		return "working"
	}
	var ae *client.APIError
	var ne *client.NetworkError
	switch {
	case errors.As(e.err, &ae) && ae.StatusCode == http.StatusUnauthorized:
		return "refused (401)"
	case errors.As(e.err, &ae) && ae.StatusCode == http.StatusForbidden:
		return "forbidden (403)"
	case errors.As(e.err, &ae):
		return fmt.Sprintf("failed (%d)", ae.StatusCode)
	case errors.As(e.err, &ne):
		return "unreachable"
	}
	msg := e.Error
	if i := strings.Index(msg, ":"); i > 0 {
		msg = msg[:i]
	}
	return "not usable: " + msg
}
