package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/impactcom/impactctl/server/service"
)

// TestLazyStmtRetries: a reader statement that could not be prepared (here, its
// request gone) is prepared again by the next call.
func TestLazyStmtRetries(t *testing.T) {
	s, err := OpenStore(context.Background(), filepath.Join(t.TempDir(), "lazy.db"), "", StoreOptions{OneShot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.rs.account.QueryContext(gone, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if s.rs.account.st.Load() != nil {
		t.Fatal("prepared with a cancelled context")
	}
	if _, err := s.Account(context.Background(), 1); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("after: %v", err)
	}
	if s.rs.account.st.Load() == nil {
		t.Fatal("not prepared by the next call")
	}
}
