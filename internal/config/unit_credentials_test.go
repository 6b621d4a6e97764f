package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/internal/cmdutil"
)

const (
	envSID     = "IRenvEnvEnvEnvEnvEnvEnvEnvEnvEnv00" // IR + 32
	profSID    = "IRprofProfProfProfProfProfProf0000"
	workSID    = "IRworkWorkWorkWorkWorkWorkWork0000"
	envSecret  = "env-s3cret-value"
	profSecret = "prof-s3cret-value"
	workSecret = "work-s3cret-value"
)

func TestResolveCredentials(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  file-s3cret\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte(" \n\t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missingFile := filepath.Join(dir, "missing")

	conf := &Config{
		Profiles: map[string]Profile{
			"default":   {AccountSid: profSID, AuthToken: profSecret},
			"work":      {APIURL: "https://eu.impact.example/", AccountSid: workSID, AuthToken: workSecret},
			"nosecret":  {AccountSid: profSID},
			"plainhttp": {APIURL: "http://api.impact.example", AccountSid: profSID, AuthToken: profSecret},
		},
		path: "/conf/config.yaml",
	}

	type want struct {
		sid, token, url string
		secretEnv       string
		secretFile      string
		profile         string
	}
	tests := []struct {
		name    string
		env     map[string]string
		profile string
		apiURL  string
		urlFrom string
		confErr error
		code    int    // expected exit code; 0 for success
		errHas  string // a part of the error message
		want    want
		// noConf says the config file must not be read.
		noConf bool
	}{
		{
			name:   "environment pair wins over the profile",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN": envSecret},
			want:   want{sid: envSID, token: envSecret, url: DefaultAPIURL, secretEnv: "IMPACTCTL_AUTH_TOKEN"},
			noConf: true,
		},
		{
			name:    "environment pair wins even when the config is broken",
			env:     map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN": envSecret},
			confErr: cmdutil.UsageErrorf("config file is not valid YAML"),
			want:    want{sid: envSID, token: envSecret, url: DefaultAPIURL, secretEnv: "IMPACTCTL_AUTH_TOKEN"},
			noConf:  true,
		},
		{
			name:    "environment credentials may take any URL",
			env:     map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN": envSecret},
			apiURL:  "https://staging.impact.example/v2/",
			urlFrom: "--api-url",
			want:    want{sid: envSID, token: envSecret, url: "https://staging.impact.example/v2", secretEnv: "IMPACTCTL_AUTH_TOKEN"},
			noConf:  true,
		},
		{
			name:    "environment credentials to loopback http",
			env:     map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN": envSecret},
			apiURL:  "http://127.0.0.1:8787",
			urlFrom: "IMPACTCTL_API_URL",
			want:    want{sid: envSID, token: envSecret, url: "http://127.0.0.1:8787", secretEnv: "IMPACTCTL_AUTH_TOKEN"},
			noConf:  true,
		},
		{
			name:    "environment credentials still refuse plain http to a remote host",
			env:     map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN": envSecret},
			apiURL:  "http://api.impact.example",
			urlFrom: "--api-url",
			code:    cmdutil.ExitUsage,
			errHas:  "https",
			noConf:  true,
		},
		{
			name:   "SID without secret",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID},
			code:   cmdutil.ExitUsage,
			errHas: "IMPACTCTL_AUTH_TOKEN",
			noConf: true,
		},
		{
			name:   "secret without SID",
			env:    map[string]string{"IMPACTCTL_AUTH_TOKEN": envSecret},
			code:   cmdutil.ExitUsage,
			errHas: "IMPACTCTL_ACCOUNT_SID is not set",
			noConf: true,
		},
		{
			name:   "secret file without SID",
			env:    map[string]string{"IMPACTCTL_AUTH_TOKEN_FILE": tokenFile},
			code:   cmdutil.ExitUsage,
			errHas: "IMPACTCTL_ACCOUNT_SID is not set",
			noConf: true,
		},
		{
			name:   "both secret and secret file",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN": envSecret, "IMPACTCTL_AUTH_TOKEN_FILE": tokenFile},
			code:   cmdutil.ExitUsage,
			errHas: "IMPACTCTL_AUTH_TOKEN_FILE",
			noConf: true,
		},
		{
			name:   "secret file is read and trimmed",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN_FILE": tokenFile},
			want:   want{sid: envSID, token: "file-s3cret", url: DefaultAPIURL, secretEnv: "IMPACTCTL_AUTH_TOKEN_FILE", secretFile: tokenFile},
			noConf: true,
		},
		{
			name:   "empty secret file",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN_FILE": emptyFile},
			code:   cmdutil.ExitUsage,
			errHas: "empty",
			noConf: true,
		},
		{
			name:   "missing secret file",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN_FILE": missingFile},
			code:   cmdutil.ExitUsage,
			errHas: "IMPACTCTL_AUTH_TOKEN_FILE",
			noConf: true,
		},
		{
			name:   "secret file is a directory",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": envSID, "IMPACTCTL_AUTH_TOKEN_FILE": dir},
			code:   cmdutil.ExitUsage,
			errHas: "IMPACTCTL_AUTH_TOKEN_FILE",
			noConf: true,
		},
		{
			name:   "malformed SID in the environment",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": "IR123", "IMPACTCTL_AUTH_TOKEN": envSecret},
			code:   cmdutil.ExitUsage,
			errHas: "not an Account SID",
			noConf: true,
		},
		{
			name:   "lower-case SID prefix in the environment",
			env:    map[string]string{"IMPACTCTL_ACCOUNT_SID": "ir" + envSID[2:], "IMPACTCTL_AUTH_TOKEN": envSecret},
			code:   cmdutil.ExitUsage,
			errHas: "not an Account SID",
			noConf: true,
		},
		{
			name:    "default profile with the default URL",
			profile: "default",
			want:    want{sid: profSID, token: profSecret, url: DefaultAPIURL, profile: "default"},
		},
		{
			name:    "profile with its own api_url",
			profile: "work",
			want:    want{sid: workSID, token: workSecret, url: "https://eu.impact.example", profile: "work"},
		},
		{
			name:    "profile and a different --api-url",
			profile: "work",
			apiURL:  "https://api.impact.com",
			urlFrom: "--api-url",
			code:    cmdutil.ExitUsage,
			errHas:  "drop --api-url",
		},
		{
			name:    "profile and a different IMPACTCTL_API_URL",
			profile: "default",
			apiURL:  "https://eu.impact.example",
			urlFrom: "IMPACTCTL_API_URL",
			code:    cmdutil.ExitUsage,
			errHas:  "drop IMPACTCTL_API_URL",
		},
		{
			name:    "profile and its URL from the flag, modulo a trailing slash",
			profile: "work",
			apiURL:  "https://eu.impact.example",
			urlFrom: "--api-url",
			want:    want{sid: workSID, token: workSecret, url: "https://eu.impact.example", profile: "work"},
		},
		{
			name:    "default profile and the default URL with a slash",
			profile: "default",
			apiURL:  DefaultAPIURL + "/",
			urlFrom: "IMPACTCTL_API_URL",
			want:    want{sid: profSID, token: profSecret, url: DefaultAPIURL, profile: "default"},
		},
		{
			name:    "profile and an invalid --api-url",
			profile: "default",
			apiURL:  "ftp://api.impact.com",
			urlFrom: "--api-url",
			code:    cmdutil.ExitUsage,
			errHas:  "scheme",
		},
		{
			name:    "profile whose api_url is plain http to a remote host",
			profile: "plainhttp",
			code:    cmdutil.ExitUsage,
			errHas:  "refusing plain http",
		},
		{
			name:    "missing profile",
			profile: "nope",
			code:    cmdutil.ExitAuth,
			errHas:  `profile "nope" is not in /conf/config.yaml`,
		},
		{
			name:    "profile without a secret",
			profile: "nosecret",
			code:    cmdutil.ExitAuth,
			errHas:  "no credentials",
		},
		{
			name:    "config that cannot be read",
			profile: "default",
			confErr: cmdutil.UsageErrorf("config file /conf/config.yaml is not valid YAML"),
			code:    cmdutil.ExitUsage,
			errHas:  "not valid YAML",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			confRead := false
			s := CredentialSettings{
				Getenv:  func(k string) string { return tt.env[k] },
				Profile: tt.profile,
				APIURL:  tt.apiURL,
				URLFrom: tt.urlFrom,
				LoadConfig: func() (*Config, error) {
					confRead = true
					if tt.confErr != nil {
						return nil, tt.confErr
					}
					return conf, nil
				},
			}
			got, err := ResolveCredentials(s)
			if tt.noConf && confRead {
				t.Error("the config file was read, though the environment named credentials")
			}
			if tt.code != 0 {
				if !cmdutiltest.CheckExit(t, err, tt.code) {
					return
				}
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("error %q does not contain %q", err, tt.errHas)
				}
				for _, secret := range []string{envSecret, profSecret, workSecret, "file-s3cret"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows a secret", err)
					}
				}
				if got != nil {
					t.Errorf("credentials %+v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveCredentials: %v", err)
			}
			w := tt.want
			if got.AccountSid != w.sid || got.AuthToken != w.token || got.APIURL != w.url {
				t.Errorf("got (%s, %s, %s), want (%s, %s, %s)", got.AccountSid, got.AuthToken, got.APIURL, w.sid, w.token, w.url)
			}
			if got.SecretEnv != w.secretEnv || got.SecretFile != w.secretFile || got.Profile != w.profile {
				t.Errorf("got SecretEnv %q SecretFile %q Profile %q, want %q %q %q",
					got.SecretEnv, got.SecretFile, got.Profile, w.secretEnv, w.secretFile, w.profile)
			}
			if got.FromEnvironment() != (w.secretEnv != "") {
				t.Errorf("fromEnvironment() = %v", got.FromEnvironment())
			}
			if got.Source == "" {
				t.Error("Source is empty")
			}
			if strings.Contains(got.Source, got.AuthToken) {
				t.Errorf("Source %q shows the secret", got.Source)
			}
		})
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
		// errHas is a part of the refusal's message.
		errHas string
	}{
		{in: "https://api.impact.com", want: "https://api.impact.com"},
		{in: "https://api.impact.com/", want: "https://api.impact.com"},
		{in: "https://api.impact.com///", want: "https://api.impact.com"},
		{in: "https://gw.example:8443/impact/", want: "https://gw.example:8443/impact"},
		{in: "https://gw.example/a/b", want: "https://gw.example/a/b"},
		{in: "HTTPS://api.impact.com/", want: "https://api.impact.com"},
		{in: "http://127.0.0.1:8787", want: "http://127.0.0.1:8787"},
		{in: "http://127.0.0.1:8787/", want: "http://127.0.0.1:8787"},
		{in: "http://127.1.2.3", want: "http://127.1.2.3"},
		{in: "http://[::1]:8787", want: "http://[::1]:8787"},
		{in: "http://localhost:8787/api/", want: "http://localhost:8787/api"},
		{in: "http://LocalHost", want: "http://LocalHost"},
		{in: "http://api.impact.com", errHas: "refusing plain http to api.impact.com"},
		{in: "http://10.0.0.1:8787", errHas: "refusing plain http"},
		{in: "http://localhost.evil.example", errHas: "refusing plain http"},
		{in: "http://127.0.0.1.evil.example", errHas: "refusing plain http"},
		{in: "http://[::2]", errHas: "refusing plain http"},
		{in: "https://ada:hunter2@api.impact.com", errHas: "user name or password"},
		{in: "https://ada@api.impact.com", errHas: "user name or password"},
		{in: "http://ada:hunter2@127.0.0.1:8787", errHas: "user name or password"},
		{in: "https://ada:hunter2@api.impact.com:port", errHas: "user name or password"},
		{in: "https://ada:hunter2@", errHas: "user name or password"},
		{in: "https://api.impact.com/?x=1", errHas: "query or fragment"},
		{in: "https://api.impact.com#top", errHas: "query or fragment"},
		{in: "https://api.impact.com?", errHas: "query or fragment"},
		{in: "https://api.impact.com#", errHas: "query or fragment"},
		{in: "ftp://api.impact.com", errHas: "scheme must be https"},
		{in: "ws://127.0.0.1", errHas: "scheme must be https"},
		{in: "api.impact.com", errHas: "invalid API URL"},
		{in: "", errHas: "invalid API URL"},
		{in: "://nothing", errHas: "invalid API URL"},
		{in: "https://", errHas: "invalid API URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeURL(tt.in)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("normalizeURL(%q): %v", tt.in, err)
				}
				if got != tt.want {
					t.Errorf("normalizeURL(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			if !cmdutiltest.CheckExit(t, err, cmdutil.ExitUsage) {
				return
			}
			if got != "" {
				t.Errorf("normalizeURL(%q) returned %q with its error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not contain %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestValidSID(t *testing.T) {
	tests := []struct {
		sid string
		ok  bool
	}{
		{"IR" + strings.Repeat("a1B2", 8), true},
		{envSID, true},
		{"IR" + strings.Repeat("0", 32), true},
		{"IR" + strings.Repeat("a", 31), false},
		{"IR" + strings.Repeat("a", 33), false},
		{"ir" + strings.Repeat("a", 32), false},
		{"XX" + strings.Repeat("a", 32), false},
		{"IR" + strings.Repeat("a", 31) + "-", false},
		{"IR" + strings.Repeat("a", 31) + "é", false},
		{"IR" + strings.Repeat("a", 32) + "\n", false},
		{" IR" + strings.Repeat("a", 32), false},
		{"", false},
	}
	for _, tt := range tests {
		err := ValidSID(tt.sid)
		if tt.ok {
			if err != nil {
				t.Errorf("validSID(%q): %v", tt.sid, err)
			}
			continue
		}
		var ee *cmdutil.ExitError
		if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage {
			t.Errorf("validSID(%q) = %v, want a usage error", tt.sid, err)
		}
	}
}
