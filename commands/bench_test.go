package commands

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
					if code := Main(args, Streams(strings.NewReader(""), io.Discard, io.Discard)); code != 0 {
						b.Fatalf("exit %d", code)
					}
				}
			})
		}
	}
}
