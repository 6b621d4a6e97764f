package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// PasswordEnv names the environment variable the SMTP password is read from.
const PasswordEnv = "IMPACTCTL_SMTP_PASSWORD"

// DefaultTimeout bounds each step of a conversation with the SMTP server (connect, each
// command, the message): well inside the lease a claimed message is held for, so a
// server that stops answering gives the message back to the outbox in time.
const DefaultTimeout = 30 * time.Second

// Config says how to reach the SMTP server.
type Config struct {
	// URL is smtp://[user@]host[:587] (STARTTLS required), smtps://[user@]host[:465]
	// (TLS from the start), or smtp://127.0.0.1:1025 (plain, loopback only).
	URL      string
	From     string
	CAFile   string        // a PEM file of CAs to trust besides the system's
	Password string        // from PasswordEnv; a password in URL is used when this is empty
	Timeout  time.Duration // DefaultTimeout when zero
	Logger   *slog.Logger
}

// Sender delivers messages over SMTP, one connection per message.
type Sender struct {
	from    string
	host    string
	opts    []gomail.Option
	logger  *slog.Logger
	display string // the URL without its password, for logs
}

// Outcome says what to do with a message after an attempt.
type Outcome int

const (
	// Sent: the server took the message.
	Sent Outcome = iota
	// Retry: a 4xx answer, a dropped connection, a timeout, or the sender's own
	// problem (a 5xx at the greeting, AUTH or MAIL FROM); try again later.
	Retry
	// Failed: the server refused this recipient for good (a 5xx at RCPT or DATA).
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Sent:
		return "sent"
	case Retry:
		return "retry"
	}
	return "failed"
}

// Result is one attempt's outcome. SenderProblem marks a refusal of the sender rather
// than of the recipient: it is retried and logged as an error. Code is the SMTP reply
// code, 0 when there was none (a network error).
type Result struct {
	Outcome       Outcome
	SenderProblem bool
	Code          int
	Err           error
}

// NewSender checks cfg and makes a Sender. The returned warnings are for the log (a
// password in the URL shows in the process list).
func NewSender(cfg Config) (*Sender, []string, error) {
	var warnings []string
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, nil, fmt.Errorf("--smtp %q: expected smtp://host:587 or smtps://host:465", redact(cfg.URL))
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, nil, fmt.Errorf("--smtp %s: a path or query is not understood", redact(cfg.URL))
	}
	host := u.Hostname()
	if cfg.From == "" {
		return nil, nil, fmt.Errorf("--smtp needs --mail-from ADDRESS, the sender of updates")
	}
	if a, err := netmail.ParseAddress(cfg.From); err != nil || a.Address != cfg.From || a.Name != "" {
		return nil, nil, fmt.Errorf("--mail-from %q: expected a bare address such as tokens@example.com", cfg.From)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	tlsConf, err := tlsConfig(host, cfg.CAFile)
	if err != nil {
		return nil, nil, err
	}
	opts := []gomail.Option{gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsConf), gomail.WithHELO(helo(cfg.From))}
	port := 0
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, nil, fmt.Errorf("--smtp %s: bad port", redact(cfg.URL))
		}
	}
	switch u.Scheme {
	case "smtps":
		if port == 0 {
			port = 465
		}
		opts = append(opts, gomail.WithSSL(), gomail.WithPort(port))
	case "smtp":
		if port == 0 {
			port = 587
		}
		policy := gomail.TLSMandatory
		if Loopback(host) {
			policy = gomail.TLSOpportunistic
		}
		opts = append(opts, gomail.WithTLSPortPolicy(policy), gomail.WithPort(port))
	default:
		return nil, nil, fmt.Errorf("--smtp %s: the scheme must be smtp or smtps", redact(cfg.URL))
	}
	if u.User != nil && u.User.Username() != "" {
		password := cfg.Password
		if urlPassword, ok := u.User.Password(); ok {
			warnings = append(warnings, "--smtp holds a password, which any user can read in the process list; set "+PasswordEnv+" instead")
			if password == "" {
				password = urlPassword
			}
		}
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(password))
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{from: cfg.From, host: host, opts: opts, logger: logger, display: redact(cfg.URL)}, warnings, nil
}

// tlsConfig is the TLS a sender to host uses: the system's roots, plus those in
// caFile when one is named.
func tlsConfig(host, caFile string) (*tls.Config, error) {
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--smtp-ca %s: no PEM certificate in it", caFile)
		}
		tlsConf.RootCAs = pool
	}
	return tlsConf, nil
}

// Loopback reports whether host is a loopback address (plain SMTP is allowed there only).
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func helo(from string) string {
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		return d
	}
	return "localhost"
}

// redact drops the password from an SMTP URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Send makes one attempt to deliver m and logs it (never the body): its Message-ID,
// recipient, outcome and the server's reply.
func (s *Sender) Send(ctx context.Context, m *gomail.Msg) Result {
	start := time.Now()
	c, err := gomail.NewClient(s.host, s.opts...)
	var r Result
	if err != nil {
		r = Result{Outcome: Retry, SenderProblem: true, Err: err}
	} else {
		// go-mail heeds ctx only while connecting: a conversation under way runs to its
		// timeouts. Stop waiting for it when ctx ends (a shutdown), and retry later.
		done := make(chan error, 1)
		go func() { done <- c.DialAndSendWithContext(ctx, m) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		r = Classify(err)
	}
	ids := m.GetGenHeader(gomail.HeaderMessageID)
	to := m.GetToString()
	attrs := []any{"server", s.display, "message_id", strings.Join(ids, ","), "to", strings.Join(to, ","),
		"outcome", r.Outcome.String(), "code", r.Code, "duration_ms", time.Since(start).Milliseconds()}
	switch {
	case r.Err == nil:
		s.logger.Info("mail: attempt", attrs...)
	case r.SenderProblem:
		s.logger.Error("mail: attempt refused the sender; check --smtp, --mail-from and the password", append(attrs, "error", r.Err.Error())...)
	default:
		s.logger.Warn("mail: attempt", append(attrs, "error", r.Err.Error())...)
	}
	return r
}

// Classify maps an SMTP conversation's error to what to do next: a 5xx for the
// recipient (RCPT, or the message refused after DATA) fails that recipient; a 5xx at
// the greeting, AUTH or MAIL FROM is the sender's problem and retried; a 4xx, a dropped
// connection or a timeout is retried.
func Classify(err error) Result {
	if err == nil {
		return Result{Outcome: Sent}
	}
	r := Result{Outcome: Retry, Err: err}
	var se *gomail.SendError
	if errors.As(err, &se) {
		r.Code = se.ErrorCode()
		permanent := r.Code >= 500 && r.Code < 600
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			if permanent {
				r.Outcome = Failed
			}
		case gomail.ErrSMTPMailFrom, gomail.ErrGetSender, gomail.ErrNoUnencoded:
			r.SenderProblem = permanent || se.Reason != gomail.ErrSMTPMailFrom
		}
		return r
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		// Before any message: the greeting, EHLO, STARTTLS or AUTH.
		r.Code = te.Code
		r.SenderProblem = te.Code >= 500
		return r
	}
	// Our own configuration against this server: no common AUTH method, a certificate
	// we do not trust, no STARTTLS where it is required (go-mail has no type for that
	// one, only its own wording).
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var badCert x509.CertificateInvalidError
	if errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) || errors.Is(err, gomail.ErrPlainAuthNotSupported) ||
		errors.Is(err, gomail.ErrLoginAuthNotSupported) || errors.As(err, &unknownCA) || errors.As(err, &badHost) ||
		errors.As(err, &badCert) || strings.Contains(err.Error(), "does not support STARTTLS") {
		r.SenderProblem = true
	}
	return r
}

// Backoff is the wait before attempt n+1 (n ≥ 1) of a message: one minute, doubling, at
// most an hour. Retries stop once RetryFor has passed since the first attempt.
func Backoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// RetryFor is how long a message that keeps meeting temporary failures is retried
// before it is marked FAILED.
const RetryFor = 24 * time.Hour
