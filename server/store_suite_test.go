package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/impactcom/impactctl/server/service"
	"github.com/impactcom/impactctl/server/store"
)

// storeKinds opens each Store implementation over a fresh, empty database: every
// test in this file runs against all of them. PostgreSQL skips without a test server
// (see testPostgres).
var storeKinds = []struct {
	name string
	open func(t testing.TB, clock func() time.Time) service.Store
}{
	{"sqlite", func(t testing.TB, clock func() time.Time) service.Store {
		s, err := store.OpenStore(context.Background(), filepath.Join(t.TempDir(), "suite.db"), "", store.StoreOptions{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		withEnv(t, s, testRand(), clock)
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB, clock func() time.Time) service.Store {
		s, err := store.OpenPostgresStore(context.Background(), testPostgres(t), filepath.Join(t.TempDir(), "key"),
			store.StoreOptions{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		withEnv(t, s, testRand(), clock)
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// forEachStore runs fn as a subtest per store kind.
func forEachStore(t *testing.T, fn func(t *testing.T, s service.Store, clock *testClock)) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			clock := &testClock{t: testEpoch}
			fn(t, kind.open(t, clock.Now), clock)
		})
	}
}

// suiteWorld is what seedSuite creates: an agency with a brand, a second agency with
// a brand, users, and tokens.
type suiteWorld struct {
	agency, brand, agency2, brand2 int64
	tokens                         []*service.Token // of agency, in creation order
}

func newSuiteToken(t testing.TB, env *service.Env, accountID int64, kind, name string, created int64, scopes ...string) *service.Token {
	t.Helper()
	sid, err := env.Rand.SID()
	if err != nil {
		t.Fatal(err)
	}
	secret, err := env.Rand.Secret()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := env.Keys.Seal([]byte(secret), sid)
	if err != nil {
		t.Fatal(err)
	}
	if scopes == nil {
		scopes = []string{}
	}
	return &service.Token{SID: sid, AccountID: accountID, Kind: kind, Name: name, State: service.StateEnabled, APIVersion: 2,
		Emails: []string{}, Scopes: scopes, SecretEnc: enc, SecretMAC: env.Keys.MAC(secret), Hint: secret[28:],
		Version: 1, Created: created, Updated: created, AuthReset: created}
}

func seedSuite(t *testing.T, s service.Store) suiteWorld {
	t.Helper()
	ctx := context.Background()
	var w suiteWorld
	base := testEpoch.Unix()
	err := s.Update(ctx, 0, func(tx service.Tx) error {
		w = suiteWorld{}
		if has, err := tx.HasAccounts(ctx); err != nil || has {
			return fmt.Errorf("HasAccounts on an empty store = %v, %v", has, err)
		}
		var err error
		insert := func(kind, publicID, name string, parent int64) int64 {
			if err != nil {
				return 0
			}
			a := &service.Account{Kind: kind, PublicID: publicID, Name: name, State: "ACTIVE", Currency: "USD",
				Timezone: "UTC", Created: base}
			if parent != 0 {
				a.ParentID = service.Some(parent)
			}
			var id int64
			id, err = tx.InsertAccount(ctx, a)
			return id
		}
		w.agency = insert(service.KindAgency, "9001", "Agency One", 0)
		w.brand = insert(service.KindBrand, "1048291", "Brand One", w.agency)
		w.agency2 = insert(service.KindAgency, "9002", "Agency Two", 0)
		w.brand2 = insert(service.KindBrand, "2048291", "Brand Two", w.agency2)
		for i := range 12 {
			insert(service.KindBrand, fmt.Sprint(100+i), fmt.Sprintf("Brand %d", i), w.agency)
		}
		if err != nil {
			return err
		}
		for _, u := range []service.User{{ID: "U100", AccountID: w.agency, Name: "Ada Byron", Email: "ada@example.com"}, {ID: "U101", AccountID: w.agency, Name: "Grace Hopper", Email: "grace@example.com"},
			{ID: "U200", AccountID: w.agency2, Name: "Other Person", Email: "other@example.com"}} {
			if err := tx.InsertUser(ctx, &u); err != nil {
				return err
			}
		}
		for i := range 25 {
			tok := newSuiteToken(t, envOf(s), w.agency, service.KindAgency, fmt.Sprintf("token %02d", i), base+int64(i/2)*60, service.ScopeTokensWrite)
			if i%5 == 4 {
				tok.State = service.StateDisabled
			}
			if err := tx.InsertToken(ctx, tok); err != nil {
				return err
			}
			w.tokens = append(w.tokens, tok)
		}
		if err := tx.SetDemoRole(ctx, "admin", w.tokens[0].SID); err != nil {
			return err
		}
		return tx.SetSeeded(ctx, "demo")
	})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens with equal DateCreated list by SID.
	slices.SortStableFunc(w.tokens, func(a, b *service.Token) int {
		if a.Created != b.Created {
			return int(a.Created - b.Created)
		}
		if a.SID < b.SID {
			return -1
		}
		return 1
	})
	return w
}

func TestStoreAccounts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		if kind, err := s.Seeded(ctx); err != nil || kind != "demo" {
			t.Fatalf("Seeded = %q, %v", kind, err)
		}
		if roles, err := s.DemoRoles(ctx); err != nil || roles["admin"] != w.tokens[0].SID && roles["admin"] == "" {
			t.Fatalf("DemoRoles = %v, %v", roles, err)
		}
		a, err := s.Account(ctx, w.brand)
		if err != nil || a.Kind != service.KindBrand || a.PublicID != "1048291" || !a.ParentID.Valid || a.ParentID.V != w.agency {
			t.Fatalf("Account(brand) = %+v, %v", a, err)
		}
		if a, err := s.AccountByPublicID(ctx, "9002"); err != nil || a.ID != w.agency2 {
			t.Fatalf("AccountByPublicID = %+v, %v", a, err)
		}
		if _, err := s.Account(ctx, 999999); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("Account(unknown) = %v", err)
		}
		if b, err := s.ManagedBrand(ctx, w.agency, "1048291"); err != nil || b.ID != w.brand {
			t.Fatalf("ManagedBrand = %+v, %v", b, err)
		}
		if _, err := s.ManagedBrand(ctx, w.agency, "2048291"); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("another agency's brand: %v", err)
		}
		brands, total, err := s.Brands(ctx, w.agency, service.Page{Number: 2, Size: 5})
		if err != nil || total != 13 || len(brands) != 5 {
			t.Fatalf("Brands page 2 = %d brands of %d, %v", len(brands), total, err)
		}
		// Ids in numeric order: 100…111, then 1048291.
		if brands[0].PublicID != "105" || brands[4].PublicID != "109" {
			t.Fatalf("Brands order: %s … %s", brands[0].PublicID, brands[4].PublicID)
		}
		brands, total, err = s.Brands(ctx, w.agency, service.Page{Number: 3, Size: 5})
		if err != nil || total != 13 || len(brands) != 3 || brands[2].PublicID != "1048291" {
			t.Fatalf("Brands last page = %+v of %d, %v", brands, total, err)
		}
		users, total, err := s.Users(ctx, w.agency, service.Page{Number: 1, Size: 100})
		if err != nil || total != 2 || len(users) != 2 || users[0].ID != "U100" || users[1].Email != "grace@example.com" {
			t.Fatalf("Users = %+v of %d, %v", users, total, err)
		}
		err = s.Update(ctx, w.agency, func(tx service.Tx) error {
			if u, err := tx.User(ctx, w.agency, "U101"); err != nil || u.Name != "Grace Hopper" {
				return fmt.Errorf("User = %+v, %v", u, err)
			}
			if _, err := tx.User(ctx, w.agency, "U200"); !errors.Is(err, service.ErrNotFound) {
				return fmt.Errorf("another account's user: %v", err)
			}
			if has, err := tx.HasAccounts(ctx); err != nil || !has {
				return fmt.Errorf("HasAccounts = %v, %v", has, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestStoreTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		first := w.tokens[0]
		got, err := s.TokenBySID(ctx, first.SID)
		if err != nil || got.Name != first.Name || got.Kind != service.KindAgency || got.Version != 1 || got.Hint != first.Hint {
			t.Fatalf("TokenBySID = %+v, %v", got, err)
		}
		if _, err := s.Token(ctx, w.agency2, first.SID); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("Token of another account: %v", err)
		}
		if _, err := s.TokenBySID(ctx, "IR"+"0000000000000000000000000000000x"); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("TokenBySID(unknown): %v", err)
		}
		plain, err := envOf(s).Keys.Open(got.SecretEnc, got.SID)
		if err != nil || !equalMAC(envOf(s).Keys.MAC(string(plain)), got.SecretMAC) {
			t.Fatalf("the stored secret does not open or match its MAC: %v", err)
		}

		// Every mutable column survives a round trip.
		err = s.Update(ctx, w.agency, func(tx service.Tx) error {
			tok, err := tx.Token(ctx, w.agency, first.SID)
			if err != nil {
				return err
			}
			tok.Name, tok.Description, tok.State, tok.APIVersion = "renamed", "described", service.StateDisabled, 3
			tok.ContactID = service.Some("U101")
			tok.Emails = []string{"b@example.com", "a@example.com"}
			tok.Scopes = []string{"apitokens.read", service.ScopeTokensWrite}
			tok.ResetCount, tok.Version, tok.Updated, tok.AuthReset = 4, 7, testEpoch.Unix()+99, testEpoch.Unix()+98
			tok.PrevMAC = []byte{1, 2, 3}
			tok.PrevExpires = service.Some(testEpoch.Unix() + 600)
			tok.PrevResetKey = service.Some("key-1")
			tok.PrevResetPath = service.Some("/Agencies/" + tok.SID + "/ApiTokens/" + tok.SID + "/Reset")
			return tx.UpdateToken(ctx, tok)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.Token(ctx, w.agency, first.SID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "renamed" || got.Description != "described" || got.State != service.StateDisabled || got.APIVersion != 3 ||
			got.ContactID.V != "U101" || got.ContactName.V != "Grace Hopper" || got.ContactEmail.V != "grace@example.com" ||
			!slices.Equal(got.Emails, []string{"b@example.com", "a@example.com"}) ||
			!slices.Equal(got.Scopes, []string{"apitokens.read", service.ScopeTokensWrite}) ||
			got.ResetCount != 4 || got.Version != 7 || got.Updated != testEpoch.Unix()+99 || got.AuthReset != testEpoch.Unix()+98 ||
			string(got.PrevMAC) != "\x01\x02\x03" || got.PrevExpires.V != testEpoch.Unix()+600 ||
			got.PrevResetKey.V != "key-1" || got.PrevResetPath.V == "" {
			t.Fatalf("after UpdateToken: %+v", got)
		}

		// The scopes' holders are counted and the candidates found in the transaction,
		// with the writes it made: the first token is disabled and holds two scopes.
		var enabled []string
		for _, tok := range w.tokens[1:] {
			if tok.State == service.StateEnabled {
				enabled = append(enabled, tok.SID)
			}
		}
		err = s.Update(ctx, w.agency, func(tx service.Tx) error {
			held, err := tx.ScopeHolders(ctx, w.agency)
			if err != nil {
				return err
			}
			if want := map[string]int{service.ScopeTokensWrite: 25, "apitokens.read": 1}; !maps.Equal(held, want) {
				return fmt.Errorf("ScopeHolders = %v, want %v", held, want)
			}
			if sid, err := tx.ManagerCandidate(ctx, w.agency, 2, nil, testEpoch.Unix()); err != nil || sid != "" {
				return fmt.Errorf("ManagerCandidate of 2 scopes = %q, %v; the only such token is disabled", sid, err)
			}
			if sid, err := tx.ManagerCandidate(ctx, w.agency, 1, enabled[1:], testEpoch.Unix()); err != nil || sid != enabled[0] {
				return fmt.Errorf("ManagerCandidate skipping all but %s = %q, %v", enabled[0], sid, err)
			}
			if sid, err := tx.ManagerCandidate(ctx, w.agency, 1, enabled, testEpoch.Unix()); err != nil || sid != "" {
				return fmt.Errorf("ManagerCandidate skipping every one = %q, %v", sid, err)
			}
			tok, err := tx.Token(ctx, w.agency, enabled[0])
			if err != nil {
				return err
			}
			tok.Scopes = []string{"apitokens.read", service.ScopeTokensWrite, "users.read"}
			if err := tx.UpdateToken(ctx, tok); err != nil {
				return err
			}
			if err := tx.DeleteToken(ctx, w.tokens[1].SID); err != nil {
				return err
			}
			held, err = tx.ScopeHolders(ctx, w.agency)
			if err != nil {
				return err
			}
			want := map[string]int{service.ScopeTokensWrite: 24, "apitokens.read": 2, "users.read": 1}
			if w.tokens[1].SID == enabled[0] {
				want = map[string]int{service.ScopeTokensWrite: 24, "apitokens.read": 1}
			}
			if !maps.Equal(held, want) {
				return fmt.Errorf("ScopeHolders after a change and a delete = %v, want %v", held, want)
			}
			if held, err := tx.ScopeHolders(ctx, w.brand); err != nil || len(held) != 0 {
				return fmt.Errorf("ScopeHolders of a brand without tokens = %v, %v", held, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenBySID(ctx, w.tokens[1].SID); !errors.Is(err, service.ErrNotFound) {
			t.Fatalf("a deleted token: %v", err)
		}

		// A failing transaction leaves nothing behind.
		boom := errors.New("boom")
		err = s.Update(ctx, w.agency, func(tx service.Tx) error {
			if err := tx.DeleteToken(ctx, w.tokens[2].SID); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v, want the function's error", err)
		}
		if _, err := s.TokenBySID(ctx, w.tokens[2].SID); err != nil {
			t.Fatalf("a rolled-back delete took effect: %v", err)
		}
	})
}

func equalMAC(a, b []byte) bool { return string(a) == string(b) }

// TestStoreTokenBySIDWith reads the caller and the addressed token in one lookup:
// every pairing of known, unknown, the lowest SID (the stand-in) and the same SID.
func TestStoreTokenBySIDWith(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		sids := make([]string, len(w.tokens))
		for i, tok := range w.tokens {
			sids[i] = tok.SID
		}
		slices.Sort(sids)
		lowest, other := sids[0], sids[len(sids)-1]
		unknown := "IR" + "0000000000000000000000000000000x"
		for _, c := range []struct {
			sid, also string
			found     bool   // sid is a token
			want      string // the SID of other, "" nil
		}{
			{other, lowest, true, lowest},
			{lowest, other, true, other},
			{other, other, true, other},
			{lowest, lowest, true, lowest},
			{other, unknown, true, ""},
			{other, "", true, ""},
			{unknown, other, false, ""},
			{unknown, lowest, false, ""},
			{"", other, false, ""},
			{unknown, unknown, false, ""},
		} {
			tok, got, err := s.TokenBySIDWith(ctx, c.sid, c.also)
			if !c.found {
				if !errors.Is(err, service.ErrNotFound) || tok != nil || got != nil {
					t.Fatalf("TokenBySIDWith(%s, %s) = %v, %v, %v; want not found and nothing", c.sid, c.also, tok, got, err)
				}
				continue
			}
			if err != nil || tok == nil || tok.SID != c.sid || tok.Scopes == nil || tok.Emails == nil {
				t.Fatalf("TokenBySIDWith(%s, %s) = %+v, %v", c.sid, c.also, tok, err)
			}
			if c.want == "" && got != nil || c.want != "" && (got == nil || got.SID != c.want || got.Scopes == nil) {
				t.Fatalf("TokenBySIDWith(%s, %s) read %+v as the other; want %q", c.sid, c.also, got, c.want)
			}
			if c.sid == c.also && got != tok {
				t.Fatalf("TokenBySIDWith(%s, %s) answered two copies of one token", c.sid, c.also)
			}
		}
	})
}

// TestStoreTxTokens reads named tokens in one statement inside a write: those of the
// account, whatever the order asked, and nothing of another account or unknown SIDs.
func TestStoreTxTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		other := newSuiteToken(t, envOf(s), w.agency2, service.KindAgency, "other agency's", testEpoch.Unix())
		err := s.Update(ctx, w.agency2, func(tx service.Tx) error { return tx.InsertToken(ctx, other) })
		if err != nil {
			t.Fatal(err)
		}
		want := []string{w.tokens[3].SID, w.tokens[0].SID, w.tokens[7].SID}
		ask := append(slices.Clone(want), other.SID, "IR"+"0000000000000000000000000000000x")
		err = s.Update(ctx, w.agency, func(tx service.Tx) error {
			got, err := tx.Tokens(ctx, w.agency, ask)
			if err != nil {
				return err
			}
			var sids []string
			for _, tok := range got {
				if tok.Scopes == nil || tok.Emails == nil || tok.AccountID != w.agency {
					return fmt.Errorf("token read as %+v", tok)
				}
				sids = append(sids, tok.SID)
			}
			slices.Sort(sids)
			slices.Sort(want)
			if !slices.Equal(sids, want) {
				return fmt.Errorf("Tokens read %v, want %v", sids, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestStoreTxReadsItsWrites: inside a write, a token written (twice, even) reads
// back as written, alone and with others, and every write of the transaction lands.
func TestStoreTxReadsItsWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		a, b := w.tokens[1].SID, w.tokens[2].SID
		err := s.Update(ctx, w.agency, func(tx service.Tx) error {
			for _, name := range []string{"first", "second"} {
				tok, err := tx.Token(ctx, w.agency, a)
				if err != nil {
					return err
				}
				tok.Name, tok.Version = name, tok.Version+1
				tok.PrevMAC, tok.PrevExpires = nil, service.Opt[int64]{}
				if err := tx.UpdateToken(ctx, tok); err != nil {
					return err
				}
			}
			tok, err := tx.Token(ctx, w.agency, b)
			if err != nil {
				return err
			}
			tok.State = service.StateDisabled
			if err := tx.UpdateToken(ctx, tok); err != nil {
				return err
			}
			both, err := tx.Tokens(ctx, w.agency, []string{a, b})
			if err != nil {
				return err
			}
			for _, tok := range both {
				if tok.SID == a && (tok.Name != "second" || tok.Version != 3) || tok.SID == b && tok.State != service.StateDisabled {
					return fmt.Errorf("read back in the transaction: %s %q version %d %s", tok.SID, tok.Name, tok.Version, tok.State)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ta, err := s.Token(ctx, w.agency, a)
		if err != nil || ta.Name != "second" || ta.Version != 3 {
			t.Fatalf("after commit: %v; want %q version 3", err, "second")
		}
		tb, err := s.Token(ctx, w.agency, b)
		if err != nil || tb.State != service.StateDisabled {
			t.Fatalf("after commit: %v; want disabled", err)
		}
	})
}

func TestStoreTokenLists(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		var all []string
		for p := 1; ; p++ {
			toks, total, err := s.Tokens(ctx, w.agency, service.TokenFilter{}, service.Page{Number: p, Size: 7})
			if err != nil || total != 25 {
				t.Fatalf("page %d: total %d, %v", p, total, err)
			}
			if len(toks) == 0 {
				break
			}
			for _, tok := range toks {
				all = append(all, tok.SID)
			}
		}
		var want []string
		for _, tok := range w.tokens {
			want = append(want, tok.SID)
		}
		if !slices.Equal(all, want) {
			t.Fatalf("pages list %v, want %v (DateCreated, then SID)", all, want)
		}
		toks, total, err := s.Tokens(ctx, w.agency, service.TokenFilter{State: service.StateDisabled}, service.Page{Number: 1, Size: 100})
		if err != nil || total != 5 || len(toks) != 5 {
			t.Fatalf("disabled: %d of %d, %v", len(toks), total, err)
		}
		toks, total, err = s.Tokens(ctx, w.agency, service.TokenFilter{Name: "TOKEN 1"}, service.Page{Number: 1, Size: 100})
		if err != nil || total != 10 || len(toks) != 10 {
			t.Fatalf("name filter: %d of %d, %v", len(toks), total, err)
		}
		after := time.Unix(testEpoch.Unix()+5*60, 0)
		toks, total, err = s.Tokens(ctx, w.agency, service.TokenFilter{CreatedAfter: after, CreatedBefore: after.Add(2 * time.Minute)}, service.Page{Number: 1, Size: 100})
		if err != nil || total != 4 || len(toks) != 4 {
			t.Fatalf("created window: %d of %d, %v", len(toks), total, err)
		}
		toks, total, err = s.Tokens(ctx, w.agency, service.TokenFilter{LastUsedBefore: testEpoch, ResetBefore: after}, service.Page{Number: 1, Size: 100})
		if err != nil || total != 10 {
			t.Fatalf("never used and not reset since: %d of %d, %v", len(toks), total, err)
		}
		toks, total, err = s.Tokens(ctx, w.agency, service.TokenFilter{}, service.Page{Number: 9, Size: 100})
		if err != nil || total != 25 || len(toks) != 0 {
			t.Fatalf("a page past the end: %d of %d, %v", len(toks), total, err)
		}
		if _, total, err := s.Tokens(ctx, w.agency2, service.TokenFilter{}, service.Page{Number: 1, Size: 100}); err != nil || total != 0 {
			t.Fatalf("another account's list: %d, %v", total, err)
		}
	})
}

func TestStoreIdempotency(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		now := testEpoch.Unix()
		k := &service.IdemKey{Caller: w.tokens[0].SID, Method: "POST", Path: "/Agencies/x/ApiTokens", Key: "k1", Hash: []byte("hash")}
		rec := &service.IdemRecord{Hash: k.Hash, Status: 201, Header: http.Header{"Etag": {`"1"`}}, BodyEnc: []byte("sealed"),
			Resets: []service.ResetMark{{Sid: w.tokens[0].SID, ResetCount: 2}}, Created: now, Expires: now + 100}
		if got, err := s.Idempotency(ctx, k, now); err != nil || got != nil {
			t.Fatalf("before saving: %+v, %v", got, err)
		}
		if err := s.Update(ctx, w.agency, func(tx service.Tx) error { return tx.SaveIdempotency(ctx, k, rec) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.Idempotency(ctx, k, now+99)
		if err != nil || got == nil || got.Status != 201 || string(got.Hash) != "hash" || string(got.BodyEnc) != "sealed" ||
			got.Header.Get("ETag") != `"1"` || len(got.Resets) != 1 || got.Resets[0].ResetCount != 2 ||
			got.Created != now || got.Expires != now+100 {
			t.Fatalf("stored record: %+v, %v", got, err)
		}
		other := *k
		other.Key = "k2"
		if got, err := s.Idempotency(ctx, &other, now); err != nil || got != nil {
			t.Fatalf("another key: %+v, %v", got, err)
		}
		if got, err := s.Idempotency(ctx, k, now+100); err != nil || got != nil {
			t.Fatalf("an expired record: %+v, %v", got, err)
		}
		// An expired record is replaced; a reply without a body reads back empty.
		rec2 := &service.IdemRecord{Hash: []byte("hash2"), Status: 204, Header: http.Header{}, Created: now + 200, Expires: now + 300}
		err = s.Update(ctx, w.agency, func(tx service.Tx) error {
			if got, err := tx.Idempotency(ctx, k, now+200); err != nil || got != nil {
				return fmt.Errorf("inside the transaction, expired: %+v, %v", got, err)
			}
			return tx.SaveIdempotency(ctx, k, rec2)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.Idempotency(ctx, k, now+200)
		if err != nil || got == nil || got.Status != 204 || len(got.BodyEnc) != 0 {
			t.Fatalf("replaced record: %+v, %v", got, err)
		}
	})
}

func TestStoreTouch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		sid := w.tokens[3].SID
		s.Touch(sid, testEpoch.Unix()+500)
		s.Touch(sid, testEpoch.Unix()+400) // older: never moves the stamp back
		deadline := time.Now().Add(10 * time.Second)
		for {
			tok, err := s.TokenBySID(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			if tok.LastUsed.Valid && tok.LastUsed.V == testEpoch.Unix()+500 {
				if tok.Version != 1 {
					t.Fatalf("a touch changed the version to %d", tok.Version)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the touch was not written within 10 s: %+v", tok.LastUsed)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// Concurrent read-modify-write transactions on one account lose no update and never
// fail because another write is in progress.
func TestStoreConcurrentUpdates(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		const writers, rounds = 16, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*rounds)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					errs <- s.Update(ctx, w.agency, func(tx service.Tx) error {
						// Two tokens per transaction, so a lost update shows in either.
						for _, tk := range []*service.Token{w.tokens[i%4], w.tokens[4]} {
							tok, err := tx.Token(ctx, w.agency, tk.SID)
							if err != nil {
								return err
							}
							tok.Version++
							if err := tx.UpdateToken(ctx, tok); err != nil {
								return err
							}
						}
						return nil
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		tok, err := s.TokenBySID(ctx, w.tokens[4].SID)
		if err != nil || tok.Version != 1+writers*rounds {
			t.Fatalf("version %d after %d increments (%v)", tok.Version, writers*rounds, err)
		}
	})
}

// Pages remembered before a change are not used after it: deleting a token shifts
// every later page, and the total follows.
func TestStoreTokenPagesAfterChange(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		sids := func(p int) []string {
			toks, _, err := s.Tokens(ctx, w.agency, service.TokenFilter{}, service.Page{Number: p, Size: 5})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tok := range toks {
				out = append(out, tok.SID)
			}
			return out
		}
		for p := 1; p <= 5; p++ {
			sids(p) // remembered positions for every page
		}
		if err := s.Update(ctx, w.agency, func(tx service.Tx) error { return tx.DeleteToken(ctx, w.tokens[2].SID) }); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, tok := range w.tokens[6:11] {
			want = append(want, tok.SID)
		}
		if got := sids(2); !slices.Equal(got, want) {
			t.Fatalf("page 2 after a delete on page 1: %v, want %v", got, want)
		}
		if _, total, err := s.Tokens(ctx, w.agency, service.TokenFilter{}, service.Page{Number: 5, Size: 5}); err != nil || total != 24 {
			t.Fatalf("total after a delete: %d, %v", total, err)
		}
	})
}

// Lists that differ only in a filter's value never share remembered totals or
// positions: with the account unchanged, the same date filter listed with an early
// and then a later value answers each its own total, and paging the later one reaches
// every token it matches.
func TestStoreTokenPagesPerFilterValue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		early := time.Unix(testEpoch.Unix()+60, 0) // the first minute: 2 tokens
		late := time.Unix(testEpoch.Unix()+24*60, 0)
		for _, c := range []struct {
			name        string
			early, late service.TokenFilter
			first, all  int
		}{
			{"CreatedBefore", service.TokenFilter{CreatedBefore: early}, service.TokenFilter{CreatedBefore: late}, 2, 25},
			{"CreatedAfter", service.TokenFilter{CreatedAfter: late}, service.TokenFilter{CreatedAfter: early}, 0, 23},
			{"ResetBefore", service.TokenFilter{ResetBefore: early}, service.TokenFilter{ResetBefore: late}, 2, 25},
			{"Name", service.TokenFilter{Name: "token 0"}, service.TokenFilter{Name: "token"}, 10, 25},
			{"ExactName", service.TokenFilter{ExactName: "token 00"}, service.TokenFilter{ExactName: "token 01"}, 1, 1},
			{"State", service.TokenFilter{State: service.StateDisabled}, service.TokenFilter{State: service.StateEnabled}, 5, 20},
		} {
			if _, total, err := s.Tokens(ctx, w.agency, c.early, service.Page{Number: 1, Size: 2}); err != nil || total != c.first {
				t.Fatalf("%s, first value: total %d, %v; want %d", c.name, total, err, c.first)
			}
			seen := 0
			for p := 1; ; p++ {
				toks, total, err := s.Tokens(ctx, w.agency, c.late, service.Page{Number: p, Size: 2})
				if err != nil || total != c.all {
					t.Fatalf("%s, second value, page %d: total %d, %v; want %d", c.name, p, total, err, c.all)
				}
				if len(toks) == 0 {
					break
				}
				seen += len(toks)
			}
			if seen != c.all {
				t.Fatalf("%s, second value: pages held %d tokens, want %d", c.name, seen, c.all)
			}
		}
	})
}

// The exact-name filter matches whole names, byte-equal once both sides are in
// NFC form: names are stored as sent, in whatever form.
func TestStoreTokenExactName(t *testing.T) {
	forEachStore(t, func(t *testing.T, s service.Store, _ *testClock) {
		ctx := context.Background()
		w := seedSuite(t, s)
		base := testEpoch.Unix() + 3600
		names := []string{"Caf\u00e9", "Cafe\u0301", "caf\u00e9", "Caf\u00e9 deploys", "Caf\u00e9 "}
		sids := map[string]string{}
		err := s.Update(ctx, w.agency, func(tx service.Tx) error {
			for i, name := range names {
				tok := newSuiteToken(t, envOf(s), w.agency, service.KindAgency, name, base+int64(i))
				if err := tx.InsertToken(ctx, tok); err != nil {
					return err
				}
				sids[name] = tok.SID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			exact string
			want  []string
		}{
			{"Caf\u00e9", []string{sids["Caf\u00e9"], sids["Cafe\u0301"]}},
			{"caf\u00e9", []string{sids["caf\u00e9"]}},
			{"Caf\u00e9 ", []string{sids["Caf\u00e9 "]}},
			{"Caf", nil},
			{"token 03", []string{w.tokens[3].SID}},
		} {
			toks, total, err := s.Tokens(ctx, w.agency, service.TokenFilter{ExactName: c.exact}, service.Page{Number: 1, Size: 100})
			var got []string
			for _, tok := range toks {
				got = append(got, tok.SID)
			}
			if err != nil || total != len(c.want) || !slices.Equal(got, c.want) {
				t.Errorf("ExactName %q: %v (total %d), %v; want %v", c.exact, got, total, err, c.want)
			}
		}
	})
}
