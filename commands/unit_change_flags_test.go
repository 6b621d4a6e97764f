package commands

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// parseFlags runs a changing command's constructor on argv with a runF that
// keeps the options and stops before any I/O.
func parseFlags[O any](t *testing.T, build func(*Factory, func(*O) error) *cobra.Command, argv string) (*O, error) {
	t.Helper()
	args, err := pipeline.SplitCommand("x " + argv)
	if err != nil {
		t.Fatal(err)
	}
	f := newFactory(iostreams.Streams(strings.NewReader(""), io.Discard, io.Discard), "test", nil)
	var got *O
	cmd := build(f, func(o *O) error { got = o; return nil })
	cmd.SetArgs(args[1:])
	cmd.SetOut(io.Discard)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatal("runF was not called")
	}
	return got, nil
}

func stateCmd(a client.Action) func(*Factory, func(*TokensStateOptions) error) *cobra.Command {
	return func(f *Factory, runF func(*TokensStateOptions) error) *cobra.Command {
		return newTokensStateCmd(f, a, "", runF)
	}
}

func contactsCmd(add bool) func(*Factory, func(*ContactsChangeOptions) error) *cobra.Command {
	return func(f *Factory, runF func(*ContactsChangeOptions) error) *cobra.Command {
		return newContactsChangeCmd(f, add, runF)
	}
}

// flagCase is one command line and what its options must hold; wantErr
// says it is refused before the run.
type flagCase[O any] struct {
	argv    string
	wantErr string
	check   func(t *testing.T, o *O)
}

func runFlagCases[O any](t *testing.T, name string, build func(*Factory, func(*O) error) *cobra.Command, cases []flagCase[O]) {
	for _, tt := range cases {
		t.Run(name+" "+tt.argv, func(t *testing.T) {
			got, err := parseFlags(t, build, tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestChangingCommandFlags(t *testing.T) {
	const sid = "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	for _, a := range []client.Action{client.ActionDisable, client.ActionEnable, client.ActionDelete} {
		runFlagCases(t, string(a), stateCmd(a), []flagCase[TokensStateOptions]{
			{argv: sid + " IRb --concurrency 8 --dry-run", check: func(t *testing.T, o *TokensStateOptions) {
				if o.Action != a || !slices.Equal(o.Select.SIDs, []string{sid, "IRb"}) || o.Select.Concurrency != 8 || !o.DryRun || o.Select.Filtered() {
					t.Errorf("%+v", o)
				}
			}},
			{argv: "--all --state enabled --unused-for 90d", check: func(t *testing.T, o *TokensStateOptions) {
				if !o.Select.All || o.Select.Filters.State != "enabled" || o.Select.Filters.UnusedFor != "90d" || !o.Select.Filtered() || len(o.Select.SIDs) != 0 {
					t.Errorf("%+v", o)
				}
			}},
			{argv: "--stdin --idempotency-key job-1", check: func(t *testing.T, o *TokensStateOptions) {
				if !o.Select.Stdin || o.IdempotencyKey != "job-1" || o.Select.Concurrency != 4 || o.DryRun {
					t.Errorf("%+v", o)
				}
			}},
			{argv: sid + " --secret-file x", wantErr: "unknown flag: --secret-file"},
		})
	}
	runFlagCases(t, "reset", newTokensResetCmd, []flagCase[TokensResetOptions]{
		{argv: sid + " --secret-file ci.secret --secret-cmd 'gh secret set X' --idempotency-key k", check: func(t *testing.T, o *TokensResetOptions) {
			if o.Secret.File != "ci.secret" || o.Secret.Cmd != "gh secret set X" || o.IdempotencyKey != "k" || !slices.Equal(o.Select.SIDs, []string{sid}) {
				t.Errorf("%+v", o)
			}
		}},
		{argv: "--all --not-reset-for 90d --secret-dir secrets --dry-run", check: func(t *testing.T, o *TokensResetOptions) {
			if !o.Select.All || o.Select.Filters.NotResetFor != "90d" || o.Secret.Dir != "secrets" || !o.DryRun || !o.Secret.Bulk {
				t.Errorf("%+v", o)
			}
		}},
		{argv: sid + " --reveal", check: func(t *testing.T, o *TokensResetOptions) {
			if !o.Secret.Reveal || o.Secret.File != "" {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "create", newTokensCreateCmd, []flagCase[TokensCreateOptions]{
		{argv: "--name 'CI deploys' --scope 'reports.*' --scope account.read --developer-email a@example.com --yes", wantErr: "unknown flag: --yes"},
		{argv: "--name 'CI deploys' --scope 'reports.*' --scope account.read --developer-email a@example.com --api-version latest --secret-file s", check: func(t *testing.T, o *TokensCreateOptions) {
			if o.Fields.Name != "CI deploys" || !slices.Equal(o.Scopes, []string{"reports.*", "account.read"}) ||
				!slices.Equal(o.DeveloperEmails, []string{"a@example.com"}) || o.Fields.APIVersion != "latest" || o.Secret.File != "s" || o.Secret.Bulk {
				t.Errorf("%+v", o)
			}
			if !o.Fields.set("name") || o.Fields.set("description") {
				t.Error("set does not tell the flags given")
			}
		}},
		{argv: "--from " + sid + " --reveal --idempotency-key dup-1", check: func(t *testing.T, o *TokensCreateOptions) {
			if o.From != sid || !o.Secret.Reveal || o.IdempotencyKey != "dup-1" {
				t.Errorf("%+v", o)
			}
		}},
		{argv: sid, wantErr: "takes no arguments"},
	})
	runFlagCases(t, "edit", newTokensEditCmd, []flagCase[TokensEditOptions]{
		{argv: sid + " --description '' --primary-contact ada@example.com --dry-run", check: func(t *testing.T, o *TokensEditOptions) {
			if o.SID != sid || o.Fields.Description != "" || !o.Fields.set("description") || o.Fields.PrimaryContact != "ada@example.com" || !o.DryRun || o.Fields.set("name") {
				t.Errorf("%+v", o)
			}
		}},
		{argv: "", wantErr: "takes one token: its Account SID or name"},
		{argv: sid + " " + sid, wantErr: "takes one token: its Account SID or name"},
	})
	runFlagCases(t, "scopes set", newScopesSetCmd, []flagCase[ScopesSetOptions]{
		{argv: sid + " 'reports.*' account.read", check: func(t *testing.T, o *ScopesSetOptions) {
			if o.SID != sid || !slices.Equal(o.Scopes, []string{"reports.*", "account.read"}) || len(o.Add)+len(o.Remove) != 0 {
				t.Errorf("%+v", o)
			}
		}},
		{argv: sid + " --add a.b --add c.d --remove e.f --idempotency-key k", check: func(t *testing.T, o *ScopesSetOptions) {
			if len(o.Scopes) != 0 || !slices.Equal(o.Add, []string{"a.b", "c.d"}) || !slices.Equal(o.Remove, []string{"e.f"}) || o.IdempotencyKey != "k" {
				t.Errorf("%+v", o)
			}
		}},
		{argv: "", wantErr: "takes a token (its Account SID or name) and the scopes"},
	})
	runFlagCases(t, "scopes clear", newScopesClearCmd, []flagCase[ScopesClearOptions]{
		{argv: sid + " --dry-run", check: func(t *testing.T, o *ScopesClearOptions) {
			if o.SID != sid || !o.DryRun {
				t.Errorf("%+v", o)
			}
		}},
		{argv: sid + " reports.read", wantErr: "takes one token: its Account SID or name"},
	})
	for _, add := range []bool{true, false} {
		runFlagCases(t, "contacts", contactsCmd(add), []flagCase[ContactsChangeOptions]{
			{argv: sid + " a@example.com B@example.com --dry-run", check: func(t *testing.T, o *ContactsChangeOptions) {
				if o.Add != add || o.SID != sid || !slices.Equal(o.Emails, []string{"a@example.com", "B@example.com"}) || !o.DryRun {
					t.Errorf("%+v", o)
				}
			}},
			{argv: sid, wantErr: "at least one e-mail address"},
		})
	}
}
