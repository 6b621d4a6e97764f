package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"
)

func writeConfigFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "yaml")
	if err := os.WriteFile(path, []byte("profiles:\n  default:\n    account_sid: IRx\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigOfAnotherUserRefused(t *testing.T) {
	cmdutiltest.NeedRoot(t)
	path := writeConfigFile(t, 0o600)
	if err := os.Chown(path, cmdutiltest.Nobody, cmdutiltest.Nobody); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, &bytes.Buffer{})
	cmdutiltest.WantUsage(t, err, "owned by another user (uid 65534)", "chown 0 "+path)
}

func TestConfigWritableByOthersRefused(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		path := writeConfigFile(t, mode)
		_, err := Load(path, &bytes.Buffer{})
		cmdutiltest.WantUsage(t, err, "other users can write to it", "chmod 600 "+path)
	}
	// Readable by others: loaded, with a warning.
	path := writeConfigFile(t, 0o644)
	var warn bytes.Buffer
	if _, err := Load(path, &warn); err != nil {
		t.Fatalf("loadConfig of a 0644 file: %v", err)
	}
	if !strings.Contains(warn.String(), "chmod 600") {
		t.Errorf("no warning for a 0644 config: %q", warn.String())
	}
}

func TestConfigLinkRefused(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	target := writeConfigFile(t, 0o600)
	path := filepath.Join(t.TempDir(), "yaml")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, &bytes.Buffer{})
	cmdutiltest.WantUsage(t, err, "symbolic link")
}

func TestLockLinkNotFollowed(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "yaml")
	elsewhere := filepath.Join(t.TempDir(), "planted")
	if err := os.Symlink(elsewhere, path+".lock"); err != nil {
		t.Fatal(err)
	}
	_, err := Update(path, func(*Config) error { return nil })
	cmdutiltest.WantUsage(t, err, "lock file", "symbolic link")
	if _, err := os.Lstat(elsewhere); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the config was written beside a planted lock: %v", err)
	}
}

func TestLockOfAnotherUserRefused(t *testing.T) {
	cmdutiltest.NeedRoot(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "yaml")
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path+".lock", cmdutiltest.Nobody, cmdutiltest.Nobody); err != nil {
		t.Fatal(err)
	}
	_, err := Update(path, func(*Config) error { return nil })
	cmdutiltest.WantUsage(t, err, "lock file", "owned by another user")
}

func TestTokenFileChecked(t *testing.T) {
	cmdutiltest.NeedUnix(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ci.secret")
	if err := os.WriteFile(path, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A link is followed (secret volumes are links); the file it reaches is
	// what is checked and read.
	link := filepath.Join(dir, "mounted")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	if got, err := ReadTokenFile(link, &warn); err != nil || got != "s3cret" || warn.Len() != 0 {
		t.Errorf("through a link: %q, %v, warning %q", got, err, warn.String())
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadTokenFile(link, &warn); err != nil || got != "s3cret" || !strings.Contains(warn.String(), "can be read by other users (mode 0644): run chmod 600 "+link) {
		t.Errorf("readable by others: %q, %v, warning %q", got, err, warn.String())
	}

	if err := os.Chmod(path, 0o620); err != nil {
		t.Fatal(err)
	}
	_, err := ReadTokenFile(link, io.Discard)
	cmdutiltest.WantUsage(t, err, "IMPACTCTL_AUTH_TOKEN_FILE", "other users can write to it", "chmod 600")

	_, err = ReadTokenFile(dir, io.Discard)
	cmdutiltest.WantUsage(t, err, "IMPACTCTL_AUTH_TOKEN_FILE", "a directory, not a regular file")
}

func TestTokenFileOfAnotherUserRefused(t *testing.T) {
	cmdutiltest.NeedRoot(t)
	path := filepath.Join(t.TempDir(), "ci.secret")
	if err := os.WriteFile(path, []byte("planted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, cmdutiltest.Nobody, cmdutiltest.Nobody); err != nil {
		t.Fatal(err)
	}
	_, err := ReadTokenFile(path, io.Discard)
	cmdutiltest.WantUsage(t, err, "IMPACTCTL_AUTH_TOKEN_FILE", "owned by another user")
	// Root's own file (a mounted secret) is accepted.
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadTokenFile(path, io.Discard); err != nil || got != "planted" {
		t.Errorf("root's file: %q, %v", got, err)
	}
}
