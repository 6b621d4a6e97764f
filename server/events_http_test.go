package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var requestIDPattern = regexp.MustCompile(`^RQ[0-9a-f]{32}$`)

// TestRequestID: every answer, errors and unknown routes included, carries an
// X-Request-Id the server made (a client's is ignored), the log line records it, and
// so does the event the request writes.
func TestRequestID(t *testing.T) {
	var log syncBuffer
	ts := newTestServer(t, func(o *httpapi.Options) { o.Logger = slog.New(slog.NewJSONHandler(&log, nil)) })
	admin := ts.cred("admin")
	root := "/Agencies/" + admin.AccountSid
	bad := Credential{AccountSid: admin.AccountSid, AuthToken: strings.Repeat("x", 32)}
	seen := map[string]bool{}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		c      Credential
		status int
	}{
		{"ok", "GET", root + "/ApiTokens/Current", admin, 200},
		{"unauthenticated", "GET", root + "/ApiTokens/Current", bad, 401},
		{"no such route", "GET", "/Nowhere", admin, 404},
		{"method not allowed", "PUT", root + "/CompanyInformation", admin, 405},
		{"bad filter", "GET", root + "/ApiTokenEvents?Type=", admin, 400},
	} {
		res := ts.req(tc.method, tc.path, tc.c, nil, append(offContract, "X-Request-Id", "client-chosen")...)
		if res.Status != tc.status {
			t.Fatalf("%s: status %d, want %d", tc.name, res.Status, tc.status)
		}
		id := res.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) || seen[id] {
			t.Fatalf("%s: X-Request-Id %q: want RQ and 32 fresh hexadecimal digits", tc.name, id)
		}
		seen[id] = true
		if !strings.Contains(log.String(), `"request_id":"`+id+`"`) {
			t.Fatalf("%s: the request log does not record %s", tc.name, id)
		}
	}
	writer := ts.cred("writer").AccountSid
	res := ts.req("PATCH", root+"/ApiTokens/"+writer, admin, `{"Description":"traced"}`, "X-Request-Id", "client-chosen").want(t, 200)
	id := res.Header.Get("X-Request-Id")
	var list struct{ Events []service.EventBody }
	ts.get(admin, "/ApiTokens/"+writer+"/Events").want(t, 200).decode(t, &list)
	if len(list.Events) != 1 || list.Events[0].RequestId == nil || *list.Events[0].RequestId != id {
		t.Fatalf("event after request %s: %+v", id, list.Events)
	}
}

type eventList struct {
	PageSize string              `json:"@pagesize"`
	Next     string              `json:"@nextpageuri"`
	Events   []service.EventBody `json:"Events"`
}

// TestEventEndpoints drives both event lists over HTTP: what an event says, filters,
// anchored pages while new events arrive, After, a deleted token's events, the
// passthrough actor, and refused filters.
func TestEventEndpoints(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.cred("admin")
	root := "/Agencies/" + admin.AccountSid
	writer := ts.cred("writer").AccountSid

	ts.req("PATCH", root+"/ApiTokens/"+writer, admin, `{"Name":"Token boss","PrimaryContactId":"U100"}`).want(t, 200)
	var l eventList
	ts.get(admin, "/ApiTokens/"+writer+"/Events").want(t, 200).decode(t, &l)
	if len(l.Events) != 1 {
		t.Fatalf("events: %+v", l)
	}
	e := l.Events[0]
	raw, _ := json.Marshal(e.Changes)
	if e.Type != service.EvEdited || e.AccountSid != writer || e.TokenName != "Token boss" || e.Actor == nil ||
		*e.Actor.AccountSid != admin.AccountSid || e.Actor.Name != "Agency admin" || e.ClientAddress == nil ||
		*e.ClientAddress != "127.0.0.1" || e.Date != service.WireTime(testEpoch.Unix()) ||
		string(raw) != `[{"Field":"Name","Before":"Token manager","After":"Token boss"},{"Field":"PrimaryContact","Before":`+
			`{"Id":"U101","Name":"Grace Hopper","Email":"grace@demo-agency.example"},"After":{"Id":"U100","Name":"Ada Byron","Email":"ada@demo-agency.example"}}]` {
		t.Fatalf("edited event: %+v %s", e, raw)
	}
	// The new contact and the replaced one are told; the server sends no mail: OFF.
	if len(e.Notifications) != 2 || e.Notifications[0].Email != "ada@demo-agency.example" ||
		e.Notifications[1].Email != "grace@demo-agency.example" || e.Notifications[0].State != "OFF" {
		t.Fatalf("notifications: %+v", e.Notifications)
	}

	// A deleted token's events stay readable; a SID with none is 404.
	var made struct{ AccountSid string }
	ts.req("POST", root+"/ApiTokens", admin, `{"Name":"short-lived","DeveloperEmails":["dev@example.com"]}`).want(t, 201).decode(t, &made)
	ts.clock.Advance(time.Second)
	ts.req("GET", root+"/ApiTokens/"+made.AccountSid+"/AuthToken", admin, nil).want(t, 200)
	ts.clock.Advance(time.Second)
	ts.req("DELETE", root+"/ApiTokens/"+made.AccountSid, admin, nil).want(t, 204)
	ts.get(admin, "/ApiTokens/"+made.AccountSid+"/Events").want(t, 200).decode(t, &l)
	var types []string
	for _, e := range l.Events {
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []string{service.EvDeleted, service.EvRevealed, service.EvCreated}) || l.Events[0].TokenName != "short-lived" ||
		len(l.Events[0].Notifications) != 1 || l.Events[0].Notifications[0].Email != "dev@example.com" {
		t.Fatalf("a deleted token's events: %+v", l.Events)
	}
	ts.get(admin, "/ApiTokens/"+missingSID+"/Events").wantCode(t, 404, "not_found")

	// Filters.
	ts.get(admin, "/ApiTokenEvents?Type=revealed").want(t, 200).decode(t, &l)
	if len(l.Events) != 1 || l.Events[0].AccountSid != made.AccountSid {
		t.Fatalf("Type=revealed: %+v", l.Events)
	}
	ts.get(admin, "/ApiTokenEvents?Sid="+writer).want(t, 200).decode(t, &l)
	if len(l.Events) != 1 {
		t.Fatalf("Sid=writer: %+v", l.Events)
	}
	ts.get(admin, "/ApiTokenEvents?ActorSid="+writer).want(t, 200).decode(t, &l)
	if len(l.Events) != 0 {
		t.Fatalf("ActorSid=writer: %+v", l.Events)
	}
	since := service.WireTime(testEpoch.Unix() + 1)
	ts.get(admin, "/ApiTokenEvents?Since="+since+"&Until="+service.WireTime(testEpoch.Unix()+2)).want(t, 200).decode(t, &l)
	if len(l.Events) != 1 || l.Events[0].Type != service.EvRevealed {
		t.Fatalf("Since/Until: %+v", l.Events)
	}
	for _, q := range []string{"Type=", "Since=", "Until=", "After=", "Before=", "Sid=", "ActorSid=", "PageSize=",
		"Type=renamed", "Since=yesterday", "After=EV1", "Sid=someone", "Page=2", "PageSize=0",
		"Before=" + service.EventID(1, 1) + "&After=" + service.EventID(1, 1)} {
		ts.get(admin, "/ApiTokenEvents?"+q, offContract...).wantCode(t, 400, "bad_request")
	}
	ts.get(admin, "/ApiTokens/"+writer+"/Events?Type=", offContract...).wantCode(t, 400, "bad_request")

	// Pages follow an anchor: none repeats or skips while new events arrive.
	for i := range 5 {
		ts.clock.Advance(time.Second)
		ts.req("PATCH", root+"/ApiTokens/"+writer, admin, map[string]string{"Description": strings.Repeat("d", i+1)}).want(t, 200)
	}
	var all eventList
	ts.get(admin, "/ApiTokenEvents").want(t, 200).decode(t, &all)
	var paged []string
	next := root + "/ApiTokenEvents?PageSize=3"
	for next != "" {
		ts.req("GET", next, admin, nil).want(t, 200).decode(t, &l)
		if strings.Contains(l.Next, "Page=") {
			t.Fatalf("a page number in %s", l.Next)
		}
		for _, e := range l.Events {
			paged = append(paged, e.Id)
		}
		next = l.Next
		ts.req("PATCH", root+"/ApiTokens/"+writer, admin, map[string]string{"Description": "p" + string(rune('a'+len(paged)))}).want(t, 200)
	}
	var want []string
	for _, e := range all.Events {
		want = append(want, e.Id)
	}
	if len(want) != 9 || !slices.Equal(paged, want) {
		t.Fatalf("paged %q\nwant %q", paged, want)
	}
	// After: what is newer, oldest first.
	ts.get(admin, "/ApiTokenEvents?PageSize=2&After="+want[len(want)-1]).want(t, 200).decode(t, &l)
	if len(l.Events) != 2 || l.Events[0].Id != want[len(want)-2] || l.Events[1].Id != want[len(want)-3] ||
		!strings.Contains(l.Next, "After="+want[len(want)-3]) {
		t.Fatalf("After: %+v", l)
	}

	// An agency acting through passthrough: named by its account, no SID, no address.
	brand := ts.cred("brand-admin")
	ts.req("PATCH", root+"/Advertisers/1048291/ApiTokens/"+brand.AccountSid, admin, `{"Description":"by the agency"}`).want(t, 200)
	for _, path := range []string{"/Advertisers/" + brand.AccountSid + "/ApiTokenEvents",
		"/Advertisers/" + brand.AccountSid + "/ApiTokens/" + brand.AccountSid + "/Events"} {
		ts.req("GET", path, brand, nil).want(t, 200).decode(t, &l)
		if len(l.Events) != 1 || l.Events[0].Actor == nil || l.Events[0].Actor.AccountSid != nil ||
			l.Events[0].Actor.Name != "Demo Agency (agency)" || l.Events[0].ClientAddress != nil || l.Events[0].RequestId == nil {
			t.Fatalf("passthrough actor on %s: %+v", path, l.Events)
		}
	}
	ts.req("GET", root+"/Advertisers/1048291/ApiTokenEvents", admin, nil).want(t, 200).decode(t, &l)
	if len(l.Events) != 1 || l.Events[0].AccountSid != brand.AccountSid {
		t.Fatalf("through passthrough: %+v", l.Events)
	}
	// The agency's own list holds none of the brand's events.
	ts.get(admin, "/ApiTokenEvents?PageSize=1000").want(t, 200).decode(t, &l)
	for _, e := range l.Events {
		if e.AccountSid == brand.AccountSid {
			t.Fatalf("the brand's event on the agency's list: %+v", e)
		}
	}
	// Reading events needs apitokens.read.
	ts.get(ts.cred("reporter"), "/ApiTokenEvents").wantCode(t, 403, "missing_scope")
}

// TestEventsHoldNoSecret makes every kind of change over HTTP, then scans every
// event for any secret the server handed out, any 8 characters of one, and hints.
func TestEventsHoldNoSecret(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.cred("admin")
	root := "/Agencies/" + admin.AccountSid
	var secrets []string
	var tok struct{ AccountSid, AuthToken, AuthTokenHint string }
	ts.req("POST", root+"/ApiTokens", admin, `{"Name":"scan me"}`).want(t, 201).decode(t, &tok)
	sid := tok.AccountSid
	secrets = append(secrets, tok.AuthToken, admin.AuthToken)
	ts.req("POST", root+"/ApiTokens/"+sid+"/Duplicate", admin, `{}`).want(t, 201).decode(t, &tok)
	secrets = append(secrets, tok.AuthToken)
	ts.req("POST", root+"/ApiTokens/"+sid+"/Reset", admin, nil).want(t, 200).decode(t, &tok)
	secrets = append(secrets, tok.AuthToken)
	var bulk struct {
		Results []struct{ ApiToken struct{ AuthToken string } }
	}
	ts.req("POST", root+"/ApiTokens/Reset", admin, map[string][]string{"Sids": {sid}}).want(t, 200).decode(t, &bulk)
	secrets = append(secrets, bulk.Results[0].ApiToken.AuthToken)
	ts.req("GET", root+"/ApiTokens/"+sid+"/AuthToken", admin, nil).want(t, 200)
	ts.req("PUT", root+"/ApiTokens/"+sid+"/Scopes", admin, `{"Scopes":["reports.read"]}`).want(t, 200)
	ts.req("PUT", root+"/ApiTokens/"+sid+"/DeveloperEmails", admin, `{"Emails":["a@example.com"]}`).want(t, 200)
	ts.req("POST", root+"/ApiTokens/"+sid+"/Disable", admin, nil).want(t, 200)
	ts.req("DELETE", root+"/ApiTokens/"+sid, admin, nil).want(t, 204)
	res := ts.get(admin, "/ApiTokenEvents?PageSize=1000").want(t, 200)
	var l eventList
	res.decode(t, &l)
	if len(l.Events) != 9 {
		t.Fatalf("%d events, want 9", len(l.Events))
	}
	body := string(res.Body)
	for _, s := range secrets {
		if len(s) != 32 {
			t.Fatalf("secret %q", s)
		}
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(body, s[i:i+8]) {
				t.Fatalf("an event holds part of a secret")
			}
		}
	}
	if strings.Contains(strings.ToLower(body), "hint") || strings.Contains(body, "AuthToken\"") {
		t.Fatalf("an event names a secret's field: %s", body)
	}
}

// TestEventsWithMail: with mail on, notifications are PENDING for the sender.
func TestEventsWithMail(t *testing.T) {
	ts := newTestServer(t, func(o *httpapi.Options) { o.Mail = true })
	admin := ts.cred("admin")
	ts.req("PATCH", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+ts.cred("reporter").AccountSid, admin, `{"Description":"x"}`).want(t, http.StatusOK)
	var l eventList
	ts.get(admin, "/ApiTokenEvents").want(t, 200).decode(t, &l)
	if len(l.Events) != 1 || len(l.Events[0].Notifications) != 2 {
		t.Fatalf("events: %+v", l.Events)
	}
	for _, n := range l.Events[0].Notifications {
		if n.State != service.NotificationPending {
			t.Fatalf("with mail on: %+v", n)
		}
	}
}
