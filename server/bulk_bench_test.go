package server

import (
	"fmt"
	"testing"
)

// BenchmarkListPage times one list page of 1,000 tokens, the page size the CLI
// reads with, from an account of 10,000 (the tenth of the pages in turn):
//
//	go test ./server -run '^$' -bench ListPage -benchtime 300x
func BenchmarkListPage(b *testing.B) {
	a := growthSeed(b, 10000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a.g.do("GET", a.base+fmt.Sprintf("?Page=%d&PageSize=1000", 1+i%10), nil, 200)
	}
}

// BenchmarkBulkCall times a bulk disable of 100 tokens and the enable that
// undoes it, in an account of 10,000 (ten sets of 100 in turn). Every call
// writes an event for each token, so the tokens' history index grows as the
// benchmark runs: a call costs more once each token's entries fill a page of
// their own (see docs/PERFORMANCE.md).
func BenchmarkBulkCall(b *testing.B) {
	a := growthSeed(b, 10000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sids := map[string]any{"Sids": a.writers[300+100*(i%10) : 400+100*(i%10)]}
		a.g.do("POST", a.base+"/Disable", sids, 200)
		a.g.do("POST", a.base+"/Enable", sids, 200)
	}
}
