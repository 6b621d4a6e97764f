package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
)

// Current returns the caller's own token and its rate budget. With a brand
// set it still describes the caller's token.
func (c *Client) Current(ctx context.Context) (*CurrentToken, error) {
	root, cur, err := c.ownRoot(ctx)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		return cur, nil
	}
	res, err := c.do(ctx, &request{method: http.MethodGet, path: root + "/ApiTokens/Current"})
	if err != nil {
		return nil, err
	}
	cur = new(CurrentToken)
	if err := decode(res, cur); err != nil {
		return nil, err
	}
	cur.ETag = res.header.Get("ETag")
	return cur, nil
}

// CompanyInformation returns the account's company information as the
// server sends it.
func (c *Client) CompanyInformation(ctx context.Context) (map[string]any, error) {
	res, err := c.get(ctx, "/CompanyInformation", nil)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(res.body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	return m, nil
}

// Scopes returns the scope catalog.
func (c *Client) Scopes(ctx context.Context) (*Catalog, error) {
	res, err := c.get(ctx, "/ApiScopes", nil)
	if err != nil {
		return nil, err
	}
	var cat Catalog
	if err := decode(res, &cat); err != nil {
		return nil, err
	}
	return &cat, nil
}

// Users lists the account's users, the possible primary contacts.
func (c *Client) Users(ctx context.Context, lo ListOptions) iter.Seq2[User, error] {
	return list[User](ctx, c, "/Users", nil, "Users", lo)
}

// Advertisers lists the brands the agency manages. It ignores the brand
// set with WithBrand: brands belong to the agency.
func (c *Client) Advertisers(ctx context.Context, lo ListOptions) iter.Seq2[Advertiser, error] {
	return list[Advertiser](ctx, c.WithBrand(""), "/Advertisers", nil, "Advertisers", lo)
}

// Advertiser returns one managed brand. Like Advertisers, it ignores the
// brand set with WithBrand.
func (c *Client) Advertiser(ctx context.Context, id string) (*Advertiser, error) {
	res, err := c.WithBrand("").get(ctx, "/Advertisers/"+seg(id), nil)
	if err != nil {
		return nil, err
	}
	var a Advertiser
	if err := decode(res, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Tokens lists tokens, oldest first, with the given filters.
func (c *Client) Tokens(ctx context.Context, o TokenListOptions) iter.Seq2[*Token, error] {
	return list[*Token](ctx, c, "/ApiTokens", o.query(), "ApiTokens", o.ListOptions)
}

// TokensJSON lists tokens like Tokens, each as the compact JSON that
// encoding its *Token gives (encoding/json without HTML escaping). Tokens
// the server already wrote that way are passed on as sent, so a listing
// written as JSON skips a decode and an encode per token.
func (c *Client) TokensJSON(ctx context.Context, o TokenListOptions) iter.Seq2[json.RawMessage, error] {
	return listJSON[*Token](ctx, c, "/ApiTokens", o.query(), "ApiTokens", o.ListOptions)
}

// query is the listing's filters as query parameters.
func (o TokenListOptions) query() url.Values {
	q := url.Values{}
	if o.State != "" {
		q.Set("State", strings.ToUpper(string(o.State)))
	}
	if o.Name != "" {
		q.Set("Name", o.Name)
	}
	if o.ExactName != "" {
		q.Set("ExactName", o.ExactName)
	}
	for k, t := range map[string]time.Time{
		"CreatedAfter":   o.CreatedAfter,
		"CreatedBefore":  o.CreatedBefore,
		"LastUsedBefore": o.LastUsedBefore,
		"ResetBefore":    o.ResetBefore,
		"ExpiresBefore":  o.ExpiresBefore,
	} {
		if !t.IsZero() {
			q.Set(k, t.UTC().Format(time.RFC3339))
		}
	}
	return q
}

// Token returns one token with its ETag.
func (c *Client) Token(ctx context.Context, sid string) (*Token, error) {
	res, err := c.get(ctx, "/ApiTokens/"+seg(sid), nil)
	if err != nil {
		return nil, err
	}
	return tokenOf(res)
}

// AuthToken returns a token's secret.
func (c *Client) AuthToken(ctx context.Context, sid string) (*Secret, error) {
	res, err := c.get(ctx, "/ApiTokens/"+seg(sid)+"/AuthToken", nil)
	if err != nil {
		return nil, err
	}
	var s Secret
	if err := decode(res, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateToken creates a token; the answer carries its AuthToken.
func (c *Client) CreateToken(ctx context.Context, t TokenCreate, wo WriteOptions) (*Token, error) {
	return c.tokenWrite(ctx, write{method: http.MethodPost, rel: "/ApiTokens", body: t, opts: wo})
}

// DuplicateToken creates a token with sid's settings, overridden by the
// non-empty fields of t; the answer carries its AuthToken.
func (c *Client) DuplicateToken(ctx context.Context, sid string, t TokenCreate, wo WriteOptions) (*Token, error) {
	return c.tokenWrite(ctx, write{method: http.MethodPost, rel: "/ApiTokens/" + seg(sid) + "/Duplicate", body: t, opts: wo})
}

// UpdateToken changes the fields u names. With an If-Match it is retried
// like any safe request; when a retry meets 412 because the first attempt
// was applied but its answer lost, a token that already has every
// requested value is returned as success.
func (c *Client) UpdateToken(ctx context.Context, sid string, u TokenUpdate, wo WriteOptions) (*Token, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	return c.tokenWrite(ctx, write{method: http.MethodPatch, rel: "/ApiTokens/" + seg(sid), body: body, opts: wo, sid: sid, done: u.matches})
}

// Act makes a change to one token on its own endpoint: it disables,
// enables, deletes (answering no token) or resets it (the answer carries the
// new AuthToken). Disabling a disabled token, or enabling an enabled one,
// changes nothing.
//
// A token that reset itself and lost the answer can replay that reset with
// its previous secret and the same IdempotencyKey; the server accepts the
// previous secret for nothing else, so the client then tries the agency
// root and the brand root instead of discovering which one it has.
func (c *Client) Act(ctx context.Context, a Action, sid string, wo WriteOptions) (*Token, error) {
	rel := "/ApiTokens/" + seg(sid) + "/" + string(a)
	switch a {
	case ActionDelete:
		return nil, c.deleteToken(ctx, sid, wo)
	case ActionReset:
		// Always an object, {} without options: the body is optional, and
		// an empty one reads as no object to some OpenAPI tools.
		body := wo.Reset
		if body == nil {
			body = &ResetOptions{}
		}
		return c.tokenWrite(ctx, write{method: http.MethodPost, rel: rel, body: body, opts: wo, action: a})
	case ActionDisable, ActionEnable:
		want, _ := a.State()
		return c.tokenWrite(ctx, write{method: http.MethodPost, rel: rel, opts: wo, sid: sid, action: a,
			done: func(t *Token) bool { return strings.EqualFold(string(t.State), string(want)) }})
	}
	return nil, fmt.Errorf("client: unknown action %q", a)
}

// EndOverlap refuses the previous secret of token sid from the next request
// (DELETE PreviousAuthToken): done, also when there was none.
func (c *Client) EndOverlap(ctx context.Context, sid string, wo WriteOptions) error {
	root, err := c.root(ctx)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &request{method: http.MethodDelete, path: root + "/ApiTokens/" + seg(sid) + "/PreviousAuthToken",
		ifMatch: wo.IfMatch, paced: wo.Paced, rate: wo.RateLimit})
	return err
}

// ResetToken gives a token a new secret; the answer carries it. See Act.
func (c *Client) ResetToken(ctx context.Context, sid string, wo WriteOptions) (*Token, error) {
	return c.Act(ctx, ActionReset, sid, wo)
}

// DisableToken disables a token; disabling a disabled token changes nothing.
func (c *Client) DisableToken(ctx context.Context, sid string, wo WriteOptions) (*Token, error) {
	return c.Act(ctx, ActionDisable, sid, wo)
}

// EnableToken enables a token; enabling an enabled token changes nothing.
func (c *Client) EnableToken(ctx context.Context, sid string, wo WriteOptions) (*Token, error) {
	return c.Act(ctx, ActionEnable, sid, wo)
}

// DeleteToken deletes a token. A retry that finds the token gone after an
// earlier attempt was lost in transit has succeeded.
func (c *Client) DeleteToken(ctx context.Context, sid string, wo WriteOptions) error {
	_, err := c.Act(ctx, ActionDelete, sid, wo)
	return err
}

func (c *Client) deleteToken(ctx context.Context, sid string, wo WriteOptions) error {
	root, err := c.root(ctx)
	if err != nil {
		return err
	}
	res, err := c.do(ctx, &request{method: http.MethodDelete, path: root + "/ApiTokens/" + seg(sid), ifMatch: wo.IfMatch, paced: wo.Paced, rate: wo.RateLimit})
	if err != nil && res != nil && res.ambiguous && isStatus(err, http.StatusNotFound) {
		return nil
	}
	return err
}

// SetScopes replaces a token's scopes; "reports.*" names a whole category.
func (c *Client) SetScopes(ctx context.Context, sid string, scopes []string, wo WriteOptions) (*Token, error) {
	if scopes == nil {
		scopes = []string{}
	}
	body := struct{ Scopes []string }{scopes}
	return c.tokenWrite(ctx, write{method: http.MethodPut, rel: "/ApiTokens/" + seg(sid) + "/Scopes", body: body, opts: wo, sid: sid,
		done: func(t *Token) bool { return c.scopesMatch(ctx, scopes, t.Scopes) }})
}

// ClearScopes removes all of a token's scopes.
func (c *Client) ClearScopes(ctx context.Context, sid string, wo WriteOptions) (*Token, error) {
	return c.tokenWrite(ctx, write{method: http.MethodDelete, rel: "/ApiTokens/" + seg(sid) + "/Scopes", opts: wo, sid: sid,
		done: func(t *Token) bool { return len(t.Scopes) == 0 }})
}

// SetDeveloperEmails replaces the list of addresses told about changes to
// a token.
func (c *Client) SetDeveloperEmails(ctx context.Context, sid string, emails []string, wo WriteOptions) (*Token, error) {
	if emails == nil {
		emails = []string{}
	}
	body := struct{ Emails []string }{emails}
	return c.tokenWrite(ctx, write{method: http.MethodPut, rel: "/ApiTokens/" + seg(sid) + "/DeveloperEmails", body: body, opts: wo, sid: sid,
		done: func(t *Token) bool { return sameFold(emails, t.DeveloperEmails) }})
}

// Bulk applies one action to many tokens in one request and returns an
// outcome per SID. A failing SID does not stop the others.
func (c *Client) Bulk(ctx context.Context, action Action, sids []string, wo WriteOptions) ([]BulkResult, error) {
	switch action {
	case ActionDisable, ActionEnable, ActionDelete, ActionReset:
	default:
		return nil, fmt.Errorf("client: unknown bulk action %q", action)
	}
	if sids == nil {
		sids = []string{}
	}
	roots, err := c.writeRoots(ctx, action, wo)
	if err != nil {
		return nil, err
	}
	key := wo.IdempotencyKey
	if key == "" {
		key = NewIdempotencyKey()
	}
	var body any = struct{ Sids []string }{sids}
	if action == ActionReset && wo.Reset != nil {
		body = struct {
			Sids []string
			*ResetOptions
		}{sids, wo.Reset}
	}
	var res *response
	for i, root := range roots {
		res, err = c.do(ctx, &request{
			method: http.MethodPost, path: root + "/ApiTokens/" + string(action),
			body: body, ifMatch: wo.IfMatch, idemKey: key,
			paced: wo.Paced, rate: wo.RateLimit,
		})
		if i == len(roots)-1 || !isStatus(err, http.StatusNotFound) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if results, ok := splitBulk(res.body); ok {
		return results, nil
	}
	var out struct{ Results []BulkResult }
	if err := decode(res, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// splitBulk reads a bulk answer's results as decode would, the answer checked
// and split once and each result decoded from its own bytes (encoding/json
// reads an element with its own decoder two times more). ok is false, and
// decode reads the answer, whenever it is not the usual shape: an object whose
// only member named like Results, in any case, is an ASCII "Results" holding an
// array, every result decoding without an error.
func splitBulk(body []byte) (results []BulkResult, ok bool) {
	start := skipSpace(body, 0)
	if start == len(body) || body[start] != '{' || !validJSON(body) {
		return nil, false
	}
	var raw []byte
	for m := range members(body[start:], "") {
		for _, c := range []byte(m.name) {
			if c >= 0x80 {
				return nil, false // Unicode case folding is decode's
			}
		}
		if strings.EqualFold(m.name, "Results") {
			if m.name != "Results" || raw != nil {
				return nil, false
			}
			raw = m.value
		}
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	elems := elements(raw)
	results = make([]BulkResult, len(elems))
	for i, e := range elems {
		if err := results[i].UnmarshalJSON(e); err != nil {
			return nil, false
		}
	}
	return results, true
}

// writeRoots returns the root a change goes to. For a reset replayed with a
// caller-chosen key, when the credentials are refused (they may be the
// previous secret of a self-reset, which the server accepts only for that
// replay), it returns both of the caller's own roots to try in turn.
func (c *Client) writeRoots(ctx context.Context, action Action, wo WriteOptions) ([]string, error) {
	root, err := c.root(ctx)
	if err == nil {
		return []string{root}, nil
	}
	if action == ActionReset && wo.IdempotencyKey != "" && c.brand == "" && isStatus(err, http.StatusUnauthorized) {
		sid := seg(c.opts.AccountSid)
		return []string{"/Agencies/" + sid, "/Advertisers/" + sid}, nil
	}
	return nil, err
}

// get sends a GET under the token root.
func (c *Client) get(ctx context.Context, rel string, q url.Values) (*response, error) {
	root, err := c.root(ctx)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, &request{method: http.MethodGet, path: root + rel, query: q})
}

// write is a change that answers with a token.
type write struct {
	method string
	// rel is the path under the root.
	rel  string
	body any
	opts WriteOptions
	// sid is the token changed, "" for a new one: an empty answer is read
	// again from it, and so is the token after a lost answer.
	sid string
	// action is the Action this write is, if any: a reset may be replayed
	// with the previous secret (see writeRoots).
	action Action
	// done reports whether a token already is as the write asks; nil when
	// that cannot be told.
	done func(*Token) bool
}

// tokenWrite sends a change that answers with a token. POSTs carry an
// idempotency key. When a retry meets 412 after an earlier attempt may
// have been applied, and done says the token (re-read) already is as
// requested, that token is the answer.
func (c *Client) tokenWrite(ctx context.Context, w write) (*Token, error) {
	roots, err := c.writeRoots(ctx, w.action, w.opts)
	if err != nil {
		return nil, err
	}
	key := ""
	if w.method == http.MethodPost {
		key = w.opts.IdempotencyKey
		if key == "" {
			key = NewIdempotencyKey()
		}
	}
	var res *response
	for i, root := range roots {
		res, err = c.do(ctx, &request{method: w.method, path: root + w.rel, body: w.body, ifMatch: w.opts.IfMatch, idemKey: key,
			paced: w.opts.Paced, rate: w.opts.RateLimit})
		if i == len(roots)-1 || !isStatus(err, http.StatusNotFound) {
			break
		}
	}
	if err != nil {
		if res != nil && res.ambiguous && w.done != nil && w.sid != "" && isStatus(err, http.StatusPreconditionFailed) {
			if t, gerr := c.Token(ctx, w.sid); gerr == nil && w.done(t) {
				return t, nil
			}
		}
		return nil, err
	}
	if len(strings.TrimSpace(string(res.body))) == 0 && w.sid != "" {
		return c.Token(ctx, w.sid)
	}
	return tokenOf(res)
}

// tokenOf reads a token answer and its ETag.
func tokenOf(res *response) (*Token, error) {
	if len(strings.TrimSpace(string(res.body))) == 0 {
		return nil, fmt.Errorf("reading the server's answer: %w", errNoBody)
	}
	var t Token
	if err := decode(res, &t); err != nil {
		return nil, err
	}
	t.ETag = res.header.Get("ETag")
	t.Replayed = res.header.Get("Idempotent-Replayed") == "true"
	return &t, nil
}

// scopesMatch reports whether a token's scopes are what was asked for,
// "cat.*" read as every scope of that category in the server's catalog (read
// only when a category was named).
func (c *Client) scopesMatch(ctx context.Context, want, have []string) bool {
	if slices.ContainsFunc(want, func(s string) bool { _, ok := contract.WholeCategory(s); return ok }) {
		cat, err := c.Scopes(ctx)
		if err != nil {
			return false
		}
		var bad string
		if want, bad = contract.ExpandScopes(cat.Categories, want); bad != "" {
			return false
		}
	}
	return sameSet(want, have)
}

// sameSet reports whether a and b hold the same strings, whatever their order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// sameFold reports whether two address lists hold the same addresses,
// ignoring case and order.
func sameFold(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, 0, len(l))
		for _, s := range l {
			out = append(out, strings.ToLower(strings.TrimSpace(s)))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}
