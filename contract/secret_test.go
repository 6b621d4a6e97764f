package contract

import (
	"strings"
	"testing"
)

func TestValidAuthToken(t *testing.T) {
	good := []string{
		strings.Repeat("a", 32),
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcd09",
		"0123456789._-abcdefghijklmnopqrs",
	}
	for _, s := range good {
		if !ValidAuthToken(s) {
			t.Errorf("ValidAuthToken(%q) = false, want true", s)
		}
	}
	bad := []string{
		"",
		strings.Repeat("a", 31),
		strings.Repeat("a", 33),
		"secret\n::warning::INJECTED\n::stop",
		"::add-mask::aaaaaaaaaaaaaaaaaaaa",
		"%0A" + strings.Repeat("a", 29),
		strings.Repeat("a", 31) + " ",
		strings.Repeat("a", 30) + "é",
		strings.Repeat("a", 31) + "\x00",
	}
	for _, s := range bad {
		if ValidAuthToken(s) {
			t.Errorf("ValidAuthToken(%q) = true, want false", s)
		}
	}
}
