package commands

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
)

func TestScopesEditFlags(t *testing.T) {
	const sid = "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	runFlagCases(t, "scopes edit", newScopesEditCmd, []flagCase[ScopesEditOptions]{
		{argv: sid + " --dry-run --idempotency-key k1", check: func(t *testing.T, o *ScopesEditOptions) {
			if o.SID != sid || !o.DryRun || o.IdempotencyKey != "k1" {
				t.Fatalf("got %+v", o)
			}
		}},
		{argv: "", wantErr: "one token: its Account SID or name"},
		{argv: sid + " reports.read", wantErr: "one token: its Account SID or name"},
	})
}

// Where no one can answer, scopes edit refuses before any request, naming
// the command for scripts.
func TestScopesEditNeedsATerminal(t *testing.T) {
	const sid = "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	for _, tty := range []struct{ in, out, noPrompt bool }{{false, false, false}, {true, false, false}, {false, true, false}, {true, true, true}} {
		ios := iostreams.Streams(strings.NewReader(""), io.Discard, io.Discard)
		ios.SetStdinTTY(tty.in)
		ios.SetStdoutTTY(tty.out)
		ios.SetNeverPrompt(tty.noPrompt)
		called := false
		opts := &ScopesEditOptions{SID: sid, Env: cmdEnv{IO: ios, Getenv: func(string) string { return "" },
			Client: func(context.Context) (*client.Client, error) { called = true; return nil, errors.New("no") }}}
		err := scopesEditRun(context.Background(), opts)
		if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "impactctl scopes set "+sid) || called {
			t.Errorf("%+v: err %v (exit %d), client asked for: %v", tty, err, cmdutil.ExitCode(err), called)
		}
	}
}

func TestScopesEditCategoriesKeepUnlisted(t *testing.T) {
	cat := &client.Catalog{Categories: []client.Category{{Id: "reports", Name: "Reports", Scopes: []client.Scope{{Id: "reports.read", Name: "Read"}}}}}
	got := pickerCategories(cat, []string{"zeta.old", "reports.read", "alpha.old"})
	if len(got) != 2 || got[0].ID != "reports" || got[1].Name != "Not in the catalog" {
		t.Fatalf("categories %+v", got)
	}
	var ids []string
	for _, s := range got[1].Scopes {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"alpha.old", "zeta.old"}) {
		t.Fatalf("unlisted %v", ids)
	}
	if got := missingScopes([]string{"b", "a", "c"}, []string{"c"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("missing %v", got)
	}
}
