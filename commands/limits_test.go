package commands_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server"
)

// The limits under a real clock, against a real `impactctl serve`. Nothing here
// passes or fails on how fast the machine is: a window is read from the answers
// (X-RateLimit-Remaining counting down, Retry-After), and every wait is the one
// the server asked for plus a second.

// TestRateLimitWindow: with --rate-limit 5/2s a token gets exactly 5 answers a
// window, counting down, then 429 with Retry-After; once it has waited that long it
// is served again with a fresh budget; another token has its own budget.
//
//	go test ./commands -run TestRateLimitWindow -v
func TestRateLimitWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a rate window to end")
	}
	srv := startServe(t, filepath.Join(t.TempDir(), "tokens.db"), "--rate-limit", "5/2s", "--auth-fail-limit", "0")
	api := newAPIClient(srv.URL)
	admin := srv.Admin

	// Another token, made first (it spends one of admin's units).
	a := api.do("POST", admin, "/ApiTokens", `{"Name":"second"}`)
	var other server.Credential
	a.decode(t, &other)
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}

	// A window ends 2s after it began: a fresh one starts with the next request.
	time.Sleep(3 * time.Second)

	// Spend admin's budget until refused; each window counts down 4, 3, 2, 1, 0.
	var run []int // X-RateLimit-Remaining of the successes since the window began
	var refused answer
	for i := 0; i < 500 && refused.status == 0; i++ {
		a := api.do("GET", admin, "/ApiTokens/Current", "")
		wantHeader(t, a, "X-RateLimit-Limit", "5")
		remaining, _ := strconv.Atoi(a.header.Get("X-RateLimit-Remaining"))
		switch a.status {
		case http.StatusOK:
			if remaining == 4 {
				run = run[:0] // a new window began
			}
			run = append(run, remaining)
		case http.StatusTooManyRequests:
			refused = a
		default:
			t.Fatalf("request %d: %d %s", i, a.status, a.body)
		}
	}
	if refused.status == 0 {
		t.Fatal("500 requests, none refused")
	}
	if fmt.Sprint(run) != "[4 3 2 1 0]" {
		t.Fatalf("the refused window counted down %v, want [4 3 2 1 0]", run)
	}
	wantCode(t, refused, "rate_limited")
	wantHeader(t, refused, "X-RateLimit-Remaining", "0")
	wait, err := strconv.Atoi(refused.header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 2 {
		t.Fatalf("Retry-After %q: want 1 or 2 seconds in a 2s window", refused.header.Get("Retry-After"))
	}
	if reset, _ := strconv.Atoi(refused.header.Get("X-RateLimit-Reset")); reset < 1 || reset > 2 {
		t.Fatalf("X-RateLimit-Reset %q: want 1 or 2", refused.header.Get("X-RateLimit-Reset"))
	}

	// The other token's budget is its own.
	a = api.do("GET", other, "/ApiTokens/Current", "")
	if a.status != http.StatusOK {
		t.Fatalf("another token while the first is refused: %d %s", a.status, a.body)
	}
	wantHeader(t, a, "X-RateLimit-Remaining", "4")

	// Waited out, the budget is whole again.
	time.Sleep(time.Duration(wait)*time.Second + time.Second)
	a = api.do("GET", admin, "/ApiTokens/Current", "")
	if a.status != http.StatusOK {
		t.Fatalf("after Retry-After: %d %s", a.status, a.body)
	}
	wantHeader(t, a, "X-RateLimit-Remaining", "4")
}

// TestAuthFailLimit: past --auth-fail-limit failed authentications from one client
// address, every request from it is refused (even with good credentials) until the
// window ends; without --trusted-proxy, X-Forwarded-For changes nothing; with it,
// the client is the right-most untrusted hop, and IPv6 clients count per /64.
//
//	go test ./commands -run TestAuthFailLimit -v
func TestAuthFailLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a failed-authentication window to end")
	}
	const limit = "3/10s" // four requests in ten seconds: a wide margin on any machine

	t.Run("no trusted proxy", func(t *testing.T) {
		t.Parallel()
		srv := startServe(t, filepath.Join(t.TempDir(), "tokens.db"), "--rate-limit", "0", "--auth-fail-limit", limit)
		api := newAPIClient(srv.URL)
		failFrom(t, api, srv.Admin, "X-Forwarded-For", "203.0.113.7")
		// Every failure counted against the peer, 127.0.0.1, whatever the header said.
		blocked := wantBlocked(t, api, srv.Admin, "X-Forwarded-For", "198.51.100.1")
		wantServed(t, api, srv.Admin, blocked)
	})

	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		srv := startServe(t, filepath.Join(t.TempDir(), "tokens.db"), "--rate-limit", "0", "--auth-fail-limit", limit,
			"--trusted-proxy", "127.0.0.1", "--trusted-proxy", "10.0.0.0/8")
		api := newAPIClient(srv.URL)
		failFrom(t, api, srv.Admin, "X-Forwarded-For", "203.0.113.7")
		blocked := wantBlocked(t, api, srv.Admin, "X-Forwarded-For", "203.0.113.7")
		// The same client behind one more trusted hop, or named on two header lines.
		wantBlocked(t, api, srv.Admin, "X-Forwarded-For", "203.0.113.7, 10.1.2.3")
		wantBlocked(t, api, srv.Admin, "X-Forwarded-For", "203.0.113.7", "X-Forwarded-For", "10.1.2.3")
		// Other clients are served: another address, an untrusted hop after the
		// blocked one (it is the client), and the proxy itself.
		for _, xff := range [][]string{{"X-Forwarded-For", "203.0.113.8"}, {"X-Forwarded-For", "203.0.113.7, 192.0.2.9"}, {}} {
			if a := api.do("GET", srv.Admin, "/ApiTokens/Current", "", xff...); a.status != http.StatusOK {
				t.Errorf("client %v: %d %s", xff, a.status, a.body)
			}
		}
		// A forged, unparsable hop counts against the proxy, which is not blocked.
		if a := api.do("GET", srv.Admin, "/ApiTokens/Current", "", "X-Forwarded-For", "203.0.113.7, not-an-address"); a.status != http.StatusOK {
			t.Errorf("an unparsable hop: %d %s", a.status, a.body)
		}
		// IPv6 clients count per /64: another address in the /64 is blocked, another /64 is not.
		failFrom(t, api, srv.Admin, "X-Forwarded-For", "2001:db8:1:2::1")
		wantBlocked(t, api, srv.Admin, "X-Forwarded-For", "2001:db8:1:2::ffff")
		if a := api.do("GET", srv.Admin, "/ApiTokens/Current", "", "X-Forwarded-For", "2001:db8:1:3::1"); a.status != http.StatusOK {
			t.Errorf("another /64: %d %s", a.status, a.body)
		}
		wantServed(t, api, srv.Admin, blocked, "X-Forwarded-For", "203.0.113.7")
	})
}

// failFrom fails authentication 3 times, the limit, with the given headers.
func failFrom(t *testing.T, api *apiClient, admin server.Credential, headers ...string) {
	t.Helper()
	wrong := server.Credential{AccountSid: admin.AccountSid, AuthToken: "wrong-secret-wrong-secret-wrong-"}
	for i := 0; i < 3; i++ {
		if a := api.do("GET", wrong, "/ApiTokens/Current", "", headers...); a.status != http.StatusUnauthorized {
			t.Fatalf("failed authentication %d from %v: %d %s", i+1, headers, a.status, a.body)
		}
	}
}

// wantBlocked checks that good credentials from a client are refused with 429
// auth_fail_limited and answers the refusal.
func wantBlocked(t *testing.T, api *apiClient, admin server.Credential, headers ...string) answer {
	t.Helper()
	a := api.do("GET", admin, "/ApiTokens/Current", "", headers...)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("good credentials from %v after 3 failures: %d %s", headers, a.status, a.body)
	}
	wantCode(t, a, "auth_fail_limited")
	if wait, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || wait < 1 || wait > 10 {
		t.Fatalf("Retry-After %q: want 1 to 10 seconds in a 10s window", a.header.Get("Retry-After"))
	}
	return a
}

// wantServed waits out a refusal's Retry-After, plus a second, and checks the client
// is served again.
func wantServed(t *testing.T, api *apiClient, admin server.Credential, refused answer, headers ...string) {
	t.Helper()
	wait, _ := strconv.Atoi(refused.header.Get("Retry-After"))
	time.Sleep(time.Duration(wait)*time.Second + time.Second)
	if a := api.do("GET", admin, "/ApiTokens/Current", "", headers...); a.status != http.StatusOK {
		t.Fatalf("after Retry-After %ds: %d %s", wait, a.status, a.body)
	}
}

func wantHeader(t *testing.T, a answer, name, want string) {
	t.Helper()
	if got := a.header.Get(name); got != want {
		t.Fatalf("%s: %q, want %q (status %d)", name, got, want, a.status)
	}
}

func wantCode(t *testing.T, a answer, code string) {
	t.Helper()
	var e struct{ Code string }
	a.decode(t, &e)
	if e.Code != code {
		t.Fatalf("Code %q, want %q: %s", e.Code, code, a.body)
	}
}
