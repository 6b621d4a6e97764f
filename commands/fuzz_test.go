package commands

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impactcom/impactctl/internal/cmdutil/cmdutiltest"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// The fuzz targets below feed the CLI's parsers what a user (or a script) may type.
// `go test` runs their seed corpora (testdata/fuzz/Fuzz…); a fuzzing run is
//
//	go test ./commands -run '^$' -fuzz '^FuzzSID$' -fuzztime 60s -parallel 1
//
// Each asserts: no panic; a refusal is a usage error (exit 2) that names what it
// refused; what is accepted reads back the same once written out again.

// outcomes counts a target's accepted and refused inputs; `go test ./commands -run
// Fuzz -v` logs them for the seeds, for docs/RELIABILITY.md.
type outcomes struct{ accepted, refused atomic.Int64 }

func countOutcomes(f *testing.F) *outcomes {
	o := &outcomes{}
	f.Cleanup(func() {
		f.Logf("%s: %d inputs: %d accepted, %d refused", f.Name(), o.accepted.Load()+o.refused.Load(), o.accepted.Load(), o.refused.Load())
	})
	return o
}

func (o *outcomes) note(err error) {
	if err != nil {
		o.refused.Add(1)
	} else {
		o.accepted.Add(1)
	}
}

// FuzzSID: an Account SID is accepted exactly when it is IR and 32 letters or digits.
func FuzzSID(f *testing.F) {
	o := countOutcomes(f)
	f.Fuzz(func(t *testing.T, s string) {
		err := config.ValidSID(s)
		o.note(err)
		if (err == nil) != contract.ValidSID(s) {
			t.Fatalf("validSID(%q) = %v, contract.ValidSID = %v", s, err, contract.ValidSID(s))
		}
		if err != nil {
			cmdutiltest.WantUsage(t, err, "Account SID", strconv.Quote(s))
		}
	})
}

// fuzzCatalog is a catalog shaped like the server's.
var fuzzCatalog = &client.Catalog{Categories: []client.Category{
	{Id: "reports", Scopes: []client.Scope{{Id: "reports.read"}, {Id: "reports.export"}, {Id: "reports.schedule"}}},
	{Id: "jobs", Scopes: []client.Scope{{Id: "jobs.read"}}},
	{Id: "apitokens", Scopes: []client.Scope{{Id: "apitokens.read"}, {Id: "apitokens.write"}, {Id: "apitokens.reveal"}}},
}}

// FuzzScopes: scope names (space-separated) expand to catalog scopes only, each
// once; expanding the expansion changes nothing; an unknown name is named.
func FuzzScopes(f *testing.F) {
	var known []string
	for _, c := range fuzzCatalog.Categories {
		for _, s := range c.Scopes {
			known = append(known, s.Id)
		}
	}
	o := countOutcomes(f)
	f.Fuzz(func(t *testing.T, names string) {
		list := strings.Fields(names)
		got, err := expandScopes(fuzzCatalog, list)
		o.note(err)
		if err != nil {
			cmdutiltest.WantUsage(t, err, "unknown scope")
			for _, n := range list {
				if _, err := expandScopes(fuzzCatalog, []string{n}); err != nil {
					if !strings.Contains(err.Error(), strconv.Quote(n)) {
						t.Fatalf("refusal %q does not name %q", err, n)
					}
					return
				}
			}
			t.Fatalf("%q refused, yet every name alone is accepted: %v", names, err)
		}
		seen := map[string]bool{}
		for _, s := range got {
			if !slices.Contains(known, s) || seen[s] {
				t.Fatalf("%q expanded to %v: %q is unknown or repeated", names, got, s)
			}
			seen[s] = true
		}
		again, err := expandScopes(fuzzCatalog, got)
		if err != nil || !slices.Equal(sortedCopy(again), sortedCopy(got)) {
			t.Fatalf("expanding %v again gave %v, %v", got, again, err)
		}
	})
}

// FuzzEmail: the CLI accepts exactly the addresses the server does, bare ones that
// read back the same.
func FuzzEmail(f *testing.F) {
	o := countOutcomes(f)
	f.Fuzz(func(t *testing.T, s string) {
		err := checkEmail(s)
		o.note(err)
		if (err == nil) != contract.ValidEmail(s) {
			t.Fatalf("checkEmail(%q) = %v, contract.ValidEmail = %v", s, err, contract.ValidEmail(s))
		}
		if err != nil {
			cmdutiltest.WantUsage(t, err, "e-mail address", strconv.Quote(s))
			return
		}
		a, perr := mail.ParseAddress(s)
		if perr != nil || a.Address != s || a.Name != "" {
			t.Fatalf("%q accepted but reads back as %v, %v", s, a, perr)
		}
		b, _ := json.Marshal([]string{s})
		var back []string
		if json.Unmarshal(b, &back) != nil || len(back) != 1 || back[0] != s {
			t.Fatalf("%q does not survive JSON: %s", s, b)
		}
	})
}

// FuzzDurationsAndDates: --unused-for style ages and --created-after style times
// either parse to a value that formats back to the same, or are refused naming the flag.
func FuzzDurationsAndDates(f *testing.F) {
	o := countOutcomes(f)
	f.Fuzz(func(t *testing.T, s string) {
		_, ageErr := cmdutil.ParseAge("--unused-for", s)
		_, timeErr := cmdutil.ParseTime("--created-after", s)
		if ageErr == nil || timeErr == nil {
			o.note(nil)
		} else {
			o.note(ageErr)
		}
		if d, err := cmdutil.ParseAge("--unused-for", s); err != nil {
			cmdutiltest.WantUsage(t, err, "--unused-for")
		} else {
			if d <= 0 {
				t.Fatalf("age %q parsed to %v", s, d)
			}
			unit := strings.TrimSpace(s)
			unit = unit[len(unit)-1:]
			per := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "h": time.Hour}[unit]
			again, err := cmdutil.ParseAge("--unused-for", strconv.FormatInt(int64(d/per), 10)+unit)
			if err != nil || again != d {
				t.Fatalf("age %q = %v reads back as %v, %v", s, d, again, err)
			}
		}
		if tm, err := cmdutil.ParseTime("--created-after", s); err != nil {
			cmdutiltest.WantUsage(t, err, "--created-after")
		} else {
			again, err := cmdutil.ParseTime("--created-after", tm.Format(time.RFC3339Nano))
			if err != nil || !again.Equal(tm) {
				t.Fatalf("time %q = %v reads back as %v, %v", s, tm, again, err)
			}
		}
	})
}

// secretLike finds runs that could be a secret: 16 or more token characters.
var secretLike = regexp.MustCompile(`[A-Za-z0-9._-]{16,}`)

// FuzzConfig: any config file either loads, and saves to a file that loads the same,
// or is refused as a usage error naming the file, never echoing a secret-like value.
func FuzzConfig(f *testing.F) {
	o := countOutcomes(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, io.Discard)
		o.note(err)
		if err != nil {
			cmdutiltest.WantUsage(t, err, path)
			for _, run := range secretLike.FindAllString(string(data), -1) {
				if strings.Contains(err.Error(), run) {
					t.Fatalf("refusal echoes %q from the file: %v", run, err)
				}
			}
			return
		}
		// What loaded, saved to another path (a missing file loads empty).
		saved, err := config.Load(filepath.Join(dir, "impactctl", "again.yaml"), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		saved.Profiles, saved.Current = cfg.Profiles, cfg.Current
		if err := saved.Save(); err != nil {
			t.Fatalf("saving what loaded: %v", err)
		}
		st, err := os.Stat(saved.Path())
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("saved config: %v, mode %v", err, st.Mode())
		}
		again, err := config.Load(saved.Path(), io.Discard)
		if err != nil {
			t.Fatalf("what was saved does not load: %v", err)
		}
		if !reflect.DeepEqual(again.Profiles, cfg.Profiles) {
			t.Fatalf("profiles %#v load back as %#v", cfg.Profiles, again.Profiles)
		}
	})
}

// FuzzStdinSIDs: a --stdin list is refused at its first malformed line, naming it,
// before any change; otherwise each SID named is acted on once, in order, and
// nothing else is.
func FuzzStdinSIDs(f *testing.F) {
	// A server that knows no token: every SID named ends as a "not found" result.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/ApiTokens") {
			io.WriteString(w, `{"@page":"1","@numpages":"0","@pagesize":"1000","@total":"0","@nextpageuri":"","ApiTokens":[]}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"Status":"ERROR","Code":"not_found","Message":"Not Found","Errors":[{"Field":"Uri","Message":"no such resource"}]}`)
	}))
	f.Cleanup(srv.Close)
	c, err := client.New(client.Options{BaseURL: srv.URL, AccountSid: "IR" + strings.Repeat("a", 32), AuthToken: "x", Kind: "agency"})
	if err != nil {
		f.Fatal(err)
	}
	o := countOutcomes(f)
	f.Fuzz(func(t *testing.T, input string) {
		r := &pipeline.Run{IO: iostreams.Streams(strings.NewReader(input), io.Discard, io.Discard), API: c}
		toks, failed, err := r.SelectTokens(context.Background(), pipeline.Selection{Stdin: true, Concurrency: 4})
		if cmdutil.ExitCode(err) == cmdutil.ExitUsage {
			o.note(err)
		} else {
			o.note(nil)
		}

		var want []string // the SIDs named, in order, each once
		var bad string
		for _, line := range strings.Split(strings.ReplaceAll(input, "\r\n", "\n"), "\n") {
			line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !contract.ValidSID(line) {
				bad = line
				break
			}
			if !slices.Contains(want, line) {
				want = append(want, line)
			}
		}
		if bad != "" {
			if err == nil {
				t.Fatalf("line %q accepted", bad)
			}
			cmdutiltest.WantUsage(t, err, strconv.Quote(bad))
			return
		}
		if len(want) == 1 {
			// One token is read on its own: the server's 404 is the answer.
			if cmdutil.ExitCode(err) != cmdutil.ExitNotFound {
				t.Fatalf("one SID: %v (exit %d)", err, cmdutil.ExitCode(err))
			}
			return
		}
		if err != nil {
			t.Fatalf("SIDs %v: %v", want, err)
		}
		var got []string
		for _, tk := range toks {
			got = append(got, tk.AccountSid)
		}
		for _, r := range failed {
			got = append(got, r.AccountSid)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("stdin %q: acted on %v, want %v", input, got, want)
		}
	})
}
