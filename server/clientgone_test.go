package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/server/httpapi"
)

// A request whose client went away before the server answered is no server
// fault: logged as ended by the client (status 499), never as an internal error.
func TestClientGoneIsNoInternalError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openTestStore(t, (&testClock{t: testEpoch}).Now)
	if err := Seed(ctx, st, envOf(st), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	creds, err := DemoCredentials(ctx, st, envOf(st), "http://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := httpapi.New(st, envOf(st), httpapi.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	admin := creds["admin"]
	gone, cancel := context.WithCancel(ctx)
	cancel()
	req := httptest.NewRequest("GET", "/Agencies/"+admin.AccountSid+"/ApiTokens", nil).WithContext(gone)
	req.SetBasicAuth(admin.AccountSid, admin.AuthToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Skip("the store answered before it saw the cancelled context")
	}
	if strings.Contains(logs.String(), "internal error") || rec.Code == http.StatusInternalServerError {
		t.Errorf("a cancelled request was a server fault: %d\n%s", rec.Code, logs.String())
	}
	if rec.Code != httpapi.StatusClientClosed || !strings.Contains(logs.String(), "request ended by the client") {
		t.Errorf("status %d, want %d, and a line saying so:\n%s", rec.Code, httpapi.StatusClientClosed, logs.String())
	}
}
