package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// BenchmarkFailedAuthentication compares a wrong secret for a known SID with any
// secret for an unknown SID (and a malformed one): the three must cost the same, so
// timing cannot tell which SIDs exist. Compare the ns/op of the sub-benchmarks:
//
//	go test ./server -run '^$' -bench FailedAuthentication -count 5
func BenchmarkFailedAuthentication(b *testing.B) {
	ctx := context.Background()
	st, err := store.OpenStore(ctx, filepath.Join(b.TempDir(), "bench.db"), "", store.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	withEnv(b, st, testRand(), nil)
	b.Cleanup(func() { st.Close() })
	if err := Seed(ctx, st, envOf(st), true); err != nil {
		b.Fatal(err)
	}
	creds, err := DemoCredentials(ctx, st, envOf(st), "http://127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	h := httpapi.New(st, envOf(st), httpapi.Options{})
	known := creds["admin"].AccountSid
	wrong := strings.Repeat("w", service.SecretLen)
	for _, bc := range []struct{ name, sid string }{
		{"known-sid-wrong-secret", known},
		{"unknown-sid", "IR" + strings.Repeat("Z", service.SIDLen)},
		{"malformed-sid", "not-a-sid"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/Agencies/"+known+"/ApiTokens/Current", nil)
			req.SetBasicAuth(bc.sid, wrong)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkAuthLookup isolates what differs between the paths of
// BenchmarkFailedAuthentication, the lookup and the secret's compare, from the
// request's other (equal) costs and their noise:
//
//	go test ./server -run '^$' -bench AuthLookup -count 5
func BenchmarkAuthLookup(b *testing.B) {
	ctx := context.Background()
	st, err := store.OpenStore(ctx, filepath.Join(b.TempDir(), "bench.db"), "", store.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	withEnv(b, st, testRand(), nil)
	b.Cleanup(func() { st.Close() })
	if err := Seed(ctx, st, envOf(st), true); err != nil {
		b.Fatal(err)
	}
	creds, err := DemoCredentials(ctx, st, envOf(st), "http://127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	wrong := strings.Repeat("w", service.SecretLen)
	svc := service.NewRules(st, envOf(st))
	for _, bc := range []struct {
		name, sid string
		found     bool
	}{
		{"known-sid-wrong-secret", creds["admin"].AccountSid, true},
		{"unknown-sid", "IR" + strings.Repeat("Z", service.SIDLen), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				t, err := st.TokenForAuth(ctx, bc.sid)
				cur, prev := svc.SecretMatches(t, wrong)
				if err != nil || (t != nil) != bc.found || cur || prev {
					b.Fatalf("lookup %v %v", t, err)
				}
			}
		})
	}
}
