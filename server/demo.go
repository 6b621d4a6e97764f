package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/impactcom/impactctl/server/service"
)

// Credential is one token's credentials; JSON names are the ready file's.
type Credential struct {
	Url        string `json:"Url"`
	AccountSid string `json:"AccountSid"`
	AuthToken  string `json:"AuthToken"`
}

type demoUser struct{ id, name, email string }

type demoToken struct {
	role        string // a DemoCredentials role, or ""
	name        string
	description string
	disabled    bool
	version     int
	contact     string
	emails      []string
	scopes      []string // ids or "category.*"; "*" is every scope of the kind
	created     int      // days ago
	lastUsed    int      // days ago; -1 never
	reset       int      // days ago the secret was last reset; -1 at creation
}

type demoAccount struct {
	acct   service.Account
	users  []demoUser
	tokens []demoToken
	brands []demoAccount
}

// demoData is the demo world: Demo Agency with users, three brands with their own users
// and tokens, 30 agency tokens, and a second agency to prove isolation.
func demoData() []demoAccount {
	agencyTokens := []demoToken{
		{role: "admin", name: "Agency admin", description: "Full access for the platform team", version: 3, contact: "U100",
			emails: []string{"platform@demo-agency.example"}, scopes: []string{"*"}, created: 420, lastUsed: 1, reset: 30},
		{role: "writer", name: "Token manager", description: "Rotates and edits tokens", version: 3, contact: "U101",
			scopes: []string{"apitokens.read", "apitokens.write", "users.read"}, created: 410, lastUsed: 3, reset: -1},
		{role: "readonly", name: "Read-only auditor", description: "Quarterly access review", version: 3, contact: "U102",
			scopes: []string{"apitokens.read"}, created: 400, lastUsed: 12, reset: -1},
		{role: "disabled", name: "Legacy integration", description: "Replaced by the data warehouse sync", disabled: true,
			version: 2, contact: "U103", scopes: []string{"reports.*"}, created: 395, lastUsed: 200, reset: -1},
		{role: "reporter", name: "Reporting export", description: "Daily performance export", version: 3, contact: "U104",
			emails: []string{"bi@demo-agency.example"}, scopes: []string{"reports.*", "account.read"}, created: 380, lastUsed: 0, reset: 100},
	}
	names := []string{"CI deploys", "Data warehouse sync", "Looker dashboards", "Tableau extract",
		"Partner onboarding bot", "Compliance monitor", "Nightly reconciliation", "Finance invoices",
		"Slack alerts", "Jobs downloader", "Staging sandbox", "Mobile app backend", "Affiliate payouts",
		"Promo code sync", "Catalog feed", "Clicks exporter", "Contracts review", "QA automation",
		"Marketing analytics", "Old reporting v2", "Backup exporter", "Attribution model",
		"Campaign planner", "Ops runbook", "Zapier bridge"}
	scopeSets := [][]string{
		{"reports.read", "reports.export"},
		{"reports.*", "jobs.*"},
		{"account.read", "users.read"},
		{"compliance.*"},
		{"advertisers.read", "actions.read", "campaigns.read"},
		{},
		{"invoices.read", "contracts.read"},
		{"apitokens.read", "reports.read"},
	}
	contacts := []string{"U100", "U101", "", "U102", "U103", "U104"}
	for i, n := range names {
		var emails []string
		switch i % 3 {
		case 0:
			emails = []string{fmt.Sprintf("dev%d@demo-agency.example", i+1)}
		case 1:
			emails = []string{"ops@demo-agency.example", fmt.Sprintf("team%d@demo-agency.example", i+1)}
		}
		lastUsed := -1
		if i%5 != 4 {
			lastUsed = (i * 17) % 240
		}
		reset := -1
		if i%4 == 1 {
			reset = (i * 11) % 150
		}
		agencyTokens = append(agencyTokens, demoToken{
			name:        n,
			description: fmt.Sprintf("Demo token %d", i+1),
			disabled:    i%4 == 3,
			version:     2 + i%2,
			contact:     contacts[i%len(contacts)],
			emails:      emails,
			scopes:      scopeSets[i%len(scopeSets)],
			created:     360 - i*13,
			lastUsed:    lastUsed,
			reset:       reset,
		})
	}
	brand := func(role, publicID, name, city string, users []demoUser) demoAccount {
		return demoAccount{
			acct: service.Account{Kind: service.KindBrand, PublicID: publicID, Name: name, State: "ACTIVE",
				Website: "https://" + publicID + ".brand.example", Currency: "USD", Timezone: "America/Los_Angeles",
				OrgType: "COMPANY", City: city, Country: "US"},
			users: users,
			tokens: []demoToken{
				{role: role, name: name + " admin", description: "Brand API, every scope", version: 14, contact: users[0].id,
					emails: []string{"api@" + publicID + ".brand.example"}, scopes: []string{"*"}, created: 300, lastUsed: 2, reset: -1},
				{name: name + " reporting", version: 12, contact: users[1].id,
					scopes: []string{"reports.*", "actions.read"}, created: 250, lastUsed: 40, reset: 60},
				{name: name + " legacy feed", description: "Brand API 11", disabled: true, version: 11,
					scopes: []string{"catalogs.*"}, created: 200, lastUsed: -1, reset: -1},
			},
		}
	}
	return []demoAccount{
		{
			acct: service.Account{Kind: service.KindAgency, PublicID: "2001001", Name: "Demo Agency", State: "ACTIVE",
				Website: "https://demo-agency.example", Phone: "+1 415 555 0100", PhoneCountry: "US",
				Currency: "USD", Timezone: "America/Los_Angeles", OrgType: "AGENCY",
				Address1: "1 Market Street", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"},
			users: []demoUser{
				{"U100", "Ada Byron", "ada@demo-agency.example"},
				{"U101", "Grace Hopper", "grace@demo-agency.example"},
				{"U102", "Alan Turing", "alan@demo-agency.example"},
				{"U103", "Katherine Johnson", "katherine@demo-agency.example"},
				{"U104", "Edsger Dijkstra", "edsger@demo-agency.example"},
			},
			tokens: agencyTokens,
			brands: []demoAccount{
				brand("brand-admin", "1048291", "Northwind Outfitters", "Seattle", []demoUser{
					{"U200", "Nora Lind", "nora@northwind.example"}, {"U201", "Omar Reyes", "omar@northwind.example"}}),
				brand("brand2-admin", "1048305", "Bluebird Coffee", "Portland", []demoUser{
					{"U210", "Bea Quist", "bea@bluebird.example"}, {"U211", "Carl Ode", "carl@bluebird.example"}}),
				brand("brand3-admin", "1048342", "Canyon Cycles", "Denver", []demoUser{
					{"U220", "Dana Holt", "dana@canyon.example"}, {"U221", "Eli Park", "eli@canyon.example"}}),
			},
		},
		{
			acct: service.Account{Kind: service.KindAgency, PublicID: "2002002", Name: "Second Agency", State: "ACTIVE",
				Website: "https://second-agency.example", Currency: "EUR", Timezone: "Europe/Berlin",
				OrgType: "AGENCY", City: "Berlin", Country: "DE"},
			users: []demoUser{
				{"U300", "Fritz Meyer", "fritz@second-agency.example"},
				{"U301", "Greta Voss", "greta@second-agency.example"},
			},
			tokens: []demoToken{
				{role: "agency2-admin", name: "Second agency admin", version: 3, contact: "U300",
					scopes: []string{"*"}, created: 100, lastUsed: 5, reset: -1},
			},
			brands: []demoAccount{
				brand("agency2-brand-admin", "2099001", "Elsewhere Apparel", "Munich", []demoUser{
					{"U310", "Hanna Roth", "hanna@elsewhere.example"}, {"U311", "Ivo Klein", "ivo@elsewhere.example"}}),
			},
		},
	}
}

// bootstrapData is what an empty database gets without --demo: one agency with an
// admin token holding every scope, so the server can be used at all.
func bootstrapData() []demoAccount {
	return []demoAccount{{
		acct: service.Account{Kind: service.KindAgency, PublicID: "2000001", Name: "Agency", State: "ACTIVE", Currency: "USD",
			Timezone: "UTC", OrgType: "AGENCY"},
		users: []demoUser{{"U1", "Administrator", "admin@agency.example"}},
		tokens: []demoToken{{role: "admin", name: "Admin", version: 3, contact: "U1",
			scopes: []string{"*"}, lastUsed: -1, reset: -1}},
	}}
}

// Seed fills an empty database, once and in one transaction: the demo world when demo
// is set, else a bootstrap agency with one admin token. A database that already holds
// accounts is left alone, so restarts never seed twice.
func Seed(ctx context.Context, st service.Store, env *service.Env, demo bool) error {
	data := bootstrapData()
	kind := "bootstrap"
	if demo {
		data, kind = demoData(), "demo"
	}
	return st.Update(ctx, 0, func(tx service.Tx) error {
		if has, err := tx.HasAccounts(ctx); err != nil || has {
			return err
		}
		now := env.Clock()
		for _, a := range data {
			if err := seedAccount(ctx, env, tx, a, service.Opt[int64]{}, now); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return tx.SetSeeded(ctx, kind)
	})
}

func daysAgo(now time.Time, d int) int64 { return now.Add(-time.Duration(d) * 24 * time.Hour).Unix() }

func seedAccount(ctx context.Context, env *service.Env, tx service.Tx, d demoAccount, parent service.Opt[int64], now time.Time) error {
	a := d.acct
	a.ParentID = parent
	a.Created = daysAgo(now, 500)
	id, err := tx.InsertAccount(ctx, &a)
	if err != nil {
		return err
	}
	for _, u := range d.users {
		if err := tx.InsertUser(ctx, &service.User{ID: u.id, AccountID: id, Name: u.name, Email: u.email}); err != nil {
			return err
		}
	}
	for i, dt := range d.tokens {
		scopes := dt.scopes
		if len(scopes) == 1 && scopes[0] == "*" {
			scopes = service.AllScopes(a.Kind)
		}
		scopes, bad := service.ExpandScopes(a.Kind, scopes)
		if bad != "" {
			return fmt.Errorf("token %s: unknown scope %s", dt.name, bad)
		}
		sid, err := env.Rand.SID()
		if err != nil {
			return err
		}
		// Distinct creation times, even for tokens created the same day.
		created := daysAgo(now, dt.created) - int64(i)*3600
		t := &service.Token{SID: sid, AccountID: id, Kind: a.Kind, Name: dt.name, Description: dt.description,
			State: service.StateEnabled, APIVersion: dt.version, Emails: dt.emails, Scopes: scopes, Version: 1,
			Created: created, Updated: created, AuthReset: created}
		if dt.disabled {
			t.State = service.StateDisabled
		}
		if dt.contact != "" {
			t.ContactID = service.Some(dt.contact)
		}
		if dt.reset >= 0 && daysAgo(now, dt.reset) > created {
			t.AuthReset = daysAgo(now, dt.reset)
			t.Updated = t.AuthReset
			t.ResetCount = 1
		}
		if dt.lastUsed >= 0 && daysAgo(now, dt.lastUsed) > created {
			t.LastUsed = service.Some(daysAgo(now, dt.lastUsed))
		}
		if _, err := (&service.Rules{Env: env}).NewSecret(t); err != nil {
			return err
		}
		if err := tx.InsertToken(ctx, t); err != nil {
			return err
		}
		if dt.role != "" {
			if err := tx.SetDemoRole(ctx, dt.role, sid); err != nil {
				return err
			}
		}
	}
	for _, b := range d.brands {
		if err := seedAccount(ctx, env, tx, b, service.Some(id), now); err != nil {
			return err
		}
	}
	return nil
}

// DemoCredentials answers the credentials of the seeded tokens by role ("admin",
// "writer", "readonly", "disabled", "reporter", "agency2-admin", "brand-admin",
// "brand2-admin", "brand3-admin", "agency2-brand-admin"; only those named, when any
// are), with Url set to baseURL. Tokens deleted since seeding are left out.
func DemoCredentials(ctx context.Context, st service.Store, env *service.Env, baseURL string, only ...string) (map[string]Credential, error) {
	roles, err := st.DemoRoles(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]Credential{}
	for role, sid := range roles {
		if len(only) > 0 && !slices.Contains(only, role) {
			continue
		}
		t, err := st.TokenBySID(ctx, sid)
		if err != nil {
			return nil, fmt.Errorf("demo credentials %s: %w", role, err)
		}
		secret, err := env.Keys.Open(t.SecretEnc, t.SID)
		if err != nil {
			return nil, fmt.Errorf("demo credentials %s: %w", role, err)
		}
		out[role] = Credential{Url: baseURL, AccountSid: sid, AuthToken: string(secret)}
	}
	return out, nil
}
