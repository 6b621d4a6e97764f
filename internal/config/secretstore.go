package config

import (
	"errors"
	"fmt"
	"io"

	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/keyring"
)

// SecretInKeyring is a profile's SecretIn when its Auth Token is in the OS
// keyring rather than in the config file.
const SecretInKeyring = "keyring"

// KeyringFor is the OS keyring, or none with IMPACTCTL_KEYRING=off.
func KeyringFor(getenv func(string) string) keyring.Store {
	return keyring.Store{Off: getenv("IMPACTCTL_KEYRING") == "off"}
}

// KeyringKey names a profile's entry in the keyring: the config file, the
// profile and the URL its secret belongs to, so two config files (or two
// servers) never share one.
func KeyringKey(cfgPath, profile, apiURL string) string {
	return fmt.Sprintf("%s at %s (%s)", profile, apiURL, cfgPath)
}

// StoreSecret puts a profile's secret where it belongs: in the OS keyring,
// or in the config file (mode 0600) with --insecure-storage, with the
// keyring turned off, or when it does not answer (then with a warning on
// warn). It returns p ready to save.
func StoreSecret(kr keyring.Store, cfgPath, name string, p Profile, secret string, insecure bool, warn io.Writer) Profile {
	p.AuthToken, p.SecretIn = "", ""
	if !insecure {
		err := kr.Set(KeyringKey(cfgPath, name, ProfileURL(p)), secret)
		if err == nil {
			p.SecretIn = SecretInKeyring
			return p
		}
		if !errors.Is(err, keyring.ErrOff) {
			iostreams.Warnf(warn, "%v; the Auth Token is stored in %s (mode 0600) instead (--insecure-storage says so without this warning)", err, cfgPath)
		}
	}
	p.AuthToken = secret
	return p
}

// ProfileSecret reads a profile's secret from wherever it is kept.
func ProfileSecret(kr keyring.Store, cfgPath, name string, p Profile) (string, error) {
	if p.SecretIn != SecretInKeyring {
		return p.AuthToken, nil
	}
	secret, err := kr.Get(KeyringKey(cfgPath, name, ProfileURL(p)))
	if err != nil {
		login := "impactctl auth login"
		if name != "default" {
			login += " --profile " + name
		}
		return "", &cmdutil.ExitError{Code: cmdutil.ExitAuth, Err: fmt.Errorf(
			"profile %q keeps its Auth Token in the OS keyring, and reading it failed: %w; log in again with `%s` (--insecure-storage keeps it in the config file)", name, err, login)}
	}
	return secret, nil
}

// SecretPlace says where a profile's secret lives, for auth status.
func SecretPlace(p Profile, cfgPath string) string {
	if p.SecretIn == SecretInKeyring {
		return "the OS keyring"
	}
	return cfgPath
}

// ProfileURL is the URL a profile's secret goes to.
func ProfileURL(p Profile) string {
	if p.APIURL == "" {
		return DefaultAPIURL
	}
	return p.APIURL
}
