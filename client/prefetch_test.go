package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// aheadMux serves pages of two tokens, each answered after a random delay,
// counting the requests in flight at once. next gives page p's link ("" for
// none); limit, when set, is announced as the rate budget with one unit left
// per page still to read.
func aheadMux(numPages int, next func(p int) string, limit bool, inFlight, most *int, mu *sync.Mutex) *http.ServeMux {
	mux := agencyMux()
	mux.HandleFunc("GET /Agencies/{sid}/ApiTokens", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*inFlight++
		*most = max(*most, *inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); *inFlight--; mu.Unlock() }()
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		p, _ := strconv.Atoi(r.URL.Query().Get("Page"))
		p = max(p, 1)
		if limit {
			w.Header().Set("X-RateLimit-Limit", "100")
			w.Header().Set("X-RateLimit-Remaining", "1")
			w.Header().Set("X-RateLimit-Reset", "60")
		}
		writeJSON(w, 200, map[string]any{"@page": strconv.Itoa(p), "@numpages": strconv.Itoa(numPages), "@nextpageuri": next(p),
			"ApiTokens": []any{tokenJSON(fmt.Sprintf("IR%da", p), "x"), tokenJSON(fmt.Sprintf("IR%db", p), "y")}})
	})
	return mux
}

func pageLink(p int) string {
	return fmt.Sprintf("/Agencies/%s/ApiTokens?PageSize=2&Page=%d", testSid, p)
}

// listedPages lists every token and answers the page of each, in order,
// with the most requests in flight at once.
func listedPages(t *testing.T, numPages int, next func(p int) string, limit bool) ([]string, int) {
	t.Helper()
	var mu sync.Mutex
	var inFlight, most int
	c := newClient(t, newStub(t, aheadMux(numPages, next, limit, &inFlight, &most, &mu)))
	toks, err := collect(t, c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2}}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, tok := range toks {
		if i%2 == 0 {
			got = append(got, tok.AccountSid[2:len(tok.AccountSid)-1])
		}
	}
	return got, most
}

func TestPagesAheadKeepOrder(t *testing.T) {
	next := func(p int) string {
		if p < 12 {
			return pageLink(p + 1)
		}
		return ""
	}
	for range 5 {
		got, most := listedPages(t, 12, next, false)
		if want := "[1 2 3 4 5 6 7 8 9 10 11 12]"; fmt.Sprint(got) != want {
			t.Fatalf("pages %v, want %s", got, want)
		}
		if most < 2 || most > pagesAhead {
			t.Errorf("%d requests at once, want 2 to %d", most, pagesAhead)
		}
	}
}

// A chain that leads elsewhere than the pages read ahead is followed as
// it goes: the pages read ahead that it skips are dropped.
func TestPagesAheadFollowTheChain(t *testing.T) {
	next := func(p int) string {
		switch p {
		case 1:
			return pageLink(2)
		case 2:
			return pageLink(5) // skips 3 and 4
		case 5:
			return pageLink(7) + "&State=ENABLED" // another query
		case 7:
			return pageLink(8)
		}
		return ""
	}
	got, _ := listedPages(t, 8, next, false)
	if want := "[1 2 5 7 8]"; fmt.Sprint(got) != want {
		t.Errorf("pages %v, want %s", got, want)
	}
}

// A rate budget that cannot pay for every page at once reads one page at
// a time, as the chain goes.
func TestPagesAheadWithinTheBudget(t *testing.T) {
	next := func(p int) string {
		if p < 6 {
			return pageLink(p + 1)
		}
		return ""
	}
	got, most := listedPages(t, 6, next, true)
	if want := "[1 2 3 4 5 6]"; fmt.Sprint(got) != want {
		t.Errorf("pages %v, want %s", got, want)
	}
	if most != 1 {
		t.Errorf("%d requests at once with one unit of the budget left, want 1", most)
	}
}

// A caller that may stop early has one page read ahead, never two.
func TestPagesAheadNotWhenStoppingEarly(t *testing.T) {
	var mu sync.Mutex
	var inFlight, most int
	next := func(p int) string {
		if p < 8 {
			return pageLink(p + 1)
		}
		return ""
	}
	c := newClient(t, newStub(t, aheadMux(8, next, false, &inFlight, &most, &mu)))
	toks, err := collect(t, c.Tokens(context.Background(), TokenListOptions{ListOptions: ListOptions{PageSize: 2, MayStopEarly: true}}))
	if err != nil || len(toks) != 16 {
		t.Fatalf("%d tokens, %v", len(toks), err)
	}
	if most != 1 {
		t.Errorf("%d requests at once, want 1", most)
	}
}
