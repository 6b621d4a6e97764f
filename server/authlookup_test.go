package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/server/service"
)

func TestTokenForAuth(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	var standIn, last string
	if err := ts.queryRow(`SELECT min(sid), max(sid) FROM tokens`).Scan(&standIn, &last); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{standIn, last, ts.cred("admin").AccountSid} {
		tok, err := ts.st.TokenBySID(ctx, sid)
		if err != nil || tok == nil || tok.SID != sid || tok.Scopes == nil || tok.Emails == nil {
			t.Fatalf("known %s: %+v %v", sid, tok, err)
		}
	}
	for _, sid := range []string{"", "IR" + strings.Repeat("0", 32), "IR" + strings.Repeat("z", 32), "' OR 1=1 --"} {
		tok, err := ts.st.TokenBySID(ctx, sid)
		if !errors.Is(err, service.ErrNotFound) || tok != nil {
			t.Fatalf("unknown %q: %+v %v", sid, tok, err)
		}
	}
}
