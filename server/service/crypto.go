package service

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
)

const (
	sidAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-" // 64 symbols: 6 bits each
	SIDLen         = 32
	SecretLen      = 32
)

// keyring holds the keys derived from the key file: one for AES-GCM at rest and
// one for the HMAC that authentication compares.
type keyring struct {
	aead   cipher.AEAD
	macKey []byte
	Check  string // a value derived from the key, stored in the database to catch a wrong key file
	// unsubscribeKey signs the unsubscribe links of update mails.
	UnsubscribeKey []byte
	// dummyMAC is what a secret is compared with when its SID names no token, made
	// once so the unknown path computes one HMAC like the known path.
	DummyMAC []byte
	// macs holds HMAC-SHA256 hashes keyed with macKey, reset, for mac.
	macs sync.Pool
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// KeyCheck is the fingerprint of master a database records (a keyring's Check): a
// store checks its key file against it without deriving the other keys.
func KeyCheck(master []byte) string {
	return base64.RawStdEncoding.EncodeToString(derive(master, "impactctl key-check v1"))
}

// NewKeyring derives the keys that seal secrets, MAC them and sign unsubscribe links
// from the master key.
func NewKeyring(master []byte) (*keyring, error) {
	block, err := aes.NewCipher(derive(master, "impactctl aes-gcm v1"))
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	k := &keyring{
		aead:   aead,
		macKey: derive(master, "impactctl secret-mac v1"),
		Check:  KeyCheck(master),

		UnsubscribeKey: derive(master, "impactctl unsubscribe v1"),
	}
	k.DummyMAC = k.MAC("\x00unknown-sid")
	return k, nil
}

// Seal encrypts plain, binding it to ad (e.g. the token SID) so a ciphertext cannot be
// moved to another row.
func (k *keyring) Seal(plain []byte, ad string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, plain, []byte(ad)), nil
}

func (k *keyring) Open(sealed []byte, ad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return plain, nil
}

// MAC is the keyed HMAC-SHA256 of a secret, stored for constant-time comparison.
// Every request computes one: the keyed hashes are kept for reuse (macs), as a new
// one hashes the key again.
func (k *keyring) MAC(secret string) []byte {
	m, _ := k.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, k.macKey)
	}
	io.WriteString(m, secret)
	out := m.Sum(nil)
	m.Reset()
	k.macs.Put(m)
	return out
}

// RandSource draws SIDs and secrets from one reader, serialised so a deterministic
// reader gives the same sequence however requests interleave.
type RandSource struct {
	mu sync.Mutex
	R  io.Reader
}

func (s *RandSource) text(alphabet string, n int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the choice
	for len(out) < n {
		if _, err := io.ReadFull(s.R, buf); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func (s *RandSource) SID() (string, error) {
	t, err := s.text(sidAlphabet, SIDLen)
	if err != nil {
		return "", err
	}
	return "IR" + t, nil
}

func (s *RandSource) Secret() (string, error) { return s.text(secretAlphabet, SecretLen) }
