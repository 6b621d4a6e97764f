package commands

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

// nameLister answers token lists from a fixed set, applying ExactName as a
// server would unless ignore is set, and counts the requests.
type nameLister struct {
	tokens   []*client.Token
	ignore   bool
	err      error
	requests int
	asked    []client.TokenListOptions
}

func (l *nameLister) Tokens(_ context.Context, o client.TokenListOptions) iter.Seq2[*client.Token, error] {
	l.requests++
	l.asked = append(l.asked, o)
	return func(yield func(*client.Token, error) bool) {
		if l.err != nil {
			yield(nil, l.err)
			return
		}
		for _, t := range l.tokens {
			if !l.ignore && o.Excludes(t) != "" {
				continue
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

const (
	sidA = "IRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sidB = "IRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	sidC = "IRcccccccccccccccccccccccccccccccc"
)

func TestResolveSID(t *testing.T) {
	toks := []*client.Token{
		{AccountSid: sidA, Name: "CI deploys"},
		{AccountSid: sidB, Name: "Twin"},
		{AccountSid: sidC, Name: "Twin"},
		{AccountSid: "IRdddddddddddddddddddddddddddddddd", Name: "Caf\u00e9"},
	}
	for _, tt := range []struct {
		name     string
		arg      string
		lister   nameLister
		want     string
		code     int
		mentions []string
		requests int
	}{
		{name: "a SID is a SID, unlooked-up", arg: sidB, want: sidB},
		{name: "a SID that names no token is still a SID", arg: "IR00000000000000000000000000000000", want: "IR00000000000000000000000000000000"},
		{name: "a name", arg: "CI deploys", want: sidA, requests: 1},
		{name: "a name in NFD form", arg: "Cafe\u0301", want: "IRdddddddddddddddddddddddddddddddd", requests: 1},
		{name: "another case", arg: "ci deploys", code: cmdutil.ExitNotFound, mentions: []string{`"ci deploys"`}, requests: 1},
		{name: "almost a SID", arg: sidA[:33], code: cmdutil.ExitNotFound, mentions: []string{sidA[:33]}, requests: 1},
		{name: "a shared name", arg: "Twin", code: cmdutil.ExitUsage, mentions: []string{`2 tokens are named "Twin"`, "\n  " + sidB + "  Twin", "\n  " + sidC + "  Twin"}, requests: 1},
		{name: "a control character", arg: "Twin\x1b[31m", code: cmdutil.ExitUsage},
		{name: "empty", arg: "", code: cmdutil.ExitUsage},
		{name: "blank", arg: "  ", code: cmdutil.ExitUsage},
		{name: "too long", arg: strings.Repeat("x", 101), code: cmdutil.ExitUsage},
		{name: "server ignores the filter", arg: "CI deploys", lister: nameLister{ignore: true, tokens: []*client.Token{{AccountSid: sidB, Name: "Evil\x1b[31m"}}}, code: cmdutil.ExitUnavailable, mentions: []string{sidB, `"Evil"`}, requests: 1},
		{name: "server answers a bad SID", arg: "Bad", lister: nameLister{tokens: []*client.Token{{AccountSid: "IR1", Name: "Bad"}}}, code: cmdutil.ExitUnavailable, requests: 1},
		{name: "list fails", arg: "CI deploys", lister: nameLister{err: &client.APIError{StatusCode: 403}}, code: cmdutil.ExitForbidden, requests: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.lister
			if l.tokens == nil {
				l.tokens = toks
			}
			got, err := pipeline.ResolveSID(context.Background(), &l, tt.arg)
			if l.requests != tt.requests {
				t.Errorf("%d list requests, want %d", l.requests, tt.requests)
			}
			if tt.code == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("resolveSID(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
				}
				return
			}
			if err == nil || cmdutil.ExitCode(err) != tt.code {
				t.Fatalf("resolveSID(%q) = %q, %v (exit %d); want exit %d", tt.arg, got, err, cmdutil.ExitCode(err), tt.code)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), "\x1b") {
				t.Errorf("error %q holds an escape character", err)
			}
		})
	}
}

// The name is sent in NFC form, through the exact-name filter only.
func TestResolveSIDAsksExactNFC(t *testing.T) {
	l := nameLister{tokens: []*client.Token{{AccountSid: sidA, Name: "Cafe\u0301"}}}
	if _, err := pipeline.ResolveSID(context.Background(), &l, "Cafe\u0301"); err != nil {
		t.Fatal(err)
	}
	o := l.asked[0]
	if o.ExactName != "Caf\u00e9" || o.Name != "" || o.Limit == 0 {
		t.Fatalf("asked %+v", o)
	}
}

// brands answers brandHint's questions.
type brands struct {
	brand   string
	kind    string
	kindErr error
	ids     []string
	listErr error
}

func (b *brands) Brand() string                        { return b.brand }
func (b *brands) Kind(context.Context) (string, error) { return b.kind, b.kindErr }
func (b *brands) Advertisers(_ context.Context, lo client.ListOptions) iter.Seq2[client.Advertiser, error] {
	return func(yield func(client.Advertiser, error) bool) {
		if b.listErr != nil {
			yield(client.Advertiser{}, b.listErr)
			return
		}
		for _, id := range b.ids {
			if !yield(client.Advertiser{Id: id}, nil) {
				return
			}
		}
	}
}

func TestBrandHint(t *testing.T) {
	notFound := &client.APIError{StatusCode: 404, Message: "not found"}
	for _, tt := range []struct {
		name  string
		c     any
		err   error
		hints bool
	}{
		{"agency with brands", &brands{kind: "agency", ids: []string{"1048291"}}, notFound, true},
		{"agency without brands", &brands{kind: "agency"}, notFound, false},
		{"brands unreadable: silent", &brands{kind: "agency", listErr: errors.New("boom")}, notFound, false},
		{"kind unknown: silent", &brands{kindErr: errors.New("boom")}, notFound, false},
		{"a brand's own token", &brands{kind: "brand", ids: []string{"1"}}, notFound, false},
		{"under --brand", &brands{brand: "1048291", kind: "agency", ids: []string{"1"}}, notFound, false},
		{"not a 404", &brands{kind: "agency", ids: []string{"1"}}, &client.APIError{StatusCode: 403}, false},
		{"no API error", &brands{kind: "agency", ids: []string{"1"}}, errors.New("other"), false},
		{"a client that cannot ask", struct{}{}, notFound, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := pipeline.BrandHint(context.Background(), tt.c, sidA, tt.err)
			if hinted := strings.Contains(got.Error(), "--brand BRAND_ID"); hinted != tt.hints {
				t.Fatalf("brandHint = %q; want a hint: %v", got, tt.hints)
			}
			if cmdutil.ExitCode(got) != cmdutil.ExitCode(tt.err) {
				t.Fatalf("exit %d, want %d", cmdutil.ExitCode(got), cmdutil.ExitCode(tt.err))
			}
			if _, ok := cmdutil.AsAPIError(got); ok != errors.As(tt.err, new(*client.APIError)) {
				t.Fatal("the API error is lost")
			}
		})
	}
}
