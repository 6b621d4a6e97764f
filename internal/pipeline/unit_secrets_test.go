package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
)

func TestSecretFileOfAnotherUserRefused(t *testing.T) {
	cmdutiltest.NeedRoot(t)
	path := filepath.Join(t.TempDir(), "ci.secret")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, cmdutiltest.Nobody, cmdutiltest.Nobody); err != nil {
		t.Fatal(err)
	}
	s := &SecretFlags{File: path}
	cmdutiltest.WantUsage(t, s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})), "--secret-file", "owned by another user", "nothing changed")
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("the file changed: %q", got)
	}
}

func TestSecretDirOfAnotherUserRefused(t *testing.T) {
	cmdutiltest.NeedRoot(t)
	dir := filepath.Join(t.TempDir(), "secrets")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, cmdutiltest.Nobody, cmdutiltest.Nobody); err != nil {
		t.Fatal(err)
	}
	s := &SecretFlags{Dir: dir, Bulk: true}
	cmdutiltest.WantUsage(t, s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})), "--secret-dir", "owned by another user")
}

func TestSecretDirWritableByOthersRefused(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	for _, mode := range []os.FileMode{0o770, 0o707, 0o777 | os.ModeSticky} {
		dir := filepath.Join(t.TempDir(), "secrets")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		s := &SecretFlags{Dir: dir, Bulk: true}
		cmdutiltest.WantUsage(t, s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})), "other users can write to it", "chmod 700 "+dir)
	}
	// A new directory is made 0700 and accepted.
	dir := filepath.Join(t.TempDir(), "new", "secrets")
	s := &SecretFlags{Dir: dir, Bulk: true}
	if err := s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})); err != nil {
		t.Fatalf("a new --secret-dir: %v", err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("new --secret-dir: %v, mode %v", err, st.Mode())
	}
}

func TestSecretPathStaysInDir(t *testing.T) {
	dir := filepath.Join("out", "secrets")
	sid := "IR" + strings.Repeat("a", 32)
	if got, err := SecretPath(dir, sid); err != nil || got != filepath.Join(dir, sid) {
		t.Errorf("secretPath(%q) = %q, %v", sid, got, err)
	}
	for _, bad := range []string{"../../x", "/etc/passwd", "IR" + strings.Repeat("a", 30) + "/.", "..", "", "IR" + strings.Repeat("a", 31) + "\x1b"} {
		if got, err := SecretPath(dir, bad); err == nil {
			t.Errorf("secretPath(%q) = %q, want a refusal", bad, got)
		}
	}
	s := &SecretFlags{Dir: t.TempDir()}
	if _, err := s.Save("../escaped", "secret"); err == nil {
		t.Error("save wrote a file named after ../escaped")
	}
}

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil: refused
	}{
		{"gh secret set IMPACT_AUTH_TOKEN", []string{"gh", "secret", "set", "IMPACT_AUTH_TOKEN"}},
		{"  vault   kv put\tsecret/ci token=-  ", []string{"vault", "kv", "put", "secret/ci", "token=-"}},
		{`store 'a file' "with \"quotes\" and \\ slash" don\'t`, []string{"store", "a file", `with "quotes" and \ slash`, "don't"}},
		{`cmd '' ""`, []string{"cmd", "", ""}},
		{`cmd 'it''s'`, []string{"cmd", "its"}},
		{`cmd "a\b" 'a\b' a\\b`, []string{"cmd", `a\b`, `a\b`, `a\b`}},
		{"cmd a\\\nb", []string{"cmd", "ab"}},
		{`cmd "literal | and ; and *"`, []string{"cmd", "literal | and ; and *"}},
		{`cmd 'single $HOME'`, []string{"cmd", "single $HOME"}},
		{`cmd a#b`, []string{"cmd", "a#b"}},
		{`cmd \$HOME`, []string{"cmd", "$HOME"}},
		{"", nil},
		{"   ", nil},
		{"cmd | tee x", nil},
		{"cmd > x", nil},
		{"cmd; rm -rf x", nil},
		{"cmd && other", nil},
		{"cmd $HOME", nil},
		{`cmd "$HOME"`, nil},
		{"cmd `id`", nil},
		{"cmd $(id)", nil},
		{"cmd *.txt", nil},
		{"cmd ~/x", nil},
		{"cmd # comment", nil},
		{"cmd 'open", nil},
		{`cmd "open`, nil},
		{`cmd \`, nil},
	} {
		got, err := SplitCommand(tc.in)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("splitCommand(%q) = %q, want a refusal", tc.in, got)
		case tc.want == nil:
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("splitCommand(%q): exit %d, want 2", tc.in, cmdutil.ExitCode(err))
			}
		case err != nil:
			t.Errorf("splitCommand(%q): %v", tc.in, err)
		case strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") || len(got) != len(tc.want):
			t.Errorf("splitCommand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckSecret(t *testing.T) {
	for s, want := range map[string]bool{
		"AbC.d-e_f0123456789abcdefghijklm":  true,
		"":                                  false,
		"AbC.d-e_f0123456789abcdefghijkl":   false, // 31
		"AbC.d-e_f0123456789abcdefghijklmn": false, // 33
		"two words two words two words 32":  false,
		"secret\n::warning::INJECTED\n::s":  false,
		"esc\x1b[31m":                       false,
		"%0A::stop-commands::zzzzzzzzzzzz":  false,
	} {
		err := CheckSecret(s, "the secret")
		if (err == nil) != want {
			t.Errorf("checkSecret(%q) = %v, want ok %v", s, err, want)
		}
		if err != nil && (cmdutil.ExitCode(err) != cmdutil.ExitUnavailable || strings.Contains(err.Error(), s) && s != "") {
			t.Errorf("checkSecret(%q): exit %d, %q: want exit 9 without the secret", s, cmdutil.ExitCode(err), err)
		}
	}
}

func TestSecretDirLinkRefused(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "secrets")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	// Checked through the link, the private directory it points to would
	// pass; whoever can change the link would choose where secrets go.
	s := &SecretFlags{Dir: link, Bulk: true}
	cmdutiltest.WantUsage(t, s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})), "--secret-dir", "symbolic link", "nothing changed")
	s = &SecretFlags{Dir: real, Bulk: true}
	if err := s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})); err != nil {
		t.Errorf("the directory itself: %v", err)
	}
}

// TestSecretDirWrittenWhereChecked: every secret goes into the directory
// --secret-dir's checks were made on, through its descriptor: a path swapped
// for a link to somewhere else after the check is never followed.
func TestSecretDirWrittenWhereChecked(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	base := t.TempDir()
	dir := filepath.Join(base, "secrets")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &SecretFlags{Dir: dir, Bulk: true}
	if err := s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	elsewhere := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, filepath.Join(base, "checked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	sid := "IR" + strings.Repeat("a", 32)
	path, err := s.Save(sid, "secret")
	if err != nil || path != filepath.Join(dir, sid) {
		t.Fatalf("save: %q, %v", path, err)
	}
	if got, err := os.ReadFile(filepath.Join(base, "checked", sid)); err != nil || string(got) != "secret\n" {
		t.Errorf("the checked directory holds %q, %v", got, err)
	}
	if _, err := os.Lstat(filepath.Join(elsewhere, sid)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the secret went where the path leads now: %v", err)
	}
}

// TestSecretDirMadeThenChecked: a missing --secret-dir is made 0700 without
// following a link and then checked like an existing one; a link in its
// place is refused and nothing is written through it.
func TestSecretDirMadeThenChecked(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	base := t.TempDir()
	dir := filepath.Join(base, "new", "secrets")
	s := &SecretFlags{Dir: dir, Bulk: true}
	if err := s.Check(iostreams.Streams(nil, &bytes.Buffer{}, &bytes.Buffer{})); err != nil {
		t.Fatal(err)
	}
	sid := "IR" + strings.Repeat("b", 32)
	if _, err := s.Save(sid, "secret"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if st, err := os.Stat(filepath.Join(dir, sid)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	// A link to an open directory in --secret-dir's place is refused, and
	// nothing is written through it.
	elsewhere := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(elsewhere, 0o777); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(base, "planted")
	if err := os.Symlink(elsewhere, planted); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSecretDir(planted)
	cmdutiltest.WantUsage(t, err, "--secret-dir", "symbolic link")
	if names, _ := os.ReadDir(elsewhere); len(names) != 0 {
		t.Errorf("written through the link: %v", names)
	}
}

// TestSecretCmdEnvHoldsNoCredential: a --secret-cmd that prints its
// environment shows no variable holding the credential in use: neither
// IMPACTCTL_AUTH_TOKEN* nor any other whose value it is (the action's
// INPUT_AUTH_TOKEN), trailing newline or not.
func TestSecretCmdEnvHoldsNoCredential(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	envCmd, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env command:", err)
	}
	const inUse = "InUse.credential-0123456789abcde"
	const newSecret = "New.secret-0123456789abcdefghijk"
	t.Setenv("INPUT_AUTH_TOKEN", inUse)
	t.Setenv("A_COPY_WITH_A_NEWLINE", inUse+"\n")
	t.Setenv("IMPACTCTL_AUTH_TOKEN", inUse)
	t.Setenv("IMPACTCTL_AUTH_TOKEN_FILE", "/run/secrets/impact")
	t.Setenv("UNRELATED", "kept")
	t.Setenv("EMPTY_ONE", "")
	var out bytes.Buffer
	sid := "IR" + strings.Repeat("c", 32)
	if err := HandOff(context.Background(), []string{envCmd}, sid, newSecret, inUse, &out); err != nil {
		t.Fatal(err)
	}
	env := out.String()
	if strings.Contains(env, inUse) {
		t.Errorf("the child's environment holds the credential in use:\n%s", env)
	}
	for _, gone := range []string{"INPUT_AUTH_TOKEN=", "A_COPY_WITH_A_NEWLINE=", "IMPACTCTL_AUTH_TOKEN"} {
		if strings.Contains(env, gone) {
			t.Errorf("the child has %s", gone)
		}
	}
	for _, kept := range []string{"\nUNRELATED=kept\n", "\nEMPTY_ONE=\n", "\nIMPACTCTL_SECRET_SID=" + sid + "\n"} {
		if !strings.Contains("\n"+env, kept) {
			t.Errorf("the child lacks %q", strings.TrimSpace(kept))
		}
	}
	// Without a credential in use (none known) nothing else is dropped:
	// an empty value is never taken for it.
	got := ChildEnv([]string{"EMPTY_ONE=", "UNRELATED=kept", "IMPACTCTL_AUTH_TOKEN=x"}, sid, "")
	if strings.Join(got, " ") != "EMPTY_ONE= UNRELATED=kept IMPACTCTL_SECRET_SID="+sid {
		t.Errorf("childEnv without a credential: %q", got)
	}
}
