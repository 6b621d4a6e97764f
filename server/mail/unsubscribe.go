package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
)

// UnsubscribePath is where the server answers one-click unsubscribe links.
const UnsubscribePath = "/Unsubscribe"

// Signer makes and checks the signed unsubscribe links: the link names the account and
// the address and carries an HMAC of both under a key only the server knows, so nobody
// can stop someone else's updates by guessing a link.
type Signer struct {
	base string // the public URL the links start with, without a trailing slash
	key  []byte
}

// NewSigner makes a Signer for links under publicURL, signed with key (at least 32
// bytes, derived from the server's key).
func NewSigner(publicURL string, key []byte) *Signer {
	return &Signer{base: strings.TrimRight(publicURL, "/"), key: key}
}

func (s *Signer) sign(account, email string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("unsubscribe v1\x00" + account + "\x00" + strings.ToLower(email)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// URL is the one-click link that stops email's updates about account's tokens.
func (s *Signer) URL(account, email string) string {
	q := url.Values{}
	q.Set("a", account)
	q.Set("e", email)
	q.Set("s", s.sign(account, email))
	return s.base + UnsubscribePath + "?" + q.Encode()
}

// Verify reads a link's query and reports the account and address it names when its
// signature is right.
func (s *Signer) Verify(q url.Values) (account, email string, ok bool) {
	account, email = q.Get("a"), q.Get("e")
	if account == "" || email == "" {
		return "", "", false
	}
	want := s.sign(account, email)
	if !hmac.Equal([]byte(want), []byte(q.Get("s"))) {
		return "", "", false
	}
	return account, email, true
}
