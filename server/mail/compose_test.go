package mail

import (
	"bytes"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

var testDate = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func testComposer() *Composer {
	return &Composer{From: "tokens@impact.example", Unsubscribe: NewSigner("https://tokens.example/", bytes.Repeat([]byte{7}, 32))}
}

func raw(t *testing.T, c *Composer, us ...Update) string {
	t.Helper()
	var m *gomail.Msg
	var err error
	if len(us) == 1 {
		m, err = c.Compose(us[0])
	} else {
		m, err = c.ComposeDigest(us)
	}
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// headers returns the message's header lines, unfolded, and its body.
func split(t *testing.T, msg string) (map[string][]string, string) {
	t.Helper()
	head, body, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header end in %q", msg)
	}
	h := map[string][]string{}
	head = strings.ReplaceAll(head, "\r\n ", " ")
	for _, line := range strings.Split(head, "\r\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("header line without a name: %q", line)
		}
		h[k] = append(h[k], v)
	}
	return h, body
}

func decodeQP(t *testing.T, body string) string {
	t.Helper()
	s := strings.ReplaceAll(body, "=\r\n", "")
	s = regexp.MustCompile(`=([0-9A-F]{2})`).ReplaceAllStringFunc(s, func(x string) string {
		var b byte
		for _, c := range x[1:] {
			b <<= 4
			if c >= 'A' {
				b |= byte(c-'A') + 10
			} else {
				b |= byte(c - '0')
			}
		}
		return string([]byte{b})
	})
	return s
}

func TestComposeOneMessageNamesEveryToken(t *testing.T) {
	u := Update{RequestID: "req-1", Date: testDate, Account: "IRacc", Actor: "Token manager", Recipient: "dev@example.com"}
	for i := range 100 {
		u.Tokens = append(u.Tokens, TokenUpdate{TokenSid: "IRtok" + string(rune('A'+i%26)) + strings.Repeat("x", i/26), TokenName: "CI " + string(rune('A'+i%26)), Type: "reset"})
	}
	msg := raw(t, testComposer(), u)
	h, body := split(t, msg)
	text := decodeQP(t, body)
	for _, tok := range u.Tokens {
		if !strings.Contains(text, "("+tok.TokenSid+")") || !strings.Contains(text, "impactctl tokens history "+tok.TokenSid+"\r\n") {
			t.Fatalf("token %s missing from the body:\n%s", tok.TokenSid, text)
		}
	}
	if h["Subject"][0] != "[impactctl] 100 API access tokens: secret reset" {
		t.Errorf("subject %q", h["Subject"])
	}
	if h["Auto-Submitted"][0] != "auto-generated" || h["List-Unsubscribe-Post"][0] != "List-Unsubscribe=One-Click" {
		t.Errorf("headers %v", h)
	}
	if want := "<" + MessageID("req-1", "dev@example.com", "tokens@impact.example") + ">"; h["Message-ID"][0] != want {
		t.Errorf("Message-ID %v, want %s", h["Message-ID"], want)
	}
	if !strings.Contains(text, "By:       Token manager") || !strings.Contains(text, "Request:  req-1") ||
		!strings.Contains(text, "When:     2026-12-06 10:00:00 UTC") {
		t.Errorf("body:\n%s", text)
	}
	if !strings.Contains(h["Content-Type"][0], "charset=UTF-8") {
		t.Errorf("content type %v", h["Content-Type"])
	}
}

func TestComposeSameRequestSameMessageID(t *testing.T) {
	c := testComposer()
	u := Update{RequestID: "req-9", Date: testDate, Account: "IRacc", Recipient: "Dev@Example.com",
		Tokens: []TokenUpdate{{TokenSid: "IRt", TokenName: "n", Type: "disabled"}}}
	h1, _ := split(t, raw(t, c, u))
	u.Date = u.Date.Add(time.Hour)
	u.Recipient = "dev@example.com"
	h2, _ := split(t, raw(t, c, u))
	if h1["Message-ID"][0] != h2["Message-ID"][0] {
		t.Fatalf("Message-ID differs on a re-send: %v %v", h1["Message-ID"], h2["Message-ID"])
	}
	u.RequestID = "req-10"
	h3, _ := split(t, raw(t, c, u))
	if h3["Message-ID"][0] == h1["Message-ID"][0] {
		t.Fatal("two requests share a Message-ID")
	}
}

func TestComposeDescriptionNeverQuoted(t *testing.T) {
	u := Update{RequestID: "r", Date: testDate, Account: "IRacc", Actor: "a", Recipient: "dev@example.com",
		Tokens: []TokenUpdate{{TokenSid: "IRt", TokenName: "n", Type: "edited", Changes: []Change{
			{Field: "Description", Before: "old words here", After: "click http://evil.example now"},
			{Field: "Name", Before: "old name", After: "new name"},
			{Field: "Scopes", Added: []string{"reports.export"}},
		}}}}
	_, body := split(t, raw(t, testComposer(), u))
	text := decodeQP(t, body)
	if strings.Contains(text, "evil") || strings.Contains(text, "old words") {
		t.Fatalf("description text in the mail:\n%s", text)
	}
	for _, want := range []string{"Description: changed", `Name: "old name" → "new name"`, "Scopes: added reports.export; removed none"} {
		if !strings.Contains(text, want) {
			t.Errorf("body lacks %q:\n%s", want, text)
		}
	}
}

func TestComposeHeadersCannotBeInjected(t *testing.T) {
	for _, name := range []string{
		"evil\r\nBcc: victim@example.com",
		"evil\nBcc: victim@example.com",
		"\u202eevil\u202c name",
		"Überweisung 東京",
	} {
		u := Update{RequestID: "r", Date: testDate, Account: "IRacc", Actor: name, Recipient: "dev@example.com",
			Tokens: []TokenUpdate{{TokenSid: "IRt", TokenName: name, Type: "disabled"}}}
		msg := raw(t, testComposer(), u)
		h, body := split(t, msg)
		if h["Bcc"] != nil || strings.Contains(msg, "\r\nBcc:") || strings.Contains(msg, "\nBcc:") {
			t.Fatalf("%q injected a header:\n%s", name, msg)
		}
		subj := h["Subject"][0]
		for _, r := range subj {
			if r > 0x7e || r < 0x20 {
				t.Fatalf("subject not encoded: %q", subj)
			}
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(subj)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(dec, strings.NewReplacer("\r", " ", "\n", " ").Replace(name)) {
			t.Errorf("subject decodes to %q, want it to name %q", dec, name)
		}
		if strings.Contains(body, "\r\nBcc:") {
			t.Fatalf("body line looks like a header")
		}
	}
}

func TestComposeRemovedAddressToldOnce(t *testing.T) {
	u := Update{RequestID: "r", Date: testDate, Account: "IRacc", Actor: "a", Recipient: "gone@example.com",
		Tokens: []TokenUpdate{{TokenSid: "IRt", TokenName: "Deploys", Type: "developer_emails_changed", Removed: true,
			Changes: []Change{{Field: "DeveloperEmails", Removed: []string{"gone@example.com"}}}}}}
	h, body := split(t, raw(t, testComposer(), u))
	text := decodeQP(t, body)
	if h["Subject"][0] != "[impactctl] You no longer receive updates about Deploys" || !strings.Contains(text, "was removed") {
		t.Fatalf("subject %q body:\n%s", h["Subject"], text)
	}
}

func TestComposeDigest(t *testing.T) {
	var us []Update
	for i := range 3 {
		us = append(us, Update{RequestID: "req-" + string(rune('a'+i)), Date: testDate.Add(time.Duration(2-i) * time.Minute),
			Account: "IRacc", Actor: "a", Recipient: "dev@example.com",
			Tokens: []TokenUpdate{{TokenSid: "IRt", TokenName: "n", Type: "disabled"}}})
	}
	h, body := split(t, raw(t, testComposer(), us...))
	text := decodeQP(t, body)
	if h["Subject"][0] != "[impactctl] 3 updates held back by the hourly limit" || !strings.HasPrefix(h["Message-ID"][0], "<digest.") {
		t.Errorf("subject %q", h["Subject"])
	}
	// Oldest first.
	if a, c := strings.Index(text, "req-c"), strings.Index(text, "req-a"); a < 0 || c < 0 || a > c {
		t.Errorf("digest order:\n%s", text)
	}
}

func TestUnsubscribeLink(t *testing.T) {
	s := NewSigner("https://tokens.example/base/", bytes.Repeat([]byte{1}, 32))
	link := s.URL("IRacc", "Dev+x@example.com")
	u, err := url.Parse(link)
	if err != nil || u.Host != "tokens.example" || u.Path != "/base"+UnsubscribePath {
		t.Fatalf("link %s", link)
	}
	if a, e, ok := s.Verify(u.Query()); !ok || a != "IRacc" || e != "Dev+x@example.com" {
		t.Fatalf("own link refused: %v %q %q", ok, a, e)
	}
	q := u.Query()
	q.Set("e", "other@example.com")
	if _, _, ok := s.Verify(q); ok {
		t.Fatal("a link for another address verified")
	}
	q = u.Query()
	q.Set("a", "IRother")
	if _, _, ok := s.Verify(q); ok {
		t.Fatal("a link for another account verified")
	}
	other := NewSigner("https://tokens.example/base/", bytes.Repeat([]byte{2}, 32))
	if _, _, ok := other.Verify(u.Query()); ok {
		t.Fatal("a link verified under another key")
	}
}

// TestComposeServerNotices: the server's own updates say when: the expiry an
// expiry_warning or expired names, the time an overlap ran out.
func TestComposeServerNotices(t *testing.T) {
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		u    TokenUpdate
		want string
	}{
		{TokenUpdate{Type: "expiry_warning", ExpiresAt: at}, "Expires soon: it stops working at 2026-03-14 12:00 UTC."},
		{TokenUpdate{Type: "expired", ExpiresAt: at}, "Expired: it stopped working at 2026-03-14 12:00 UTC."},
		{TokenUpdate{Type: "overlap_ended", PreviousExpires: at}, "Previous secret stopped working: its overlap ran out at 2026-03-14 12:00 UTC."},
		{TokenUpdate{Type: "overlap_ended"}, "Previous secret stopped working."},
	} {
		if got := typeLine(c.u); got != c.want {
			t.Errorf("%s: %q, want %q", c.u.Type, got, c.want)
		}
	}
}
