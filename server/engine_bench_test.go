package server

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

var (
	engineRounds  = flag.Int("engine.rounds", 5, "rounds of each BenchmarkEngine measure; the median is reported")
	engineProfile = flag.String("engine.profile", "", "directory for CPU and allocation profiles of the server under wrk (BenchmarkEngine)")
)

// median is the middle of xs (the mean of the two middle values for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// BenchmarkEngine measures the server against baselines in the same run; it is the
// benchmark docs/PERFORMANCE.md records, run by
//
//	go test ./server -run '^$' -bench Engine -benchtime 1x
//
// IMPACTCTL_TEST_STORE=postgres runs it on PostgreSQL (see testPostgres), and
// IMPACTCTL_BENCH_RATE_LIMIT=N/h gives every token a rate budget (off by default),
// so the cost of counting it shows.
//
// It needs wrk and curl. It prints three ratios: authenticated GET ApiTokens/{Sid}
// throughput against a bare net/http handler answering the same bytes (wrk, 64
// connections), a bulk disable of 1,000 tokens against curl sending 1,000 single
// disables over one connection, and listing 100,000 tokens against 10,000, each over
// -engine.rounds rounds with their median; and every write at 1,000 and at 100,000
// tokens (BenchmarkGrowth, also run alone). The server logs its request lines as
// impactctl serve does (JSON), to a file. One measure alone: -bench
// Engine/throughput (or bulk, listing, growth). -engine.profile DIR writes a CPU and an
// allocation profile of the server's first wrk run (DIR/cpu.pprof; DIR/allocs.pprof
// against the base DIR/allocs-before.pprof).
func BenchmarkEngine(b *testing.B) {
	for _, tool := range []string{"wrk", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s is not installed (apt-get install -y wrk curl)", tool)
		}
	}
	for _, m := range []struct {
		name string
		run  func(*testing.B)
	}{{"throughput", benchThroughput}, {"bulk", benchBulk}, {"listing", benchListing}, {"growth", benchGrowth}} {
		b.Run(m.name, func(b *testing.B) {
			for range b.N {
				m.run(b)
			}
		})
	}
}

// benchInstance is a server over a fresh database whose agency holds n more tokens
// with no scopes, written straight into the store.
func benchInstance(b *testing.B, n int) (*Instance, []Credential) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "requests.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	cfg := Config{DB: filepath.Join(dir, "bench.db"), Logger: slog.New(slog.NewJSONHandler(logFile, nil))}
	if os.Getenv("IMPACTCTL_TEST_STORE") == "postgres" {
		cfg.DB, cfg.KeyFile = testPostgres(b), filepath.Join(b.TempDir(), "bench.key")
	}
	if r := os.Getenv("IMPACTCTL_BENCH_RATE_LIMIT"); r != "" {
		rate, err := ParseRate(r)
		if err != nil {
			b.Fatal(err)
		}
		cfg.RateLimit = rate
	}
	inst, err := Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { inst.Shutdown(context.Background()) })
	admin, err := inst.st.TokenBySID(ctx, inst.Admin.AccountSid)
	if err != nil {
		b.Fatal(err)
	}
	acct, err := inst.st.Account(ctx, admin.AccountID)
	if err != nil {
		b.Fatal(err)
	}
	s := service.NewRules(inst.st, inst.env)
	var creds []Credential
	for done := 0; done < n; {
		batch := min(n-done, 10000)
		err := inst.st.Update(ctx, acct.ID, func(tx service.Tx) error {
			x := &service.WriteTx{Tx: tx, Svc: s, Call: &service.Call{Caller: admin, Account: acct}, Now: s.Env.Clock().Unix()}
			for i := range batch {
				t := &service.Token{AccountID: acct.ID, Kind: acct.Kind, Name: fmt.Sprintf("Bench %d", done+i),
					APIVersion: service.LatestVersion(acct.Kind), Emails: []string{}, Scopes: []string{}}
				out, err := x.Insert(ctx, t)
				if err != nil {
					return err
				}
				creds = append(creds, Credential{AccountSid: t.SID, AuthToken: out.Secret})
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
	}
	if pg, ok := inst.st.(*store.PostgresStore); ok {
		// Statistics for the rows just written, as autovacuum would gather within a
		// minute: without them the planner sorts a whole account for every page.
		if _, err := pg.DB.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	return inst, creds
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
var wrkP99 = regexp.MustCompile(`\n\s+99%\s+(\S+)`)

// runWrk runs wrk for d with 64 connections against url, each request for a random
// path of paths, and answers requests a second and the 99th percentile latency.
func runWrk(b *testing.B, url, auth string, paths []string, d time.Duration) (float64, string) {
	b.Helper()
	var lua strings.Builder
	lua.WriteString("paths = {\n")
	for _, p := range paths {
		fmt.Fprintf(&lua, "  %q,\n", p)
	}
	fmt.Fprintf(&lua, "}\nwrk.headers[\"Authorization\"] = %q\n", auth)
	lua.WriteString("request = function()\n  return wrk.format(\"GET\", paths[math.random(#paths)])\nend\n")
	script := filepath.Join(b.TempDir(), "paths.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command("wrk", "-t2", "-c64", "-d"+d.String(), "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk said:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(string(m[1]), 64)
	p99 := "?"
	if m := wrkP99.FindSubmatch(out); m != nil {
		p99 = string(m[1])
	}
	if strings.Contains(string(out), "Non-2xx") {
		b.Fatalf("wrk saw refusals:\n%s", out)
	}
	return rate, p99
}

func benchThroughput(b *testing.B) {
	inst, creds := benchInstance(b, 1000)
	admin := inst.Admin
	paths := make([]string, len(creds))
	for i, c := range creds {
		paths[i] = "/Agencies/" + admin.AccountSid + "/ApiTokens/" + c.AccountSid
	}
	// The bare handler answers the bytes the server answers for one of them.
	req, _ := http.NewRequest("GET", inst.URL+paths[0], nil)
	req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	etag := res.Header.Get("ETag")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("ETag", etag)
		w.Write(body)
	})}
	go bare.Serve(ln)
	defer bare.Close()

	auth := req.Header.Get("Authorization")
	var ratios, srvs, bases []float64
	for round := 1; round <= *engineRounds; round++ {
		stop := startProfile(b, round == 1)
		srv, srvP99 := runWrk(b, inst.URL, auth, paths, 10*time.Second)
		stop()
		base, baseP99 := runWrk(b, "http://"+ln.Addr().String(), auth, paths, 10*time.Second)
		fmt.Printf("throughput round %d: server %.0f req/s (p99 %s), bare net/http %.0f req/s (p99 %s): %.3f×\n",
			round, srv, srvP99, base, baseP99, srv/base)
		ratios, srvs, bases = append(ratios, srv/base), append(srvs, srv), append(bases, base)
	}
	fmt.Printf("throughput median of %d: server %.0f req/s, bare net/http %.0f req/s: %.3f×\n",
		len(ratios), median(srvs), median(bases), median(ratios))
	b.ReportMetric(median(ratios), "throughput-ratio")
	// Revocation stays instant under this read path: a disabled token is refused at once.
	victim := creds[1]
	dis, _ := http.NewRequest("POST", inst.URL+paths[1]+"/Disable", nil)
	dis.SetBasicAuth(admin.AccountSid, admin.AuthToken)
	if res, err := http.DefaultClient.Do(dis); err != nil || res.StatusCode != 200 {
		b.Fatalf("disable: %v", err)
	}
	cur, _ := http.NewRequest("GET", inst.URL+"/Agencies/"+victim.AccountSid+"/ApiTokens/Current", nil)
	cur.SetBasicAuth(victim.AccountSid, victim.AuthToken)
	if res, err := http.DefaultClient.Do(cur); err != nil || res.StatusCode != http.StatusForbidden {
		b.Fatalf("the disabled token was not refused at once: %v %v", res.StatusCode, err)
	}
}

func benchBulk(b *testing.B) {
	inst, creds := benchInstance(b, 1000)
	admin := inst.Admin
	base := inst.URL + "/Agencies/" + admin.AccountSid + "/ApiTokens"
	c := &http.Client{}
	bulk := func(action string) time.Duration {
		start := time.Now()
		for i := 0; i < len(creds); i += 100 {
			sids := make([]string, 0, 100)
			for _, cr := range creds[i:min(i+100, len(creds))] {
				sids = append(sids, cr.AccountSid)
			}
			data, _ := json.Marshal(map[string]any{"Sids": sids})
			req, _ := http.NewRequest("POST", base+"/"+action, strings.NewReader(string(data)))
			req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
			req.Header.Set("Content-Type", "application/json")
			res, err := c.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("bulk %s: %v", action, err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return time.Since(start)
	}
	cfg := filepath.Join(b.TempDir(), "curl.cfg")
	f, err := os.Create(cfg)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "silent\nfail\nrequest = \"POST\"\nuser = \"%s:%s\"\n", admin.AccountSid, admin.AuthToken)
	for _, cr := range creds {
		fmt.Fprintf(w, "url = \"%s/%s/Disable\"\n", base, cr.AccountSid)
	}
	w.Flush()
	f.Close()
	var ratios []float64
	for round := 1; round <= *engineRounds; round++ {
		took := bulk("Disable")
		if n := countState(b, inst, creds, service.StateDisabled); n != len(creds) {
			b.Fatalf("the bulk calls disabled %d of %d tokens", n, len(creds))
		}
		bulk("Enable")
		start := time.Now()
		cmd := exec.Command("curl", "-K", cfg)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("curl: %v %s", err, stderr.String())
		}
		singles := time.Since(start)
		if n := countState(b, inst, creds, service.StateDisabled); n != len(creds) {
			b.Fatalf("curl disabled %d of %d tokens", n, len(creds))
		}
		bulk("Enable")
		fmt.Printf("bulk disable of 1,000 round %d: %v in 10 calls, curl's 1,000 single disables %v: %.3f×\n",
			round, took.Round(time.Millisecond), singles.Round(time.Millisecond), took.Seconds()/singles.Seconds())
		ratios = append(ratios, took.Seconds()/singles.Seconds())
	}
	fmt.Printf("bulk median of %d: %.3f×\n", len(ratios), median(ratios))
	b.ReportMetric(median(ratios), "bulk-ratio")
}

func benchListing(b *testing.B) {
	list := func(n int) time.Duration {
		inst, _ := benchInstance(b, n)
		admin := inst.Admin
		c := &http.Client{}
		start := time.Now()
		next, got := "/Agencies/"+admin.AccountSid+"/ApiTokens?PageSize=1000", 0
		for next != "" {
			req, _ := http.NewRequest("GET", inst.URL+next, nil)
			req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
			res, err := c.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("list: %v", err)
			}
			var page tokenList
			err = json.NewDecoder(res.Body).Decode(&page)
			res.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			got += len(page.ApiTokens)
			next = page.NextPageUri
		}
		took := time.Since(start)
		if got != n+1 {
			b.Fatalf("listed %d of %d tokens", got, n+1)
		}
		inst.Shutdown(context.Background())
		return took
	}
	var ratios []float64
	for round := 1; round <= (*engineRounds+1)/2; round++ {
		small, large := list(10000), list(100000)
		fmt.Printf("listing round %d: 10,000 tokens %v, 100,000 tokens %v: %.1f×\n",
			round, small.Round(time.Millisecond), large.Round(time.Millisecond), large.Seconds()/small.Seconds())
		ratios = append(ratios, large.Seconds()/small.Seconds())
	}
	fmt.Printf("listing median of %d: %.1f×\n", len(ratios), median(ratios))
	b.ReportMetric(median(ratios), "list-ratio")
}

// startProfile starts CPU profiling into -engine.profile when on, and answers the
// function that stops it and writes the allocation profile next to it.
func startProfile(b *testing.B, on bool) func() {
	if !on || *engineProfile == "" {
		return func() {}
	}
	if err := os.MkdirAll(*engineProfile, 0o755); err != nil {
		b.Fatal(err)
	}
	writeAllocs(b, "allocs-before.pprof")
	cpu, err := os.Create(filepath.Join(*engineProfile, "cpu.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		writeAllocs(b, "allocs.pprof")
	}
}

// writeAllocs writes the allocation profile so far into -engine.profile; the run's
// own allocations are allocs.pprof less allocs-before.pprof (go tool pprof -base).
func writeAllocs(b *testing.B, name string) {
	runtime.GC()
	f, err := os.Create(filepath.Join(*engineProfile, name))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// countState counts the tokens of creds in state, read from the store.
func countState(b *testing.B, inst *Instance, creds []Credential, state string) int {
	n := 0
	for _, c := range creds {
		t, err := inst.st.TokenBySID(context.Background(), c.AccountSid)
		if err != nil {
			b.Fatal(err)
		}
		if t.State == state {
			n++
		}
	}
	return n
}
