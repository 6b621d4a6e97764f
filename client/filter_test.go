package client

import (
	"testing"
	"time"
)

func TestTokenListOptionsExcludes(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	str := func(s string) *string { return &s }
	tok := Token{
		Name:               "CI Deploys",
		State:              StateEnabled,
		DateCreated:        "2026-01-10T00:00:00Z",
		DateLastUsed:       str("2026-02-10T00:00:00Z"),
		DateAuthTokenReset: str("2026-03-10T00:00:00Z"),
	}
	with := func(f func(*Token)) *Token {
		c := tok
		f(&c)
		return &c
	}
	tests := []struct {
		name string
		o    TokenListOptions
		t    *Token
		want string
	}{
		{"no filters", TokenListOptions{}, &tok, ""},
		{"state", TokenListOptions{State: StateEnabled}, &tok, ""},
		{"state case", TokenListOptions{State: "enabled"}, &tok, ""},
		{"other state", TokenListOptions{State: StateDisabled}, &tok, "State"},
		{"name, any case", TokenListOptions{Name: "deploy"}, &tok, ""},
		{"other name", TokenListOptions{Name: "reports"}, &tok, "Name"},
		{"exact name", TokenListOptions{ExactName: "CI Deploys"}, &tok, ""},
		{"exact name, a part", TokenListOptions{ExactName: "CI Deploy"}, &tok, "Name"},
		{"exact name, other case", TokenListOptions{ExactName: "ci deploys"}, &tok, "Name"},
		{"exact name, NFD against NFC", TokenListOptions{ExactName: "Cafe\u0301"}, with(func(t *Token) { t.Name = "Caf\u00e9" }), ""},
		{"created after, inclusive", TokenListOptions{CreatedAfter: day("2026-01-10")}, &tok, ""},
		{"created too early", TokenListOptions{CreatedAfter: day("2026-01-11")}, &tok, "DateCreated"},
		{"created before", TokenListOptions{CreatedBefore: day("2026-01-11")}, &tok, ""},
		{"created before, exclusive", TokenListOptions{CreatedBefore: day("2026-01-10")}, &tok, "DateCreated"},
		{"created, to the second", TokenListOptions{CreatedBefore: day("2026-01-10").Add(999 * time.Millisecond)}, &tok, "DateCreated"},
		{"date that does not parse", TokenListOptions{CreatedAfter: day("2026-01-01")}, with(func(t *Token) { t.DateCreated = "yesterday" }), "DateCreated"},
		{"unused since", TokenListOptions{LastUsedBefore: day("2026-02-11")}, &tok, ""},
		{"used since", TokenListOptions{LastUsedBefore: day("2026-02-10")}, &tok, "DateLastUsed"},
		{"never used", TokenListOptions{LastUsedBefore: day("2026-01-01")}, with(func(t *Token) { t.DateLastUsed = nil }), ""},
		{"not reset since", TokenListOptions{ResetBefore: day("2026-03-11")}, &tok, ""},
		{"reset since", TokenListOptions{ResetBefore: day("2026-03-10")}, &tok, "DateAuthTokenReset"},
		{"no reset date: the creation's", TokenListOptions{ResetBefore: day("2026-01-11")}, with(func(t *Token) { t.DateAuthTokenReset = nil }), ""},
		{"no reset date, created since", TokenListOptions{ResetBefore: day("2026-01-10")}, with(func(t *Token) { t.DateAuthTokenReset = nil }), "DateAuthTokenReset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Excludes(tt.t); got != tt.want {
				t.Errorf("Excludes = %q, want %q", got, tt.want)
			}
		})
	}
}
