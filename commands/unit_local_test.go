package commands

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/iostreams"
)

// TestLocalInProcess: --local serves its requests in the process, and its
// --debug lines are those of any server: each request and answer with its
// X-Request-Id, never the admin's secret.
func TestLocalInProcess(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, k := range []string{"IMPACTCTL_ACCOUNT_SID", "IMPACTCTL_AUTH_TOKEN", "IMPACTCTL_API_URL", "IMPACTCTL_LOCAL"} {
		t.Setenv(k, "")
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Main(args, iostreams.Streams(strings.NewReader(""), &out, &errOut)); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		return out.String(), errOut.String()
	}
	secret, _ := run("--local", "auth", "token")
	secret = strings.TrimSpace(secret)
	if len(secret) < 20 {
		t.Fatalf("auth token printed %q", secret)
	}
	out, debug := run("--local", "--debug", "tokens", "list", "-o", "json")
	if !strings.Contains(out, `"Agency admin"`) {
		t.Errorf("the list holds no admin token:\n%s", out)
	}
	for _, re := range []string{
		`(?m)^--> GET http://in-process\.invalid/Agencies/IR\w+/ApiTokens\?PageSize=\d+ Authorization: Basic \[redacted\]$`,
		`(?m)^<-- 200 OK GET http://in-process\.invalid/Agencies/IR\w+/ApiTokens in \S+ X-Request-Id: RQ[0-9a-f]{32}$`,
	} {
		if !regexp.MustCompile(re).MatchString(debug) {
			t.Errorf("no line matching %s in:\n%s", re, debug)
		}
	}
	if strings.Contains(debug, secret) || strings.Contains(out, secret) {
		t.Error("the admin's secret is in the output")
	}
}
