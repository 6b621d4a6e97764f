package server

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/store"
)

// leasePools opens n connection pools on one fresh PostgreSQL database: n replicas.
func leasePools(t *testing.T, n int) []*sql.DB {
	t.Helper()
	dsn := testPostgres(t)
	ctx := context.Background()
	pools := make([]*sql.DB, n)
	for i := range pools {
		db, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		pools[i] = db
	}
	if err := store.PostgresMigrate(ctx, pools[0], "k", nil); err != nil {
		t.Fatal(err)
	}
	return pools
}

// spend sends requests takes for key spread over the replicas, concurrently, and
// answers how many each replica granted.
func spend(t *testing.T, replicas []ratelimit.Counter, key string, requests int) []int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := make([]int, len(replicas))
	sem := make(chan struct{}, 16)
	for i := range requests {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := i % len(replicas)
			_, ok, err := replicas[r].Take(context.Background(), key)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				granted[r]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return granted
}

// Two replicas leasing from one window together never spend more than the limit plus
// replicas × lease size (here: never more than the limit), nor fall short of it by
// more than the units the other replica holds; a window that has ended starts afresh.
func TestPostgresRateLeasesAcrossReplicas(t *testing.T) {
	t.Parallel()
	pools := leasePools(t, 2)
	clock := &testClock{t: testEpoch}
	rate := Rate{N: 1000, Per: time.Hour}
	size := ratelimit.LeaseSize(rate)
	replicas := []ratelimit.Counter{ratelimit.NewPGLeases(pools[0], rate, clock.Now), ratelimit.NewPGLeases(pools[1], rate, clock.Now)}
	for window := range 2 {
		got := spend(t, replicas, "IRtoken", 1500)
		total := got[0] + got[1]
		if total > rate.N+len(replicas)*size {
			t.Fatalf("window %d: the replicas granted %v, %d in all: over the limit %d by more than %d × %d",
				window, got, total, rate.N, len(replicas), size)
		}
		if total < rate.N-(len(replicas)-1)*size {
			t.Fatalf("window %d: the replicas granted %v, %d in all: short of the limit %d by more than a lease",
				window, got, total, rate.N)
		}
		if got[0] == 0 || got[1] == 0 {
			t.Fatalf("window %d: one replica granted nothing: %v", window, got)
		}
		for i, r := range replicas {
			b, ok, err := r.Take(context.Background(), "IRtoken")
			if err != nil || ok || b.Remaining != 0 {
				t.Fatalf("window %d: replica %d after the budget: %+v ok=%v %v", window, i, b, ok, err)
			}
		}
		clock.Advance(time.Hour)
	}
}

// A single server's budget is exact: it grants exactly the limit however its requests
// interleave, and every answer's Remaining is the limit less the requests granted.
func TestPostgresRateLeasesSingleServerExact(t *testing.T) {
	t.Parallel()
	pools := leasePools(t, 1)
	clock := &testClock{t: testEpoch}
	for _, n := range []int{7, 250, 1000} {
		rate := Rate{N: n, Per: time.Hour}
		one := ratelimit.NewPGLeases(pools[0], rate, clock.Now)
		key := "IRconcurrent"
		if got := spend(t, []ratelimit.Counter{one}, key, n+n/2+3); got[0] != n {
			t.Fatalf("limit %d: granted %d of %d concurrent requests", n, got[0], n+n/2+3)
		}
		if b, err := one.Peek(context.Background(), key); err != nil || b.Remaining != 0 {
			t.Fatalf("limit %d: peek after the budget: %+v %v", n, b, err)
		}
		key = "IRsequential"
		for i := range n + 2 {
			b, ok, err := one.Take(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			want := max(0, n-i-1)
			if ok != (i < n) || b.Remaining != want || b.Limit != n {
				t.Fatalf("limit %d, request %d: %+v ok=%v, want Remaining %d", n, i+1, b, ok, want)
			}
			if i == n/2 {
				if p, err := one.Peek(context.Background(), key); err != nil || p.Remaining != want {
					t.Fatalf("limit %d: peek after %d requests: %+v %v, want %d", n, i+1, p, err, want)
				}
			}
		}
		clock.Advance(time.Hour)
		if b, ok, err := one.Take(context.Background(), key); err != nil || !ok || b.Remaining != n-1 || b.Reset != time.Hour {
			t.Fatalf("limit %d: after the window: %+v %v %v", n, b, ok, err)
		}
		clock.Advance(time.Hour)
	}
}
