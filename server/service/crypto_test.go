package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"testing"
)

// TestKeyringMACReused: the secret's HMAC, computed with hashes kept for reuse,
// equals a fresh HMAC-SHA256 under the MAC key, for any order of calls from any
// number of goroutines.
func TestKeyringMACReused(t *testing.T) {
	k, err := NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(s string) []byte {
		m := hmac.New(sha256.New, k.macKey)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				s := string(rune('a'+g)) + string(rune('A'+i%26))
				if got := k.MAC(s); !hmac.Equal(got, fresh(s)) {
					t.Errorf("mac(%q) = %x; want %x", s, got, fresh(s))
					return
				}
			}
		})
	}
	wg.Wait()
	if hmac.Equal(k.MAC("one"), k.MAC("two")) {
		t.Fatal("two secrets gave one MAC")
	}
}
