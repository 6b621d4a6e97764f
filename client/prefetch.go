package client

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
)

// pagesAhead is how many pages of a listing are requested at once once its
// first page has said how many there are: the server reads two while the
// caller works on a third.
const pagesAhead = 2

// prefetch requests a listing's later pages ahead of the chain of
// @nextpageuri links, in order, at most pagesAhead at once. A page read
// ahead is used only when the chain leads to exactly its URL; at the first
// link that leads elsewhere the pages read ahead are dropped and the chain
// is followed one page at a time, as without it.
type prefetch struct {
	cancel context.CancelFunc
	queue  chan *pageFetch // requested pages, in page order
	wg     sync.WaitGroup
}

// pageFetch is one page requested ahead; done closes when res or err is set.
type pageFetch struct {
	u    *url.URL
	done chan struct{}
	res  *response
	err  error
}

// startPrefetch requests pages 2 to numPages at once, at most pagesAhead in
// flight, when second (the first page's @nextpageuri, resolved) numbers
// its page as Page=2: page k is then the same URL with Page=k. It answers
// nil, requesting nothing, when the link numbers no page or there are
// fewer than three pages.
func (c *Client) startPrefetch(ctx context.Context, second *url.URL, numPages int) *prefetch {
	q := second.Query()
	if numPages < 3 || len(q["Page"]) != 1 || q.Get("Page") != "2" {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetch{cancel: cancel, queue: make(chan *pageFetch, pagesAhead-1)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.queue)
		for k := 2; k <= numPages; k++ {
			u := second
			if k > 2 {
				q.Set("Page", strconv.Itoa(k))
				nu := *second
				nu.RawQuery = q.Encode()
				u = &nu
			}
			f := &pageFetch{u: u, done: make(chan struct{})}
			select {
			case p.queue <- f:
			case <-ctx.Done():
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer close(f.done)
				f.res, f.err = c.do(ctx, &request{method: http.MethodGet, u: f.u})
			}()
		}
	}()
	return p
}

// take answers the page read ahead for next, waiting for it; ok is false
// when the next page read ahead is not next's (or none is left).
func (p *prefetch) take(next *url.URL) (res *response, err error, ok bool) {
	f, more := <-p.queue
	if !more || !sameURL(f.u, next) {
		return nil, nil, false
	}
	<-f.done
	return f.res, f.err, true
}

// stop cancels the pages still being read ahead and waits for them.
func (p *prefetch) stop() {
	p.cancel()
	for range p.queue {
	}
	p.wg.Wait()
}

// sameURL reports whether a and b name the same page: scheme, host, path
// and query values alike, whatever the order of the query's parameters.
func sameURL(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host && a.Path == b.Path &&
		maps.EqualFunc(a.Query(), b.Query(), slices.Equal)
}

// budgetCovers reports whether the rate budget last announced leaves a unit
// for each of n requests, or none was announced: pages are read ahead only
// when they need not wait for a refill.
func budgetCovers(rl RateLimit, n int) bool {
	return rl.Limit <= 0 || rl.Remaining >= n
}
