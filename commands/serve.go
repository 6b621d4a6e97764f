package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/server"
	"github.com/impactcom/impactctl/server/mail"
)

// ServeOptions are `serve`'s inputs.
type ServeOptions struct {
	Env           cmdEnv
	Addr          string
	DB            string
	KeyFile       string
	Demo          bool
	ReadyFile     string
	RateLimit     string
	AuthFailLimit string
	TrustedProxy  []string
	SMTP          string
	MailFrom      string
	SMTPCA        string
	PublicURL     string
	MailRate      int
	// EventRetention is how long events are kept: an age (400d, 2w, 36h) or 0 for ever.
	EventRetention string
}

func newServeCmd(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference Token API server (SQLite or PostgreSQL)",
		Long: `Run the reference Token API server over a SQLite database file, or over
PostgreSQL with --db postgres://… (any number of servers may share one
PostgreSQL database; see docs/DEPLOYMENT.md). IMPACTCTL_DB and
IMPACTCTL_KEY_FILE stand in for --db and --key-file: the place for a URL that
holds a password. With PostgreSQL --key-file is required, the same file on
every server.

It logs one JSON line per request to stderr and shuts down cleanly on
SIGINT or SIGTERM. An empty database is seeded once: with --demo, the demo
agency (users, brands, 30 tokens, a second agency); without, one agency with an
admin token holding every scope. --ready-file receives the URL and the admin
token's credentials (mode 0600) once listening.

Failed authentications are counted per client address (IPv6 per /64). Behind
a reverse proxy, name it with --trusted-proxy: X-Forwarded-For is then read
from it, and only from it; the client is the right-most address there that is
not itself a trusted proxy.

Every change to a token is recorded as an event (GET …/ApiTokens/{Sid}/Events,
GET …/ApiTokenEvents; impactctl tokens history, impactctl audit list). Events
are kept --event-retention (default 400d; 0 keeps them for ever) and older
ones are pruned in the background, a few hundred at a time.

With --smtp and --mail-from it sends updates: each change to a token is mailed,
after commit, to the token's developer e-mail addresses and primary contact
(one message per address per request; see docs/MAIL.md). smtp://host:587
requires STARTTLS, smtps://host:465 is TLS from the start, and plain SMTP is
allowed only to a loopback address (a local Mailpit). The SMTP password comes
from IMPACTCTL_SMTP_PASSWORD. --public-url is the address readers reach this
server at, for the unsubscribe links. Every server on one database must agree
on whether mail is on: the first to start records it.`,
		Example: `  impactctl serve --demo --db demo.db --addr 127.0.0.1:0 --ready-file ready.json
  impactctl serve --demo --smtp smtp://127.0.0.1:1025 --mail-from tokens@example.com
  IMPACTCTL_SMTP_PASSWORD=$(cat /etc/impactctl/smtp-password) impactctl serve --smtp smtp://tokens@mail.example.com:587 --mail-from tokens@example.com --public-url https://tokens.example.com
  IMPACTCTL_DB=postgres://impactctl:PASSWORD@db/impactctl impactctl serve --key-file /etc/impactctl/key`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			if !cmd.Flags().Changed("db") {
				if db := opts.Env.Getenv("IMPACTCTL_DB"); db != "" {
					opts.DB = db
				}
			}
			if !cmd.Flags().Changed("key-file") {
				if kf := opts.Env.Getenv("IMPACTCTL_KEY_FILE"); kf != "" {
					opts.KeyFile = kf
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	opts.register(cmd)
	return cmd
}

// register binds serve's flags to opts.
func (opts *ServeOptions) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8787", "address to listen on (port 0 picks a free one)")
	fl.StringVar(&opts.DB, "db", "impactctl.db", "SQLite database file, or postgres://… (or IMPACTCTL_DB)")
	fl.StringVar(&opts.KeyFile, "key-file", "", "encryption key for secrets at rest (or IMPACTCTL_KEY_FILE; SQLite's default: beside the database, .key)")
	fl.BoolVar(&opts.Demo, "demo", false, "seed demo data on first start")
	fl.StringVar(&opts.ReadyFile, "ready-file", "", "write {Url, AccountSid, AuthToken} of the admin token here once listening (0600)")
	fl.StringVar(&opts.RateLimit, "rate-limit", "1000/h", "requests per token: N[/h|/m|/s|/DURATION], e.g. 100/10s; 0 turns limits off")
	fl.StringVar(&opts.AuthFailLimit, "auth-fail-limit", "100/m", "failed authentications per client address: N[/h|/m|/s|/DURATION]")
	fl.StringArrayVar(&opts.TrustedProxy, "trusted-proxy", nil, "a proxy (CIDR or address) whose X-Forwarded-For names the client; repeatable")
	fl.StringVar(&opts.EventRetention, "event-retention", "400d", "how long events are kept: days, weeks or hours (400d, 2w, 36h); 0 keeps them for ever")
	fl.StringVar(&opts.SMTP, "smtp", "", "send updates through this SMTP server: smtp://[user@]host:587 (STARTTLS), smtps://[user@]host:465, or smtp://127.0.0.1:PORT (plain, loopback only); password in IMPACTCTL_SMTP_PASSWORD")
	fl.StringVar(&opts.MailFrom, "mail-from", "", "the sender address of updates (with --smtp)")
	fl.StringVar(&opts.SMTPCA, "smtp-ca", "", "a PEM file of CA certificates to trust for the SMTP server (a private CA)")
	fl.StringVar(&opts.PublicURL, "public-url", "", "this server's address as readers reach it, for unsubscribe links (default: the listening address)")
	fl.IntVar(&opts.MailRate, "mail-rate", server.DefaultMailRate, "the most update messages one account sends an hour; past it they wait")
}

// mailing checks the mail flags and makes what the server sends updates with; nil
// without --smtp.
func (opts *ServeOptions) mailing(logger *slog.Logger) (*server.Mailing, error) {
	if opts.SMTP == "" {
		for flag, v := range map[string]bool{"--mail-from": opts.MailFrom != "", "--smtp-ca": opts.SMTPCA != "", "--public-url": opts.PublicURL != ""} {
			if v {
				return nil, cmdutil.UsageErrorf("%s needs --smtp", flag)
			}
		}
		return nil, nil
	}
	if opts.MailRate < 1 {
		return nil, cmdutil.UsageErrorf("invalid --mail-rate %d: at least 1 message an hour", opts.MailRate)
	}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, cmdutil.UsageErrorf("invalid --public-url %q: expected https://host[/path]", opts.PublicURL)
		}
	}
	sender, warnings, err := mail.NewSender(mail.Config{URL: opts.SMTP, From: opts.MailFrom, CAFile: opts.SMTPCA,
		Password: opts.Env.Getenv(mail.PasswordEnv), Logger: logger})
	if err != nil {
		return nil, cmdutil.UsageErrorf("%w", err)
	}
	for _, w := range warnings {
		logger.Warn(w)
	}
	return &server.Mailing{Sender: sender, From: opts.MailFrom, PublicURL: opts.PublicURL, Rate: opts.MailRate}, nil
}

func serveRun(ctx context.Context, opts *ServeOptions) error {
	rate, err := server.ParseRate(opts.RateLimit)
	if err != nil {
		return cmdutil.UsageErrorf("invalid --rate-limit: %w", err)
	}
	failRate, err := server.ParseRate(opts.AuthFailLimit)
	if err != nil {
		return cmdutil.UsageErrorf("invalid --auth-fail-limit: %w", err)
	}
	var retention time.Duration
	if strings.TrimSpace(opts.EventRetention) != "0" {
		if retention, err = cmdutil.ParseAge("--event-retention", opts.EventRetention); err != nil {
			return err
		}
	}
	if server.IsPostgresDSN(opts.DB) && opts.KeyFile == "" {
		return cmdutil.UsageErrorf("a PostgreSQL --db needs --key-file (or IMPACTCTL_KEY_FILE): every server on one database uses the same key")
	}
	var trusted []netip.Prefix
	for _, s := range opts.TrustedProxy {
		p, err := server.ParseTrustedProxy(s)
		if err != nil {
			return cmdutil.UsageErrorf("invalid --trusted-proxy: %w", err)
		}
		trusted = append(trusted, p)
	}
	logger := slog.New(slog.NewJSONHandler(opts.Env.IO.ErrOut, nil))
	mailing, err := opts.mailing(logger)
	if err != nil {
		return err
	}
	inst, err := server.Start(ctx, server.Config{
		Addr:           opts.Addr,
		DB:             opts.DB,
		KeyFile:        opts.KeyFile,
		Demo:           opts.Demo,
		ReadyFile:      opts.ReadyFile,
		RateLimit:      rate,
		AuthFailLimit:  failRate,
		TrustedProxies: trusted,
		EventRetention: retention,
		Logger:         logger,
		Mailing:        mailing,
	})
	if err != nil {
		return fmt.Errorf("starting the server: %w", err)
	}
	logger.Info("listening", "url", inst.URL)
	if u, err := url.Parse(inst.URL); err == nil && !config.IsLoopback(u.Hostname()) {
		logger.Warn("serving plain HTTP beyond loopback: credentials cross the network unencrypted; put a TLS proxy in front, and clients must use https")
	}
	done := make(chan error, 1)
	go func() { done <- inst.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := inst.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
