// Package keyring keeps secrets in the operating system's keyring (macOS
// Keychain, Windows Credential Manager, the Secret Service on Linux),
// bounded in time: a locked or absent keyring would otherwise hang an SSH
// session or a CI job on its first prompt.
package keyring

import (
	"errors"
	"fmt"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// service names impactctl's entries in the keyring.
const service = "impactctl"

// DefaultTimeout bounds each keyring call.
const DefaultTimeout = 3 * time.Second

// ErrNotFound means the keyring answered and holds no such entry.
var ErrNotFound = errors.New("no such entry in the OS keyring")

// ErrOff means the keyring is turned off (IMPACTCTL_KEYRING=off).
var ErrOff = errors.New("the OS keyring is turned off (IMPACTCTL_KEYRING=off)")

// Store is the OS keyring, or none when Off.
type Store struct {
	// Off turns the keyring off: every call returns ErrOff.
	Off bool
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Set stores secret under key.
func (s Store) Set(key, secret string) error {
	_, err := s.call(func() (string, error) { return "", gokeyring.Set(service, key, secret) })
	return err
}

// Get returns the secret stored under key: ErrNotFound when there is none.
func (s Store) Get(key string) (string, error) {
	return s.call(func() (string, error) { return gokeyring.Get(service, key) })
}

// Delete removes the secret under key; none there is no error.
func (s Store) Delete(key string) error {
	_, err := s.call(func() (string, error) { return "", gokeyring.Delete(service, key) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// call runs fn within the timeout. A call that does not return in time is
// left behind (the keyring's own client cannot be cancelled) and reported
// as an error.
func (s Store) call(fn func() (string, error)) (string, error) {
	if s.Off {
		return "", ErrOff
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	type answer struct {
		v   string
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := fn()
		done <- answer{v, err}
	}()
	select {
	case a := <-done:
		switch {
		case errors.Is(a.err, gokeyring.ErrNotFound):
			return "", ErrNotFound
		case a.err != nil:
			return "", fmt.Errorf("the OS keyring: %w", a.err)
		}
		return a.v, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("the OS keyring did not answer within %s", timeout)
	}
}
