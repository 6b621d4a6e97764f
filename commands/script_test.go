package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/impactcom/impactctl/commands"
	"github.com/impactcom/impactctl/server"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"impactctl":       func() { os.Exit(commands.Main(os.Args[1:], scriptStreams())) },
		"secret-recorder": secretRecorder,
	})
}

// secretRecorder is a --secret-cmd for scripts: `secret-recorder PREFIX
// [EXIT [WATCH]]` appends its stdin to PREFIX.stdin and a line to PREFIX.log
// naming IMPACTCTL_SECRET_SID, every IMPACTCTL_AUTH_TOKEN* variable it was
// given, whether $RECORDER_DIR/<SID> already existed and, with WATCH, every
// variable whose value is WATCH; it prints a line on stdout and on stderr,
// then exits with EXIT (default 0).
func secretRecorder() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: secret-recorder PREFIX [EXIT]")
		os.Exit(2)
	}
	prefix := os.Args[1]
	in, _ := io.ReadAll(os.Stdin)
	sid := os.Getenv("IMPACTCTL_SECRET_SID")
	var leaked []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "IMPACTCTL_AUTH_TOKEN") {
			k, _, _ := strings.Cut(kv, "=")
			leaked = append(leaked, k)
		}
	}
	fileFirst := "no"
	if dir := os.Getenv("RECORDER_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, sid)); err == nil {
			fileFirst = "yes"
		}
	}
	appendTo := func(name, text string) {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			f.WriteString(text)
			f.Close()
		}
	}
	watched := ""
	if len(os.Args) > 3 {
		var holding []string
		for _, kv := range os.Environ() {
			if k, v, _ := strings.Cut(kv, "="); strings.TrimSpace(v) == os.Args[3] {
				holding = append(holding, k)
			}
		}
		watched = fmt.Sprintf(" watched-env=%q", strings.Join(holding, ","))
	}
	appendTo(prefix+".stdin", string(in))
	appendTo(prefix+".log", fmt.Sprintf("sid=%s auth-env=%q file-first=%s%s\n", sid, strings.Join(leaked, ","), fileFirst, watched))
	fmt.Println("recorder says hello on stdout")
	fmt.Fprintln(os.Stderr, "recorder says hello on stderr")
	code := 0
	if len(os.Args) > 2 {
		code, _ = strconv.Atoi(os.Args[2])
	}
	os.Exit(code)
}

// scriptNow is the fixed clock of the scripts' server and of the CLI's
// relative filters, so golden output never changes.
var scriptNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// TestScripts runs testdata/script/*.txtar: the real impactctl against the
// real server on 127.0.0.1:0, one server per script, seeded with the demo
// data from a fixed random stream and clock.
//
// Each script starts with environment credentials of the demo admin token
// ($ADMIN_SID, $ADMIN_TOKEN) and IMPACTCTL_API_URL set. Other demo tokens are
// $<ROLE>_SID and $<ROLE>_TOKEN (READONLY, DISABLED, AGENCY2_ADMIN, BRAND_ADMIN),
// and each secret is also in $WORK/<role>.secret (admin.secret, brand-admin.secret).
// Set UPDATE_SCRIPTS=1 to rewrite golden files.
//
// A script can put a hostile server in place of the real one:
//
//	hostile start rules
//	hostile requests
//
// `hostile start` serves on 127.0.0.1:0 and points IMPACTCTL_API_URL and the
// environment credentials at it ($HOSTILE_URL, $HOSTILE_SID, $HOSTILE_TOKEN);
// it stops when the script ends. `hostile requests` prints each request it
// was sent ("METHOD /path?query"), one a line, for stdout to check.
//
// Each rule in the rules file starts with a line ">>> METHOD /path/pattern"
// (METHOD may be *; the pattern is path.Match's, so * matches one segment).
// The first rule that matches answers; an unmatched request gets 404. A rule
// holds a first line, header lines, a blank line and the body:
//
//	>>> GET /Agencies/*/ApiTokens/*
//	200 times=1
//	X-RateLimit-Reset: 999999999
//
//	{"AccountSid":"../../x","Name":"{{"\x1b[31m"}}red"}
//
// The first line is a status and options, or "hang" (never answer, until the
// client gives up) or "close" (drop the connection unanswered). Options:
// times=N (the rule answers its first N matches, later ones fall through to
// the next rules), delay=DURATION (wait first), stall (send the headers and
// half the body, then never finish), trickle (send the headers, then the body
// and 100 spaces after it one byte at a time, every=DURATION apart, 2s unless
// said). Content-Type defaults to
// application/json; "Content-Type:" with no value sends none. The body is a
// text/template over {{.URL}} (the server's base URL), {{.SID}}, {{.N}} (this
// rule's answer count, from 1), {{.Path}}, {{.Query}} and {{index .Wild 0}}
// (the segments the pattern's wildcards matched), with the functions repeat
// and add; Go string escapes in {{"..."}} give raw bytes such as ESC.
func TestScripts(t *testing.T) {
	reportSecretScan(t)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup:               setupScript,
		Condition:           scriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
			"pty":      cmdPty,
			"ptykeys":  cmdPtyKeys,
			"ptyquiet": cmdPtyQuiet,
			"filemode": cmdFilemode,
			"proxy":    cmdProxy,
			"readyenv": cmdReadyenv,
			"hostile":  cmdHostile,
			"seed":     cmdSeed,
		},
	})
}

// scriptCondition answers the scripts' own conditions: [pty] holds where a
// pseudo-terminal can be opened, for the scenarios typed at a terminal;
// [keyring] where a Secret Service runs for the tests (.ci/keyring.sh
// starts one and sets IMPACTCTL_TEST_KEYRING=1). Under CI=true a missing
// Secret Service fails the scenario rather than skipping it.
func scriptCondition(cond string) (bool, error) {
	if cond == "keyring" {
		if os.Getenv("IMPACTCTL_TEST_KEYRING") == "1" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
			return true, nil
		}
		if os.Getenv("CI") == "true" {
			return false, errors.New("no Secret Service for the keyring tests under CI=true: source .ci/keyring.sh first")
		}
		return false, nil
	}
	if cond != "pty" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		return false, nil
	}
	ptmx.Close()
	tty.Close()
	return true, nil
}

func setupScript(env *testscript.Env) error {
	dir := filepath.Join(env.WorkDir, ".server")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	scan, err := newSecretScan(env)
	if err != nil {
		return err
	}
	inst, err := server.Start(context.Background(), server.Config{
		Logger:        scan.logger(),
		Addr:          "127.0.0.1:0",
		DB:            filepath.Join(dir, "tokens.db"),
		Demo:          true,
		RateLimit:     server.Rate{N: 1000, Per: time.Hour},
		AuthFailLimit: server.Rate{N: 100, Per: time.Minute},
		Rand:          &lockedRand{r: rand.NewChaCha8([32]byte{'i', 'm', 'p', 'a', 'c', 't'})},
		Now:           func() time.Time { return scriptNow },
	})
	if err != nil {
		return fmt.Errorf("starting the server: %w", err)
	}
	env.Defer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		inst.Shutdown(ctx)
	})
	url, err := scan.front(env, inst.URL)
	if err != nil {
		return err
	}
	home := filepath.Join(env.WorkDir, "home")
	for k, v := range map[string]string{
		"HOME":                 home,
		"XDG_CONFIG_HOME":      filepath.Join(home, ".config"),
		"XDG_DATA_HOME":        filepath.Join(home, ".local", "share"),
		"IMPACTCTL_API_URL":    url,
		"IMPACTCTL_NOW":        scriptNow.Format(time.RFC3339),
		"IMPACTCTL_RETRY_WAIT": "1ms",
		// No scenario writes a developer's real keyring; keyring.txtar
		// turns it on against a throwaway Secret Service.
		"IMPACTCTL_KEYRING": "off",
		"SERVER_URL":        url,
		// The Secret Service of keyring.txtar, when one runs.
		"DBUS_SESSION_BUS_ADDRESS": os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
		"DEAD_URL":                 deadURL(),
	} {
		env.Setenv(k, v)
	}
	for role, c := range inst.DemoCredentials() {
		name := strings.ToUpper(strings.ReplaceAll(role, "-", "_"))
		env.Setenv(name+"_SID", c.AccountSid)
		env.Setenv(name+"_TOKEN", c.AuthToken)
		scan.add(c.AccountSid, c.AuthToken)
		if err := os.WriteFile(filepath.Join(env.WorkDir, role+".secret"), []byte(c.AuthToken+"\n"), 0o600); err != nil {
			return err
		}
	}
	env.Setenv("IMPACTCTL_ACCOUNT_SID", inst.Admin.AccountSid)
	env.Setenv("IMPACTCTL_AUTH_TOKEN", inst.Admin.AuthToken)
	return nil
}

// deadURL is a loopback URL where nothing listens.
func deadURL() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "http://127.0.0.1:1"
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// lockedRand makes a deterministic stream safe for the server's goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedRand) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// cmdExitcode runs a command and checks its exit code:
//
//	exitcode 3 impactctl tokens disable $SID
//
// Its stdout and stderr are kept for the stdout and stderr commands.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("usage: exitcode N command [args...]: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// cmdPty runs a command on a real pseudo-terminal (stdin, stdout and stderr
// all a terminal, 200 columns wide unless -cols says otherwise) and types
// the contents of a file into it; what the terminal shows becomes stdout,
// followed by a line "[exit N]":
//
//	pty answers.txt impactctl tokens disable $SID
//	pty -cols 80 empty.txt impactctl tokens list
func cmdPty(ts *testscript.TestScript, neg bool, args []string) {
	cols := 200
	if len(args) > 1 && args[0] == "-cols" {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			ts.Fatalf("pty: -cols wants a positive number")
		}
		cols, args = n, args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: pty [-cols N] inputfile command [args...]")
	}
	input := ts.ReadFile(args[0])
	cmd := ptyCommand(ts, args[1:])
	cmd.Env = append(cmd.Env, "TERM=dumb")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: uint16(cols)})
	ts.Check(err)
	term := &terminal{}
	done := make(chan struct{})
	go func() {
		io.Copy(term, f)
		close(done)
	}()
	// Type each line only once the program shows a prompt, as a person
	// would: typed ahead, a secret would be echoed before echo is off.
	for _, line := range strings.SplitAfter(input, "\n") {
		if line == "" {
			continue
		}
		term.waitForPrompt(done)
		if strings.HasPrefix(line, "\x03") {
			line = "\x03" // Ctrl-C is pressed alone, without Enter.
		}
		_, err = io.WriteString(f, line)
		ts.Check(err)
	}
	err = cmd.Wait()
	<-done
	f.Close()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	fmt.Fprintf(ts.Stdout(), "%s[exit %d]\n", strings.ReplaceAll(term.String(), "\r\n", "\n"), code)
	if (code != 0) != neg {
		ts.Fatalf("pty: exit %d", code)
	}
}

// ptyCommand is the command a pty script line runs: a registered command
// found on the script's PATH, in the script's directory, with the
// script's environment for impactctl.
func ptyCommand(ts *testscript.TestScript, args []string) *exec.Cmd {
	path, err := exec.LookPath(args[0])
	if err != nil {
		// The registered commands live on the script's PATH, not ours.
		path = filepath.Join(filepath.Dir(ts.Getenv("PATH")), args[0])
		for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
			if _, err := os.Stat(filepath.Join(dir, args[0])); err == nil {
				path = filepath.Join(dir, args[0])
				break
			}
		}
	}
	cmd := exec.Command(path, args[1:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
		"IMPACTCTL_API_URL", "IMPACTCTL_ACCOUNT_SID", "IMPACTCTL_AUTH_TOKEN", "IMPACTCTL_AUTH_TOKEN_FILE",
		"IMPACTCTL_PROFILE", "IMPACTCTL_CONFIG", "IMPACTCTL_NOW", "IMPACTCTL_RETRY_WAIT", "IMPACTCTL_NO_PROMPT", "CI", "NO_COLOR",
		"IMPACTCTL_KEYRING", "XDG_CACHE_HOME", "DBUS_SESSION_BUS_ADDRESS"} {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd
}

// terminal collects what a pseudo-terminal shows.
type terminal struct {
	mu       sync.Mutex
	buf      strings.Builder
	answered int
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// waitForPrompt waits until new output ends in a question (": " or "] "),
// the program ends, or five seconds pass.
func (t *terminal) waitForPrompt(done <-chan struct{}) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		s := t.buf.String()
		if len(s) > t.answered && (strings.HasSuffix(s, ": ") || strings.HasSuffix(s, "] ")) {
			t.answered = len(s)
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// cmdFilemode checks a file's permission bits:
//
//	filemode 0600 home/.config/impactctl/config.yaml
func cmdFilemode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode MODE path")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	st, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	got := st.Mode().Perm()
	if (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// faultProxy stands between the CLI and the server and misbehaves once, as
// networks do: it can lose the answer to a reset the server already made,
// (drop-reset: the first; drop-resets: every one, as when the job dies),
// answer one request with 503 or 429, or never answer one (hang). Two faults
// last: hang-all never answers any request, and spent says on every answer
// that the rate budget is spent until X-RateLimit-Reset 999999999; escapes
// puts terminal escape sequences into every error's Message and every
// AccountSid that answers a change.
type faultProxy struct {
	upstream string
	fault    string

	mu     sync.Mutex
	fired  bool
	resets int // fresh resets the server made (not idempotent replays)
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	fire := p.matches(r) && (!p.fired || p.fault == "drop-resets" || p.fault == "hang-all" || p.fault == "spent" || p.fault == "escapes")
	if fire {
		p.fired = true
	}
	p.mu.Unlock()
	if fire && (p.fault == "hang" || p.fault == "hang-all") {
		// An answer that never comes, until the client gives up.
		<-r.Context().Done()
		return
	}
	if fire && (p.fault == "503" || p.fault == "429") {
		code, _ := strconv.Atoi(p.fault)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(code)
		io.WriteString(w, `{"Status":"ERROR","Message":"try again"}`)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if strings.HasSuffix(r.URL.Path, "/Reset") && resp.StatusCode == http.StatusOK && resp.Header.Get("Idempotent-Replayed") == "" {
		p.mu.Lock()
		p.resets++
		p.mu.Unlock()
	}
	if fire && (p.fault == "drop-reset" || p.fault == "drop-resets") {
		// The server has committed the reset; its answer is lost on the way.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	if fire && p.fault == "escapes" {
		answer = bytes.ReplaceAll(answer, []byte(`"Message":"`), []byte(`"Message":"\u001b]0;owned\u0007\u001b[31m`))
		if r.Method != http.MethodGet {
			answer = bytes.ReplaceAll(answer, []byte(`"AccountSid":"`), []byte(`"AccountSid":"\u001b[2J`))
		}
		resp.Header.Del("Content-Length")
	}
	if fire && p.fault == "spent" {
		resp.Header.Set("X-RateLimit-Remaining", "0")
		resp.Header.Set("X-RateLimit-Reset", "999999999")
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

func (p *faultProxy) matches(r *http.Request) bool {
	if p.fault == "drop-reset" || p.fault == "drop-resets" {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Reset")
	}
	return true
}

// proxies holds each script's fault proxy.
var proxies sync.Map // *testscript.TestScript → *faultProxy

// cmdProxy starts a faulty proxy in front of the script's server and points
// IMPACTCTL_API_URL at it, or checks what it saw:
//
//	proxy drop-reset|drop-resets|503|429|hang|hang-all|spent|escapes
//	proxy resets 1
func cmdProxy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: proxy drop-reset|drop-resets|503|429|hang|hang-all|spent|escapes | proxy resets N")
	}
	if args[0] == "resets" {
		v, _ := proxies.Load(ts)
		p, _ := v.(*faultProxy)
		if p == nil || len(args) != 2 {
			ts.Fatalf("usage: proxy resets N, after proxy drop-reset")
		}
		p.mu.Lock()
		got := p.resets
		p.mu.Unlock()
		if strconv.Itoa(got) != args[1] {
			ts.Fatalf("the server made %d resets, want %s", got, args[1])
		}
		return
	}
	p := &faultProxy{upstream: ts.Getenv("SERVER_URL"), fault: args[0]}
	srv := httptest.NewServer(p)
	ts.Defer(func() {
		srv.Close()
		proxies.Delete(ts)
	})
	proxies.Store(ts, p)
	ts.Setenv("IMPACTCTL_API_URL", srv.URL)
}

// cmdReadyenv waits for a ready file written by `impactctl serve` and points
// the environment credentials at its admin token:
//
//	exec impactctl serve --demo --db d.db --addr 127.0.0.1:0 --ready-file ready.json &
//	readyenv ready.json
func cmdReadyenv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: readyenv file")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && len(data) > 0 {
			var ready server.Credential
			ts.Check(json.Unmarshal(data, &ready))
			ts.Setenv("IMPACTCTL_API_URL", ready.Url)
			ts.Setenv("IMPACTCTL_ACCOUNT_SID", ready.AccountSid)
			ts.Setenv("IMPACTCTL_AUTH_TOKEN", ready.AuthToken)
			addSecret(ts, ready.AccountSid, ready.AuthToken)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no ready file %s after 20s", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
