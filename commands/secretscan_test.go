package commands_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/impactcom/impactctl/internal/iostreams"
)

// The secret scan: every Auth Token a script's server hands out is collected (the
// demo credentials, and every "AuthToken" in an answer, seen by a recording proxy in
// front of the server), and at the end of the script everything its commands wrote
// to stderr (messages, errors, --debug) and every line the server logged is searched
// for each of them. A secret found there fails the script.

// stderrLogEnv names the file each impactctl run of a script appends its stderr to.
const stderrLogEnv = "SCRIPT_STDERR_LOG"

// scriptStreams are the process's streams, with stderr also appended to the file
// $SCRIPT_STDERR_LOG names, for the secret scan.
func scriptStreams() *iostreams.IOStreams {
	ios := iostreams.System()
	if p := os.Getenv(stderrLogEnv); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			ios.ErrOut = io.MultiWriter(os.Stderr, f)
		}
	}
	return ios
}

// secretScan is one script's scan.
type secretScan struct {
	stderrLog string       // the file the script's commands append their stderr to
	serverLog lockedBuffer // the script server's request log

	mu      sync.Mutex
	secrets map[string]string // secret → its token's SID, when known
}

// scans finds a script's scan by its $WORK, for the script commands that learn of
// more secrets (readyenv).
var scans sync.Map // string → *secretScan

// Totals over every script, for docs/RELIABILITY.md.
var scanned struct {
	scripts, secrets, stderrBytes, logLines, leaks atomic.Int64
}

// newSecretScan starts a script's scan; its check runs when the script's test ends,
// after the script and its background commands.
func newSecretScan(env *testscript.Env) (*secretScan, error) {
	tb, ok := env.T().(testing.TB)
	if !ok {
		return nil, fmt.Errorf("the secret scan needs a testing.TB, got %T", env.T())
	}
	s := &secretScan{stderrLog: filepath.Join(tb.TempDir(), "stderr.log"), secrets: map[string]string{}}
	env.Setenv(stderrLogEnv, s.stderrLog)
	scans.Store(env.WorkDir, s)
	tb.Cleanup(func() {
		scans.Delete(env.WorkDir)
		if leaks := s.check(); len(leaks) > 0 {
			tb.Errorf("secret scan: %s", strings.Join(leaks, "; "))
		}
	})
	return s, nil
}

// logger is the server's request log, kept for the scan.
func (s *secretScan) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&s.serverLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// front puts a proxy in front of the server at upstream that records every secret
// the server answers with, and answers the proxy's URL.
func (s *secretScan) front(env *testscript.Env, upstream string) (string, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return "", err
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: s.record,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway) // the client went away, or the server stopped
		},
	}
	srv := httptest.NewServer(proxy)
	env.Defer(srv.Close)
	return srv.URL, nil
}

// reportSecretScan logs, once every script ran, what the scans covered.
func reportSecretScan(t *testing.T) {
	t.Cleanup(func() {
		t.Logf("secret scan: %d scripts, %d Auth Tokens issued, %d bytes of stderr and %d server log lines searched; %d found",
			scanned.scripts.Load(), scanned.secrets.Load(), scanned.stderrBytes.Load(), scanned.logLines.Load(), scanned.leaks.Load())
	})
}

// authTokenField finds the secrets in an answer, wherever they sit (a token, a
// bulk result, a revealed secret); credential finds them with their SID, which
// answers send just before.
var (
	authTokenField = regexp.MustCompile(`"AuthToken"\s*:\s*"([^"]+)"`)
	credential     = regexp.MustCompile(`"AccountSid"\s*:\s*"([^"]+)"\s*,\s*"AuthToken"\s*:\s*"([^"]+)"`)
)

// record notes every secret in an answer and passes the answer on unchanged.
func (s *secretScan) record(res *http.Response) error {
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	for _, m := range authTokenField.FindAllSubmatch(body, -1) {
		s.add("", string(m[1]))
	}
	for _, m := range credential.FindAllSubmatch(body, -1) {
		s.add(string(m[1]), string(m[2]))
	}
	return nil
}

// add notes a secret, and its token's SID when known ("" when not).
func (s *secretScan) add(sid, secret string) {
	if secret == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sid != "" || s.secrets[secret] == "" {
		s.secrets[secret] = sid
	}
}

// addSecret tells the scan of the script ts of a secret it learnt elsewhere.
func addSecret(ts *testscript.TestScript, sid, secret string) {
	if v, ok := scans.Load(ts.Getenv("WORK")); ok {
		v.(*secretScan).add(sid, secret)
	}
}

// check searches the stderr of every command and every server log line for every
// secret, and answers where each one found was.
func (s *secretScan) check() []string {
	stderr, _ := os.ReadFile(s.stderrLog)
	logged := s.serverLog.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	scanned.scripts.Add(1)
	scanned.secrets.Add(int64(len(s.secrets)))
	scanned.stderrBytes.Add(int64(len(stderr)))
	scanned.logLines.Add(int64(strings.Count(logged, "\n")))
	leaks := findSecrets(s.secrets, map[string]string{"a command's stderr": string(stderr), "the server log": logged})
	scanned.leaks.Add(int64(len(leaks)))
	return leaks
}

// findSecrets answers, for each secret found in one of texts, where: the text's name
// and the line, with the secret itself masked. A secret is looked for as it is and,
// where its SID is known, as the Basic credentials that carry it. The one line
// allowed to hold a secret is GitHub Actions' mask, "::add-mask::SECRET" alone
// on its line: the runner reads it on stderr and hides the secret everywhere.
func findSecrets(secrets map[string]string, texts map[string]string) []string {
	var leaks []string
	for where, text := range texts {
		for _, line := range strings.Split(text, "\n") {
			for secret, sid := range secrets {
				if line == "::add-mask::"+secret {
					continue
				}
				forms := []string{secret}
				if sid != "" {
					forms = append(forms, base64.StdEncoding.EncodeToString([]byte(sid+":"+secret)))
				}
				for _, form := range forms {
					if strings.Contains(line, form) {
						masked := strings.ReplaceAll(line, form, "<secret "+secret[len(secret)-4:]+">")
						leaks = append(leaks, fmt.Sprintf("an issued Auth Token is in %s: %s", where, masked))
					}
				}
			}
		}
	}
	return leaks
}

// lockedBuffer is a buffer the server's goroutines may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSecretScanFinds: the scan reports a secret wherever it appears, and nothing
// where none does.
func TestSecretScanFinds(t *testing.T) {
	sid := "IR" + strings.Repeat("a", 32)
	secrets := map[string]string{"abcdEFGH1234.-_zyxwvutsrqponmlk9": sid}
	clean := map[string]string{"stderr": "error: 401 Unauthorized\nhint: ••••lk9\n"}
	if leaks := findSecrets(secrets, clean); len(leaks) != 0 {
		t.Fatalf("found in clean text: %v", leaks)
	}
	dirty := map[string]string{"stderr": "ok\nAuthorization: Basic x abcdEFGH1234.-_zyxwvutsrqponmlk9\n"}
	leaks := findSecrets(secrets, dirty)
	if len(leaks) != 1 || strings.Contains(leaks[0], "abcdEFGH1234") || !strings.Contains(leaks[0], "<secret mlk9>") {
		t.Fatalf("leaks = %v, want one, masked", leaks)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(sid + ":abcdEFGH1234.-_zyxwvutsrqponmlk9"))
	if leaks := findSecrets(secrets, map[string]string{"log": `{"auth":"Basic ` + basic + `"}`}); len(leaks) != 1 {
		t.Fatalf("Basic credentials not found: %v", leaks)
	}
	// GitHub Actions' mask alone on its line is allowed; with more beside it
	// the line is a leak.
	mask := map[string]string{"stderr": "::add-mask::abcdEFGH1234.-_zyxwvutsrqponmlk9\nerror: ::add-mask::abcdEFGH1234.-_zyxwvutsrqponmlk9 x\n"}
	if leaks := findSecrets(secrets, mask); len(leaks) != 1 || !strings.Contains(leaks[0], "error: ") {
		t.Fatalf("mask lines: leaks = %v, want the second line only", leaks)
	}
}
