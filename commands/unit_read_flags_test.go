package commands

import (
	"slices"
	"testing"
)

// TestReadCommandFlags: the commands that read, log in or serve parse their
// flags into Options through the same runF as the changing commands, and
// stop before any I/O.
func TestReadCommandFlags(t *testing.T) {
	const sid = "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	runFlagCases(t, "tokens list", newTokensListCmd, []flagCase[TokensListOptions]{
		{argv: "--state disabled --unused-for 90d -L 5 --page-size 2", check: func(t *testing.T, o *TokensListOptions) {
			if o.Filters.State != "disabled" || o.Filters.UnusedFor != "90d" || o.Filters.Limit != 5 || o.Filters.PageSize != 2 || !o.Filters.PageSizeSet() {
				t.Errorf("%+v", o.Filters)
			}
			if o.Env.Client == nil || o.Env.Now == nil || o.Env.IO == nil {
				t.Errorf("the run's dependencies are missing: %+v", o.Env)
			}
		}},
		{argv: sid, wantErr: "no arguments"},
	})
	runFlagCases(t, "tokens show", newTokensShowCmd, []flagCase[TokensShowOptions]{
		{argv: sid + " --reveal", check: func(t *testing.T, o *TokensShowOptions) {
			if o.SID != sid || !o.Reveal {
				t.Errorf("%+v", o)
			}
		}},
		{argv: "", wantErr: "one token"},
	})
	runFlagCases(t, "tokens history", newTokensHistoryCmd, []flagCase[TokensHistoryOptions]{
		{argv: sid, check: func(t *testing.T, o *TokensHistoryOptions) {
			if o.SID != sid || o.options == nil {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "auth login", newAuthLoginCmd, []flagCase[AuthLoginOptions]{
		{argv: "--account-sid " + sid + " --with-token --insecure-storage", check: func(t *testing.T, o *AuthLoginOptions) {
			if o.AccountSid != sid || !o.WithToken || !o.InsecureStorage || o.Env.ClientFor == nil || o.Env.UpdateConfig == nil {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "auth status", newAuthStatusCmd, []flagCase[AuthStatusOptions]{
		{argv: "--all", check: func(t *testing.T, o *AuthStatusOptions) {
			if !o.All {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "auth switch", newAuthSwitchCmd, []flagCase[AuthSwitchOptions]{
		{argv: "staging", check: func(t *testing.T, o *AuthSwitchOptions) {
			if o.Profile != "staging" {
				t.Errorf("%+v", o)
			}
		}},
		{argv: "", wantErr: "one profile name"},
	})
	runFlagCases(t, "brands list", newBrandsListCmd, []flagCase[BrandsListOptions]{
		{argv: "-L 3", check: func(t *testing.T, o *BrandsListOptions) {
			if o.List.Limit != 3 {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "users list", newUsersListCmd, []flagCase[UsersListOptions]{
		{argv: "--limit 7", check: func(t *testing.T, o *UsersListOptions) {
			if o.List.Limit != 7 {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "api", newAPICmd, []flagCase[APIOptions]{
		{argv: "ApiTokens -X PATCH -f Name=x -F ApiVersion=3 -H 'IR-Version: 14' -i --paginate", check: func(t *testing.T, o *APIOptions) {
			if o.Path != "ApiTokens" || o.Method != "PATCH" || !o.methodSet || !slices.Equal(o.RawFields, []string{"Name=x"}) ||
				!slices.Equal(o.TypedFields, []string{"ApiVersion=3"}) || !slices.Equal(o.Headers, []string{"IR-Version: 14"}) || !o.Include || !o.Paginate {
				t.Errorf("%+v", o)
			}
		}},
		{argv: "ApiTokens", check: func(t *testing.T, o *APIOptions) {
			if o.Method != "GET" || o.methodSet {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "admin recover", newAdminRecoverCmd, []flagCase[RecoverOptions]{
		{argv: "1000001 --db x.db --key-file x.key --secret-file s", check: func(t *testing.T, o *RecoverOptions) {
			if o.Account != "1000001" || o.DB != "x.db" || o.KeyFile != "x.key" || o.SecretFile != "s" {
				t.Errorf("%+v", o)
			}
		}},
	})
	runFlagCases(t, "serve", newServeCmd, []flagCase[ServeOptions]{
		{argv: "--addr 127.0.0.1:0 --db d.db --demo --mail-rate 5", check: func(t *testing.T, o *ServeOptions) {
			if o.Addr != "127.0.0.1:0" || o.DB != "d.db" || !o.Demo || o.MailRate != 5 || o.RateLimit != "1000/h" {
				t.Errorf("%+v", o)
			}
		}},
	})
}
