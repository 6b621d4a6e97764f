package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/impactcom/impactctl/internal/atomicfile"
	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/outbox"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// Config is what Start needs to run a server.
type Config struct {
	Addr          string // e.g. "127.0.0.1:0" picks a free port; "" means that
	DB            string // SQLite file path, or a postgres:// URL (see IsPostgresDSN)
	KeyFile       string // SQLite: "" = DB + ".key"; PostgreSQL: required
	Demo          bool   // seed demo data once
	ReadyFile     string // if set, write {"Url","AccountSid","AuthToken"} of the admin token, 0600, once listening
	RateLimit     Rate   // per token; N == 0 off
	AuthFailLimit Rate   // per client address; N == 0 off
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// EventRetention is how long events are kept; 0 keeps them forever. Older ones
	// are pruned in the background, in small batches.
	EventRetention time.Duration
	// NoticeEvery is how often the server writes the lifecycle events that are due
	// (expiry warnings, expired, overlaps that ran out); 0 means DefaultNoticeEvery.
	NoticeEvery time.Duration
	// Mail says the server sends updates by mail (see Options.Mail); Mailing says
	// how, and turns Mail on.
	Mail    bool
	Mailing *Mailing
	Logger  *slog.Logger     // request log; nil discards
	Rand    io.Reader        // source of SIDs and secrets; nil = crypto/rand
	Now     func() time.Time // nil = time.Now

	// OneShot starts a server for one short command (impactctl --local): only
	// the connections its requests use are opened (see StoreOptions.OneShot),
	// DemoCredentials holds the admin's alone, and the lifecycle events due are
	// written and events past EventRetention pruned at Shutdown, when the run
	// wrote events, instead of in the background from the start.
	OneShot bool
	// InProcess serves only this process: nothing listens, URL is InProcessURL,
	// and Instance.Transport carries requests to the handler. ReadyFile needs a
	// listener.
	InProcess bool
}

// Instance is a running server.
type Instance struct {
	// URL is the base URL, e.g. "http://127.0.0.1:8787".
	URL string
	// Admin is the credential of the admin token (demo or bootstrap), holding every scope.
	Admin Credential

	st     service.Store
	env    *service.Env
	srv    *http.Server // nil InProcess
	creds  map[string]Credential
	logger *slog.Logger

	// handler serves the API, once handlerReady is closed.
	handler      http.Handler
	handlerReady chan struct{}
	// The in-process requests in flight (see Transport): Shutdown refuses new ones
	// and waits for these; aborted ends them when its wait runs out.
	flightMu sync.Mutex
	closing  bool
	flight   sync.WaitGroup
	aborted  context.Context
	abort    context.CancelFunc
	doneOnce sync.Once

	done      chan struct{}
	stopPrune context.CancelFunc
	pruned    chan struct{}
	serveMu   sync.Mutex
	err       error

	// pruneAtEnd prunes events at Shutdown (OneShot), if the run wrote events.
	pruneAtEnd func(context.Context)
}

// Start opens and migrates the store, seeds it (the demo world with cfg.Demo, else a
// bootstrap agency with one admin token, both only into an empty database), listens,
// serves in the background and writes cfg.ReadyFile. It returns once listening.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	ln, base, err := listen(cfg)
	if err != nil {
		return nil, err
	}
	closeListener := func() {
		if ln != nil {
			ln.Close()
		}
	}
	st, env, err := Open(ctx, cfg.DB, cfg.KeyFile, StoreOptions{Rand: cfg.Rand, Now: cfg.Now, OneShot: cfg.OneShot})
	if err != nil {
		closeListener()
		return nil, err
	}
	fail := func(err error) (*Instance, error) {
		closeListener()
		st.Close()
		return nil, err
	}
	if cfg.Mailing != nil {
		cfg.Mail = true
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler) // formats nothing: --local logs nothing
	}
	inst := &Instance{URL: base, st: st, env: env, logger: logger, done: make(chan struct{}), handlerReady: make(chan struct{})}
	inst.aborted, inst.abort = context.WithCancel(context.Background())
	// The route table is built while the database is read.
	go func() {
		inst.handler = httpapi.New(st, env, httpapi.Options{RateLimit: cfg.RateLimit, AuthFailLimit: cfg.AuthFailLimit,
			TrustedProxies: cfg.TrustedProxies, Logger: logger, Mail: cfg.Mail})
		close(inst.handlerReady)
	}()
	if err := inst.prepare(ctx, cfg); err != nil {
		return fail(err)
	}
	if ln != nil {
		inst.srv = newHTTPServer(inst.waitHandler(), logger)
	}
	pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	inst.stopPrune, inst.pruned = stop, make(chan struct{})
	var ml *outbox.Sender
	if cfg.Mailing != nil {
		m := *cfg.Mailing
		if m.PublicURL == "" {
			m.PublicURL = inst.URL
		}
		if ml, err = newMailer(st, env, &m, logger); err != nil {
			stop()
			return fail(err)
		}
	}
	if cfg.OneShot {
		inst.pruneAtEnd = inst.atEnd(cfg)
	}
	go inst.runJobs(pctx, cfg, ml)
	if ln != nil {
		go inst.serve(ln)
	}
	if cfg.ReadyFile != "" {
		if err := inst.announce(cfg.ReadyFile); err != nil {
			inst.Shutdown(ctx)
			return nil, err
		}
	}
	return inst, nil
}

// newHTTPServer is the server a listening instance answers with. Timeouts bound
// slow clients; the write budget covers a write queued behind others for SQLite's
// busy timeout.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// announce writes the ready file: the URL and the admin's credentials.
func (inst *Instance) announce(path string) error {
	if inst.Admin.AccountSid == "" {
		return errors.New("ready file: the database has no admin token")
	}
	return writeReadyFile(path, inst.Admin)
}

// listen checks the ready file's directory and listens on cfg.Addr (loopback by
// default), or, for a server in the process, answers its URL and no listener. It
// runs first: a start that cannot listen (address in use) leaves the database
// untouched.
func listen(cfg Config) (ln net.Listener, base string, err error) {
	// The ready file holds a secret: it is created (O_EXCL, 0600) only in a
	// directory this user owns that others cannot write to. Checked before anything
	// is created.
	if cfg.ReadyFile != "" {
		if cfg.InProcess {
			return nil, "", errors.New("ready file: a server in the process has no address to write")
		}
		if err := store.CheckDir(filepath.Dir(cfg.ReadyFile), "ready file directory", true); err != nil {
			return nil, "", err
		}
	}
	if cfg.InProcess {
		return nil, InProcessURL, nil
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0" // never every interface by accident
	}
	if ln, err = net.Listen("tcp", addr); err != nil {
		return nil, "", fmt.Errorf("listen: %w", err)
	}
	return ln, "http://" + ln.Addr().String(), nil
}

// prepare checks the recorded settings, seeds an empty database, and reads the
// credentials the instance hands out (a one-shot command's: the admin's only).
func (inst *Instance) prepare(ctx context.Context, cfg Config) error {
	st, env := inst.st, inst.env
	if err := agree(ctx, st, cfg, inst.logger); err != nil {
		return err
	}
	// A database seeded before is only read: seeding takes the writer.
	kind, err := st.Seeded(ctx)
	if err != nil {
		return err
	}
	if kind == "" {
		if err := Seed(ctx, st, env, cfg.Demo); err != nil {
			return err
		}
		if kind, err = st.Seeded(ctx); err != nil {
			return err
		}
	}
	if cfg.Demo && kind != "demo" {
		inst.logger.Warn("the database was not seeded with demo data; --demo only seeds an empty database", "db", dbName(cfg.DB))
	}
	var roles []string // every role
	if cfg.OneShot {
		roles = []string{"admin"}
	}
	creds, err := DemoCredentials(ctx, st, env, inst.URL, roles...)
	if err != nil {
		return err
	}
	inst.creds = creds
	inst.Admin = creds["admin"]
	return nil
}

// atEnd is what a one-shot command's server does as it shuts down: it looks once
// for the lifecycle events due, and prunes events past the retention when the run
// wrote one (events come only from writes: a run that wrote none has none to prune
// that the last run that wrote one did not look at).
func (inst *Instance) atEnd(cfg Config) func(context.Context) {
	st, env, logger := inst.st, inst.env, inst.logger
	svc := service.NewRules(st, env)
	svc.Mail = cfg.Mail
	return func(ctx context.Context) {
		if n, err := svc.WriteNotices(ctx); err != nil {
			logger.Error("lifecycle events", "error", err)
		} else if n > 0 {
			logger.Info("lifecycle events", "count", n)
		}
		if w, ok := st.(interface{ WroteEvents() bool }); ok && !w.WroteEvents() {
			return
		}
		if n, err := service.PruneEvents(ctx, st, env.Now(), cfg.EventRetention); err != nil {
			logger.Error("prune events", "error", err)
		} else if n > 0 {
			logger.Info("pruned events", "count", n, "retention", cfg.EventRetention.String())
		}
	}
}

// runJobs runs the background work until ctx ends: the mail sender, and for a
// running server the look for due lifecycle events and the event pruning.
func (inst *Instance) runJobs(ctx context.Context, cfg Config, ml *outbox.Sender) {
	defer close(inst.pruned)
	var wg sync.WaitGroup
	if ml != nil {
		// Updates leave after commit, in the background, never inside a transaction.
		wg.Go(func() { ml.Run(ctx) })
	}
	if !cfg.OneShot {
		// Every replica looks; each event is written once (see noteAccount).
		svc := service.NewRules(inst.st, inst.env)
		svc.Mail = cfg.Mail
		wg.Go(func() { service.KeepNoticing(ctx, svc, cfg.NoticeEvery, inst.logger) })
		service.KeepPruning(ctx, inst.st, inst.env.Now, cfg.EventRetention, inst.logger)
	}
	wg.Wait()
}

// serve answers on ln until Shutdown, then records how serving ended.
func (inst *Instance) serve(ln net.Listener) {
	err := inst.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	inst.serveMu.Lock()
	inst.err = err
	inst.serveMu.Unlock()
	close(inst.done)
}

// Open opens the store db names: PostgreSQL for a postgres:// or postgresql:// URL
// (OpenPostgresStore; keyFile required), else a SQLite file (OpenStore). env is what
// the service runs with over it: the keys from the key file the store checked, and
// opts' random source and clock.
func Open(ctx context.Context, db, keyFile string, opts StoreOptions) (service.Store, *service.Env, error) {
	var st interface {
		service.Store
		Key() []byte
	}
	var err error
	if store.IsPostgresDSN(db) {
		st, err = store.OpenPostgresStore(ctx, db, keyFile, opts.store())
	} else {
		st, err = store.OpenStore(ctx, db, keyFile, opts.store())
	}
	if err != nil {
		return nil, nil, err
	}
	env, err := envOver(st, opts)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, env, nil
}

// dbName is cfg.DB fit for a log line: a PostgreSQL URL without its password.
func dbName(db string) string {
	if store.IsPostgresDSN(db) {
		return store.RedactDSN(db)
	}
	return db
}

// Shutdown stops accepting requests (in-process ones too), waits for those in flight
// (until ctx ends) and closes the store.
func (i *Instance) Shutdown(ctx context.Context) error {
	var err error
	if i.srv != nil {
		err = i.srv.Shutdown(ctx)
	}
	err = errors.Join(err, i.closeFlights(ctx))
	i.abort()
	if i.srv == nil {
		i.doneOnce.Do(func() { close(i.done) })
	}
	<-i.done
	i.stopPrune()
	<-i.pruned
	if i.pruneAtEnd != nil {
		i.pruneAtEnd(ctx)
	}
	return errors.Join(err, i.st.Close())
}

// waitHandler is the handler, once built.
func (i *Instance) waitHandler() http.Handler {
	<-i.handlerReady
	return i.handler
}

// Wait blocks until the server stops and answers why (nil after Shutdown).
func (i *Instance) Wait() error {
	<-i.done
	i.serveMu.Lock()
	defer i.serveMu.Unlock()
	return i.err
}

// DemoCredentials returns the credentials of well-known seeded tokens by role:
// "admin" (agency, every scope), "writer" (apitokens.read, apitokens.write, users.read),
// "readonly" (apitokens.read only), "disabled" (a disabled agency token), "reporter"
// (reports.* and account.read), "agency2-admin" (the second agency), "brand-admin",
// "brand2-admin", "brand3-admin" (each demo brand's token with every brand scope) and
// "agency2-brand-admin" (the second agency's brand). Without --demo, or with
// Config.OneShot, only "admin" exists.
func (i *Instance) DemoCredentials() map[string]Credential { return maps.Clone(i.creds) }

// writeReadyFile writes c as JSON, 0600, atomically: a reader never sees half a file.
func writeReadyFile(path string, c Credential) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}
