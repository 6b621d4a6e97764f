package commands

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/server"
)

// answerAfter answers a prompt, but first runs meddle: another engineer's
// change landing while the question is on screen.
type answerAfter struct {
	meddle func()
	answer *strings.Reader
}

func (a *answerAfter) Read(p []byte) (int, error) {
	if a.meddle != nil {
		a.meddle()
		a.meddle = nil
	}
	return a.answer.Read(p)
}

// TestEditNeverOverwritesAConcurrentEdit: an edit confirmed after someone
// else changed the token exits 7 and leaves the other change in place.
func TestEditNeverOverwritesAConcurrentEdit(t *testing.T) {
	ctx := context.Background()
	inst, err := server.Start(ctx, server.Config{
		Addr: "127.0.0.1:0",
		DB:   filepath.Join(t.TempDir(), "tokens.db"),
		Demo: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		inst.Shutdown(sctx)
	})
	admin := inst.Admin
	target := inst.DemoCredentials()["reporter"].AccountSid
	t.Setenv("IMPACTCTL_API_URL", inst.URL)
	t.Setenv("IMPACTCTL_ACCOUNT_SID", admin.AccountSid)
	t.Setenv("IMPACTCTL_AUTH_TOKEN", admin.AuthToken)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("CI", "")
	t.Setenv("IMPACTCTL_NO_PROMPT", "")

	other, err := client.New(client.Options{BaseURL: inst.URL, AccountSid: admin.AccountSid, AuthToken: admin.AuthToken})
	if err != nil {
		t.Fatal(err)
	}
	in := &answerAfter{
		meddle: func() {
			tok, err := other.Token(ctx, target)
			if err != nil {
				t.Error(err)
				return
			}
			name := "Renamed by a colleague"
			if _, err := other.UpdateToken(ctx, target, client.TokenUpdate{Name: &name}, client.WriteOptions{IfMatch: tok.ETag}); err != nil {
				t.Error(err)
			}
		},
		answer: strings.NewReader("y\n"),
	}
	var stdout, stderr bytes.Buffer
	streams := iostreams.Streams(in, &stdout, &stderr)
	streams.SetStdinTTY(true)
	streams.SetStdoutTTY(true)
	code := Main([]string{"tokens", "edit", target, "--description", "Mine"}, streams)
	if code != cmdutil.ExitConflict {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, cmdutil.ExitConflict, stderr.String())
	}
	if !strings.Contains(stderr.String(), "changed by someone else") {
		t.Errorf("stderr does not explain the conflict:\n%s", stderr.String())
	}
	tok, err := other.Token(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "Renamed by a colleague" || tok.Description == "Mine" {
		t.Errorf("the colleague's edit was overwritten: name %q, description %q", tok.Name, tok.Description)
	}
}
