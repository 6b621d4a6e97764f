package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/impactcom/impactctl/internal/atomicfile"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/safefile"
	"go.yaml.in/yaml/v3"
)

// Profile is one named set of credentials with the URL they belong to.
type Profile struct {
	APIURL     string `yaml:"api_url"`
	AccountSid string `yaml:"account_sid"`
	AuthToken  string `yaml:"auth_token,omitempty"`
	// Kind is "agency" or "brand", learnt at login, so commands need not
	// ask the server each time.
	Kind string `yaml:"kind,omitempty"`
	// SecretIn is "keyring" when the Auth Token is in the OS keyring, and
	// AuthToken is then empty; "" keeps it in this file.
	SecretIn string `yaml:"secret_in,omitempty"`
}

// Config is the config file: named profiles.
type Config struct {
	Profiles map[string]Profile `yaml:"profiles"`
	// Current is the profile `auth switch` chose: used when neither
	// --profile nor IMPACTCTL_PROFILE names one. Empty means "default".
	Current string `yaml:"current_profile,omitempty"`

	path string
}

// Path is IMPACTCTL_CONFIG, else $XDG_CONFIG_HOME/impactctl/config.yaml
// (or the platform's user config directory).
func Path(getenv func(string) string) (string, error) {
	if p := getenv("IMPACTCTL_CONFIG"); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("cannot find a config directory: set XDG_CONFIG_HOME or IMPACTCTL_CONFIG: %w", err)
		}
	}
	return filepath.Join(dir, "impactctl", "config.yaml"), nil
}

// Load reads the config file; a missing file is an empty config.
// As ssh does with its own, it refuses a config file that is a symbolic
// link, not a regular file, owned by another user (root aside) or writable
// by others: whoever controls it chooses where the secrets go. Checks are
// made on the open descriptor, so the file cannot be swapped between check
// and read. A file others can read gets a warning on warn naming the chmod.
func Load(path string, warn io.Writer) (*Config, error) {
	cfg := &Config{Profiles: map[string]Profile{}, path: path}
	f, err := safefile.OpenNoFollow(path, os.O_RDONLY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cfg, nil
	case errors.Is(err, safefile.ErrIsLink):
		return nil, LinkError("config file", path)
	case err != nil:
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, NotRegular("config file", path, st)
	}
	if err := CheckOwner("config file", path, st, true); err != nil {
		return nil, err
	}
	if err := CheckNotWritableByOthers("config file", path, st, 0o600); err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		iostreams.Warnf(warn, "%s can be read by other users (mode %04o); it holds secrets: run chmod 600 %s",
			path, st.Mode().Perm(), path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if err := yaml.Unmarshal(data, cfg); err != nil {
		return nil, &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: fmt.Errorf("config file %s is not valid YAML: %s", path, yamlProblem(err))}
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]Profile{}
	}
	return cfg, nil
}

// quotedText is what a YAML parser quotes from the file in its errors.
var quotedText = regexp.MustCompile("`[^`]*`|'[^']*'")

// yamlProblem is a YAML parser's error without the text it quotes from the file:
// the file holds secrets, and a misplaced one may be what the parser quotes.
func yamlProblem(err error) string {
	return quotedText.ReplaceAllString(err.Error(), "…")
}

// Save writes the config atomically with mode 0600 in a 0700 directory.
func (c *Config) Save() error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating config directory: %w", err)
	}
	if filepath.Base(dir) == "impactctl" {
		// Our own directory: nobody else has business listing it.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("securing config directory: %w", err)
		}
	}
	return atomicfile.Write(c.path, buf.Bytes(), 0o600)
}

// Update changes the config file under an exclusive lock: it reads
// the file afresh, applies change and writes it back, so that runs writing
// at once (parallel logins, jobs rotating different profiles) never undo
// each other's changes.
func Update(path string, change func(*Config) error) (*Config, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating config directory: %w", err)
	}
	lock, err := openLock(path + ".lock")
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := lockFile(lock); err != nil {
		return nil, fmt.Errorf("locking config: %w", err)
	}
	defer unlockFile(lock)
	cfg, err := Load(path, io.Discard)
	if err != nil {
		return nil, err
	}
	if err := change(cfg); err != nil {
		return nil, err
	}
	return cfg, cfg.Save()
}

// openLock opens (or creates) the config's lock file without following a
// link planted in its place, and refuses one that is not a regular file or
// that another user owns.
func openLock(path string) (*os.File, error) {
	lock, err := safefile.OpenNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, safefile.ErrIsLink) {
		return nil, LinkError("lock file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("locking config: %w", err)
	}
	st, err := lock.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = NotRegular("lock file", path, st)
	}
	if err == nil {
		err = CheckOwner("lock file", path, st, false)
	}
	if err != nil {
		lock.Close()
		return nil, err
	}
	return lock, nil
}

// ProfileNames returns the profile names in order.
func (c *Config) ProfileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for n := range c.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Path is the config file's path.
func (c *Config) Path() string { return c.path }
