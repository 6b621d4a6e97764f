package pipeline

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/output"
)

// tokenLister is what resolving a name needs of the Token API.
type tokenLister interface {
	Tokens(ctx context.Context, o client.TokenListOptions) iter.Seq2[*client.Token, error]
}

// maxNameMatches is how many tokens of one name an ambiguous name lists.
const maxNameMatches = 20

// ResolveSID answers the Account SID arg names: arg itself when it has the
// SID's shape (no request), else the SID of the one token whose name is arg
// (one list request). No such token is exit 6; several are exit 2, the
// message listing each SID. Every command that takes a token's SID as an
// argument resolves it here.
func ResolveSID(ctx context.Context, c tokenLister, arg string) (string, error) {
	if contract.ValidSID(arg) {
		return arg, nil
	}
	if err := CheckTokenArg(arg); err != nil {
		return "", err
	}
	o := client.TokenListOptions{ExactName: contract.NormalName(arg), ListOptions: client.ListOptions{Limit: maxNameMatches}}
	var found []*client.Token
	for tok, err := range c.Tokens(ctx, o) {
		if err != nil {
			return "", err
		}
		if !contract.ValidSID(tok.AccountSid) {
			return "", refuseNamef("its list names %q, which is not an Account SID", tok.AccountSid)
		}
		if o.Excludes(tok) != "" {
			// A server that ignored the filter would have the command act
			// on a token of another name.
			return "", refuseNamef("it answered token %s, named %q, for the name %q", tok.AccountSid, output.Sanitize(tok.Name), arg)
		}
		found = append(found, tok)
	}
	switch len(found) {
	case 0:
		return "", &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("no token is named %q (names match exactly, case included; see impactctl tokens list --name)", arg)}
	case 1:
		return found[0].AccountSid, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d tokens are named %q: name one by its Account SID:", len(found), arg)
	if len(found) == maxNameMatches {
		b.Reset()
		fmt.Fprintf(&b, "%d or more tokens are named %q: name one by its Account SID:", len(found), arg)
	}
	for _, tok := range found {
		fmt.Fprintf(&b, "\n  %s  %s", tok.AccountSid, output.Sanitize(tok.Name))
	}
	return "", cmdutil.UsageErrorf("%s", b.String())
}

// CheckTokenArg refuses, before any request, an argument that can be neither
// an Account SID nor a token name.
func CheckTokenArg(arg string) error {
	if contract.ValidSID(arg) {
		return nil
	}
	if strings.TrimSpace(arg) == "" {
		return cmdutil.UsageErrorf("name the token: an Account SID or the token's name (got %q)", arg)
	}
	if err := contract.CheckText(arg, true, contract.MaxName); err != nil {
		return cmdutil.UsageErrorf("%q is neither an Account SID (IR followed by 32 letters or digits) nor a token name: %v", arg, err)
	}
	return nil
}

// ArgWord writes a token argument for a command line a message suggests: a
// SID as it is, a name quoted.
func ArgWord(arg string) string {
	if contract.ValidSID(arg) {
		return arg
	}
	return strconv.Quote(arg)
}

// refuseNamef refuses a list answered while resolving a name: exit 9,
// before anything changed.
func refuseNamef(format string, a ...any) error {
	return &cmdutil.ExitError{Code: cmdutil.ExitUnavailable, Kind: "invalid_answer", Err: fmt.Errorf("refusing the server's answer: "+format+"; nothing was changed", a...)}
}

// refuseName refuses a token name where only SIDs are taken: with flag,
// for the reason why.
func refuseName(arg, flag, why string) error {
	return cmdutil.UsageErrorf("invalid Account SID %q: with %s, name tokens by Account SID (IR followed by 32 letters or digits), not by name: %s", arg, flag, why)
}

// brandLister is what the --brand hint needs of the Token API.
type brandLister interface {
	Brand() string
	Kind(ctx context.Context) (string, error)
	Advertisers(ctx context.Context, lo client.ListOptions) iter.Seq2[client.Advertiser, error]
}

// BrandHint adds to a 404 for sid, asked for under the agency's own root, a
// suggestion of --brand when the agency manages brands. It makes one more
// request, only after the 404, and leaves err as it is when that fails.
func BrandHint(ctx context.Context, c any, sid string, err error) error {
	bl, ok := c.(brandLister)
	if ae, is404 := cmdutil.AsAPIError(err); !ok || !is404 || ae.StatusCode != 404 || bl.Brand() != "" {
		return err
	}
	if kind, kerr := bl.Kind(ctx); kerr != nil || kind != "agency" {
		return err
	}
	for _, lerr := range bl.Advertisers(ctx, client.ListOptions{Limit: 1}) {
		if lerr != nil {
			return err
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitNotFound, Err: fmt.Errorf("%w (is %s a managed brand's token? name the brand: --brand BRAND_ID; see impactctl brands list)", err, sid)}
	}
	return err
}

// ReadNamed resolves arg (a SID or a token name) and reads the token, with
// its ETag. A 404 under the agency's root suggests --brand.
func ReadNamed(ctx context.Context, c *client.Client, arg string) (*client.Token, error) {
	sid, err := ResolveSID(ctx, c, arg)
	if err != nil {
		return nil, err
	}
	tok, err := c.Token(ctx, sid)
	if err != nil {
		return nil, BrandHint(ctx, c, sid, err)
	}
	return tok, nil
}

// staleHint explains a 412: someone changed the token since it was read.
func staleHint(err error, sid string) error {
	if ae, ok := cmdutil.AsAPIError(err); ok && ae.StatusCode == 412 {
		return &cmdutil.ExitError{Code: cmdutil.ExitConflict, Err: fmt.Errorf("token %s was changed by someone else since it was read; nothing was overwritten: run the command again to see the new values", sid)}
	}
	return err
}

// WireTime is a time as the API writes it, the full time plans show.
func WireTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ExpiresDetail is an expiry in full, for plans and details: the time, or never.
func ExpiresDetail(expiresAt *string) string {
	if expiresAt == nil || *expiresAt == "" {
		return "never"
	}
	return *expiresAt
}
