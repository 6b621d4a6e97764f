package server

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

const (
	sidAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-" // 64 symbols: 6 bits each
	sidLen         = 32
	secretLen      = 32
)

// keyring holds the keys derived from the key file: one for AES-GCM at rest and
// one for the HMAC that authentication compares.
type keyring struct {
	aead   cipher.AEAD
	macKey []byte
	check  string // a value derived from the key, stored in the database to catch a wrong key file
}

// loadKey reads the 32-byte master key from path, creating it (0600, crypto/rand) when absent.
func loadKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadKey(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			return nil, fmt.Errorf("write key file %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("key file %s: want 32 bytes in base64", path)
	}
	return key, nil
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func newKeyring(master []byte) (*keyring, error) {
	block, err := aes.NewCipher(derive(master, "impactctl aes-gcm v1"))
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &keyring{
		aead:   aead,
		macKey: derive(master, "impactctl secret-mac v1"),
		check:  base64.RawStdEncoding.EncodeToString(derive(master, "impactctl key-check v1")),
	}, nil
}

// seal encrypts plain, binding it to ad (e.g. the token SID) so a ciphertext cannot be
// moved to another row.
func (k *keyring) seal(plain []byte, ad string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, plain, []byte(ad)), nil
}

func (k *keyring) open(sealed []byte, ad string) ([]byte, error) {
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

// mac is the keyed HMAC-SHA256 of a secret, stored for constant-time comparison.
func (k *keyring) mac(secret string) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// randSource draws SIDs and secrets from one reader, serialised so a deterministic
// reader gives the same sequence however requests interleave.
type randSource struct {
	mu sync.Mutex
	r  io.Reader
}

func (s *randSource) text(alphabet string, n int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the choice
	for len(out) < n {
		if _, err := io.ReadFull(s.r, buf); err != nil {
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

func (s *randSource) sid() (string, error) {
	t, err := s.text(sidAlphabet, sidLen)
	if err != nil {
		return "", err
	}
	return "IR" + t, nil
}

func (s *randSource) secret() (string, error) { return s.text(secretAlphabet, secretLen) }
