package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/mail"
	"github.com/impactcom/impactctl/server/outbox"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// fakeSender records the messages the mailer sends and answers next (Sent when empty).
type fakeSender struct {
	mu   sync.Mutex
	sent []string // raw messages
	next []mail.Result
}

func (f *fakeSender) Send(_ context.Context, m *gomail.Msg) mail.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := mail.Result{Outcome: mail.Sent}
	if len(f.next) > 0 {
		r, f.next = f.next[0], f.next[1:]
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		panic(err)
	}
	if r.Outcome == mail.Sent {
		f.sent = append(f.sent, b.String())
	}
	return r
}

func (f *fakeSender) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

func withMail(o *httpapi.Options) { o.Mail = true }

// mailTest is a test server that sends mail, with its mailer driven by the test.
type mailTest struct {
	*testServer
	ml   *outbox.Sender
	logs *bytes.Buffer
}

func newMailTest(t *testing.T, sender MessageSender) *mailTest {
	t.Helper()
	return newMailTestRate(t, sender, 0)
}

// newMailTestRate is newMailTest with an account's hourly message limit (0: the default).
func newMailTestRate(t *testing.T, sender MessageSender, rate int) *mailTest {
	t.Helper()
	ts := newTestServer(t, withMail)
	logs := &bytes.Buffer{}
	ml, err := newMailer(ts.st, envOf(ts.st), &Mailing{Sender: sender, From: "tokens@impact.example", PublicURL: ts.url, Rate: rate},
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &mailTest{testServer: ts, ml: ml, logs: logs}
}

func (mt *mailTest) drain() {
	mt.t.Helper()
	if err := mt.ml.Drain(context.Background()); err != nil {
		mt.t.Fatal(err)
	}
}

// quiet marks every notification written so far as not to be sent: test setup whose
// messages the test does not count.
func (mt *mailTest) quiet() {
	mt.exec(`UPDATE notifications SET state = 'OFF' WHERE state = 'PENDING'`)
}

// create makes a token of the admin's account with emails, its create message quieted.
func (mt *mailTest) create(name string, emails ...string) string {
	mt.t.Helper()
	admin := mt.cred("admin")
	var tok tokenJSON
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens", admin, map[string]any{
		"Name": name, "Scopes": []string{"reports.read"}, "DeveloperEmails": emails,
	}).want(mt.t, http.StatusCreated).decode(mt.t, &tok)
	mt.quiet()
	return tok.AccountSid
}

func (mt *mailTest) states(email string) map[string]int {
	mt.t.Helper()
	db, q := mt.db(`SELECT state, count(*) FROM notifications WHERE email = ? GROUP BY state`)
	rows, err := db.Query(q, email)
	if err != nil {
		mt.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			mt.t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

func to(msgs []string, addr string) []string {
	var out []string
	for _, m := range msgs {
		if strings.Contains(m, "\r\nTo: <"+addr+">\r\n") {
			out = append(out, m)
		}
	}
	return out
}

func TestMailBulkResetOneMessagePerRecipient(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	var sids []string
	for i := range 100 {
		sids = append(sids, mt.create(fmt.Sprintf("bulk %03d", i), "team@example.com", fmt.Sprintf("own%d@example.com", i%2)))
	}
	admin := mt.cred("admin")
	r := mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/Reset", admin, map[string]any{"Sids": sids}).want(t, http.StatusOK)
	if len(f.messages()) != 0 {
		t.Fatal("mail sent before the outbox was read")
	}
	mt.drain()
	msgs := f.messages()
	team, own0, own1 := to(msgs, "team@example.com"), to(msgs, "own0@example.com"), to(msgs, "own1@example.com")
	if len(msgs) != 3 || len(team) != 1 || len(own0) != 1 || len(own1) != 1 {
		t.Fatalf("%d messages (team %d, own0 %d, own1 %d), want one to each address", len(msgs), len(team), len(own0), len(own1))
	}
	text := decodedBody(t, team[0])
	for _, sid := range sids {
		if !strings.Contains(text, "impactctl tokens history "+sid) {
			t.Fatalf("the message does not name %s", sid)
		}
	}
	if strings.Count(decodedBody(t, own0[0]), "impactctl tokens history ") != 50 {
		t.Errorf("own0 told about other tokens")
	}
	if !strings.Contains(text, "By:       ") || strings.Contains(text, admin.AccountSid) {
		t.Errorf("the actor is not named by name alone:\n%.600s", text)
	}
	// No secret of the answer is in any message.
	var reply struct {
		Results []struct{ ApiToken struct{ AuthToken string } }
	}
	r.decode(t, &reply)
	for _, res := range reply.Results {
		s := res.ApiToken.AuthToken
		if len(s) != 32 {
			t.Fatalf("no secret in the reset answer")
		}
		for _, m := range msgs {
			if strings.Contains(m, s) || strings.Contains(decodedBody(t, m), s) {
				t.Fatal("a message holds a reset secret")
			}
		}
	}
	if st := mt.states("team@example.com"); st[service.NotificationSent] != 100 || st[service.NotificationPending] != 0 {
		t.Errorf("states %v", st)
	}
	// Sent once: nothing more to send.
	mt.drain()
	if len(f.messages()) != 3 {
		t.Fatal("sent again")
	}
}

func decodedBody(t *testing.T, raw string) string {
	t.Helper()
	_, body, _ := strings.Cut(raw, "\r\n\r\n")
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Past 20 messages in an hour from one account, a recipient's updates are held and
// sent as one digest when the hour ends.
func TestMailHourlyDigest(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	sid := mt.create("busy", "busy@example.com")
	admin := mt.cred("admin")
	path := "/Agencies/" + admin.AccountSid + "/ApiTokens/" + sid
	for i := range 25 {
		op := "/Disable"
		if i%2 == 1 {
			op = "/Enable"
		}
		mt.req("POST", path+op, admin, nil).want(t, http.StatusOK)
		mt.drain()
	}
	if n := len(to(f.messages(), "busy@example.com")); n != RecipientHourlyLimit {
		t.Fatalf("%d messages within the hour, want %d", n, RecipientHourlyLimit)
	}
	if st := mt.states("busy@example.com"); st[service.NotificationPending] != 5 {
		t.Fatalf("states %v, want 5 held", st)
	}
	// The hour ends: the five held updates leave as one digest.
	mt.clock.Advance(time.Hour)
	mt.drain()
	msgs := to(f.messages(), "busy@example.com")
	if len(msgs) != RecipientHourlyLimit+1 {
		t.Fatalf("%d messages after the hour, want %d", len(msgs), RecipientHourlyLimit+1)
	}
	digest := msgs[len(msgs)-1]
	if !strings.Contains(digest, "Subject: [impactctl] 5 updates held back by the hourly limit") ||
		!strings.Contains(digest, "Message-ID: <digest.") {
		t.Fatalf("not a digest:\n%.800s", digest)
	}
	if st := mt.states("busy@example.com"); st[service.NotificationPending] != 0 || st[service.NotificationSent] != 25 {
		t.Fatalf("states %v", st)
	}
}

// An account past --mail-rate in an hour: its messages wait, and the server warns once.
func TestMailAccountRate(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTestRate(t, f, 3)
	admin := mt.cred("admin")
	var sids []string
	for i := range 5 {
		sids = append(sids, mt.create(fmt.Sprintf("r%d", i), fmt.Sprintf("r%d@example.com", i)))
	}
	for _, sid := range sids {
		mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Disable", admin, nil).want(t, http.StatusOK)
	}
	mt.drain()
	mt.drain()
	if n := len(f.messages()); n != 3 {
		t.Fatalf("%d messages, want 3 (the rate)", n)
	}
	if c := strings.Count(mt.logs.String(), "hourly message limit"); c != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", c, mt.logs)
	}
	mt.clock.Advance(time.Hour)
	mt.drain()
	if n := len(f.messages()); n != 5 {
		t.Fatalf("%d messages after the hour, want 5", n)
	}
}

// Temporary failures are retried with backoff, with the same Message-ID, and a day
// later the message is FAILED; a permanent refusal fails at once.
func TestMailRetryThenFailed(t *testing.T) {
	t.Parallel()
	tmp := mail.Result{Outcome: mail.Retry, Code: 421, Err: errors.New("421 try later")}
	f := &fakeSender{next: []mail.Result{tmp}}
	mt := newMailTest(t, f)
	sid := mt.create("flaky", "flaky@example.com", "gone@example.com")
	admin := mt.cred("admin")
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Disable", admin, nil).want(t, http.StatusOK)
	// Recipients are claimed in order: flaky first (421), then gone (550).
	f.next = append(f.next, mail.Result{Outcome: mail.Failed, Code: 550, Err: errors.New("550 no such user")})
	mt.drain()
	if st := mt.states("gone@example.com"); st[service.NotificationFailed] != 1 {
		t.Fatalf("gone: %v", st)
	}
	if st := mt.states("flaky@example.com"); st[service.NotificationPending] != 1 {
		t.Fatalf("flaky: %v", st)
	}
	mt.drain() // not due yet
	if len(f.messages()) != 0 {
		t.Fatal("retried before the backoff")
	}
	mt.clock.Advance(mail.Backoff(1))
	mt.drain()
	if len(f.messages()) != 1 {
		t.Fatalf("not retried after the backoff")
	}
	// Another update that keeps failing: FAILED once a day has passed.
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Enable", admin, nil).want(t, http.StatusOK)
	for range 40 {
		f.mu.Lock()
		f.next = []mail.Result{tmp, tmp}
		f.mu.Unlock()
		mt.drain()
		mt.clock.Advance(time.Hour)
	}
	if st := mt.states("flaky@example.com"); st[service.NotificationFailed] != 1 || st[service.NotificationPending] != 0 {
		t.Fatalf("flaky after a day: %v", st)
	}
	var attempts int
	if err := mt.queryRow(`SELECT attempts FROM notifications WHERE email = ? AND state = 'FAILED'`, "flaky@example.com").Scan(&attempts); err != nil || attempts < 5 {
		t.Fatalf("attempts %d %v", attempts, err)
	}
}

// A sender that claims a message and dies leaves it to another after the lease, sent
// with the same Message-ID.
func TestMailLeaseTakeover(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	sid := mt.create("lease", "lease@example.com")
	admin := mt.cred("admin")
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Disable", admin, nil).want(t, http.StatusOK)
	now := mt.clock.Now()
	claimed, err := mt.st.(outbox.Store).ClaimNotifications(context.Background(), now.Unix(), now.Add(outbox.Lease).Unix(), 8)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	// The first sender got as far as the SMTP server, then died.
	composer := &mail.Composer{From: "tokens@impact.example", Unsubscribe: httpapi.UnsubscribeSigner(envOf(mt.st), mt.url)}
	first, _ := composer.Compose(mustUpdates(t, claimed)[0])
	f.Send(context.Background(), first)
	mt.drain()
	if len(f.messages()) != 1 {
		t.Fatal("another sender took a leased message")
	}
	mt.clock.Advance(outbox.Lease)
	mt.drain()
	msgs := f.messages()
	if len(msgs) != 2 || messageID(msgs[0]) == "" || messageID(msgs[0]) != messageID(msgs[1]) {
		t.Fatalf("%d messages, ids %q %q", len(msgs), messageID(msgs[0]), messageID(msgs[len(msgs)-1]))
	}
}

func mustUpdates(t *testing.T, rows []store.PendingNotification) []mail.Update {
	t.Helper()
	u, _, err := outbox.UpdatesOf(rows)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func messageID(raw string) string {
	for _, l := range strings.Split(raw, "\r\n") {
		if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
			return v
		}
	}
	return ""
}

// The one-click link stops an address's updates (SUPPRESSED from then on); a link
// changed in any way, or fetched with GET, stops nothing.
func TestMailUnsubscribe(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	sid := mt.create("unsub", "stop@example.com", "keep@example.com")
	admin := mt.cred("admin")
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Disable", admin, nil).want(t, http.StatusOK)
	mt.drain()
	msgs := to(f.messages(), "stop@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	var link string
	for _, l := range strings.Split(strings.ReplaceAll(msgs[0], "\r\n ", " "), "\r\n") {
		if v, ok := strings.CutPrefix(l, "List-Unsubscribe: "); ok {
			link = strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	if !strings.HasPrefix(link, mt.url+mail.UnsubscribePath+"?") || !strings.Contains(msgs[0], "List-Unsubscribe-Post: List-Unsubscribe=One-Click") {
		t.Fatalf("link %q", link)
	}
	post := func(u string) int {
		resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("e", "keep@example.com")
	forged := *u
	forged.RawQuery = q.Encode()
	if code := post(forged.String()); code != http.StatusNotFound {
		t.Fatalf("a forged link answered %d", code)
	}
	resp, err := http.Get(link)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %v %v", err, resp)
	}
	resp.Body.Close()
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Enable", admin, nil).want(t, http.StatusOK)
	mt.drain()
	if n := len(to(f.messages(), "stop@example.com")); n != 2 {
		t.Fatalf("GET unsubscribed (or nothing was sent): %d messages", n)
	}
	if code := post(link); code != http.StatusOK {
		t.Fatalf("POST answered %d", code)
	}
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid+"/Disable", admin, nil).want(t, http.StatusOK)
	mt.drain()
	if n := len(to(f.messages(), "stop@example.com")); n != 2 {
		t.Fatalf("sent after unsubscribing: %d", n)
	}
	if n := len(to(f.messages(), "keep@example.com")); n != 3 {
		t.Fatalf("the other address got %d", n)
	}
	if st := mt.states("stop@example.com"); st[service.NotificationSuppressed] != 1 {
		t.Fatalf("states %v", st)
	}
}

// Replicas must agree: a server started on a PostgreSQL database with mail settings
// other than those recorded there refuses to start. A SQLite database has one server:
// its latest start decides, with a warning.
func TestMailSettingsAgree(t *testing.T) {
	t.Parallel()
	on := &Mailing{Sender: &fakeSender{}, From: "t@example.com", Poll: time.Hour}
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn, key := testPostgres(t), t.TempDir()+"/key"
		start := func(m *Mailing, retention time.Duration) error {
			inst, err := Start(context.Background(), Config{DB: dsn, KeyFile: key, Mailing: m, EventRetention: retention})
			if err == nil {
				inst.Shutdown(context.Background())
			}
			return err
		}
		if err := start(on, 0); err != nil {
			t.Fatal(err)
		}
		if err := start(on, 0); err != nil {
			t.Fatalf("same settings: %v", err)
		}
		var se *SettingsError
		if err := start(nil, 0); !errors.As(err, &se) || se.Setting != "mail" || se.Recorded != "on" {
			t.Fatalf("without mail: %v", err)
		}
		if err := start(on, 400*24*time.Hour); !errors.As(err, &se) || se.Setting != "event_retention" || se.Given != "9600h" {
			t.Fatalf("other retention: %v", err)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := t.TempDir() + "/agree.db"
		var logs bytes.Buffer
		start := func(m *Mailing) error {
			inst, err := Start(context.Background(), Config{DB: db, Mailing: m, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err == nil {
				inst.Shutdown(context.Background())
			}
			return err
		}
		if err := start(on); err != nil {
			t.Fatal(err)
		}
		if err := start(nil); err != nil {
			t.Fatalf("turning mail off: %v", err)
		}
		if !strings.Contains(logs.String(), "a setting changed since this database's last start") || !strings.Contains(logs.String(), "was=on now=off") {
			t.Fatalf("no warning:\n%s", logs.String())
		}
	})
}

// Two replicas on one PostgreSQL database drain one outbox at once: every recipient
// gets exactly one message for the request, naming every token it covers; none is
// split between replicas or sent twice.
func TestPostgresMailReplicasShareOutbox(t *testing.T) {
	t.Parallel()
	dsn := testPostgres(t)
	ctx := context.Background()
	key := t.TempDir() + "/key"
	clock := &testClock{t: testEpoch}
	var stores [2]*store.PostgresStore
	for i := range stores {
		s, err := store.OpenPostgresStore(ctx, dsn, key, store.StoreOptions{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		withEnv(t, s, testRand(), clock.Now)
		defer s.Close()
		stores[i] = s
	}
	if err := Seed(ctx, stores[0], envOf(stores[0]), true); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(stores[0], envOf(stores[0]), httpapi.Options{Mail: true}))
	defer srv.Close()
	creds, err := DemoCredentials(ctx, stores[0], envOf(stores[0]), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, url: srv.URL, st: stores[0], clock: clock, creds: creds, client: &http.Client{Transport: testTransport(t)}}
	var senders [2]*fakeSender
	var mailers [2]*outbox.Sender
	for i := range mailers {
		senders[i] = &fakeSender{}
		ml, err := newMailer(stores[i], envOf(stores[i]), &Mailing{Sender: senders[i], From: "tokens@impact.example", PublicURL: srv.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mailers[i] = ml
	}
	mt := &mailTest{testServer: ts, ml: mailers[0]}
	var sids []string
	want := map[string]int{}
	for i := range 40 {
		emails := []string{fmt.Sprintf("r%d@example.com", i%10), fmt.Sprintf("r%d@example.com", (i+3)%10), "all@example.com"}
		for _, e := range emails {
			want[e]++
		}
		sids = append(sids, mt.create(fmt.Sprintf("replica %02d", i), emails...))
	}
	admin := mt.cred("admin")
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/Reset", admin, map[string]any{"Sids": sids}).want(t, http.StatusOK)
	var wg sync.WaitGroup
	for _, ml := range mailers {
		wg.Go(func() {
			if err := ml.Drain(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	all := append(senders[0].messages(), senders[1].messages()...)
	if len(all) != len(want) {
		t.Fatalf("%d messages (%d and %d), want %d", len(all), len(senders[0].messages()), len(senders[1].messages()), len(want))
	}
	for e, n := range want {
		got := to(all, e)
		if len(got) != 1 {
			t.Fatalf("%s got %d messages", e, len(got))
		}
		if c := strings.Count(decodedBody(t, got[0]), "impactctl tokens history "); c != n {
			t.Fatalf("%s's message names %d tokens, want %d", e, c, n)
		}
	}
	t.Logf("replica 0 sent %d, replica 1 sent %d", len(senders[0].messages()), len(senders[1].messages()))
}

// An address taken off a token's list is told once that it was removed, and nothing
// after.
func TestMailRemovedAddressToldOnce(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	sid := mt.create("shrinking", "stays@example.com", "leaves@example.com")
	admin := mt.cred("admin")
	path := "/Agencies/" + admin.AccountSid + "/ApiTokens/" + sid
	mt.req("PUT", path+"/DeveloperEmails", admin, map[string]any{"Emails": []string{"stays@example.com"}}).want(t, http.StatusOK)
	mt.req("POST", path+"/Disable", admin, nil).want(t, http.StatusOK)
	mt.drain()
	leaves := to(f.messages(), "leaves@example.com")
	if len(leaves) != 1 || !strings.Contains(leaves[0], "Subject: [impactctl] You no longer receive updates about shrinking") ||
		!strings.Contains(decodedBody(t, leaves[0]), "Your address was removed from this token's updates") {
		t.Fatalf("%d messages to the removed address:\n%s", len(leaves), strings.Join(leaves, "\n----\n"))
	}
	if stays := to(f.messages(), "stays@example.com"); len(stays) != 2 || strings.Contains(decodedBody(t, stays[0]), "was removed") {
		t.Fatalf("%d messages to the address that stays", len(stays))
	}
}

func TestRetentionSetting(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "forever", 400 * 24 * time.Hour: "9600h", 90 * time.Minute: "1h30m0s", 36 * time.Hour: "36h"} {
		if got := retentionSetting(d); got != want {
			t.Errorf("retentionSetting(%v) = %q, want %q", d, got, want)
		}
	}
}

// A started server sends in the background, after commit, with no one asking.
func TestMailSentInBackground(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	inst, err := Start(context.Background(), Config{DB: t.TempDir() + "/bg.db", Demo: true,
		Mailing: &Mailing{Sender: f, From: "tokens@example.com", Poll: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Shutdown(context.Background())
	ro := inst.creds["readonly"]
	req, _ := http.NewRequest("PUT", inst.URL+"/Agencies/"+inst.Admin.AccountSid+"/ApiTokens/"+ro.AccountSid+"/DeveloperEmails",
		strings.NewReader(`{"Emails":["bg@example.com"]}`))
	req.SetBasicAuth(inst.Admin.AccountSid, inst.Admin.AuthToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(to(f.messages(), "bg@example.com")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing sent in the background")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(f.messages()[0], "List-Unsubscribe: <"+inst.URL+mail.UnsubscribePath) &&
		!strings.Contains(strings.ReplaceAll(f.messages()[0], "\r\n ", ""), "List-Unsubscribe:<"+inst.URL+mail.UnsubscribePath) {
		t.Errorf("the unsubscribe link is not under the listening address:\n%.600s", f.messages()[0])
	}
}

// An edit's message says the description changed, never what it says; names go
// before → after.
func TestMailEditNeverQuotesDescription(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	sid := mt.create("described", "desc@example.com")
	admin := mt.cred("admin")
	mt.req("PATCH", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid, admin,
		map[string]any{"Name": "renamed", "Description": "click https://evil.example/now"}).want(t, http.StatusOK)
	mt.drain()
	msgs := to(f.messages(), "desc@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	text := decodedBody(t, msgs[0])
	if strings.Contains(msgs[0]+text, "evil.example") || !strings.Contains(text, "Description: changed") ||
		!strings.Contains(text, `Name: "described" → "renamed"`) {
		t.Fatalf("message:\n%s", text)
	}
	// A primary contact set: the user by name and Id, and the contact is told too.
	mt.req("PATCH", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+sid, admin, map[string]any{"PrimaryContactId": "U102"}).want(t, http.StatusOK)
	mt.drain()
	alan := to(f.messages(), "alan@demo-agency.example")
	if len(alan) != 1 || !strings.Contains(decodedBody(t, alan[0]), `PrimaryContact: (none) → "Alan Turing (U102)"`) {
		t.Fatalf("%d messages to the new contact: %s", len(alan), strings.Join(alan, "\n"))
	}
}

// An address on another account's token never hears of this account's changes,
// even when the same address is on tokens of both and both change at once: each
// message names only the tokens of the account that changed.
func TestMailIsolatedPerAccount(t *testing.T) {
	t.Parallel()
	f := &fakeSender{}
	mt := newMailTest(t, f)
	mine := mt.create("mine", "shared@example.com", "mine-only@example.com")
	other := mt.cred("agency2-admin")
	var theirs tokenJSON
	mt.req("POST", "/Agencies/"+other.AccountSid+"/ApiTokens", other, map[string]any{
		"Name": "theirs", "Scopes": []string{"reports.read"}, "DeveloperEmails": []string{"shared@example.com", "theirs-only@example.com"},
	}).want(t, http.StatusCreated).decode(t, &theirs)
	mt.quiet()

	admin := mt.cred("admin")
	mt.req("POST", "/Agencies/"+admin.AccountSid+"/ApiTokens/"+mine+"/Disable", admin, nil).want(t, http.StatusOK)
	mt.req("POST", "/Agencies/"+other.AccountSid+"/ApiTokens/"+theirs.AccountSid+"/Disable", other, nil).want(t, http.StatusOK)
	mt.drain()
	msgs := f.messages()
	mineOnly, theirsOnly, shared := to(msgs, "mine-only@example.com"), to(msgs, "theirs-only@example.com"), to(msgs, "shared@example.com")
	if len(mineOnly) != 1 || len(theirsOnly) != 1 || len(shared) != 2 {
		t.Fatalf("messages: mine-only %d, theirs-only %d, shared %d; want 1, 1 and 2 (one per account)", len(mineOnly), len(theirsOnly), len(shared))
	}
	names := func(m string) (bool, bool) {
		body := decodedBody(t, m)
		return strings.Contains(body, mine), strings.Contains(body, theirs.AccountSid)
	}
	if a, b := names(mineOnly[0]); !a || b {
		t.Errorf("mine-only's message names mine %v, theirs %v", a, b)
	}
	if a, b := names(theirsOnly[0]); a || !b {
		t.Errorf("theirs-only's message names mine %v, theirs %v", a, b)
	}
	for _, m := range shared {
		if a, b := names(m); a == b {
			t.Errorf("a message to the shared address names both accounts' tokens, or neither (mine %v, theirs %v)", a, b)
		}
	}
}
