package config

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/keyring"

	"github.com/impactcom/impactctl/internal/safefile"
)

// DefaultAPIURL is where credentials go when nothing names another URL.
const DefaultAPIURL = "https://api.impact.com"

var sidPattern = regexp.MustCompile(`^IR[A-Za-z0-9]{32}$`)

// ValidSID refuses a malformed Account SID before any request is made.
func ValidSID(sid string) error {
	if !sidPattern.MatchString(sid) {
		return cmdutil.UsageErrorf("invalid Account SID %q: expected IR followed by 32 letters or digits", sid)
	}
	return nil
}

// Credentials are an Account SID and Auth Token with the URL they may be
// sent to, and where they came from.
type Credentials struct {
	APIURL     string
	AccountSid string
	AuthToken  string
	// Kind is "agency" or "brand" when known, else "".
	Kind string

	// Source says where the credentials came from, for messages.
	Source string
	// Profile is the profile name when they came from the config file.
	Profile string
	// SecretEnv names the variable that holds the secret (or its file)
	// when they came from the environment.
	SecretEnv string
	// SecretFile is IMPACTCTL_AUTH_TOKEN_FILE's path.
	SecretFile string
	// SecretPlace says where a profile's secret lives: the OS keyring or
	// the config file's path.
	SecretPlace string
}

// FromEnvironment reports whether the credentials came from variables.
func (c *Credentials) FromEnvironment() bool { return c.SecretEnv != "" }

// NormalizeURL checks an API URL: https, or http on a loopback host; no
// user info, query or fragment. It returns the URL without a trailing slash.
func NormalizeURL(raw string) (string, error) {
	// User info is refused before anything else, and the URL is never
	// echoed while it may hold a password.
	if hasUserInfo(raw) {
		return "", cmdutil.UsageErrorf("invalid API URL: it must not carry a user name or password; credentials come from a profile or IMPACTCTL_ACCOUNT_SID/IMPACTCTL_AUTH_TOKEN")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", cmdutil.UsageErrorf("invalid API URL %q: expected https://host[:port]", raw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", cmdutil.UsageErrorf("invalid API URL %q: it must not carry a query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return "", cmdutil.UsageErrorf("refusing plain http to %s: credentials would cross the network unencrypted; use https:// (http is allowed on loopback only)", u.Host)
		}
	default:
		return "", cmdutil.UsageErrorf("invalid API URL %q: the scheme must be https", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String(), nil
}

// hasUserInfo reports whether a URL's authority has a user part, even in a
// URL too broken to parse.
func hasUserInfo(raw string) bool {
	rest := raw
	if _, after, ok := strings.Cut(raw, "://"); ok {
		rest = after
	}
	authority, _, _ := strings.Cut(rest, "/")
	authority, _, _ = strings.Cut(authority, "?")
	authority, _, _ = strings.Cut(authority, "#")
	return strings.Contains(authority, "@")
}

func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CredentialSettings are the inputs credentials are resolved from.
type CredentialSettings struct {
	Getenv  func(string) string
	Profile string // --profile, IMPACTCTL_PROFILE, else "default"
	// ProfileFlag is set when --profile itself named the profile.
	ProfileFlag bool
	APIURL      string // --api-url or IMPACTCTL_API_URL, "" when neither
	URLFrom     string // which of the two named apiURL
	LoadConfig  func() (*Config, error)
	Warn        io.Writer // where warnings go
	// Keyring holds the secrets of profiles that keep them there.
	Keyring keyring.Store
}

// ResolveCredentials applies the rule: credentials come as one unit,
// from the environment when IMPACTCTL_ACCOUNT_SID or a secret variable is
// set (any URL), else from the profile with its own URL, which no other URL
// may replace.
func ResolveCredentials(s CredentialSettings) (*Credentials, error) {
	sid := s.Getenv("IMPACTCTL_ACCOUNT_SID")
	secret := s.Getenv("IMPACTCTL_AUTH_TOKEN")
	secretFile := s.Getenv("IMPACTCTL_AUTH_TOKEN_FILE")
	if sid != "" || secret != "" || secretFile != "" {
		if s.ProfileFlag {
			// Environment credentials win over profiles: acting as another
			// token than the one named would be a silent surprise.
			return nil, cmdutil.UsageErrorf("--profile %s and environment credentials (%s) are both set: drop --profile to use the environment, or unset the variables to use the profile",
				s.Profile, strings.Join(setVariables(s.Getenv, "IMPACTCTL_ACCOUNT_SID", "IMPACTCTL_AUTH_TOKEN", "IMPACTCTL_AUTH_TOKEN_FILE"), ", "))
		}
		return credentialsFromEnv(s, sid, secret, secretFile)
	}

	cfg, err := s.LoadConfig()
	if err != nil {
		return nil, err
	}
	p, ok := cfg.Profiles[s.Profile]
	if !ok || p.AccountSid == "" || (p.AuthToken == "" && p.SecretIn != SecretInKeyring) {
		login := "impactctl auth login"
		if s.Profile != "default" {
			login += " --profile " + s.Profile
		}
		return nil, &cmdutil.ExitError{Code: cmdutil.ExitAuth, Err: fmt.Errorf(
			"no credentials: profile %q is not in %s; run `%s`, set IMPACTCTL_ACCOUNT_SID with IMPACTCTL_AUTH_TOKEN, or try --local",
			s.Profile, cfg.path, login)}
	}
	profURL := p.APIURL
	if profURL == "" {
		profURL = DefaultAPIURL
	}
	profURL, err = NormalizeURL(profURL)
	if err != nil {
		return nil, err
	}
	if s.APIURL != "" {
		want, err := NormalizeURL(s.APIURL)
		if err != nil {
			return nil, err
		}
		if want != profURL {
			return nil, cmdutil.UsageErrorf("refusing to send profile %q's secret to %s (%s): the profile belongs to %s; drop %s, or log in to that URL with another profile",
				s.Profile, want, s.URLFrom, profURL, s.URLFrom)
		}
	}
	stored, err := ProfileSecret(s.Keyring, cfg.path, s.Profile, p)
	if err != nil {
		return nil, err
	}
	return &Credentials{
		APIURL:      profURL,
		AccountSid:  p.AccountSid,
		AuthToken:   stored,
		Kind:        p.Kind,
		Source:      fmt.Sprintf("profile %q in %s", s.Profile, cfg.path),
		Profile:     s.Profile,
		SecretPlace: SecretPlace(p, cfg.path),
	}, nil
}

// setVariables are those of names that are set.
func setVariables(getenv func(string) string, names ...string) []string {
	var set []string
	for _, n := range names {
		if getenv(n) != "" {
			set = append(set, n)
		}
	}
	return set
}

func credentialsFromEnv(s CredentialSettings, sid, secret, secretFile string) (*Credentials, error) {
	c := &Credentials{AccountSid: sid, AuthToken: secret, SecretEnv: "IMPACTCTL_AUTH_TOKEN"}
	switch {
	case secret != "" && secretFile != "":
		return nil, cmdutil.UsageErrorf("both IMPACTCTL_AUTH_TOKEN and IMPACTCTL_AUTH_TOKEN_FILE are set: keep one")
	case sid == "":
		return nil, cmdutil.UsageErrorf("IMPACTCTL_ACCOUNT_SID is not set: environment credentials need the Account SID with IMPACTCTL_AUTH_TOKEN or IMPACTCTL_AUTH_TOKEN_FILE")
	case secret == "" && secretFile == "":
		return nil, cmdutil.UsageErrorf("IMPACTCTL_ACCOUNT_SID is set without IMPACTCTL_AUTH_TOKEN or IMPACTCTL_AUTH_TOKEN_FILE: set one of them, or unset IMPACTCTL_ACCOUNT_SID to use a profile")
	case secretFile != "":
		secret, err := ReadTokenFile(secretFile, s.Warn)
		if err != nil {
			return nil, err
		}
		c.AuthToken = secret
		c.SecretEnv = "IMPACTCTL_AUTH_TOKEN_FILE"
		c.SecretFile = secretFile
		if c.AuthToken == "" {
			return nil, cmdutil.UsageErrorf("IMPACTCTL_AUTH_TOKEN_FILE %s is empty", secretFile)
		}
	}
	if !sidPattern.MatchString(sid) {
		return nil, cmdutil.UsageErrorf("IMPACTCTL_ACCOUNT_SID is not an Account SID: expected IR followed by 32 letters or digits")
	}
	raw := s.APIURL
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := NormalizeURL(raw)
	if err != nil {
		return nil, err
	}
	c.APIURL = u
	c.Source = "environment (IMPACTCTL_ACCOUNT_SID, " + c.SecretEnv + ")"
	return c, nil
}

// ReadTokenFile reads IMPACTCTL_AUTH_TOKEN_FILE. Unlike the config file it
// follows a symbolic link: secret volumes (Kubernetes) and bash's <(…) are
// links. What it opened is checked on the descriptor, so the file read is
// the file checked: a regular file or a pipe, owned by the user or root,
// and a file no other user can write (whoever can, chooses the token every
// command acts as). A file others can read gets a warning naming the chmod.
func ReadTokenFile(path string, warn io.Writer) (string, error) {
	const what = "IMPACTCTL_AUTH_TOKEN_FILE"
	f, err := os.Open(path)
	if err != nil {
		return "", cmdutil.UsageErrorf("reading %s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", cmdutil.UsageErrorf("reading %s: %w", what, err)
	}
	if safefile.Check(st, safefile.Rule{Type: safefile.RegularOrPipe}) != nil {
		return "", NotRegular(what, path, st)
	}
	if err := CheckOwner(what, path, st, true); err != nil {
		return "", err
	}
	if st.Mode().IsRegular() {
		if err := CheckNotWritableByOthers(what, path, st, 0o600); err != nil {
			return "", err
		}
		if st.Mode().Perm()&0o077 != 0 && warn != nil {
			iostreams.Warnf(warn, "%s %s can be read by other users (mode %04o): run chmod 600 %s",
				what, path, st.Mode().Perm(), path)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", cmdutil.UsageErrorf("reading %s: %w", what, err)
	}
	return strings.TrimSpace(string(data)), nil
}
