package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The load test runs in a short form with every `go test`; the full form is
//
//	go test ./server -run TestLoad -load.full -v
//
// 64 clients reading and editing 1,000 tokens with If-Match for 20 seconds, and 400
// concurrent keyed creates. It only checks outcomes, never speed.
var loadFull = flag.Bool("load.full", false, "run the load test at full size (64 clients, 1,000 tokens, 20 s)")

type loadShape struct {
	clients, tokens, creates int
	duration                 time.Duration
}

// loadServer is a running server and its admin, over loopback.
type loadServer struct {
	t      testing.TB
	url    string
	admin  Credential
	client *http.Client
}

func startLoadServer(t testing.TB) *loadServer {
	t.Helper()
	ctx := context.Background()
	inst, err := Start(ctx, Config{DB: filepath.Join(t.TempDir(), "load.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		inst.Shutdown(ctx)
	})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 512
	return &loadServer{t: t, url: inst.URL, admin: inst.Admin, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends one request; it reports transport failures as status 0.
func (ls *loadServer) do(method, rel string, c Credential, body any, headers ...string) (int, http.Header, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ls.url+"/Agencies/"+c.AccountSid+rel, rd)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	req.SetBasicAuth(c.AccountSid, c.AuthToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := ls.client.Do(req)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, data
}

// createMany creates n tokens with keyed POSTs from workers clients at once and
// answers their credentials; every refusal is counted.
func (ls *loadServer) createMany(n, workers int, prefix string, scopes []string) ([]Credential, map[int]int) {
	var mu sync.Mutex
	out := make([]Credential, 0, n)
	statuses := map[int]int{}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				body := map[string]any{"Name": fmt.Sprintf("%s %d", prefix, i)}
				if scopes != nil {
					body["Scopes"] = scopes
				}
				st, _, data := ls.do("POST", "/ApiTokens", ls.admin, body, "Idempotency-Key", fmt.Sprintf("%s-%d", prefix, i))
				var tok tokenJSON
				json.Unmarshal(data, &tok)
				mu.Lock()
				statuses[st]++
				if st == http.StatusCreated {
					out = append(out, Credential{AccountSid: tok.AccountSid, AuthToken: tok.AuthToken})
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out, statuses
}

func TestLoad(t *testing.T) {
	shape := loadShape{clients: 16, tokens: 100, creates: 100, duration: 2 * time.Second}
	if *loadFull {
		shape = loadShape{clients: 64, tokens: 1000, creates: 400, duration: 20 * time.Second}
	} else if testing.Short() {
		t.Skip("the load test is not short")
	}
	ls := startLoadServer(t)

	// Keyed creates, all at once: every one succeeds, none waits its way into a refusal.
	start := time.Now()
	created, statuses := ls.createMany(shape.creates, shape.creates, "burst", nil)
	t.Logf("%d concurrent keyed creates: %v in %v", shape.creates, statuses, time.Since(start).Round(time.Millisecond))
	if len(created) != shape.creates || statuses[http.StatusCreated] != shape.creates {
		t.Fatalf("concurrent creates: %v", statuses)
	}
	var l tokenList
	if st, _, data := ls.do("GET", "/ApiTokens?PageSize=1", ls.admin, nil); st != 200 || json.Unmarshal(data, &l) != nil {
		t.Fatalf("list: %d %s", st, data)
	}
	if l.Total != strconv.Itoa(shape.creates+1) {
		t.Fatalf("after %d creates the account holds %s tokens", shape.creates, l.Total)
	}

	more, statuses := ls.createMany(shape.tokens-len(created), 16, "more", nil)
	tokens := append(created, more...)
	if len(tokens) != shape.tokens {
		t.Fatalf("creating tokens: %v", statuses)
	}
	victims, _ := ls.createMany(1, 1, "victim", []string{"apitokens.read"})
	victim := victims[0]

	versions := make([]atomic.Int64, len(tokens)) // acknowledged edits per token
	var reads, edits, stale, failed atomic.Int64
	var failures sync.Map
	deadline := time.Now().Add(shape.duration)
	var wg sync.WaitGroup
	for w := range shape.clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := 0; time.Now().Before(deadline); n++ {
				i := rng.IntN(len(tokens))
				rel := "/ApiTokens/" + tokens[i].AccountSid
				st, h, data := ls.do("GET", rel, ls.admin, nil)
				reads.Add(1)
				if st != http.StatusOK {
					failed.Add(1)
					failures.Store(fmt.Sprintf("GET %d %s", st, data), true)
					continue
				}
				desc := fmt.Sprintf("client %d edit %d", w, n)
				st, _, data = ls.do("PATCH", rel, ls.admin, map[string]any{"Description": desc}, "If-Match", h.Get("ETag"))
				switch st {
				case http.StatusOK:
					edits.Add(1)
					versions[i].Add(1)
				case http.StatusPreconditionFailed:
					stale.Add(1)
				default:
					failed.Add(1)
					failures.Store(fmt.Sprintf("PATCH %d %s", st, data), true)
				}
			}
		})
	}

	// Halfway, a token in use is disabled: its very next request is refused.
	var victimErr atomic.Value
	wg.Go(func() {
		time.Sleep(shape.duration / 2)
		for range 5 {
			if st, _, _ := ls.do("GET", "/ApiTokens/Current", victim, nil); st != http.StatusOK {
				victimErr.Store(fmt.Sprintf("before the disable: %d", st))
				return
			}
		}
		if st, _, data := ls.do("POST", "/ApiTokens/"+victim.AccountSid+"/Disable", ls.admin, nil); st != http.StatusOK {
			victimErr.Store(fmt.Sprintf("disable: %d %s", st, data))
			return
		}
		if st, _, _ := ls.do("GET", "/ApiTokens/Current", victim, nil); st != http.StatusForbidden {
			victimErr.Store(fmt.Sprintf("the disabled token's next request: %d", st))
		}
	})
	wg.Wait()

	t.Logf("%d clients for %v: %d reads, %d edits, %d stale (412), %d failed; %.0f requests/s",
		shape.clients, shape.duration, reads.Load(), edits.Load(), stale.Load(), failed.Load(),
		float64(reads.Load()+edits.Load()+stale.Load())/shape.duration.Seconds())
	failures.Range(func(k, _ any) bool { t.Errorf("refused under load: %s", k); return true })
	if v := victimErr.Load(); v != nil {
		t.Error(v)
	}
	if edits.Load() == 0 {
		t.Fatal("no edit went through")
	}

	// Every token's version is its first plus the edits acknowledged to it.
	for i, c := range tokens {
		st, h, _ := ls.do("GET", "/ApiTokens/"+c.AccountSid, ls.admin, nil)
		want := `"` + strconv.FormatInt(1+versions[i].Load(), 10) + `"`
		if st != http.StatusOK || h.Get("ETag") != want {
			t.Fatalf("token %s: %d, ETag %s, want %s", c.AccountSid, st, h.Get("ETag"), want)
		}
	}
	// A stale If-Match is 412, whatever the load did.
	if st, _, _ := ls.do("PATCH", "/ApiTokens/"+tokens[0].AccountSid, ls.admin, map[string]any{"Description": "late"},
		"If-Match", `"0"`); st != http.StatusPreconditionFailed {
		t.Fatalf("a stale edit: %d", st)
	}
}
