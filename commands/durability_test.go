package commands_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server"
)

// editor is one client of the write load: it edits its own token with If-Match,
// resets another with keyed POSTs and creates tokens with keyed POSTs, and keeps
// what the server acknowledged and what it sent without an answer.
type editor struct {
	edited, reset string // the SIDs it owns

	startTag int    // the edited token's version before the load
	acked    int    // edits acknowledged
	lastDesc string // the last Description acknowledged
	// pendingDesc is the edit sent when the server died: it may or may not be in.
	pendingDesc string

	secret        string // the reset token's secret, as last acknowledged
	pendingKey    string // the reset sent when the server died, by its key
	created       []string
	pendingCreate string // the keyed create sent when the server died, by its key
}

// TestDurabilityAfterKill runs a write load against a real `impactctl serve`
// (SQLite), kills it with SIGKILL in the middle, starts it again on the same
// database, and checks that every acknowledged change is there: each edit (the
// ETag is the version before plus the edits acknowledged), each reset (its secret
// works, the one before does not), each keyed create; a change sent but not
// answered is either wholly in or wholly out, and its retry changes nothing twice.
//
//	go test ./commands -run TestDurabilityAfterKill -v
func TestDurabilityAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a server process")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "tokens.db")
	srv := startServe(t, db, "--rate-limit", "0")
	api := newAPIClient(srv.URL)
	admin := srv.Admin

	const editors = 6
	eds := make([]*editor, editors)
	for i := range eds {
		ed := &editor{}
		for _, role := range []string{"edited", "reset"} {
			a := api.do("POST", admin, "/ApiTokens", fmt.Sprintf(`{"Name":"%s %d"}`, role, i))
			if a.status != http.StatusCreated {
				t.Fatalf("create: %d %s", a.status, a.body)
			}
			var tok struct{ AccountSid, AuthToken string }
			a.decode(t, &tok)
			if role == "edited" {
				ed.edited = tok.AccountSid
				ed.startTag = etagNumber(t, a.header.Get("ETag"))
			} else {
				ed.reset, ed.secret = tok.AccountSid, tok.AuthToken
			}
		}
		eds[i] = ed
	}

	// The load: each editor in turn edits, resets and creates until the server dies.
	var acked atomic.Int64
	var wg sync.WaitGroup
	for i, ed := range eds {
		wg.Go(func() {
			for n := 0; ; n++ {
				desc := fmt.Sprintf("editor %d edit %d", i, n)
				ed.pendingDesc = desc
				a := api.do("PATCH", admin, "/ApiTokens/"+ed.edited, `{"Description":"`+desc+`"}`,
					"If-Match", strconv.Quote(strconv.Itoa(ed.startTag+ed.acked)))
				if a.status == 0 {
					return
				}
				if a.status != http.StatusOK {
					t.Errorf("edit: %d %s", a.status, a.body)
					return
				}
				ed.acked++
				ed.lastDesc, ed.pendingDesc = desc, ""
				acked.Add(1)

				if n%3 == 0 {
					key := fmt.Sprintf("reset-%d-%d", i, n)
					ed.pendingKey = key
					a = api.do("POST", admin, "/ApiTokens/"+ed.reset+"/Reset", "", "Idempotency-Key", key)
					if a.status == 0 {
						return
					}
					var tok struct{ AuthToken string }
					if a.status != http.StatusOK || json.Unmarshal(a.body, &tok) != nil {
						t.Errorf("reset: %d %s", a.status, a.body)
						return
					}
					ed.secret, ed.pendingKey = tok.AuthToken, ""
					acked.Add(1)
				}
				if n%5 == 0 {
					key := fmt.Sprintf("create-%d-%d", i, n)
					ed.pendingCreate = key
					a = api.do("POST", admin, "/ApiTokens", `{"Name":"`+key+`"}`, "Idempotency-Key", key)
					if a.status == 0 {
						return
					}
					var tok struct{ AccountSid string }
					if a.status != http.StatusCreated || json.Unmarshal(a.body, &tok) != nil {
						t.Errorf("create: %d %s", a.status, a.body)
						return
					}
					ed.created, ed.pendingCreate = append(ed.created, tok.AccountSid), ""
					acked.Add(1)
				}
			}
		})
	}
	// Kill it once a thousand changes are acknowledged: mid-load, whatever the
	// machine's speed.
	deadline := time.Now().Add(2 * time.Minute)
	for acked.Load() < 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d changes acknowledged in 2 minutes", acked.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.kill()
	wg.Wait()
	if t.Failed() {
		return
	}

	srv = startServe(t, db, "--rate-limit", "0")
	api = newAPIClient(srv.URL)
	inFlight := 0
	for i, ed := range eds {
		// Edits: all acknowledged ones, and the one in flight wholly or not at all.
		a := api.do("GET", admin, "/ApiTokens/"+ed.edited, "")
		var tok struct{ Description string }
		a.decode(t, &tok)
		tag := etagNumber(t, a.header.Get("ETag"))
		want := ed.startTag + ed.acked
		switch {
		case tag == want && tok.Description == ed.lastDesc:
		case ed.pendingDesc != "" && tag == want+1 && tok.Description == ed.pendingDesc:
			inFlight++
		default:
			t.Errorf("editor %d: after %d acknowledged edits (ETag %d, %q) the token reads ETag %d, %q (in flight: %q)",
				i, ed.acked, want, ed.lastDesc, tag, tok.Description, ed.pendingDesc)
		}

		// Resets: the acknowledged secret works, unless the reset in flight made it;
		// then its replay answers the secret that does.
		cur := server.Credential{AccountSid: ed.reset, AuthToken: ed.secret}
		a = api.do("GET", cur, "/ApiTokens/Current", "")
		if a.status != http.StatusOK && ed.pendingKey != "" {
			r := api.do("POST", admin, "/ApiTokens/"+ed.reset+"/Reset", "", "Idempotency-Key", ed.pendingKey)
			var rt struct{ AuthToken string }
			r.decode(t, &rt)
			if r.header.Get("Idempotent-Replayed") == "" {
				t.Errorf("editor %d: the acknowledged secret is refused, yet the reset in flight was not in", i)
			}
			cur.AuthToken = rt.AuthToken
			a = api.do("GET", cur, "/ApiTokens/Current", "")
			inFlight++
		}
		if a.status != http.StatusOK {
			t.Errorf("editor %d: the last reset's secret: %d %s", i, a.status, a.body)
		}

		// Creates: every acknowledged one is there; the one in flight, retried with
		// its key, makes exactly one token.
		for _, sid := range ed.created {
			if a := api.do("GET", admin, "/ApiTokens/"+sid, ""); a.status != http.StatusOK {
				t.Errorf("editor %d: acknowledged token %s: %d", i, sid, a.status)
			}
		}
		if key := ed.pendingCreate; key != "" {
			r := api.do("POST", admin, "/ApiTokens", `{"Name":"`+key+`"}`, "Idempotency-Key", key)
			if r.status != http.StatusCreated {
				t.Errorf("editor %d: retrying create %s: %d %s", i, key, r.status, r.body)
			}
			var list struct{ ApiTokens []struct{ Name string } }
			api.do("GET", admin, "/ApiTokens?PageSize=1000&Name="+key, "").decode(t, &list)
			same := 0
			for _, tk := range list.ApiTokens {
				if tk.Name == key {
					same++
				}
			}
			if same != 1 {
				t.Errorf("editor %d: create %s retried: %d tokens of that name", i, key, same)
			}
			inFlight++
		}
	}
	var edits, resets, creates, unanswered int
	for _, ed := range eds {
		edits += ed.acked
		creates += len(ed.created)
		for _, p := range []string{ed.pendingDesc, ed.pendingKey, ed.pendingCreate} {
			if p != "" {
				unanswered++
			}
		}
	}
	resets = int(acked.Load()) - edits - creates
	t.Logf("killed mid-load after %d acknowledged changes (%d edits, %d resets, %d creates) from %d clients: all there after the restart; "+
		"%d changes were sent but unanswered: %d found made (or made once by their keyed retry), the rest not made",
		acked.Load(), edits, resets, creates, editors, unanswered, inFlight)
}

// etagNumber reads a version ETag such as "7".
func etagNumber(t *testing.T, tag string) int {
	t.Helper()
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		t.Fatalf("ETag %q is not a version", tag)
	}
	n, err := strconv.Atoi(tag[1 : len(tag)-1])
	if err != nil {
		t.Fatalf("ETag %q is not a version", tag)
	}
	return n
}
