package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtp "github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"
)

// fakeMTA is an in-process SMTP server whose answers a test chooses.
type fakeMTA struct {
	mu       sync.Mutex
	greet    *smtp.SMTPError // refuse at EHLO
	mailFrom *smtp.SMTPError
	rcpt     map[string]*smtp.SMTPError // by recipient
	dropData bool                       // close the connection half-way through DATA
	got      []string                   // the messages taken
}

type fakeSession struct {
	m    *fakeMTA
	conn *smtp.Conn
}

func (m *fakeMTA) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if m.greet != nil {
		return nil, m.greet
	}
	return &fakeSession{m: m, conn: c}, nil
}

func (s *fakeSession) Reset()        {}
func (s *fakeSession) Logout() error { return nil }
func (s *fakeSession) Mail(string, *smtp.MailOptions) error {
	if s.m.mailFrom != nil {
		return s.m.mailFrom
	}
	return nil
}
func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.m.rcpt[to]; e != nil {
		return e
	}
	return nil
}
func (s *fakeSession) Data(r io.Reader) error {
	if s.m.dropData {
		buf := make([]byte, 64)
		_, _ = io.ReadFull(r, buf)
		_ = s.conn.Conn().Close()
		return errors.New("dropped")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.got = append(s.m.got, string(b))
	s.m.mu.Unlock()
	return nil
}

func startMTA(t *testing.T, m smtp.Backend, tlsConf *tls.Config) string {
	t.Helper()
	srv := smtp.NewServer(m)
	srv.Domain = "mta.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	var l net.Listener
	var err error
	if tlsConf != nil {
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsConf)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestSender(t *testing.T, rawURL string, cfg Config) (*Sender, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	cfg.URL = rawURL
	if cfg.From == "" {
		cfg.From = "tokens@impact.example"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s, _, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

func testMsg(t *testing.T, to string) *gomail.Msg {
	t.Helper()
	m, err := testComposer().Compose(Update{RequestID: "req-1", Date: testDate, Account: "IRacc", Actor: "a", Recipient: to,
		Tokens: []TokenUpdate{{TokenSid: "IRt", TokenName: "body-marker-xyz", Type: "disabled"}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		mta           *fakeMTA
		to            string
		want          Outcome
		senderProblem bool
		code          int
	}{
		{name: "accepted", mta: &fakeMTA{}, to: "dev@example.com", want: Sent},
		{name: "421 at greeting", mta: &fakeMTA{greet: &smtp.SMTPError{Code: 421, Message: "too busy"}}, to: "dev@example.com", want: Retry, code: 421},
		{name: "554 at greeting", mta: &fakeMTA{greet: &smtp.SMTPError{Code: 554, Message: "go away"}}, to: "dev@example.com", want: Retry, senderProblem: true, code: 554},
		{name: "550 at MAIL FROM", mta: &fakeMTA{mailFrom: &smtp.SMTPError{Code: 550, Message: "not our sender"}}, to: "dev@example.com", want: Retry, senderProblem: true, code: 550},
		{name: "450 at RCPT", mta: &fakeMTA{rcpt: map[string]*smtp.SMTPError{"dev@example.com": {Code: 450, Message: "mailbox busy"}}}, to: "dev@example.com", want: Retry, code: 450},
		{name: "550 at RCPT", mta: &fakeMTA{rcpt: map[string]*smtp.SMTPError{"gone@example.com": {Code: 550, Message: "no such user"}}}, to: "gone@example.com", want: Failed, code: 550},
		{name: "dropped mid-DATA", mta: &fakeMTA{dropData: true}, to: "dev@example.com", want: Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startMTA(t, tt.mta, nil)
			s, logs := newTestSender(t, "smtp://"+addr, Config{})
			r := s.Send(context.Background(), testMsg(t, tt.to))
			if r.Outcome != tt.want || r.SenderProblem != tt.senderProblem || r.Code != tt.code {
				t.Fatalf("got %v sender=%v code=%d (%v), want %v sender=%v code=%d", r.Outcome, r.SenderProblem, r.Code, r.Err, tt.want, tt.senderProblem, tt.code)
			}
			if tt.want == Sent && (len(tt.mta.got) != 1 || !strings.Contains(tt.mta.got[0], "body-marker-xyz")) {
				t.Fatalf("server got %q", tt.mta.got)
			}
			log := logs.String()
			if !strings.Contains(log, "mail: attempt") || !strings.Contains(log, "outcome="+tt.want.String()) {
				t.Errorf("attempt not logged: %s", log)
			}
			if strings.Contains(log, "body-marker-xyz") {
				t.Errorf("the body was logged: %s", log)
			}
			if tt.senderProblem != strings.Contains(log, "level=ERROR") {
				t.Errorf("sender's problem logged at the wrong level: %s", log)
			}
		})
	}
}

// One recipient's permanent refusal does not fail another's message.
func TestSendOneRecipientRefusedOthersSent(t *testing.T) {
	t.Parallel()
	mta := &fakeMTA{rcpt: map[string]*smtp.SMTPError{"gone@example.com": {Code: 550, Message: "no such user"}}}
	s, _ := newTestSender(t, "smtp://"+startMTA(t, mta, nil), Config{})
	if r := s.Send(context.Background(), testMsg(t, "gone@example.com")); r.Outcome != Failed {
		t.Fatalf("gone: %v %v", r.Outcome, r.Err)
	}
	if r := s.Send(context.Background(), testMsg(t, "dev@example.com")); r.Outcome != Sent {
		t.Fatalf("dev: %v %v", r.Outcome, r.Err)
	}
}

// A server that accepts the connection and never answers is given up on after the
// timeout, and the message is retried later.
func TestSendTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	s, _ := newTestSender(t, "smtp://"+l.Addr().String(), Config{Timeout: 300 * time.Millisecond})
	start := time.Now()
	r := s.Send(context.Background(), testMsg(t, "dev@example.com"))
	if r.Outcome != Retry || r.SenderProblem {
		t.Fatalf("got %v sender=%v (%v)", r.Outcome, r.SenderProblem, r.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %v, want about the 300ms timeout", d)
	}
}

func TestSenderConfig(t *testing.T) {
	for _, tt := range []struct {
		url, from string
		ok        bool
	}{
		{"smtp://127.0.0.1:1025", "tokens@example.com", true},
		{"smtps://mail.example.com", "tokens@example.com", true},
		{"smtp://user@mail.example.com:587", "tokens@example.com", true},
		{"http://mail.example.com", "tokens@example.com", false},
		{"smtp://mail.example.com/path", "tokens@example.com", false},
		{"smtp://mail.example.com", "", false},
		{"smtp://mail.example.com", "Tokens <tokens@example.com>", false},
		{"mail.example.com:25", "tokens@example.com", false},
	} {
		_, _, err := NewSender(Config{URL: tt.url, From: tt.from})
		if (err == nil) != tt.ok {
			t.Errorf("NewSender(%q, %q) = %v, want ok=%v", tt.url, tt.from, err, tt.ok)
		}
	}
	_, warnings, err := NewSender(Config{URL: "smtp://user:hunter2@mail.example.com", From: "t@example.com"})
	if err != nil || len(warnings) != 1 || strings.Contains(warnings[0], "hunter2") {
		t.Fatalf("password in URL: %v %q", err, warnings)
	}
	if _, _, err := NewSender(Config{URL: "smtp://user:hunter2@mail.example.com:99999", From: "t@example.com"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error shows the password: %v", err)
	}
}

// Plain SMTP goes to a loopback address only: anywhere else STARTTLS is required, and a
// server without it is refused before any message is sent.
func TestSendRequiresStartTLSOffLoopback(t *testing.T) {
	t.Parallel()
	mta := &fakeMTA{}
	addr := startMTA(t, mta, nil)
	_, port, _ := net.SplitHostPort(addr)
	// The options a non-loopback URL chose (STARTTLS mandatory), pointed at this
	// plain test server.
	s, _ := newTestSender(t, "smtp://127.0.0.1:"+port, Config{})
	if r := s.Send(context.Background(), testMsg(t, "dev@example.com")); r.Outcome != Sent {
		t.Fatalf("loopback plain: %v", r.Err)
	}
	strict, _, err := NewSender(Config{URL: "smtp://mail.example.com:" + port, From: "t@example.com", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	strict.host = "127.0.0.1"
	r := strict.Send(context.Background(), testMsg(t, "dev@example.com"))
	if r.Outcome != Retry || !r.SenderProblem || len(mta.got) != 1 {
		t.Fatalf("no STARTTLS: %v sender=%v (%v), server got %d", r.Outcome, r.SenderProblem, r.Err, len(mta.got))
	}
}

// smtps:// with --smtp-ca: TLS from the start, trusting a private CA; without the CA
// the certificate is refused.
func TestSendImplicitTLSWithPrivateCA(t *testing.T) {
	t.Parallel()
	certPEM, tlsConf := selfSigned(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	mta := &fakeMTA{}
	addr := startMTA(t, mta, tlsConf)
	s, _ := newTestSender(t, "smtps://"+addr, Config{CAFile: caFile})
	if r := s.Send(context.Background(), testMsg(t, "dev@example.com")); r.Outcome != Sent {
		t.Fatalf("with the CA: %v %v", r.Outcome, r.Err)
	}
	s, _ = newTestSender(t, "smtps://"+addr, Config{})
	if r := s.Send(context.Background(), testMsg(t, "dev@example.com")); r.Outcome != Retry || !r.SenderProblem {
		t.Fatalf("without the CA: %v sender=%v %v", r.Outcome, r.SenderProblem, r.Err)
	}
	if len(mta.got) != 1 {
		t.Fatalf("server got %d messages", len(mta.got))
	}
}

func selfSigned(t *testing.T) ([]byte, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, &tls.Config{Certificates: []tls.Certificate{pair}}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

// A shutdown does not wait for a server that stops answering: Send returns when its
// context ends, and the message is retried later.
func TestSendStopsWithContext(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, _ := newTestSender(t, "smtp://"+l.Addr().String(), Config{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if r := s.Send(ctx, testMsg(t, "dev@example.com")); r.Outcome != Retry {
		t.Fatalf("got %v", r.Outcome)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send returned after %v, want soon after its context ended", d)
	}
}

// A server whose banner refuses: 421 is retried quietly, 554 is the sender's problem.
func TestSendBannerRefusal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		banner        string
		code          int
		senderProblem bool
	}{{"421 mta.test busy, try later", 421, false}, {"554 mta.test no SMTP service here", 554, true}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(tt.banner + "\r\n"))
			time.Sleep(100 * time.Millisecond)
			c.Close()
		}()
		s, _ := newTestSender(t, "smtp://"+l.Addr().String(), Config{})
		r := s.Send(context.Background(), testMsg(t, "dev@example.com"))
		l.Close()
		if r.Outcome != Retry || r.Code != tt.code || r.SenderProblem != tt.senderProblem {
			t.Errorf("banner %q: %v code=%d sender=%v (%v)", tt.banner, r.Outcome, r.Code, r.SenderProblem, r.Err)
		}
	}
}

// authMTA refuses every login with 535.
type authMTA struct{ fakeMTA }

type authSession struct{ fakeSession }

func (m *authMTA) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &authSession{fakeSession{m: &m.fakeMTA, conn: c}}, nil
}

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
	}), nil
}

// A refused login is the sender's problem: retried, and logged as an error without
// the password.
func TestSendAuthRefused(t *testing.T) {
	t.Parallel()
	certPEM, tlsConf := selfSigned(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startMTA(t, &authMTA{}, tlsConf)
	s, logs := newTestSender(t, "smtps://bot@"+addr, Config{Password: "hunter2-secret", CAFile: caFile})
	r := s.Send(context.Background(), testMsg(t, "dev@example.com"))
	if r.Outcome != Retry || !r.SenderProblem {
		t.Fatalf("got %v sender=%v code=%d (%v)", r.Outcome, r.SenderProblem, r.Code, r.Err)
	}
	if r.Code != 535 || !strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "hunter2") {
		t.Fatalf("log: %s", logs)
	}
}
