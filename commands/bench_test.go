package commands

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/server"
)

// BenchmarkTokensList times the whole list path in one process: Main,
// credentials, the client's paging over loopback HTTP, and the output
// format, over the 30 demo tokens.
//
//	go test ./commands -run '^$' -bench TokensList -benchmem
func BenchmarkTokensList(b *testing.B) {
	ctx := context.Background()
	inst, err := server.Start(ctx, server.Config{
		Addr: "127.0.0.1:0",
		DB:   filepath.Join(b.TempDir(), "tokens.db"),
		Demo: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		inst.Shutdown(sctx)
	})
	b.Setenv("IMPACTCTL_API_URL", inst.URL)
	b.Setenv("IMPACTCTL_ACCOUNT_SID", inst.Admin.AccountSid)
	b.Setenv("IMPACTCTL_AUTH_TOKEN", inst.Admin.AuthToken)
	b.Setenv("XDG_CONFIG_HOME", b.TempDir())

	for _, format := range []string{"table", "json", "jsonl"} {
		for _, pageSize := range []int{10, 100} {
			b.Run(format+"/page-size="+strconv.Itoa(pageSize), func(b *testing.B) {
				args := []string{"tokens", "list", "-o", format, "--page-size", strconv.Itoa(pageSize)}
				for b.Loop() {
					if code := Main(args, iostreams.Streams(strings.NewReader(""), io.Discard, io.Discard)); code != 0 {
						b.Fatalf("exit %d", code)
					}
				}
			})
		}
	}
}

// BenchmarkLocalList times `--local tokens list` in one process (starting the
// embedded server over an existing local.db, the list, closing it) against the
// same list from a server already running over a copy of that database.
//
//	go test ./commands -run '^$' -bench LocalList -cpuprofile cpu.pprof
func BenchmarkLocalList(b *testing.B) {
	ctx := context.Background()
	data := b.TempDir()
	b.Setenv("XDG_DATA_HOME", data)
	b.Setenv("XDG_CONFIG_HOME", b.TempDir())
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	run := func(b *testing.B, args ...string) {
		if code := Main(args, iostreams.Streams(strings.NewReader(""), io.Discard, io.Discard)); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	run(b, "--local", "tokens", "list") // creates and seeds local.db
	b.Run("local", func(b *testing.B) {
		for b.Loop() {
			run(b, "--local", "tokens", "list")
		}
	})
	b.Run("server", func(b *testing.B) {
		copyDir := b.TempDir()
		for _, name := range []string{"local.db", "local.db.key"} {
			body, err := os.ReadFile(filepath.Join(data, "impactctl", name))
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(copyDir, name), body, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		inst, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DB: filepath.Join(copyDir, "local.db")})
		if err != nil {
			b.Fatal(err)
		}
		defer inst.Shutdown(ctx)
		b.Setenv("IMPACTCTL_API_URL", inst.URL)
		b.Setenv("IMPACTCTL_ACCOUNT_SID", inst.Admin.AccountSid)
		b.Setenv("IMPACTCTL_AUTH_TOKEN", inst.Admin.AuthToken)
		for b.Loop() {
			run(b, "tokens", "list")
		}
	})
}
