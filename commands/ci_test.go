package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/impactcom/impactctl/server"
)

// The CI recipes in docs/ci and the composite action in action.yml are run
// here as a CI runner would run them: their shell steps, with the real
// impactctl on PATH, against the real server on loopback, with gh, glab and
// curl replaced by stubs that record what they were given. A recipe that
// stops working fails these tests.

// recipeServer is a demo server for one recipe test: the rotating token is
// the demo admin, the rotated one the demo reporter.
type recipeServer struct {
	url          string
	rotatorSID   string
	rotatorToken string
	sid          string // the token the recipe rotates
	oldToken     string // its secret before any rotation
}

func startRecipeServer(t *testing.T) *recipeServer {
	t.Helper()
	inst, err := server.Start(context.Background(), server.Config{
		Addr: "127.0.0.1:0",
		DB:   filepath.Join(t.TempDir(), "tokens.db"),
		Demo: true,
		Rand: &lockedRand{r: rand.NewChaCha8([32]byte{'c', 'i'})},
	})
	if err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		inst.Shutdown(ctx)
	})
	reporter, ok := inst.DemoCredentials()["reporter"]
	if !ok {
		t.Fatal("the demo has no reporter token")
	}
	return &recipeServer{url: inst.URL, rotatorSID: inst.Admin.AccountSid, rotatorToken: inst.Admin.AuthToken,
		sid: reporter.AccountSid, oldToken: reporter.AuthToken}
}

// status is the HTTP status the server answers sid:secret on ApiTokens/Current.
func (s *recipeServer) status(t *testing.T, sid, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+"/Agencies/"+sid+"/ApiTokens/Current", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(sid, secret)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stubs is a directory of recording stand-ins for gh, glab and curl.
type stubs struct {
	bin string // goes first on PATH
	log string // STUB_LOG: one .args, .stdin and .env file per call
}

// stubScript records a call, then answers as the real tool would, or fails
// when $STUB_LOG/<tool>.fail exists. Its stdout is what the tool prints.
const stubScript = `#!/bin/sh
tool=$(basename "$0")
log="$STUB_LOG/$tool"
n=$(( $(cat "$log.count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$log.count"
printf '%s\n' "$@" > "$log.$n.args"
cat > "$log.$n.stdin"
env > "$log.$n.env"
if [ -e "$log.fail" ]; then
	echo "$tool: HTTP 502: Bad Gateway" >&2
	exit 1
fi
# The secret store: what consumers read from now on, replaced at once.
cp "$log.$n.stdin" "$STUB_LOG/store.tmp" && mv "$STUB_LOG/store.tmp" "$STUB_LOG/store"
echo "$tool: stored"
`

// curlStub serves files of $RELEASE_DIR for URLs under $RELEASE_BASE and
// answers 404 for any other URL.
const curlStub = `#!/bin/sh
out= url=
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out=$2; shift 2 ;;
	https://*) url=$1; shift ;;
	*) shift ;;
	esac
done
echo "$url" >> "$STUB_LOG/curl.urls"
name=${url#"$RELEASE_BASE"/}
if [ "$name" = "$url" ] || [ ! -f "$RELEASE_DIR/$name" ]; then
	echo "curl: (22) The requested URL returned error: 404" >&2
	exit 22
fi
cp "$RELEASE_DIR/$name" "$out"
`

func newStubs(t *testing.T) *stubs {
	t.Helper()
	s := &stubs{bin: t.TempDir(), log: t.TempDir()}
	for name, script := range map[string]string{"gh": stubScript, "glab": stubScript, "curl": curlStub} {
		if err := os.WriteFile(filepath.Join(s.bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// stubCall is one recorded call of a stub.
type stubCall struct {
	args  []string
	stdin string
	env   map[string]string
}

func (s *stubs) calls(t *testing.T, tool string) []stubCall {
	t.Helper()
	var calls []stubCall
	for n := 1; ; n++ {
		prefix := filepath.Join(s.log, fmt.Sprintf("%s.%d", tool, n))
		args, err := os.ReadFile(prefix + ".args")
		if os.IsNotExist(err) {
			return calls
		}
		if err != nil {
			t.Fatal(err)
		}
		stdin, err := os.ReadFile(prefix + ".stdin")
		if err != nil {
			t.Fatal(err)
		}
		envText, err := os.ReadFile(prefix + ".env")
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		for _, line := range strings.Split(string(envText), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		calls = append(calls, stubCall{args: strings.Fields(string(args)), stdin: string(stdin), env: env})
	}
}

// failing makes tool fail (or succeed again) from its next call on.
func (s *stubs) failing(t *testing.T, tool string, fail bool) {
	t.Helper()
	path := filepath.Join(s.log, tool+".fail")
	if !fail {
		os.Remove(path)
		return
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// shellResult is what one shell step did.
type shellResult struct {
	stdout, stderr string
	code           int
}

func (r shellResult) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// runShell runs script as a runner runs a step: bash -e -o pipefail on a
// file, with only the environment given (and the stubs and impactctl on PATH).
func runShell(t *testing.T, st *stubs, script string, env map[string]string) shellResult {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("the recipes' steps need bash")
	}
	file := filepath.Join(t.TempDir(), "step.sh")
	if err := os.WriteFile(file, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", file)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{
		"PATH=" + st.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"STUB_LOG=" + st.log,
		"LANG=C.UTF-8",
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := shellResult{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the step: %v", err)
	}
	return r
}

// expression matches a GitHub Actions ${{ … }} expression.
var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// expand resolves the ${{ context.name }} expressions of s from values; an
// expression the test does not know fails it, so a recipe cannot start to
// depend on something the test does not provide.
func expand(t *testing.T, s string, values map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		name := expression.FindStringSubmatch(m)[1]
		v, ok := values[name]
		if !ok {
			t.Fatalf("the test gives no value for ${{ %s }}", name)
		}
		return v
	})
}

// ghStep is a step of a GitHub Actions workflow or composite action.
type ghStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Env   map[string]string `yaml:"env"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// noSecrets fails t when any output of the steps holds one of the secrets.
func noSecrets(t *testing.T, results []shellResult, secrets ...string) {
	t.Helper()
	for _, r := range results {
		for _, s := range secrets {
			if s == "" {
				continue
			}
			// GitHub Actions' mask, alone on its line, is the runner's to
			// read: it never shows in the log, and hides the secret there.
			for _, line := range strings.Split(r.stdout+"\n"+r.stderr, "\n") {
				if line != "::add-mask::"+s && strings.Contains(line, s) {
					t.Errorf("a step printed a secret:\n%s", r)
					break
				}
			}
		}
	}
}

// emptyDir fails t unless dir holds nothing: the recipes leave no secret
// file behind.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("%s still holds %v", dir, entries)
	}
}

func lastCode(results []shellResult) int {
	if len(results) == 0 {
		return -1
	}
	return results[len(results)-1].code
}

// consumer is a job that keeps authenticating with whatever the secret store
// holds (oldToken until a hand-off stores another), as every pipeline that
// reads the secret does, and counts the refusals it meets.
type consumer struct {
	stop    chan struct{}
	done    chan struct{}
	checks  int
	refused []string
}

func startConsumer(t *testing.T, srv *recipeServer, st *stubs) *consumer {
	t.Helper()
	_ = t
	c := &consumer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			default:
			}
			secret := srv.oldToken
			if b, err := os.ReadFile(filepath.Join(st.log, "store")); err == nil {
				secret = strings.TrimSuffix(string(b), "\n")
			}
			c.checks++
			// Not srv.status: a goroutine other than the test's must not stop it.
			req, err := http.NewRequest(http.MethodGet, srv.url+"/Agencies/"+srv.sid+"/ApiTokens/Current", nil)
			if err != nil {
				c.refused = append(c.refused, err.Error())
				return
			}
			req.SetBasicAuth(srv.sid, secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				c.refused = append(c.refused, err.Error())
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				c.refused = append(c.refused, fmt.Sprintf("%d after %d checks", resp.StatusCode, c.checks))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return c
}

// finish stops the consumer and fails the test if it met a refusal.
func (c *consumer) finish(t *testing.T) {
	t.Helper()
	close(c.stop)
	<-c.done
	if len(c.refused) > 0 {
		t.Errorf("a consumer reading the secret store was refused during the rotation: %v", c.refused)
	}
	if c.checks < 5 {
		t.Errorf("the consumer authenticated only %d times", c.checks)
	}
}
