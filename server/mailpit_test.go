package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/mail"
	"github.com/impactcom/impactctl/server/mail/mailpittest"
)

// newMailpitTest is a mail test server whose updates go over SMTP to the Mailpit
// .ci/mailpit.sh started.
func newMailpitTest(t *testing.T) (*mailTest, *mailpittest.Server) {
	t.Helper()
	mp := mailpittest.Start(t)
	sender, _, err := mail.NewSender(mail.Config{URL: "smtp://" + mp.SMTP, From: "tokens@impact.example",
		Timeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return newMailTest(t, sender), mp
}

// Through a real SMTP server: a reset tells the developer address; a bulk reset of
// 100 tokens sharing one address is ONE message to it; a non-ASCII name arrives
// encoded; no message Mailpit holds has any secret the test was given.
func TestMailpitUpdates(t *testing.T) {
	t.Parallel()
	mt, mp := newMailpitTest(t)
	admin := mt.cred("admin")
	base := "/Agencies/" + admin.AccountSid + "/ApiTokens"
	var secrets []string
	collect := func(r *response) {
		var one struct{ AuthToken string }
		var bulk struct {
			Results []struct{ ApiToken struct{ AuthToken string } }
		}
		r.decode(t, &one)
		r.decode(t, &bulk)
		if one.AuthToken != "" {
			secrets = append(secrets, one.AuthToken)
		}
		for _, res := range bulk.Results {
			if res.ApiToken.AuthToken != "" {
				secrets = append(secrets, res.ApiToken.AuthToken)
			}
		}
	}

	// One reset, one message to the developer address.
	dev := mailpittest.Address(t, "dev")
	name := "Überweisungen 東京 (prod)"
	sid := mt.create(name, dev)
	collect(mt.req("POST", base+"/"+sid+"/Reset", admin, nil).want(t, http.StatusOK))
	mt.drain()
	got := mp.WaitTo(t, dev, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages to %s after a reset, want 1", len(got), dev)
	}
	raw := mp.Raw(t, got[0].ID)
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	head = strings.ReplaceAll(head, "\r\n ", " ") // unfolded
	if strings.Contains(head, "Überweisungen") || !strings.Contains(head, "Subject: =?UTF-8?") {
		t.Errorf("the non-ASCII name is not encoded in the headers:\n%s", head)
	}
	msg := mp.Message(t, got[0].ID)
	if msg.Subject != "[impactctl] "+name+": secret reset" || !strings.Contains(msg.Text, "impactctl tokens history "+sid) {
		t.Errorf("subject %q text:\n%s", msg.Subject, msg.Text)
	}

	// A bulk reset of 100 tokens sharing one address: one message naming them all.
	team := mailpittest.Address(t, "team")
	var sids []string
	for i := range 100 {
		sids = append(sids, mt.create(fmt.Sprintf("team token %03d", i), team))
	}
	collect(mt.req("POST", base+"/Reset", admin, map[string]any{"Sids": sids}).want(t, http.StatusOK))
	mt.drain()
	got = mp.WaitTo(t, team, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages to %s after a bulk reset of 100, want 1", len(got), team)
	}
	text := mp.Message(t, got[0].ID).Text
	for _, s := range sids {
		if !strings.Contains(text, s) {
			t.Fatalf("the message does not name %s", s)
		}
	}

	// No secret in any message Mailpit received, raw or decoded.
	if len(secrets) != 101 {
		t.Fatalf("collected %d secrets, want 101", len(secrets))
	}
	all := mp.All(t)
	for _, m := range all {
		body := mp.Raw(t, m.ID) + mp.Message(t, m.ID).Text
		for _, s := range secrets {
			if strings.Contains(body, s) || strings.Contains(body, s[:16]) || strings.Contains(body, s[16:]) {
				t.Fatalf("message %s holds a secret (or half of one)", m.ID)
			}
		}
	}
	t.Logf("secret scan: %d messages, %d secrets; none found", len(all), len(secrets))
}

// Through a real SMTP server: the 21st update in an hour from one account to one
// address is held, and leaves in the digest when the hour ends.
func TestMailpitDigest(t *testing.T) {
	t.Parallel()
	mt, mp := newMailpitTest(t)
	busy := mailpittest.Address(t, "busy")
	sid := mt.create("busy token", busy)
	admin := mt.cred("admin")
	path := "/Agencies/" + admin.AccountSid + "/ApiTokens/" + sid
	for i := range RecipientHourlyLimit + 1 {
		op := "/Disable"
		if i%2 == 1 {
			op = "/Enable"
		}
		mt.req("POST", path+op, admin, nil).want(t, http.StatusOK)
		mt.drain()
	}
	if got := mp.WaitTo(t, busy, RecipientHourlyLimit, 10*time.Second); len(got) != RecipientHourlyLimit {
		t.Fatalf("%d messages within the hour, want %d", len(got), RecipientHourlyLimit)
	}
	mt.clock.Advance(time.Hour)
	mt.drain()
	got := mp.WaitTo(t, busy, RecipientHourlyLimit+1, 10*time.Second)
	if len(got) != RecipientHourlyLimit+1 {
		t.Fatalf("%d messages after the hour, want %d", len(got), RecipientHourlyLimit+1)
	}
	// Newest first.
	digest := mp.Message(t, got[0].ID)
	if digest.Subject != "[impactctl] 1 update held back by the hourly limit" || !strings.Contains(digest.Text, "held back") {
		t.Fatalf("the 21st is not a digest: %q\n%s", digest.Subject, digest.Text)
	}
}
