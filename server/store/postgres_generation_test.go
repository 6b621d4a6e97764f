package store

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestGenReaderNeverAnswersFromBefore: a request waiting for the counter gets a read
// sent after it asked, never one already on its way, and the requests that ask
// while one read is on its way share the next.
func TestGenReaderNeverAnswersFromBefore(t *testing.T) {
	var reads atomic.Uint64
	started, release := make(chan uint64), make(chan struct{})
	g := &genReader{read: func(ctx context.Context) (uint64, error) {
		n := reads.Add(1)
		started <- n
		<-release
		return n, nil
	}}
	ctx := context.Background()
	first := make(chan uint64)
	go func() {
		n, err := g.get(ctx)
		if err != nil {
			t.Error(err)
		}
		first <- n
	}()
	if n := <-started; n != 1 {
		t.Fatalf("read %d started first", n)
	}
	// Read 1 is on its way: these three must wait for read 2.
	var wg sync.WaitGroup
	got := make([]uint64, 3)
	for i := range got {
		wg.Go(func() {
			n, err := g.get(ctx)
			if err != nil {
				t.Error(err)
			}
			got[i] = n
		})
	}
	for g.waiting() < 3 {
		runtime.Gosched() // until the three have joined the next batch
	}
	release <- struct{}{}
	if n := <-first; n != 1 {
		t.Errorf("the first request got read %d, want 1", n)
	}
	if n := <-started; n != 2 {
		t.Fatalf("read %d started second", n)
	}
	release <- struct{}{}
	wg.Wait()
	for i, n := range got {
		if n != 2 {
			t.Errorf("request %d got read %d, want 2 (the read sent after it asked)", i, n)
		}
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d reads for 4 requests, want 2", n)
	}
}

// waiting is how many requests wait for the next read.
func (g *genReader) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.next == nil {
		return 0
	}
	return g.next.waiters
}
