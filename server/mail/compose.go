// Package mail writes and sends the updates the Token API server sends about token
// changes: one plain-text message per recipient per request, naming every token the
// request changed for that recipient, and never any secret. It knows nothing of the
// store: the server gives it an Update (what happened, to whom) and it gives back a
// message, and a Sender delivers a message over SMTP and says whether to retry.
package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
)

// Change is one field's change in an event: Before → After for single values, Added
// and Removed for lists (Scopes, DeveloperEmails).
type Change struct {
	Field   string
	Before  string
	After   string
	Added   []string
	Removed []string
}

// TokenUpdate is what one request did to one token, as one recipient is told it.
type TokenUpdate struct {
	TokenSid  string
	TokenName string
	Type      string // the event type: reset, disabled, scopes_changed, …
	Changes   []Change
	// PreviousExpires is when a reset's previous secret stops working (reset only);
	// zero when it stopped at once. For an overlap that ran out: when it did.
	PreviousExpires time.Time
	// ExpiresAt is the token's expiry (expiry_warning and expired).
	ExpiresAt time.Time
	// Removed says this recipient was taken off the token's list by this request: it
	// is told so once, and told nothing more about the token.
	Removed bool
}

// Update is everything one request changed that one recipient is told about.
type Update struct {
	RequestID string
	Date      time.Time
	Account   string // the account whose tokens changed: the unsubscribe link stops its updates
	Actor     string // the acting account's name; empty for the server itself
	Recipient string
	Tokens    []TokenUpdate
}

// Composer turns updates into messages. From is the sender address; Unsubscribe makes
// the one-click link for a recipient of an account's updates.
type Composer struct {
	From        string
	Unsubscribe *Signer
}

// HourlyLimit is the most messages one recipient gets from one account an hour; past
// it, updates are held back and sent as one digest when the hour ends.
const HourlyLimit = 20

// MessageID is the Message-ID of the message for (requestID, recipient): fixed, so a
// message sent again after a crash is recognised as the same one.
func MessageID(requestID, recipient, from string) string {
	h := sha256.Sum256([]byte(requestID + "\x00" + strings.ToLower(recipient)))
	domain := "impactctl.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return hex.EncodeToString(h[:16]) + "@" + domain
}

// Compose writes one update as a message.
func (c *Composer) Compose(u Update) (*gomail.Msg, error) {
	return c.compose([]Update{u}, false)
}

// ComposeDigest writes the updates held back by the hourly limit as one message to
// their recipient, oldest first. Its Message-ID derives from the first request's id
// and the recipient.
func (c *Composer) ComposeDigest(us []Update) (*gomail.Msg, error) {
	return c.compose(us, true)
}

func (c *Composer) compose(us []Update, digest bool) (*gomail.Msg, error) {
	if len(us) == 0 {
		return nil, fmt.Errorf("compose: no update")
	}
	us = slices.Clone(us)
	slices.SortStableFunc(us, func(a, b Update) int { return a.Date.Compare(b.Date) })
	first := us[0]
	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := m.From(c.From); err != nil {
		return nil, fmt.Errorf("compose: from: %w", err)
	}
	if err := m.To(first.Recipient); err != nil {
		return nil, fmt.Errorf("compose: to: %w", err)
	}
	id := MessageID(first.RequestID, first.Recipient, c.From)
	if digest {
		id = "digest." + id
	}
	m.SetMessageIDWithValue(id)
	m.SetDateWithValue(us[len(us)-1].Date.UTC())
	m.Subject(subject(us, digest))
	m.SetUserAgent("impactctl")
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Auto-Response-Suppress", "All")
	m.SetGenHeader("Precedence", "bulk")
	if c.Unsubscribe != nil {
		link := c.Unsubscribe.URL(first.Account, first.Recipient)
		m.SetGenHeader("List-Unsubscribe", "<"+link+">")
		m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	m.SetBodyString(gomail.TypeTextPlain, body(us, digest, c.Unsubscribe))
	return m, nil
}

// clean makes server data safe for one line: controls and line breaks become spaces.
// Headers are encoded besides (RFC 2047); this keeps the body's lines whole too.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

func subject(us []Update, digest bool) string {
	var toks []TokenUpdate
	for _, u := range us {
		toks = append(toks, u.Tokens...)
	}
	prefix := "[impactctl] "
	if digest {
		if len(us) == 1 {
			return prefix + "1 update held back by the hourly limit"
		}
		return prefix + fmt.Sprintf("%d updates held back by the hourly limit", len(us))
	}
	if len(toks) == 1 {
		t := toks[0]
		if t.Removed {
			return prefix + "You no longer receive updates about " + clean(t.TokenName)
		}
		return prefix + clean(t.TokenName) + ": " + typeTitle(t.Type)
	}
	typ := toks[0].Type
	for _, t := range toks[1:] {
		if t.Type != typ || t.Removed {
			typ = ""
		}
	}
	if typ == "" || toks[0].Removed {
		return prefix + fmt.Sprintf("%d API access tokens changed", len(toks))
	}
	return prefix + fmt.Sprintf("%d API access tokens: %s", len(toks), typeTitle(typ))
}

var titles = map[string]string{
	"created":                  "created",
	"duplicated":               "created as a copy",
	"edited":                   "edited",
	"scopes_changed":           "scopes changed",
	"developer_emails_changed": "developer e-mails changed",
	"reset":                    "secret reset",
	"overlap_ended":            "previous secret stopped working",
	"disabled":                 "disabled",
	"enabled":                  "enabled",
	"deleted":                  "deleted",
	"revealed":                 "secret read",
	"recovered":                "recovered by an administrator",
	"expiry_warning":           "expires soon",
	"expired":                  "expired",
}

func typeTitle(t string) string {
	if s, ok := titles[t]; ok {
		return s
	}
	return clean(strings.ReplaceAll(t, "_", " "))
}

func body(us []Update, digest bool, signer *Signer) string {
	var b strings.Builder
	if digest {
		fmt.Fprintf(&b, "More updates than the hourly limit allows (%d a recipient) came in the last hour:\nthey were held back and are sent together here, oldest first.\n\n", HourlyLimit)
	}
	for i, u := range us {
		if i > 0 {
			b.WriteString("\n----\n\n")
		}
		writeUpdate(&b, u)
	}
	first := us[0]
	b.WriteString("\n-- \n")
	fmt.Fprintf(&b, "You receive this because %s is a developer address or the primary contact\nof these tokens.\n", clean(first.Recipient))
	if signer != nil {
		fmt.Fprintf(&b, "Stop updates about this account's tokens: %s\n", signer.URL(first.Account, first.Recipient))
	}
	return b.String()
}

func writeUpdate(b *strings.Builder, u Update) {
	actor := clean(u.Actor)
	if actor == "" {
		actor = "the server (scheduled)"
	}
	fmt.Fprintf(b, "When:     %s\n", u.Date.UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(b, "By:       %s\n", actor)
	fmt.Fprintf(b, "Request:  %s\n", clean(u.RequestID))
	for _, t := range u.Tokens {
		fmt.Fprintf(b, "\n%s (%s)\n", clean(t.TokenName), clean(t.TokenSid))
		if t.Removed {
			b.WriteString("  Your address was removed from this token's updates: you will hear no more about it.\n")
			continue
		}
		fmt.Fprintf(b, "  %s\n", typeLine(t))
		for _, c := range t.Changes {
			fmt.Fprintf(b, "  %s\n", changeLine(c))
		}
		fmt.Fprintf(b, "  History: impactctl tokens history %s\n", clean(t.TokenSid))
	}
}

func typeLine(t TokenUpdate) string {
	switch t.Type {
	case "reset":
		if t.PreviousExpires.IsZero() {
			return "Secret reset: a new secret was issued; the previous one stopped working at once."
		}
		return "Secret reset: a new secret was issued; the previous one works until " +
			t.PreviousExpires.UTC().Format("2006-01-02 15:04 UTC") + "."
	case "revealed":
		return "Secret read: someone read this token's secret."
	case "expiry_warning":
		if !t.ExpiresAt.IsZero() {
			return "Expires soon: it stops working at " + t.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + "."
		}
		return "Expires soon."
	case "expired":
		if !t.ExpiresAt.IsZero() {
			return "Expired: it stopped working at " + t.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + "."
		}
	case "overlap_ended":
		if !t.PreviousExpires.IsZero() {
			return "Previous secret stopped working: its overlap ran out at " +
				t.PreviousExpires.UTC().Format("2006-01-02 15:04 UTC") + "."
		}
	}
	s := typeTitle(t.Type)
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func changeLine(c Change) string {
	f := clean(c.Field)
	if c.Field == "Description" {
		// Free text written by whoever may edit the token never goes into a mail.
		return f + ": changed"
	}
	if c.Added != nil || c.Removed != nil {
		return fmt.Sprintf("%s: added %s; removed %s", f, list(c.Added), list(c.Removed))
	}
	return fmt.Sprintf("%s: %s → %s", f, value(c.Before), value(c.After))
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = clean(x)
	}
	return strings.Join(out, ", ")
}

func value(s string) string {
	if s == "" {
		return "(none)"
	}
	return "\"" + clean(s) + "\""
}
