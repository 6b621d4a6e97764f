package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/impactcom/impactctl/contract"
)

// page is the paging envelope of a list answer. impact.com sends its
// numbers as strings; both forms are accepted.
type page struct {
	Page     flexInt `json:"@page"`
	NumPages flexInt `json:"@numpages"`
	PageSize flexInt `json:"@pagesize"`
	Total    flexInt `json:"@total"`
	Next     string  `json:"@nextpageuri"`
}

// list pages through rel under the token root and yields the items under
// key, decoded, as each page arrives, stopping at lo.Limit.
func list[T any](ctx context.Context, c *Client, rel string, q url.Values, key string, lo ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		n := 0
		for items, err := range pages(ctx, c, rel, q, key, lo) {
			if err != nil {
				yield(zero, err)
				return
			}
			for _, raw := range items {
				var v T
				if err := unmarshal(raw, &v); err != nil {
					yield(zero, fmt.Errorf("reading %s: %w", key, err))
					return
				}
				if !yield(v, nil) {
					return
				}
				if n++; lo.Limit > 0 && n >= lo.Limit {
					return
				}
			}
		}
	}
}

// unmarshal decodes one list item, a token by hand when it is plain.
func unmarshal[T any](raw []byte, v *T) error {
	switch t := any(v).(type) {
	case *Token:
		return unmarshalToken(raw, t)
	case **Token:
		if tok := new(Token); decodeToken(raw, tok) {
			*t = tok
			return nil
		}
	}
	return json.Unmarshal(raw, v)
}

// listJSON is list, yielding each item as the compact JSON that encoding
// its decoded T gives (encoding/json, no HTML escaping): the server's own
// bytes when they are exactly that already, else the item decoded and
// encoded again. A listing written as JSON so skips a decode and an encode
// per item and still writes what encoding the T would.
func listJSON[T any](ctx context.Context, c *Client, rel string, q url.Values, key string, lo ListOptions) iter.Seq2[json.RawMessage, error] {
	sh := shapeFor[T]()
	return func(yield func(json.RawMessage, error) bool) {
		n := 0
		for items, err := range pages(ctx, c, rel, q, key, lo) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, raw := range items {
				if !sh.encodes(raw) {
					var v T
					if err := json.Unmarshal(raw, &v); err != nil {
						yield(nil, fmt.Errorf("reading %s: %w", key, err))
						return
					}
					if raw, err = encode(v); err != nil {
						yield(nil, fmt.Errorf("reading %s: %w", key, err))
						return
					}
				}
				if !yield(raw, nil) {
					return
				}
				if n++; lo.Limit > 0 && n >= lo.Limit {
					return
				}
			}
		}
	}
}

// encode is v's compact JSON as encoding/json writes it without HTML
// escaping, the form listJSON yields.
func encode(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// pages yields the items of each page of a listing as the server sent
// them. The next page is requested while the caller works on the current
// one — once the first page has said how many there are, two at once (see
// prefetch) — and none is requested once lo.Limit items have arrived. When
// the caller stops early, the requests in flight are cancelled.
func pages(ctx context.Context, c *Client, rel string, q url.Values, key string, lo ListOptions) iter.Seq2[[]json.RawMessage, error] {
	type fetched struct {
		items []json.RawMessage
		err   error
	}
	return func(yield func([]json.RawMessage, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		// Unbuffered: the reader holds at most one page the caller has not
		// taken yet.
		ahead := make(chan fetched)
		stopped := make(chan struct{}) // the caller is gone
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(ahead)
			c.readPages(ctx, rel, q, key, lo, func(items []json.RawMessage, err error) bool {
				select {
				case ahead <- fetched{items, err}:
					return true
				case <-stopped:
					return false
				}
			})
		}()
		defer func() {
			close(stopped)
			cancel()
			<-done
		}()
		for p := range ahead {
			if !yield(p.items, p.err) || p.err != nil {
				return
			}
		}
	}
}

// readPages follows a listing's pages in turn, handing each page's items,
// or the error that ends the listing, to send until send returns false.
func (c *Client) readPages(ctx context.Context, rel string, q url.Values, key string, lo ListOptions, send func([]json.RawMessage, error) bool) {
	root, err := c.root(ctx)
	if err != nil {
		send(nil, err)
		return
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("PageSize", strconv.Itoa(lo.pageSize()))
	next := c.url(&request{method: http.MethodGet, path: root + rel, query: q})
	seen := map[string]bool{}
	n := 0
	maxPages := 0 // the first page's @numpages + 1
	var ahead *prefetch
	defer func() {
		if ahead != nil {
			ahead.stop()
		}
	}()
	for read := 1; ; read++ {
		seen[next.String()] = true
		res, err := c.fetchPage(ctx, next, &ahead)
		if err != nil {
			send(nil, err)
			return
		}
		env, items, err := decodePage(res.body, key)
		if err != nil {
			send(nil, fmt.Errorf("reading page of %s: %w", next.Path, err))
			return
		}
		if read == 1 {
			// One page more than announced leaves room for tokens
			// created while the list is read; a chain running on past
			// it is a broken or hostile server.
			// No server has more pages than a Page may number.
			maxPages = min(max(int(env.NumPages), 1), contract.MaxPage) + 1
		}
		if len(items) > 0 && !send(items, nil) {
			return
		}
		n += len(items)
		if env.Next == "" || len(items) == 0 || lo.Limit > 0 && n >= lo.Limit {
			return
		}
		u, err := c.nextURL(next, env.Next, q)
		if err != nil {
			send(nil, err)
			return
		}
		if seen[u.String()] {
			send(nil, &PageChainError{Path: u.Path, Loops: true})
			return
		}
		if read >= maxPages {
			send(nil, &PageChainError{Path: u.Path, Announced: maxPages - 1, Read: read})
			return
		}
		if read == 1 && lo.Limit == 0 && !lo.MayStopEarly && budgetCovers(c.LastRateLimit(), int(env.NumPages)-1) {
			// The first page said how many there are: the rest are read
			// a few at once, in order, each still checked against the chain.
			ahead = c.startPrefetch(ctx, u, min(int(env.NumPages), maxPages))
		}
		next = u
	}
}

// fetchPage reads the page at u: from the pages read ahead when they hold it,
// otherwise with a request of its own, and then, the chain having led elsewhere,
// no longer reading ahead.
func (c *Client) fetchPage(ctx context.Context, u *url.URL, ahead **prefetch) (*response, error) {
	if *ahead != nil {
		if res, err, ok := (*ahead).take(u); ok {
			return res, err
		}
		(*ahead).stop()
		*ahead = nil
	}
	return c.do(ctx, &request{method: http.MethodGet, u: u})
}

// decodePage splits a list answer into its envelope and its items, found
// under key or, failing that, under the only array-valued field. The
// items are slices of body, as sent.
func decodePage(body []byte, key string) (*page, []json.RawMessage, error) {
	start := skipSpace(body, 0)
	if start == len(body) || body[start] != '{' || !validJSON(body) {
		// Let encoding/json say what is wrong.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("no %s in the answer", key)
	}
	var (
		fields = map[string][]byte{} // the last value of each name, as encoding/json keeps
		envObj = []byte{'{'}         // the "@…" members, the only ones that can fill a page
		split  []json.RawMessage     // the elements of fields[key], when an array
	)
	for m := range members(body[start:], key) {
		fields[m.name] = m.value
		if m.name == key {
			split = m.items
		}
		if strings.HasPrefix(m.name, "@") {
			if len(envObj) > 1 {
				envObj = append(envObj, ',')
			}
			envObj = append(append(append(envObj, m.rawName...), ':'), m.value...)
		}
	}
	envObj = append(envObj, '}')
	var env page
	if err := json.Unmarshal(envObj, &env); err != nil {
		// Odd envelope numbers must not lose the items; only the link
		// matters for paging.
		env = page{}
		if raw, ok := fields["@nextpageuri"]; ok {
			_ = json.Unmarshal(raw, &env.Next)
		}
	}
	raw, ok := fields[key]
	if !ok {
		var found []string
		for k, v := range fields {
			if !strings.HasPrefix(k, "@") && len(v) > 0 && v[0] == '[' {
				found = append(found, k)
			}
		}
		if len(found) != 1 {
			return nil, nil, fmt.Errorf("no %s in the answer", key)
		}
		raw = fields[found[0]]
	}
	switch {
	case raw[0] == '[' && ok:
		return &env, split, nil
	case raw[0] == '[':
		return &env, elements(raw), nil
	case string(raw) == "null":
		return &env, nil, nil
	}
	var items []json.RawMessage
	err := json.Unmarshal(raw, &items) // not an array: encoding/json's words for it
	return nil, nil, err
}

// PagingError is a list answer whose @nextpageuri points away from the
// API: another scheme or host, a protocol-relative "//host/…" link, or a
// link with user info. It is not followed, so the credentials never go
// there; the items before it were already yielded.
type PagingError struct {
	// URI is the link without its query and password, as in
	// "https://elsewhere.example/Agencies/IR…/ApiTokens" or "//elsewhere.example/x".
	URI string
}

// Error reads like "refusing to follow @nextpageuri to another host:
// https://elsewhere.example/x".
func (e *PagingError) Error() string {
	return "refusing to follow @nextpageuri to another host: " + e.URI
}

// PageChainError is a list whose @nextpageuri links loop back to a page
// already read, or run on past the pages the first page announced
// (@numpages, plus one for items added while reading). The link is not
// followed; the items before it were already yielded.
type PageChainError struct {
	// Path is the link's path, without its query.
	Path string
	// Loops is set when the link leads back to a page already read.
	Loops bool
	// Announced is the first page's @numpages; Read is how many pages
	// were read before the link was refused.
	Announced, Read int
}

// Error reads like "the server announced 3 pages but linked past them:
// stopped after 4 pages, before /Agencies/IR…/ApiTokens".
func (e *PageChainError) Error() string {
	if e.Loops {
		return "refusing to follow @nextpageuri: paging loops back to " + e.Path
	}
	return fmt.Sprintf("refusing to follow @nextpageuri: the server announced %d page(s) but linked past them; stopped after %d pages, before %s",
		e.Announced, e.Read, e.Path)
}

// shownURI is ref fit for an error message: no query or fragment, which
// may carry tokens, and no password.
func shownURI(ref *url.URL) string {
	u := *ref
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.Redacted()
}

// nextURL resolves an @nextpageuri against the current page. A relative
// link is resolved under the base URL; an absolute one is followed only on
// the same scheme and host, so the credentials never go elsewhere. Filters
// the link leaves out are carried over.
func (c *Client) nextURL(cur *url.URL, link string, q url.Values) (*url.URL, error) {
	ref, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return nil, fmt.Errorf("bad @nextpageuri %q: %w", link, err)
	}
	var u *url.URL
	switch {
	case ref.Scheme != "" || ref.Host != "" || ref.User != nil:
		// A protocol-relative link ("//host/…") has no scheme, so it never
		// matches and is refused like any other host.
		if !strings.EqualFold(ref.Scheme, c.base.Scheme) || !strings.EqualFold(ref.Host, c.base.Host) || ref.User != nil {
			return nil, &PagingError{URI: shownURI(ref)}
		}
		u = ref
	case strings.HasPrefix(ref.Path, "/"):
		if c.prefix != "" && ref.Path != c.prefix && !strings.HasPrefix(ref.Path, c.prefix+"/") {
			ref.Path = c.prefix + ref.Path
			ref.RawPath = ""
		}
		u = c.base.ResolveReference(ref)
	default:
		u = cur.ResolveReference(ref)
	}
	u.Fragment = ""
	nq := u.Query()
	changed := false
	for k, v := range q {
		if k == "Page" {
			continue
		}
		if _, ok := nq[k]; !ok {
			nq[k] = v
			changed = true
		}
	}
	if changed {
		u.RawQuery = nq.Encode()
	}
	return u, nil
}

var errNoBody = errors.New("empty answer")
