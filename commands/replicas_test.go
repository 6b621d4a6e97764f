package commands_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/impactcom/impactctl/server"
)

// TestReplicasShareOnePostgres runs two `impactctl serve` processes on one PostgreSQL
// database and checks that they behave as one server: one rate budget per token, a
// revocation through one refused by the other on the next request, a keyed create
// sent to both making one token, 64 concurrent editors split across both losing no
// update, and one failed-authentication count per client address.
func TestReplicasShareOnePostgres(t *testing.T) {
	dsn := freshPostgres(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "shared.key")
	// Started together: migrations, the key and the demo seeding take turns.
	a := startReplica(t, dsn, key, filepath.Join(dir, "a.json"))
	b := startReplica(t, dsn, key, filepath.Join(dir, "b.json"))
	a.waitReady(t)
	b.waitReady(t)
	if a.admin.AccountSid != b.admin.AccountSid || a.admin.AuthToken != b.admin.AuthToken {
		t.Fatalf("the replicas seeded separately: admin %s and %s", a.admin.AccountSid, b.admin.AccountSid)
	}
	replicas := []*replica{a, b}
	admin := a.admin
	// Every 401 counts against this test's address on both replicas.
	failures := 0

	t.Run("another key is refused", func(t *testing.T) {
		other := filepath.Join(dir, "other.key")
		if err := os.WriteFile(other, []byte("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("impactctl", "serve", "--db", dsn, "--key-file", other, "--addr", "127.0.0.1:0")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "key file does not match") {
			t.Fatalf("a replica with another key: %v\n%s", err, out)
		}
		if pw := dsnPassword(dsn); pw != "" && strings.Contains(string(out), pw) {
			t.Fatalf("the refusal shows the database password:\n%s", out)
		}
	})

	t.Run("one budget per token", func(t *testing.T) {
		tok := createToken(t, a, admin, map[string]any{"Name": "budget"})
		for i := range replicaRate {
			r := replicas[i%2]
			st, h, _ := call(t, r, "GET", "/Agencies/"+tok.AccountSid+"/ApiTokens/Current", tok, nil)
			if st != 200 {
				t.Fatalf("request %d on replica %s: %d", i+1, r.name, st)
			}
			// Each replica takes the budget in leases of 1% (3 units here) and knows the
			// other's spending as of its own last lease: taking turns, its Remaining is
			// within two leases of the exact figure.
			exact := replicaRate - i - 1
			if got, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err != nil || got < exact-2*replicaLease || got > exact+2*replicaLease {
				t.Fatalf("request %d: X-RateLimit-Remaining %s, want %d ± %d", i+1, h.Get("X-RateLimit-Remaining"), exact, 2*replicaLease)
			}
		}
		for _, r := range replicas {
			if st, h, _ := call(t, r, "GET", "/Agencies/"+tok.AccountSid+"/ApiTokens/Current", tok, nil); st != 429 || h.Get("Retry-After") == "" {
				t.Fatalf("replica %s after the budget: %d", r.name, st)
			}
		}
	})

	t.Run("revocation is seen by the other replica", func(t *testing.T) {
		tok := createToken(t, a, admin, map[string]any{"Name": "revoked", "Scopes": []string{"apitokens.read"}})
		current := "/Agencies/" + tok.AccountSid + "/ApiTokens/Current"
		want := func(r *replica, c server.Credential, status int) {
			t.Helper()
			st, _, body := call(t, r, "GET", current, c, nil)
			if st != status {
				t.Fatalf("replica %s: %d, want %d: %s", r.name, st, status, body)
			}
			if st == 401 {
				failures++
			}
		}
		manage := "/Agencies/" + admin.AccountSid + "/ApiTokens/" + tok.AccountSid
		want(b, tok, 200)
		mustCall(t, a, "POST", manage+"/Disable", admin, nil, 200)
		want(b, tok, 403)
		mustCall(t, b, "POST", manage+"/Enable", admin, nil, 200)
		want(a, tok, 200)
		var reset struct{ AuthToken string }
		json.Unmarshal(mustCall(t, a, "POST", manage+"/Reset", admin, nil, 200), &reset)
		want(b, tok, 401)
		renewed := server.Credential{AccountSid: tok.AccountSid, AuthToken: reset.AuthToken}
		want(b, renewed, 200)
		mustCall(t, b, "DELETE", manage, admin, nil, 204)
		want(a, renewed, 401)
	})

	t.Run("a keyed create sent to both makes one token", func(t *testing.T) {
		for i := range 5 {
			name := fmt.Sprintf("keyed once %d", i)
			body := map[string]any{"Name": name}
			var wg sync.WaitGroup
			start := make(chan struct{})
			sids := make([]string, 2)
			statuses := make([]int, 2)
			for j, r := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					st, _, out := call(t, r, "POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, body,
						"Idempotency-Key", fmt.Sprintf("replicas-%d", i))
					var got struct{ AccountSid string }
					json.Unmarshal(out, &got)
					statuses[j], sids[j] = st, got.AccountSid
				}()
			}
			close(start)
			wg.Wait()
			if statuses[0] != 201 || statuses[1] != 201 || sids[0] != sids[1] || sids[0] == "" {
				t.Fatalf("round %d: statuses %v, SIDs %v: want one token answered twice", i, statuses, sids)
			}
			var list struct {
				Total string `json:"@total"`
			}
			json.Unmarshal(mustCall(t, b, "GET", "/Agencies/"+admin.AccountSid+"/ApiTokens?Name="+url.QueryEscape(name), admin, nil, 200), &list)
			if list.Total != "1" {
				t.Fatalf("round %d: %s tokens named %q", i, list.Total, name)
			}
		}
	})

	t.Run("64 editors across both lose no update", func(t *testing.T) {
		const editors, targets, edits = 64, 8, 6
		var targetSIDs []string
		for i := range targets {
			targetSIDs = append(targetSIDs, createToken(t, a, admin, map[string]any{"Name": fmt.Sprintf("target %d", i)}).AccountSid)
		}
		var editorCreds []server.Credential
		for i := range editors {
			editorCreds = append(editorCreds, createToken(t, b, admin, map[string]any{
				"Name": fmt.Sprintf("editor %d", i), "Scopes": []string{"apitokens.read", "apitokens.write"}}))
		}
		var mu sync.Mutex
		acked := map[string]int{}
		stale := 0
		var wg sync.WaitGroup
		for e, cred := range editorCreds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := replicas[e%2]
				base := "/Agencies/" + cred.AccountSid + "/ApiTokens/"
				done := 0
				for attempt := 0; done < edits; attempt++ {
					if attempt > 100 {
						t.Errorf("editor %d: %d edits after 100 attempts", e, done)
						return
					}
					target := targetSIDs[(e+done)%targets]
					st, h, body := call(t, r, "GET", base+target, cred, nil)
					if st != 200 {
						t.Errorf("editor %d read: %d %s", e, st, body)
						return
					}
					st, _, body = call(t, r, "PATCH", base+target, cred,
						map[string]any{"Description": fmt.Sprintf("editor %d edit %d", e, done)}, "If-Match", h.Get("ETag"))
					switch st {
					case 200:
						mu.Lock()
						acked[target]++
						mu.Unlock()
						done++
					case 412:
						mu.Lock()
						stale++
						mu.Unlock()
					default:
						t.Errorf("editor %d edit: %d %s", e, st, body)
						return
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		total := 0
		for _, sid := range targetSIDs {
			_, h, _ := call(t, replicas[1], "GET", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid, admin, nil)
			if want := fmt.Sprintf(`"%d"`, 1+acked[sid]); h.Get("ETag") != want {
				t.Errorf("target %s: ETag %s after %d acknowledged edits, want %s", sid, h.Get("ETag"), acked[sid], want)
			}
			total += acked[sid]
		}
		t.Logf("%d edits acknowledged, %d stale edits refused with 412", total, stale)
	})

	t.Run("admin recover while both serve", func(t *testing.T) {
		secretFile := filepath.Join(dir, "recovered.secret")
		cmd := exec.Command("impactctl", "admin", "recover", admin.AccountSid, "--key-file", key, "--secret-file", secretFile)
		cmd.Env = append(os.Environ(), "IMPACTCTL_DB="+dsn)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("admin recover: %v\n%s", err, stderr.String())
		}
		if pw := dsnPassword(dsn); pw != "" && strings.Contains(stderr.String()+stdout.String(), pw) {
			t.Fatal("admin recover shows the database password")
		}
		secret, err := os.ReadFile(secretFile)
		if err != nil {
			t.Fatal(err)
		}
		rec := server.Credential{AccountSid: strings.TrimSpace(stdout.String()), AuthToken: strings.TrimSpace(string(secret))}
		for _, r := range replicas {
			var tok struct{ Name, State string }
			json.Unmarshal(mustCall(t, r, "GET", "/Agencies/"+rec.AccountSid+"/ApiTokens/"+rec.AccountSid, rec, nil, 200), &tok)
			if tok.Name != "Recovered admin" || tok.State != "ENABLED" {
				t.Fatalf("replica %s: the recovered token is %+v", r.name, tok)
			}
		}
	})

	// Last: it blocks this test's address on both replicas for the rest of the window.
	t.Run("one failed-auth count per address", func(t *testing.T) {
		bad := server.Credential{AccountSid: admin.AccountSid, AuthToken: strings.Repeat("x", 32)}
		for i := failures; i < replicaAuthFails; i++ {
			if st, _, _ := call(t, replicas[i%2], "GET", "/Agencies/"+admin.AccountSid+"/ApiTokens/Current", bad, nil); st != 401 {
				t.Fatalf("failed authentication %d of %d: %d", i+1, replicaAuthFails, st)
			}
		}
		for _, r := range replicas {
			if st, _, _ := call(t, r, "GET", "/Agencies/"+admin.AccountSid+"/ApiTokens/Current", admin, nil); st != 429 {
				t.Fatalf("replica %s after %d failures over both: %d, want 429", r.name, replicaAuthFails, st)
			}
		}
	})

	for _, r := range replicas {
		r.stop(t)
		if pw := dsnPassword(dsn); pw != "" && strings.Contains(r.log(), pw) {
			t.Errorf("replica %s logged the database password", r.name)
		}
	}
}

const (
	replicaRate      = 300 // requests per token per hour, on both replicas
	replicaLease     = 3   // units of a token's budget a replica takes at a time: 1% of replicaRate
	replicaAuthFails = 20  // failed authentications per address per minute
)

// replica is one `impactctl serve` process.
type replica struct {
	name  string
	cmd   *exec.Cmd
	ready string
	url   string
	admin server.Credential

	mu     sync.Mutex
	stderr bytes.Buffer
}

func (r *replica) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.Write(p)
}

func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// startReplica starts `impactctl serve` on the database in IMPACTCTL_DB (where a URL
// with a password belongs) and returns without waiting for it.
func startReplica(t *testing.T, dsn, keyFile, readyFile string) *replica {
	t.Helper()
	r := &replica{name: strings.TrimSuffix(filepath.Base(readyFile), ".json"), ready: readyFile}
	r.cmd = exec.Command("impactctl", "serve", "--demo", "--key-file", keyFile, "--addr", "127.0.0.1:0",
		"--ready-file", readyFile, "--rate-limit", fmt.Sprintf("%d/h", replicaRate),
		"--auth-fail-limit", fmt.Sprintf("%d/m", replicaAuthFails))
	r.cmd.Env = append(os.Environ(), "IMPACTCTL_DB="+dsn)
	r.cmd.Stderr = r
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, err := os.ReadFile(r.ready)
		if err == nil && len(data) > 0 {
			var c server.Credential
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			r.url, r.admin = c.Url, c
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s not ready after 60 s:\n%s", r.name, r.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("replica %s: %v\n%s", r.name, err, r.log())
		}
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		t.Errorf("replica %s did not stop on SIGINT", r.name)
	}
}

var replicaClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// call sends one request; headers are name, value pairs.
func call(t *testing.T, r *replica, method, path string, c server.Credential, body any, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(c.AccountSid, c.AuthToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := replicaClient.Do(req)
	if err != nil {
		t.Errorf("%s %s on replica %s: %v", method, path, r.name, err)
		return 0, http.Header{}, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func mustCall(t *testing.T, r *replica, method, path string, c server.Credential, body any, status int) []byte {
	t.Helper()
	st, _, out := call(t, r, method, path, c, body)
	if st != status {
		t.Fatalf("%s %s on replica %s: %d, want %d: %s", method, path, r.name, st, status, out)
	}
	return out
}

// createToken creates a token under the admin's agency and returns its credential.
func createToken(t *testing.T, r *replica, admin server.Credential, body map[string]any) server.Credential {
	t.Helper()
	var got struct{ AccountSid, AuthToken string }
	if err := json.Unmarshal(mustCall(t, r, "POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, body, 201), &got); err != nil {
		t.Fatal(err)
	}
	return server.Credential{Url: r.url, AccountSid: got.AccountSid, AuthToken: got.AuthToken}
}

func dsnPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

// freshPostgres returns the URL of a new, empty database on the server in
// IMPACTCTL_TEST_POSTGRES_DSN, dropped when the test ends, or skips the test.
func freshPostgres(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("IMPACTCTL_TEST_POSTGRES_DSN")
	if admin == "" {
		t.Skip("PostgreSQL tests skipped: set IMPACTCTL_TEST_POSTGRES_DSN to a postgres:// URL of a role that may create databases, " +
			"or run `source .ci/postgres.sh` (starts a throwaway server) before go test")
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "impactctl_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(context.Background(), `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
