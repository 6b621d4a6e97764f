package config

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLoadConfig(t *testing.T) {
	const good = `profiles:
  default:
    account_sid: IRprofProfProfProfProfProfProf0000
    auth_token: s3cret
  work:
    api_url: https://eu.impact.example
    account_sid: IRworkWorkWorkWorkWorkWorkWork0000
    auth_token: w0rk
`
	tests := []struct {
		name    string
		content *string // nil: no file
		perm    os.FileMode
		// code is the exit code of the error; -1 any error, 0 none.
		code     int
		profiles []string
		// warn says a chmod warning is expected.
		warn bool
	}{
		{name: "missing file is an empty config", content: nil},
		{name: "0600 file", content: textPtr(good), perm: 0o600, profiles: []string{"default", "work"}},
		{name: "0644 file warns", content: textPtr(good), perm: 0o644, profiles: []string{"default", "work"}, warn: true},
		{name: "0640 file warns", content: textPtr(good), perm: 0o640, profiles: []string{"default", "work"}, warn: true},
		{name: "empty file", content: textPtr(""), perm: 0o600},
		{name: "null profiles", content: textPtr("profiles:\n"), perm: 0o600},
		{name: "bad YAML", content: textPtr("profiles: [unclosed\n"), perm: 0o600, code: cmdutil.ExitUsage},
		{name: "tab-indented YAML", content: textPtr("profiles:\n\tdefault: {}\n"), perm: 0o600, code: cmdutil.ExitUsage},
		{name: "profiles of the wrong type", content: textPtr("profiles: 3\n"), perm: 0o600, code: cmdutil.ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if tt.content != nil {
				if err := os.WriteFile(path, []byte(*tt.content), tt.perm); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.perm); err != nil {
					t.Fatal(err)
				}
			}
			var warn bytes.Buffer
			cfg, err := Load(path, &warn)
			if tt.code != 0 {
				if cmdutiltest.CheckExit(t, err, tt.code) && !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if cfg.Profiles == nil {
				t.Error("Profiles is nil")
			}
			if cfg.path != path {
				t.Errorf("path %q, want %q", cfg.path, path)
			}
			if got := strings.Join(cfg.ProfileNames(), ","); got != strings.Join(tt.profiles, ",") {
				t.Errorf("profiles %q, want %q", got, tt.profiles)
			}
			gotWarn := strings.Contains(warn.String(), "chmod 600 "+path)
			if gotWarn != tt.warn {
				t.Errorf("chmod warning %v, want %v; warn:\n%s", gotWarn, tt.warn, warn.String())
			}
			if !tt.warn && warn.Len() != 0 {
				t.Errorf("unexpected warning: %s", warn.String())
			}
			if strings.Contains(warn.String(), "s3cret") {
				t.Errorf("the warning shows a secret: %s", warn.String())
			}
		})
	}
}

func TestLoadConfigProfileFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	content := "profiles:\n  work:\n    api_url: https://eu.impact.example\n    account_sid: IRx\n    auth_token: tok\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{APIURL: "https://eu.impact.example", AccountSid: "IRx", AuthToken: "tok"}
	if got := cfg.Profiles["work"]; got != want {
		t.Errorf("profile %+v, want %+v", got, want)
	}
}

func TestLoadConfigDirectory(t *testing.T) {
	if _, err := Load(t.TempDir(), &bytes.Buffer{}); err == nil {
		t.Error("no error reading a directory as the config file")
	}
}

func TestConfigSave(t *testing.T) {
	profiles := map[string]Profile{
		"default": {AccountSid: "IRprofProfProfProfProfProfProf0000", AuthToken: "s3cret: with colon #and hash"},
		"work":    {APIURL: "https://eu.impact.example", AccountSid: "IRworkWorkWorkWorkWorkWorkWork0000", AuthToken: "w0rk"},
	}
	tests := []struct {
		name string
		// existing is the mode of a config file already there, 0 when none.
		existing os.FileMode
	}{
		{name: "new directory and file"},
		{name: "over a 0644 file", existing: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "xdg", "impactctl")
			path := filepath.Join(dir, "config.yaml")
			if tt.existing != 0 {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte("profiles: {}\n"), tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			cfg := &Config{Profiles: maps.Clone(profiles), path: path}
			if err := cfg.Save(); err != nil {
				t.Fatalf("Save: %v", err)
			}
			st, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o700 {
				t.Errorf("directory mode %04o, want 0700", st.Mode().Perm())
			}
			st, err = os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("file mode %04o, want 0600", st.Mode().Perm())
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %q, want only config.yaml", names)
			}
			var warn bytes.Buffer
			back, err := Load(path, &warn)
			if err != nil {
				t.Fatalf("loading what Save wrote: %v", err)
			}
			if !maps.Equal(back.Profiles, profiles) {
				t.Errorf("round trip: %+v, want %+v", back.Profiles, profiles)
			}
			if warn.Len() != 0 {
				t.Errorf("warning after Save: %s", warn.String())
			}
		})
	}
}

func textPtr(s string) *string { return &s }

// TestUpdateConfigConcurrent: runs writing the config at once (parallel
// logins, jobs rotating different profiles) never undo each other.
func TestUpdateConfigConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "impactctl", "config.yaml")
	const n = 12
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Update(path, func(c *Config) error {
				c.Profiles[fmt.Sprintf("p%d", i)] = Profile{AccountSid: fmt.Sprintf("IR%032d", i), AuthToken: "s"}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cfg, err := Load(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Profiles) != n {
		t.Errorf("%d profiles survived, want %d: %v", len(cfg.Profiles), n, cfg.ProfileNames())
	}
}
