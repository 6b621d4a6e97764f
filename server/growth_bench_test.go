package server

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

var (
	growthSizes  = flag.String("growth.sizes", "1000,100000", "account sizes BenchmarkGrowth compares, comma-separated")
	growthRounds = flag.Int("growth.rounds", 3, "rounds of 1,000 creates BenchmarkGrowth times at each size")
	growthFill   = flag.Int("growth.fill", 0, "BenchmarkGrowth also fills an empty account with this many tokens through the API (8 clients) and reports the time")
)

// BenchmarkGrowth measures every write endpoint in an account of each -growth.sizes
// tokens, side by side, so a rule that reads the whole account shows as a write that
// slows as the account grows:
//
//	go test ./server -run '^$' -bench Growth -benchtime 1x
//
// (IMPACTCTL_TEST_STORE=postgres: on PostgreSQL.) The account's tokens are written
// straight into the store, a thousand a transaction: half hold apitokens.write (each a
// token the last-manager rule must consider), the rest one or two report scopes.
// Per size it reports the median of 100 single requests of each kind (create, edit,
// scopes set, disable, enable, delete, reset), of 10 bulk disables of the same 100
// (enabled again between them, untimed), and of -growth.rounds rounds of 1,000 creates
// sent by 8 clients, each create granting a scope. The sizes take turns request by request.
func BenchmarkGrowth(b *testing.B) {
	for range b.N {
		benchGrowth(b)
	}
}

// growthAccount is a server whose admin's account holds n more tokens.
type growthAccount struct {
	n              int
	inst           *Instance
	writers, other []string // the seeded tokens holding apitokens.write, and the rest
	g              *growthClient
	base           string
	took           map[string][]float64 // seconds, by measure
}

var growthMeasures = []string{"create", "edit", "scopes set", "disable", "enable", "delete", "reset", "bulk disable of 100",
	"1,000 creates, 8 clients"}

// benchGrowth seeds an account of each size, then takes every measure on each in
// turn, request by request, so that every size sees the machine as it is at that
// moment (on a shared machine, minutes apart is another machine).
func benchGrowth(b *testing.B) {
	var accts []*growthAccount
	for _, f := range strings.Split(*growthSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("-growth.sizes: %v", err)
		}
		accts = append(accts, growthSeed(b, n))
	}
	each := func(name string, k int, req func(a *growthAccount, i int) time.Duration) {
		for i := range k {
			for _, a := range accts {
				a.took[name] = append(a.took[name], req(a, i).Seconds())
			}
		}
	}
	single := func(name string, sids func(a *growthAccount) []string, method, suffix string, body any) {
		each(name, 100, func(a *growthAccount, i int) time.Duration {
			return a.g.do(method, a.base+"/"+sids(a)[i]+suffix, body, 200, 204)
		})
	}
	each("create", 100, func(a *growthAccount, i int) time.Duration {
		return a.g.do("POST", a.base, map[string]any{"Name": fmt.Sprintf("Single %d", i), "Scopes": []string{"reports.read"}}, 201)
	})
	single("edit", func(a *growthAccount) []string { return a.other[:100] }, "PATCH", "", map[string]any{"Name": "Edited"})
	single("scopes set", func(a *growthAccount) []string { return a.writers[:100] }, "PUT", "/Scopes",
		map[string]any{"Scopes": []string{"apitokens.read", service.ScopeTokensWrite}})
	single("disable", func(a *growthAccount) []string { return a.writers[100:200] }, "POST", "/Disable", nil)
	single("enable", func(a *growthAccount) []string { return a.writers[100:200] }, "POST", "/Enable", nil)
	single("delete", func(a *growthAccount) []string { return a.writers[200:300] }, "DELETE", "", nil)
	single("reset", func(a *growthAccount) []string { return a.other[100:200] }, "POST", "/Reset", nil)
	each("bulk disable of 100", 10, func(a *growthAccount, i int) time.Duration {
		sids := map[string]any{"Sids": a.writers[300:400]}
		took := a.g.do("POST", a.base+"/Disable", sids, 200)
		a.g.do("POST", a.base+"/Enable", sids, 200)
		return took
	})
	each("1,000 creates, 8 clients", *growthRounds, func(a *growthAccount, i int) time.Duration {
		start := time.Now()
		growthCreates(b, a.inst, 1000, 8)
		return time.Since(start)
	})

	fmt.Printf("%-26s", "median at")
	for _, a := range accts {
		fmt.Printf(" %14s", fmt.Sprintf("%d tokens", a.n))
	}
	fmt.Printf(" %8s\n", "ratio")
	ratio := map[string]float64{}
	for _, m := range growthMeasures {
		fmt.Printf("%-26s", m)
		for _, a := range accts {
			fmt.Printf(" %14s", time.Duration(median(a.took[m])*float64(time.Second)).Round(10*time.Microsecond))
		}
		ratio[m] = median(accts[len(accts)-1].took[m]) / median(accts[0].took[m])
		fmt.Printf(" %7.2f×\n", ratio[m])
	}
	b.ReportMetric(ratio["1,000 creates, 8 clients"], "creates-ratio")
	b.ReportMetric(ratio["bulk disable of 100"], "bulk-ratio")
	for _, a := range accts {
		a.inst.Shutdown(context.Background())
	}
	if *growthFill > 0 {
		inst, _ := benchInstance(b, 0)
		start := time.Now()
		growthCreates(b, inst, *growthFill, 8)
		fmt.Printf("filling an account with %d tokens through the API (8 clients): %v\n", *growthFill, time.Since(start).Round(time.Second))
		inst.Shutdown(context.Background())
	}
}

// growthSeed starts a server and writes n tokens into its admin's account, straight
// into the store.
func growthSeed(b *testing.B, n int) *growthAccount {
	ctx := context.Background()
	inst, _ := benchInstance(b, 0)
	admin, err := inst.st.TokenBySID(ctx, inst.Admin.AccountSid)
	if err != nil {
		b.Fatal(err)
	}
	a := &growthAccount{n: n, inst: inst, took: map[string][]float64{},
		g:    &growthClient{b: b, inst: inst, c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}},
		base: inst.URL + "/Agencies/" + inst.Admin.AccountSid + "/ApiTokens"}
	start := time.Now()
	// In transactions of 1,000: PostgreSQL keeps every version of a counted scope's
	// row that one transaction writes, and each write walks them.
	for done := 0; done < n; done += 1000 {
		var writers, other []string
		err = inst.st.Update(ctx, admin.AccountID, func(tx service.Tx) error {
			writers, other = nil, nil
			for i := done; i < min(done+1000, n); i++ {
				scopes := []string{"reports.read"}
				if i%4 == 1 {
					scopes = append(scopes, "reports.export")
				}
				if i%2 == 0 {
					scopes = []string{"apitokens.read", service.ScopeTokensWrite, "reports.read"}
				}
				t := newSuiteToken(b, inst.env, admin.AccountID, admin.Kind, fmt.Sprintf("Growth %d", i), admin.Created+int64(i), scopes...)
				if err := tx.InsertToken(ctx, t); err != nil {
					return err
				}
				if i%2 == 0 {
					writers = append(writers, t.SID)
				} else {
					other = append(other, t.SID)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		a.writers, a.other = append(a.writers, writers...), append(a.other, other...)
	}
	if pg, ok := inst.st.(*store.PostgresStore); ok {
		if _, err := pg.DB.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	fmt.Printf("growth: seeded %d tokens in %v\n", n, time.Since(start).Round(time.Millisecond))
	if len(a.writers) < 400 || len(a.other) < 200 {
		b.Fatalf("an account of %d tokens is too small for the growth benchmark (1,000 or more)", n)
	}
	return a
}

// growthCreates creates n tokens, each granting reports.read, with clients
// requests at a time.
func growthCreates(b *testing.B, inst *Instance, n, clients int) {
	g := &growthClient{b: b, inst: inst, c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}}
	base := inst.URL + "/Agencies/" + inst.Admin.AccountSid + "/ApiTokens"
	next := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range next {
				g.do("POST", base, map[string]any{"Name": fmt.Sprintf("Filled %d", i), "Scopes": []string{"reports.read"}}, 201)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// growthClient sends the benchmark's requests as the instance's admin.
type growthClient struct {
	b    *testing.B
	inst *Instance
	c    *http.Client
}

// do sends one request and answers how long it took; an answer other than want
// fails the benchmark.
func (g *growthClient) do(method, url string, body any, want ...int) time.Duration {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = strings.NewReader(string(data))
	}
	req, _ := http.NewRequest(method, url, rd)
	req.SetBasicAuth(g.inst.Admin.AccountSid, g.inst.Admin.AuthToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := g.c.Do(req)
	if err != nil {
		g.b.Error(err)
		return 0
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	for _, w := range want {
		if res.StatusCode == w {
			return took
		}
	}
	g.b.Errorf("%s %s: %d %s", method, url, res.StatusCode, data)
	return took
}
