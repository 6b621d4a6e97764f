package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/viper"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
	"github.com/impactcom/impactctl/server"
)

// globalOptions are the root command's persistent flags.
type globalOptions struct {
	Profile  string
	APIURL   string
	Local    bool
	Brand    string
	Output   string
	JQ       string
	Template string
	Yes      bool
	NoInput  bool
	Debug    bool
	Timeout  time.Duration
}

// Factory provides what commands need, built lazily: a command that never
// talks to the API never reads the config file. It holds no run state: that
// is the runState Main owns.
type Factory struct {
	IO      *iostreams.IOStreams
	Version string

	v      *viper.Viper
	opts   globalOptions
	getenv func(string) string
	// now is the clock relative filters are computed from.
	now func() time.Time

	credsOnce sync.Once
	creds     *config.Credentials
	credsErr  error

	clientOnce sync.Once
	apiClient  *client.Client
	clientErr  error

	confCache *config.Config
	settings  globalSettings
	run       *runState
}

// runState is what one run of impactctl accumulates: whether a command
// started, the cleanups to run, the printer and the stderr it writes
// through. Main creates it; the root command fills it in.
type runState struct {
	// ran is set once a command has started; errors before it are cobra's usage refusals.
	ran bool
	// completing is set when a shell asks for completions: one attempt
	// per request, no retries.
	completing bool
	// argsJSON reports whether the raw arguments ask for a JSON mode, for
	// errors cobra finds before the flags are parsed.
	argsJSON bool
	// budget is the context --timeout bounds, nil without --timeout: an
	// error is blamed on --timeout only when it ran out.
	budget   context.Context
	local    *server.Instance
	cleanups []func()
	printer  *output.Printer
	// msgs is stderr (IO.ErrOut writes through it).
	msgs *iostreams.Messages
	// opts are the parsed global flags, for jsonMode.
	opts *globalOptions
	// waitBudget bounds the rate-budget waits of the whole command, shared
	// by its clients and bulk pacing.
	waitBudget *client.WaitBudget
}

// newRunState starts the state of one run over args.
func newRunState(args []string) *runState {
	return &runState{completing: isCompletionRequest(args), argsJSON: jsonInArgs(args), waitBudget: client.NewWaitBudget(pipeline.MaxBudgetWait)}
}

// close runs the cleanups registered during the run.
func (s *runState) close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

// globalSettings resolves the global flags against the environment and
// the config file.
type globalSettings struct {
	opts   *globalOptions
	v      *viper.Viper
	getenv func(string) string
	config func() (*config.Config, error)
}

// newFactory builds the Factory of a run; run nil starts a fresh one.
func newFactory(io *iostreams.IOStreams, version string, run *runState) *Factory {
	v := viper.New()
	v.SetEnvPrefix("IMPACTCTL")
	for _, key := range []string{"profile", "api_url", "local", "no_prompt", "now"} {
		_ = v.BindEnv(key)
	}
	if run == nil {
		run = newRunState(nil)
	}
	f := &Factory{Version: buildInfo{Version: version}.completed().Version, v: v, getenv: os.Getenv, now: time.Now, run: run}
	run.opts = &f.opts
	f.settings = globalSettings{opts: &f.opts, v: v, getenv: f.getenv, config: f.Config}
	// Everything written to stderr goes through the messages, sanitised
	// and, in JSON modes, as JSON lines.
	streams := *io
	run.msgs = iostreams.NewMessages(io.ErrOut, run.jsonMode, io.IsStderrTTY() && f.getenv("NO_COLOR") == "")
	streams.ErrOut = run.msgs.Writer(iostreams.LevelInfo)
	f.IO = &streams
	return f
}

// Config loads the config file once.
func (f *Factory) Config() (*config.Config, error) {
	if f.confCache != nil {
		return f.confCache, nil
	}
	path, err := config.Path(f.getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(path, f.IO.ErrOut)
	if err != nil {
		return nil, err
	}
	f.confCache = cfg
	return cfg, nil
}

// UpdateConfig changes the config file under its lock (see config.Update).
func (f *Factory) UpdateConfig(change func(*config.Config) error) (*config.Config, error) {
	path, err := config.Path(f.getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Update(path, change)
	if err == nil {
		f.confCache = cfg
	}
	return cfg, err
}

// profileName is --profile, IMPACTCTL_PROFILE, the profile `auth switch`
// chose, else "default". The config file is read for it only when the
// environment holds no credentials, which would win anyway.
func (g globalSettings) profileName() string {
	if p := g.v.GetString("profile"); p != "" {
		return p
	}
	if !hasEnvCredentials(g.getenv) {
		if cfg, err := g.config(); err == nil && cfg.Current != "" {
			return cfg.Current
		}
	}
	return "default"
}

// apiURLSetting is --api-url, else IMPACTCTL_API_URL, and which named it.
func (g globalSettings) apiURLSetting() (string, string) {
	if g.opts.APIURL != "" {
		return g.opts.APIURL, "--api-url"
	}
	if u := g.v.GetString("api_url"); u != "" {
		return u, "IMPACTCTL_API_URL"
	}
	return "", ""
}

// profileFlag is --profile as given ("" without it).
func (g globalSettings) profileFlag() string { return g.opts.Profile }

// localMode is --local or IMPACTCTL_LOCAL.
func (g globalSettings) localMode() bool { return g.opts.Local || g.v.GetBool("local") }

// Credentials resolves the credentials once.
func (f *Factory) Credentials(ctx context.Context) (*config.Credentials, error) {
	f.credsOnce.Do(func() {
		g := f.settings
		if g.localMode() {
			f.creds, f.credsErr = f.run.startLocal(ctx, f.getenv)
			return
		}
		u, from := g.apiURLSetting()
		f.creds, f.credsErr = config.ResolveCredentials(config.CredentialSettings{
			Getenv:      f.getenv,
			Profile:     g.profileName(),
			ProfileFlag: f.opts.Profile != "",
			APIURL:      u,
			URLFrom:     from,
			LoadConfig:  f.Config,
			Warn:        f.IO.ErrOut,
			Keyring:     config.KeyringFor(f.getenv),
		})
	})
	return f.creds, f.credsErr
}

// Client returns the API client for the resolved credentials, scoped to
// --brand when given.
func (f *Factory) Client(ctx context.Context) (*client.Client, error) {
	f.clientOnce.Do(func() {
		creds, err := f.Credentials(ctx)
		if err != nil {
			f.clientErr = err
			return
		}
		f.apiClient, f.clientErr = f.newClient(creds.APIURL, creds.AccountSid, creds.AuthToken, creds.Kind, f.opts.Brand)
		if f.clientErr == nil && f.opts.Brand != "" && !isBrandID(f.opts.Brand) {
			f.apiClient, f.clientErr = resolveBrand(ctx, f.apiClient, f.opts.Brand)
		}
	})
	return f.apiClient, f.clientErr
}

// newClient builds a client for the token sid with secret, working under
// brand ("" its own root; --brand for the run's client), with the run's
// settings (debug, retries).
func (f *Factory) newClient(apiURL, sid, secret, kind, brand string) (*client.Client, error) {
	o := client.Options{
		BaseURL:      apiURL,
		AccountSid:   sid,
		AuthToken:    secret,
		Brand:        brand,
		UserAgent:    "impactctl/" + f.Version,
		MaxRetries:   3,
		RetryWait:    500 * time.Millisecond,
		RetryMaxWait: 30 * time.Second,
		Kind:         kind,
		WaitBudget:   f.run.waitBudget,
	}
	if f.run.local != nil {
		// --local: requests go to the embedded server's handler, in the process.
		o.Transport = f.run.local.Transport()
	}
	if kind == "" && !f.settings.localMode() {
		// Environment credentials carry no kind: remember it per URL and
		// SID, so only the first command spends a request finding out.
		cache := config.NewRootCache(f.getenv)
		o.Kind = cache.Kind(apiURL, sid)
		if o.Kind == "" {
			o.KindFound = func(k string) { cache.Remember(apiURL, sid, k) }
		}
	}
	// The waits between retries and the bounds of each attempt can be
	// shortened, for tests and impatient scripts; unset, the defaults hold.
	for _, knob := range []struct {
		env string
		set func(time.Duration)
	}{
		{"IMPACTCTL_RETRY_WAIT", func(d time.Duration) { o.RetryWait, o.RetryMaxWait = d, d }},
		{"IMPACTCTL_CONNECT_TIMEOUT", func(d time.Duration) { o.ConnectTimeout = d }},
		{"IMPACTCTL_HEADER_TIMEOUT", func(d time.Duration) { o.HeaderTimeout = d }},
		{"IMPACTCTL_BODY_TIMEOUT", func(d time.Duration) { o.BodyIdleTimeout = d }},
		{"IMPACTCTL_REQUEST_TIMEOUT", func(d time.Duration) { o.RequestTimeout = d }},
	} {
		w := f.getenv(knob.env)
		if w == "" {
			continue
		}
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 || (d == 0 && knob.env != "IMPACTCTL_RETRY_WAIT") {
			return nil, cmdutil.UsageErrorf("%s %q: use a duration such as 200ms", knob.env, w)
		}
		knob.set(d)
	}
	if f.opts.Debug {
		// Debug lines are the one exception to JSON stderr: they are
		// asked for, and never hold a server's body.
		o.Debug = f.run.msgs.DebugOut()
	}
	if f.run.completing {
		o.MaxRetries = 0
	}
	return client.New(o)
}

// startLocal runs the reference server in the process over the user's local
// database, demo-seeded on first use, and returns its admin credentials. It
// does not listen: the run's clients call its handler through its Transport.
func (s *runState) startLocal(ctx context.Context, getenv func(string) string) (*config.Credentials, error) {
	dir := getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("--local needs a data directory: set XDG_DATA_HOME: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	dir = filepath.Join(dir, "impactctl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--local: %w", err)
	}
	inst, err := server.Start(context.WithoutCancel(ctx), server.Config{
		Addr:           "127.0.0.1:0",
		DB:             filepath.Join(dir, "local.db"),
		Demo:           true,
		AuthFailLimit:  server.Rate{N: 100, Per: time.Minute},
		EventRetention: server.DefaultEventRetention,
		OneShot:        true,
		InProcess:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("--local: starting the embedded server: %w", err)
	}
	s.local = inst
	s.cleanups = append(s.cleanups, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = inst.Shutdown(sctx)
	})
	return &config.Credentials{
		APIURL:     inst.URL,
		AccountSid: inst.Admin.AccountSid,
		AuthToken:  inst.Admin.AuthToken,
		Kind:       "agency",
		Source:     "--local (the embedded demo server's admin token)",
	}, nil
}

// Printer is the output printer chosen by -o, --jq and --template.
func (f *Factory) Printer() *output.Printer { return f.run.printer }

// Now is the clock relative filters use; IMPACTCTL_NOW fixes it for
// reproducible reports.
func (f *Factory) Now() (time.Time, error) {
	if s := f.v.GetString("now"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, cmdutil.UsageErrorf("IMPACTCTL_NOW: %w", err)
		}
		return t, nil
	}
	return f.now(), nil
}
