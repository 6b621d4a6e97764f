package commands_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server"
)

// serveProcess is a real `impactctl serve` process: the binary every script runs,
// started on a database of the test's own.
type serveProcess struct {
	t     *testing.T
	cmd   *exec.Cmd
	log   *bytes.Buffer
	done  chan struct{}
	URL   string
	Admin server.Credential
}

// startServe runs `impactctl serve --addr 127.0.0.1:0 --db DB --ready-file … ARGS`
// and waits until it listens.
func startServe(t *testing.T, db string, args ...string) *serveProcess {
	t.Helper()
	bin, err := exec.LookPath("impactctl")
	if err != nil {
		t.Fatalf("the impactctl command the scripts run: %v", err)
	}
	ready := filepath.Join(filepath.Dir(db), "ready.json")
	os.Remove(ready)
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--ready-file", ready}, args...)
	p := &serveProcess{t: t, cmd: exec.Command(bin, args...), log: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.log
	p.cmd.Env = append(os.Environ(), "IMPACTCTL_NO_PROMPT=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("serve's log:\n%s", p.log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, err := os.ReadFile(ready)
		if err == nil && json.Unmarshal(data, &p.Admin) == nil && p.Admin.AuthToken != "" {
			p.URL = p.Admin.Url
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("serve %v ended before it listened:\n%s", args, p.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve %v: no ready file after 60s:\n%s", args, p.log)
		}
	}
}

// kill ends the process with SIGKILL: no shutdown, no flush, as a power cut would.
func (p *serveProcess) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	<-p.done
}

// answer is what a test keeps of a response; status 0 is a transport failure.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// apiClient sends requests to a serve process's agency root.
type apiClient struct {
	url  string
	http *http.Client
}

func newAPIClient(url string) *apiClient {
	return &apiClient{url: url, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends one request as c under c's agency root; headers come in name, value pairs.
func (api *apiClient) do(method string, c server.Credential, rel, body string, headers ...string) answer {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, api.url+"/Agencies/"+c.AccountSid+rel, rd)
	if err != nil {
		return answer{body: []byte(err.Error())}
	}
	req.SetBasicAuth(c.AccountSid, c.AuthToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := api.http.Do(req)
	if err != nil {
		return answer{body: []byte(err.Error())}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{body: []byte(err.Error())}
	}
	return answer{status: res.StatusCode, header: res.Header, body: data}
}
