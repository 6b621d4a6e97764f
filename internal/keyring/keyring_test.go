package keyring

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOff(t *testing.T) {
	s := Store{Off: true}
	if err := s.Set("k", "v"); !errors.Is(err, ErrOff) {
		t.Errorf("Set: %v", err)
	}
	if _, err := s.Get("k"); !errors.Is(err, ErrOff) {
		t.Errorf("Get: %v", err)
	}
}

// A keyring that never answers is an error within the timeout, never a hang.
func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := Store{Timeout: 20 * time.Millisecond}
	_, err := s.call(func() (string, error) { <-block; return "", nil })
	if err == nil || !strings.Contains(err.Error(), "did not answer within 20ms") {
		t.Errorf("err = %v", err)
	}
}

func TestErrorsNeverHoldTheSecret(t *testing.T) {
	s := Store{Timeout: time.Second}
	_, err := s.call(func() (string, error) { return "", errors.New("dbus: no such bus") })
	if err == nil || !strings.HasPrefix(err.Error(), "the OS keyring: ") {
		t.Errorf("err = %v", err)
	}
}
