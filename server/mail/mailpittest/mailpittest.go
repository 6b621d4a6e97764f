// Package mailpittest reads, for tests, what a Mailpit server (a real SMTP server with an
// HTTP API) received. .ci/mailpit.sh starts one and exports its addresses.
package mailpittest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"
)

// Server is a running Mailpit.
type Server struct {
	SMTP string // host:port
	API  string // http://host:port
}

// Start returns the Mailpit .ci/mailpit.sh started. Without one the test skips, saying
// how to run it, except under CI=true, where it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{SMTP: os.Getenv("IMPACTCTL_TEST_MAILPIT_SMTP"), API: os.Getenv("IMPACTCTL_TEST_MAILPIT_API")}
	if s.SMTP == "" || s.API == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("IMPACTCTL_TEST_MAILPIT_SMTP and IMPACTCTL_TEST_MAILPIT_API are unset under CI: .ci/run starts Mailpit with .ci/mailpit.sh")
		}
		t.Skip("needs Mailpit: run `source .ci/mailpit.sh` first (it builds and starts one and exports IMPACTCTL_TEST_MAILPIT_SMTP and _API)")
	}
	return s
}

// Address makes a recipient address no other test uses, so tests sharing one Mailpit
// read only their own messages.
func Address(t testing.TB, name string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return name + "-" + hex.EncodeToString(b) + "@mailpit.example.com"
}

// Summary is a message as Mailpit lists it.
type Summary struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

// Message is one message as Mailpit decodes it.
type Message struct {
	ID      string
	Subject string
	Text    string
}

func (s *Server) get(t testing.TB, path string, v any) []byte {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: %d %v %.200s", path, resp.StatusCode, err, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("mailpit GET %s: %v", path, err)
		}
	}
	return b
}

// To lists the messages sent to addr.
func (s *Server) To(t testing.TB, addr string) []Summary {
	t.Helper()
	var r struct{ Messages []Summary }
	s.get(t, "/api/v1/search?limit=1000&query="+url.QueryEscape("to:"+addr), &r)
	return r.Messages
}

// WaitTo waits up to timeout for n messages to addr, and a little longer to see that
// no more arrive; it returns what arrived.
func (s *Server) WaitTo(t testing.TB, addr string, n int, timeout time.Duration) []Summary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.To(t, addr)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) == n {
				time.Sleep(300 * time.Millisecond)
				got = s.To(t, addr)
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// All lists every message Mailpit holds, newest first.
func (s *Server) All(t testing.TB) []Summary {
	t.Helper()
	var all []Summary
	for start := 0; ; start += 500 {
		var r struct {
			Total    int
			Messages []Summary
		}
		s.get(t, fmt.Sprintf("/api/v1/messages?limit=500&start=%d", start), &r)
		all = append(all, r.Messages...)
		if len(r.Messages) == 0 || len(all) >= r.Total {
			return all
		}
	}
}

// Message reads one message, decoded.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+url.PathEscape(id), &m)
	return m
}

// Raw reads one message as it was sent.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	return string(s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/raw", nil))
}
