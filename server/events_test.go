package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/httpapi"
	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// eventsHarness is the token service over a suite store, called as an agency token
// holding every scope, from a fixed client address and request id.
type eventsHarness struct {
	t     *testing.T
	s     service.Store
	svc   *service.Rules
	w     suiteWorld
	c     *service.Call
	clock *testClock
	n     int // requests made, for distinct request ids
}

func newEventsHarness(t *testing.T, s service.Store, clock *testClock) *eventsHarness {
	t.Helper()
	ctx := context.Background()
	w := seedSuite(t, s)
	caller := newSuiteToken(t, envOf(s), w.agency, service.KindAgency, "Event caller", testEpoch.Unix(), service.AllScopes(service.KindAgency)...)
	if err := s.Update(ctx, w.agency, func(tx service.Tx) error { return tx.InsertToken(ctx, caller) }); err != nil {
		t.Fatal(err)
	}
	acct, err := s.Account(ctx, w.agency)
	if err != nil {
		t.Fatal(err)
	}
	return &eventsHarness{t: t, s: s, svc: service.NewRules(s, envOf(s)), w: w, clock: clock,
		c: &service.Call{Caller: caller, Account: acct, Base: httpapi.OwnRoot(caller), Client: "203.0.113.5"}}
}

// write is a change as the harness makes it; fail makes the change fail at its very
// end, after everything else it did, so all of it must roll back.
func (h *eventsHarness) write(fail bool) service.Write {
	h.n++
	h.c.RequestID = fmt.Sprintf("req-%d", h.n)
	return service.Write{Call: h.c, Render: func(out service.Outcome) (*service.Answer, error) {
		if fail {
			return nil, errors.New("the reply could not be made")
		}
		return &service.Answer{Status: 200}, nil
	}}
}

// events lists the agency's events, newest first.
func (h *eventsHarness) events(f service.EventFilter) []service.Event {
	h.t.Helper()
	f.Limit = 1000
	list, err := h.s.Events(context.Background(), h.w.agency, f)
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}

func ptr[T any](v T) *T { return &v }

// TestStoreEventsPerChange makes every kind of change through the token service and
// checks each writes exactly one event of its type, with what changed, the actor and
// the recipients; that a change to nothing writes none; and that a change failing at
// its end writes none (the event rolls back with it).
func TestStoreEventsPerChange(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		h := newEventsHarness(t, s, clock)
		var enabled, disabled []string // besides tok
		for _, tk := range h.w.tokens[4:] {
			if tk.Enabled() {
				enabled = append(enabled, tk.SID)
			} else {
				disabled = append(disabled, tk.SID)
			}
		}
		tok := h.w.tokens[3].SID
		if !h.w.tokens[3].Enabled() {
			t.Fatal("the token under test starts disabled")
		}

		// setup gives the token developer addresses and a contact, outside the test's count.
		if _, err := h.svc.SetEmails(ctx, h.write(false), tok, []string{"dev@example.com", "ops@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Update(ctx, h.write(false), tok, service.TokenPatch{Contact: ptr("U100")}); err != nil {
			t.Fatal(err)
		}
		var created, dup string
		cases := []struct {
			name    string
			typ     string
			change  func(w service.Write) (*service.Answer, error)
			sid     func() string
			changes string // the Changes JSON wanted ("" skips)
			told    []string
		}{
			{"create", service.EvCreated, func(w service.Write) (*service.Answer, error) {
				return h.svc.Create(ctx, w, &service.TokenSpec{Name: ptr("fresh"), Emails: []string{"new@example.com"}, HasEmails: true})
			}, func() string { return created }, `[]`, []string{"new@example.com"}},
			{"duplicate", service.EvDuplicated, func(w service.Write) (*service.Answer, error) {
				return h.svc.Duplicate(ctx, w, tok, &service.TokenSpec{})
			}, func() string { return dup }, `[]`, []string{"dev@example.com", "ops@example.com", "ada@example.com"}},
			{"edit", service.EvEdited, func(w service.Write) (*service.Answer, error) {
				return h.svc.Update(ctx, w, tok, service.TokenPatch{Name: ptr("renamed"), Description: ptr("why"), Version: ptr(3), Contact: ptr("U101")})
			}, func() string { return tok },
				`[{"Field":"Name","Before":"token 03","After":"renamed"},{"Field":"Description","Before":"","After":"why"},` +
					`{"Field":"ApiVersion","Before":2,"After":3},{"Field":"PrimaryContact","Before":{"Id":"U100","Name":"Ada Byron","Email":"ada@example.com"},` +
					`"After":{"Id":"U101","Name":"Grace Hopper","Email":"grace@example.com"}}]`,
				[]string{"dev@example.com", "ops@example.com", "grace@example.com", "ada@example.com"}},
			{"scopes", service.EvScopesChanged, func(w service.Write) (*service.Answer, error) {
				return h.svc.SetScopes(ctx, w, tok, []string{"apitokens.read", "reports.read"})
			}, func() string { return tok }, `[{"Field":"Scopes","Added":["apitokens.read","reports.read"],"Removed":["apitokens.write"]}]`,
				[]string{"dev@example.com", "ops@example.com", "grace@example.com"}},
			{"emails", service.EvEmailsChanged, func(w service.Write) (*service.Answer, error) {
				return h.svc.SetEmails(ctx, w, tok, []string{"ops@example.com", "sec@example.com"})
			}, func() string { return tok }, `[{"Field":"DeveloperEmails","Added":["sec@example.com"],"Removed":["dev@example.com"]}]`,
				[]string{"ops@example.com", "sec@example.com", "grace@example.com", "dev@example.com"}},
			{"reset", service.EvReset, func(w service.Write) (*service.Answer, error) {
				return h.svc.Reset(ctx, w, tok, service.ResetOptions{})
			},
				func() string { return tok }, `[]`, []string{"ops@example.com", "sec@example.com", "grace@example.com"}},
			{"disable", service.EvDisabled, func(w service.Write) (*service.Answer, error) {
				return h.svc.SetState(ctx, w, tok, service.StateDisabled)
			},
				func() string { return tok }, `[]`, nil},
			{"enable", service.EvEnabled, func(w service.Write) (*service.Answer, error) {
				return h.svc.SetState(ctx, w, tok, service.StateEnabled)
			},
				func() string { return tok }, `[]`, nil},
			{"bulk disable", service.EvDisabled, func(w service.Write) (*service.Answer, error) {
				return h.svc.Bulk(ctx, w, service.BulkDisable, []string{tok}, service.ResetOptions{})
			}, func() string { return tok }, `[]`, nil},
			{"bulk enable", service.EvEnabled, func(w service.Write) (*service.Answer, error) {
				return h.svc.Bulk(ctx, w, service.BulkEnable, []string{tok}, service.ResetOptions{})
			}, func() string { return tok }, `[]`, nil},
			{"bulk reset", service.EvReset, func(w service.Write) (*service.Answer, error) {
				return h.svc.Bulk(ctx, w, service.BulkReset, []string{tok}, service.ResetOptions{})
			}, func() string { return tok }, `[]`, nil},
			{"delete", service.EvDeleted, func(w service.Write) (*service.Answer, error) { return h.svc.Delete(ctx, w, dup) },
				func() string { return dup }, `[]`, []string{"dev@example.com", "ops@example.com", "ada@example.com"}},
			{"bulk delete", service.EvDeleted, func(w service.Write) (*service.Answer, error) {
				return h.svc.Bulk(ctx, w, service.BulkDelete, []string{created}, service.ResetOptions{})
			}, func() string { return created }, `[]`, []string{"new@example.com"}},
		}
		for _, tc := range cases {
			before := h.events(service.EventFilter{})
			// A change that fails at its end writes nothing.
			if _, err := tc.change(h.write(true)); err == nil {
				t.Fatalf("%s: the failing change succeeded", tc.name)
			}
			if after := h.events(service.EventFilter{}); len(after) != len(before) {
				t.Fatalf("%s: a failed change wrote %d events", tc.name, len(after)-len(before))
			}
			clock.Advance(time.Second)
			w := h.write(false)
			if _, err := tc.change(w); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			after := h.events(service.EventFilter{})
			if len(after) != len(before)+1 {
				t.Fatalf("%s: %d events written, want 1", tc.name, len(after)-len(before))
			}
			e := after[0]
			switch tc.typ {
			case service.EvCreated:
				created = e.TokenSID
			case service.EvDuplicated:
				dup = e.TokenSID
				if e.Extra.From != tok {
					t.Fatalf("duplicated From = %q, want %s", e.Extra.From, tok)
				}
			}
			if e.Type != tc.typ || e.TokenSID != tc.sid() {
				t.Fatalf("%s: event %s on %s, want %s on %s", tc.name, e.Type, e.TokenSID, tc.typ, tc.sid())
			}
			if e.ActorSID.V != h.c.Caller.SID || e.ActorName.V != "Event caller" || e.Client.V != "203.0.113.5" ||
				e.RequestID.V != w.Call.RequestID || e.Date != clock.Now().Unix() {
				t.Fatalf("%s: actor %v %v client %v request %v date %d", tc.name, e.ActorSID, e.ActorName, e.Client, e.RequestID, e.Date)
			}
			b := service.EventBodyOf(&e)
			changes, _ := json.Marshal(b.Changes)
			if tc.changes != "" && string(changes) != tc.changes {
				t.Fatalf("%s: Changes %s\nwant %s", tc.name, changes, tc.changes)
			}
			if tc.told != nil {
				var got []string
				for _, n := range e.Notifications {
					got = append(got, n.Email)
					if n.State != service.NotificationOff || n.Date != e.Date {
						t.Fatalf("%s: notification %+v; want OFF at the event's date", tc.name, n)
					}
				}
				if !slices.Equal(got, tc.told) {
					t.Fatalf("%s: told %q, want %q", tc.name, got, tc.told)
				}
			}
			if tc.typ == service.EvReset {
				if raw, _ := json.Marshal(b); !strings.Contains(string(raw), `"PreviousAuthTokenExpiresAt":null`) {
					t.Fatalf("reset event without PreviousAuthTokenExpiresAt: %s", raw)
				}
			}
		}

		// A change to nothing writes nothing.
		before := h.events(service.EventFilter{})
		noops := []func(w service.Write) (*service.Answer, error){
			func(w service.Write) (*service.Answer, error) {
				return h.svc.Update(ctx, w, tok, service.TokenPatch{Name: ptr("renamed")})
			},
			func(w service.Write) (*service.Answer, error) {
				return h.svc.SetState(ctx, w, tok, service.StateEnabled)
			},
			func(w service.Write) (*service.Answer, error) {
				return h.svc.SetEmails(ctx, w, tok, []string{"ops@example.com", "sec@example.com"})
			},
			func(w service.Write) (*service.Answer, error) {
				return h.svc.SetScopes(ctx, w, tok, []string{"apitokens.read", "reports.read"})
			},
			func(w service.Write) (*service.Answer, error) {
				return h.svc.Bulk(ctx, w, service.BulkEnable, []string{tok, enabled[0]}, service.ResetOptions{})
			},
		}
		for i, op := range noops {
			if _, err := op(h.write(false)); err != nil {
				t.Fatalf("no-op %d: %v", i, err)
			}
		}
		if after := h.events(service.EventFilter{}); len(after) != len(before) {
			t.Fatalf("changes to nothing wrote %d events: %s", len(after)-len(before), after[0].Type)
		}

		// A bulk call writes one event per token it changed, in one transaction.
		sids := []string{enabled[0], enabled[1], disabled[0]}
		w := h.write(false)
		if _, err := h.svc.Bulk(ctx, w, service.BulkDisable, sids, service.ResetOptions{}); err != nil {
			t.Fatal(err)
		}
		got := h.events(service.EventFilter{Type: service.EvDisabled})
		n := 0
		for _, e := range got {
			if e.RequestID.V == w.Call.RequestID {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("bulk disable of 2 enabled and 1 disabled token wrote %d events, want 2", n)
		}

		// Revealing a secret is an event too.
		if _, err := h.svc.Secret(ctx, h.c, tok); err != nil {
			t.Fatal(err)
		}
		if got := h.events(service.EventFilter{}); got[0].Type != service.EvRevealed || got[0].TokenSID != tok {
			t.Fatalf("after a reveal: %s on %s", got[0].Type, got[0].TokenSID)
		}

		// admin recover names itself as the actor.
		rec, err := Recover(ctx, s, envOf(s), "9001")
		if err != nil {
			t.Fatal(err)
		}
		if got := h.events(service.EventFilter{}); got[0].Type != service.EvRecovered || got[0].TokenSID != rec.AccountSid ||
			got[0].ActorName.V != service.AdminRecoverActor || got[0].ActorSID.Valid || got[0].Client.Valid {
			t.Fatalf("after admin recover: %+v", got[0])
		}
		assertNoSecretInEvents(t, s, h.w.agency)
	})
}

// assertNoSecretInEvents reads every token's secret and its hint and checks no event of
// the account holds either (nor any 8-character piece of a secret).
func assertNoSecretInEvents(t *testing.T, s service.Store, accountID int64) {
	t.Helper()
	ctx := context.Background()
	list, err := s.Events(ctx, accountID, service.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for i := range list {
		b, _ := json.Marshal(service.EventBodyOf(&list[i]))
		all.Write(b)
	}
	text := all.String()
	toks, _, err := s.Tokens(ctx, accountID, service.TokenFilter{}, service.Page{Number: 1, Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		secret, err := envOf(s).Keys.Open(tk.SecretEnc, tk.SID)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(text, string(secret[i:i+8])) {
				t.Fatalf("an event holds part of token %s's secret", tk.SID)
			}
		}
		if strings.Contains(text, `"`+tk.Hint+`"`) || strings.Contains(strings.ToLower(text), "hint") {
			t.Fatalf("an event holds token %s's hint", tk.SID)
		}
	}
}

// TestStoreEventsPassthroughActor: an agency acting on its brand's token is named by
// its account's name, with no client address and no SID.
func TestStoreEventsPassthroughActor(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		h := newEventsHarness(t, s, clock)
		brand, err := s.Account(ctx, h.w.brand)
		if err != nil {
			t.Fatal(err)
		}
		h.c.Account = brand
		if _, err := h.svc.Create(ctx, h.write(false), &service.TokenSpec{Name: ptr("brand token")}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Events(ctx, h.w.brand, service.EventFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("brand events: %v %d", err, len(list))
		}
		e := list[0]
		if e.ActorSID.Valid || e.ActorName.V != "Agency One (agency)" || e.Client.Valid || e.RequestID.V != h.c.RequestID {
			t.Fatalf("passthrough actor: %+v", e)
		}
		if own := h.events(service.EventFilter{}); len(own) != 0 {
			t.Fatalf("the brand's event listed under the agency: %+v", own)
		}
	})
}

// TestStoreEventsOrderAndAnchors checks the order (Date desc, Id desc), the anchors,
// Since (inclusive), Until (exclusive) and the filters.
func TestStoreEventsOrderAndAnchors(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		h := newEventsHarness(t, s, clock)
		// Three tokens, two changes each per second, over three seconds.
		for i := range 3 {
			for _, tk := range h.w.tokens[5:8] {
				if _, err := h.svc.Update(ctx, h.write(false), tk.SID, service.TokenPatch{Description: ptr(fmt.Sprint(i))}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(time.Second)
		}
		all := h.events(service.EventFilter{})
		if len(all) != 9 {
			t.Fatalf("%d events, want 9", len(all))
		}
		for i := 1; i < len(all); i++ {
			if service.EventID(all[i].Date, all[i].ID) >= service.EventID(all[i-1].Date, all[i-1].ID) {
				t.Fatalf("not newest first at %d", i)
			}
		}
		// Paging by anchor, while new events arrive, neither repeats nor skips.
		var paged []string
		var anchor *service.EventAnchor
		for {
			p, err := s.Events(ctx, h.w.agency, service.EventFilter{Before: anchor, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(p) == 0 {
				break
			}
			for _, e := range p {
				paged = append(paged, service.EventID(e.Date, e.ID))
			}
			last := p[len(p)-1]
			anchor = &service.EventAnchor{Date: last.Date, ID: last.ID}
			if _, err := h.svc.Update(ctx, h.write(false), h.w.tokens[9].SID, service.TokenPatch{Description: ptr(fmt.Sprint(len(paged)))}); err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		for _, e := range all {
			want = append(want, service.EventID(e.Date, e.ID))
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged %q\nwant %q", paged, want)
		}
		// After: newer events, oldest first.
		first := all[len(all)-1]
		newer, err := s.Events(ctx, h.w.agency, service.EventFilter{After: &service.EventAnchor{Date: first.Date, ID: first.ID}, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(newer) != 3 || newer[0].ID != all[len(all)-2].ID || newer[2].ID != all[len(all)-4].ID {
			t.Fatalf("After: %+v", newer)
		}
		// Since inclusive, Until exclusive.
		second := testEpoch.Unix() + 1
		got := h.events(service.EventFilter{Since: second, Until: second + 1})
		if len(got) != 3 {
			t.Fatalf("one second's events: %d, want 3", len(got))
		}
		for _, e := range got {
			if e.Date != second {
				t.Fatalf("event at %d outside [%d, %d)", e.Date, second, second+1)
			}
		}
		if got := h.events(service.EventFilter{TokenSID: h.w.tokens[6].SID}); len(got) != 3 {
			t.Fatalf("one token's events: %d, want 3", len(got))
		}
		if got := h.events(service.EventFilter{ActorSID: h.c.Caller.SID, Type: service.EvEdited}); len(got) != len(h.events(service.EventFilter{})) {
			t.Fatalf("by actor and type: %d", len(got))
		}
		if got := h.events(service.EventFilter{ActorSID: h.w.tokens[0].SID}); len(got) != 0 {
			t.Fatalf("another actor's: %d", len(got))
		}
	})
}

// TestStorePruneEvents prunes events past the retention in batches, with their
// notifications, and keeps the rest.
func TestStorePruneEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, clock *testClock) {
		ctx := context.Background()
		h := newEventsHarness(t, s, clock)
		h.svc.Mail = true // PENDING notifications, which go with their events
		tok := h.w.tokens[3].SID
		if _, err := h.svc.SetEmails(ctx, h.write(false), tok, []string{"dev@example.com"}); err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			clock.Advance(24 * time.Hour)
			if _, err := h.svc.Update(ctx, h.write(false), tok, service.TokenPatch{Description: ptr(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
		if got := h.events(service.EventFilter{}); got[0].Notifications[0].State != service.NotificationPending {
			t.Fatalf("with mail on: %+v", got[0].Notifications)
		}
		// Keep 3 days: the events of days 0 to 3 go (4 of 8), 2 at a time.
		cutoff := clock.Now().Add(-3 * 24 * time.Hour).Unix()
		total := 0
		for {
			n, err := s.PruneEvents(ctx, cutoff, 2)
			if err != nil {
				t.Fatal(err)
			}
			if n > 2 {
				t.Fatalf("a batch of 2 removed %d", n)
			}
			total += n
			if n < 2 {
				break
			}
		}
		if total != 4 {
			t.Fatalf("pruned %d, want 4", total)
		}
		left := h.events(service.EventFilter{})
		if len(left) != 4 || left[len(left)-1].Date < cutoff {
			t.Fatalf("left %d events, oldest %d (cutoff %d)", len(left), left[len(left)-1].Date, cutoff)
		}
		var orphans int
		db := storeDB(t, s)
		if err := db.QueryRow(`SELECT count(*) FROM notifications WHERE event_id NOT IN (SELECT id FROM events)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 {
			t.Fatalf("%d notifications outlived their events", orphans)
		}
		// pruneEvents loops the batches; retention 0 keeps everything.
		if n, err := service.PruneEvents(ctx, s, clock.Now(), 0); n != 0 || err != nil {
			t.Fatalf("retention 0 pruned %d, %v", n, err)
		}
		if n, err := service.PruneEvents(ctx, s, clock.Now(), 36*time.Hour); n != 2 || err != nil {
			t.Fatalf("retention 36h pruned %d, %v; want 2", n, err)
		}
	})
}

func storeDB(t *testing.T, s service.Store) *sql.DB {
	switch st := s.(type) {
	case *store.SQLiteStore:
		return st.DB
	case *store.PostgresStore:
		return st.DB
	}
	t.Fatalf("no database in a %T", s)
	return nil
}

func TestEventID(t *testing.T) {
	id := service.EventID(testEpoch.Unix(), 42)
	if len(id) != 34 || !strings.HasPrefix(id, "EV") {
		t.Fatalf("eventID = %q", id)
	}
	a, ok := service.ParseEventID(id)
	if !ok || a.Date != testEpoch.Unix() || a.ID != 42 {
		t.Fatalf("parseEventID(%q) = %+v, %v", id, a, ok)
	}
	if service.EventID(testEpoch.Unix(), 43) <= id || service.EventID(testEpoch.Unix()+1, 1) <= id {
		t.Fatal("ids do not grow with (Date, id)")
	}
	for _, bad := range []string{"", "EV", "IR" + id[2:], strings.ToLower(id), id + "0", "EV" + strings.Repeat("G", 32),
		"EV" + strings.Repeat("F", 32)} {
		if _, ok := service.ParseEventID(bad); ok {
			t.Fatalf("parseEventID(%q) accepted", bad)
		}
	}
}
