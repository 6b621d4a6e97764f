package store

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestKeyCreatedWholeOrNotAtAll starts servers' key loading together on a missing
// key file, as replicas sharing one do: each must read the one key that was made,
// never a part of it, and no temporary file stays behind.
func TestKeyCreatedWholeOrNotAtAll(t *testing.T) {
	for round := range 100 {
		dir := t.TempDir()
		path := filepath.Join(dir, "shared.key")
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				_, before := os.Lstat(path)
				keys[i], errs[i] = loadKey(path, func() error { return nil })
				if _, now := os.Lstat(path); errs[i] != nil && before != nil && now == nil {
					// Another one created it first: read that one (as OpenPostgresStore does).
					keys[i], errs[i] = loadKey(path, func() error { return nil })
				}
			})
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("round %d, server %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != 32 {
				t.Fatalf("round %d: servers read different keys", round)
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 {
			t.Fatalf("round %d: the directory holds %d entries (%v), want the key file alone", round, len(entries), err)
		}
	}
}
