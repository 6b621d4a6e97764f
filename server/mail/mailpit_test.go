package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/mail/mailpittest"
)

// Through a real SMTP server: a non-ASCII, bidi and CR/LF-laden name arrives encoded in
// the headers and decodes to itself.
func TestMailpitDelivery(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t)
	to := mailpittest.Address(t, "dev")
	s, _ := newTestSender(t, "smtp://"+mp.SMTP, Config{})
	name := "Überweisung \u202e東京\u202c\r\nBcc: victim@example.com"
	u := Update{RequestID: "req-mailpit", Date: testDate, Account: "IRacc", Actor: "Agentur Müller", Recipient: to}
	u.Tokens = []TokenUpdate{{TokenSid: "IRtokA", TokenName: name, Type: "disabled"}}
	m, err := testComposer().Compose(u)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Send(context.Background(), m); r.Outcome != Sent {
		t.Fatalf("send: %v %v", r.Outcome, r.Err)
	}
	got := mp.WaitTo(t, to, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages to %s, want 1", len(got), to)
	}
	raw := mp.Raw(t, got[0].ID)
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	if strings.Contains(head, "Überweisung") || strings.Contains(head, "Müller") || !strings.Contains(head, "=?UTF-8?") {
		t.Errorf("non-ASCII not encoded in the headers:\n%s", head)
	}
	if strings.Contains(strings.ToLower(head), "\nbcc:") || strings.Contains(raw, "victim@example.com\r\n") {
		t.Errorf("a name injected a header:\n%s", head)
	}
	msg := mp.Message(t, got[0].ID)
	if !strings.Contains(msg.Subject, "Überweisung") || !strings.Contains(msg.Text, "Agentur Müller") {
		t.Errorf("decoded subject %q text:\n%s", msg.Subject, msg.Text)
	}
	for _, tok := range u.Tokens {
		if !strings.Contains(msg.Text, "impactctl tokens history "+tok.TokenSid) {
			t.Errorf("%s missing:\n%s", tok.TokenSid, msg.Text)
		}
	}
}
