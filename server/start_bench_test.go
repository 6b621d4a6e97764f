package server

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/service"
)

// BenchmarkStart measures what `impactctl --local` pays in-process: Start over an
// existing demo database, the first list request, and Shutdown; "oneshot" as
// --local starts it (Config.OneShot and InProcess, the request through
// Instance.Transport), "serve" as `impactctl serve` does (over loopback).
//
//	go test ./server -run '^$' -bench Start -cpuprofile cpu.pprof
func BenchmarkStart(b *testing.B) {
	for _, oneShot := range []bool{true, false} {
		name := "serve"
		if oneShot {
			name = "oneshot"
		}
		b.Run(name, func(b *testing.B) { benchmarkStart(b, oneShot) })
	}
}

func benchmarkStart(b *testing.B, oneShot bool) {
	ctx := context.Background()
	cfg := Config{Addr: "127.0.0.1:0", DB: filepath.Join(b.TempDir(), "local.db"), Demo: true,
		AuthFailLimit: Rate{N: 100, Per: time.Minute}, EventRetention: service.DefaultEventRetention}
	first, err := Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := first.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	cfg.OneShot, cfg.InProcess = oneShot, oneShot
	client := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		inst, err := Start(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if oneShot {
			client.Transport = inst.Transport()
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
			inst.URL+"/Agencies/"+inst.Admin.AccountSid+"/ApiTokens?PageSize=1000", nil)
		req.SetBasicAuth(inst.Admin.AccountSid, inst.Admin.AuthToken)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("list: %s", resp.Status)
		}
		client.CloseIdleConnections()
		if err := inst.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
