package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
	"github.com/impactcom/impactctl/output"
)

// maxAPIInput bounds an --input body: the server refuses more than 1 MiB.
const maxAPIInput = 1 << 20

// APIOptions are `api`'s inputs.
type APIOptions struct {
	Env            cmdEnv
	Method         string
	Path           string
	RawFields      []string // -f Name=value: strings
	TypedFields    []string // -F Name=value: numbers, booleans, null, @file
	Input          string   // --input FILE, or - for stdin
	IdempotencyKey string
	Headers        []string // -H "Name: value"
	Include        bool     // -i: the status line and headers before the body
	Paginate       bool     // follow @nextpageuri, merging the pages' arrays
	methodSet      bool
}

func newAPICmd(f *Factory, runF func(*APIOptions) error) *cobra.Command {
	opts := &APIOptions{}
	cmd := &cobra.Command{
		Use:   "api PATH",
		Short: "Send one request to any Token API endpoint",
		Long: `Send one request to a Token API endpoint under the root of the token in use
(/Agencies/{AccountSid} or /Advertisers/{AccountSid}), or under --brand's
passthrough root, with the same credentials, retries and output flags as every
other command: how to reach an endpoint before impactctl has a command for it.

PATH is relative to the root, with or without a leading "/", and may carry a
query. A scheme, a host, "//", ".." or an encoded dot-segment, and a segment
holding ";" or NUL, raw or encoded ("..;" and "..%00" are ".." to some proxies),
are refused (exit 2): the credentials never leave their root.

The method is GET, or POST when fields or --input are given, unless -X says
otherwise. -f Name=value sends a string; -F Name=value sends true, false, null
and numbers as JSON, @FILE as the file's contents (@- for stdin), and anything
else as a string. Name[] collects values into an array. With -X GET the fields
become query parameters, and so do they beside --input, whose JSON is the body.
Every POST carries an Idempotency-Key (--idempotency-key, else a new one).

The answer's JSON goes to stdout as the server sent it, a new AuthToken
included (--jq and --template apply to a successful one; an error's body is
shown whole); the exit code follows the status as for every command (404: 6).
With GITHUB_ACTIONS=true each AuthToken in the answer is first masked with an
::add-mask:: line on stderr.

As in gh: -H "Name: value" adds a request header (never Authorization,
Idempotency-Key or another the client sets itself); -i prints the answer's
status line and headers before its body; --paginate (GET only) follows
@nextpageuri on the same host and prints one answer whose items' array holds
every page's items (its other members are the first page's, @nextpageuri
empty), or nothing and an error when a page fails.`,
		Example: `  impactctl api ApiTokens/Current
  impactctl api 'ApiTokens?State=DISABLED&PageSize=5' --jq '.ApiTokens[].Name'
  impactctl api -X PATCH "ApiTokens/$SID" -f Description='rotated weekly'
  impactctl api -X PUT "ApiTokens/$SID/Scopes" -f 'Scopes[]=reports.read' -f 'Scopes[]=account.read'
  impactctl api "ApiTokens/$SID/Duplicate" -f Name='CI deploys (staging)' -F ApiVersion=3
  echo '{"Sids":["'"$SID"'"]}' | impactctl api ApiTokens/Disable --input -
  impactctl api ApiScopes --brand 1048291
  impactctl api 'ApiTokens?State=ENABLED' --paginate --jq '.ApiTokens[].AccountSid'
  impactctl api ApiTokens/Current -i -H 'IR-Version: 14'`,
		Args: exactArgs(1, "one PATH under the token's root, such as ApiTokens/Current"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			opts.methodSet = cmd.Flags().Changed("method")
			opts.Env = f.env()
			if runF != nil {
				return runF(opts)
			}
			return apiRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Method, "method", "X", "GET", "the HTTP method")
	fl.StringArrayVarP(&opts.RawFields, "raw-field", "f", nil, "a string field Name=value (repeatable)")
	fl.StringArrayVarP(&opts.TypedFields, "field", "F", nil, "a typed field Name=value: true, false, null, a number or @FILE (repeatable)")
	fl.StringVar(&opts.Input, "input", "", "the request body: a JSON file, or - for stdin")
	fl.StringVar(&opts.IdempotencyKey, "idempotency-key", "", "the POST's Idempotency-Key (default: a new one)")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, "an extra request header \"Name: value\" (repeatable)")
	fl.BoolVarP(&opts.Include, "include", "i", false, "print the answer's status line and headers before its body")
	fl.BoolVar(&opts.Paginate, "paginate", false, "GET every page, following @nextpageuri, and print one answer holding all their items")
	return cmd
}

// apiMethods are the methods `api` sends.
var apiMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func apiRun(ctx context.Context, opts *APIOptions) error {
	e := opts.Env
	path, query, err := client.ParseRelativePath(opts.Path)
	if err != nil {
		return cmdutil.UsageErrorf("%w", err)
	}
	fields, err := parseAPIFields(e, opts)
	if err != nil {
		return err
	}
	method, err := apiMethod(opts, fields)
	if err != nil {
		return err
	}
	header, err := parseAPIHeaders(opts.Headers)
	if err != nil {
		return err
	}
	body, query, err := apiBody(e, opts, method, fields, query)
	if err != nil {
		return err
	}

	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	key := opts.IdempotencyKey
	if method == http.MethodPost && key == "" {
		key = client.NewIdempotencyKey()
	}
	req := client.RawRequest{Method: method, Path: path, Query: query, Body: body, IdempotencyKey: key, Header: header}
	res, err := c.Raw(ctx, req)
	if err == nil && opts.Paginate {
		res, err = followPages(ctx, c, res, req)
	}
	if res != nil && opts.Include {
		printAPIHead(e, res)
	}
	if res != nil {
		if perr := printAPIAnswer(e, res, err == nil); perr != nil {
			var ua *pipeline.UntrustedAnswer
			if err == nil || errors.As(perr, &ua) {
				// A malformed secret wins over the status: exit 9.
				return perr
			}
		}
	}
	if err != nil && method == http.MethodPost && mayHaveChanged(err) {
		return fmt.Errorf("%w\nthe request may have been applied: send it again with --idempotency-key %s to get its answer without applying it twice", err, key)
	}
	return err
}

// apiMethod is the request's method: --method, else POST when fields or
// --input give a body, else GET; checked against the flags that go with it.
func apiMethod(opts *APIOptions, fields []apiField) (string, error) {
	method := strings.ToUpper(opts.Method)
	if !opts.methodSet && (len(fields) > 0 || opts.Input != "") {
		method = http.MethodPost
	}
	if !slices.Contains(apiMethods, method) {
		return "", cmdutil.UsageErrorf("invalid --method %q: use one of %s", opts.Method, strings.Join(apiMethods, ", "))
	}
	if opts.IdempotencyKey != "" && method != http.MethodPost {
		return "", cmdutil.UsageErrorf("--idempotency-key goes with POST requests only")
	}
	if opts.Input != "" && bodyless(method) {
		return "", cmdutil.UsageErrorf("a %s request has no body: drop --input", method)
	}
	if opts.Paginate && method != http.MethodGet {
		return "", cmdutil.UsageErrorf("--paginate follows the pages of a list: it goes with GET only")
	}
	return method, nil
}

// bodyless reports whether a request with method sends no body.
func bodyless(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// apiBody is the request's body and query: --input as the body, the fields
// in the query (with --input, or for GET and HEAD), else the fields as a
// JSON object.
func apiBody(e cmdEnv, opts *APIOptions, method string, fields []apiField, query url.Values) ([]byte, url.Values, error) {
	switch {
	case opts.Input != "":
		body, err := readAPIInput(e, opts.Input)
		if err != nil {
			return nil, nil, err
		}
		return body, addQueryFields(query, fields), nil
	case bodyless(method):
		return nil, addQueryFields(query, fields), nil
	case len(fields) > 0:
		obj := map[string]any{}
		for _, fd := range fields {
			if fd.array {
				list, _ := obj[fd.name].([]any)
				obj[fd.name] = append(list, fd.value)
			} else {
				obj[fd.name] = fd.value
			}
		}
		body, err := json.Marshal(obj)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding the fields: %w", err)
		}
		return body, query, nil
	}
	return nil, query, nil
}

// mayHaveChanged reports whether a failed request's outcome is unknown: no
// answer, or a server failure.
func mayHaveChanged(err error) bool {
	var ne *client.NetworkError
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ae, ok := cmdutil.AsAPIError(err)
	return ok && ae.StatusCode >= 500
}

// apiField is one -f or -F field.
type apiField struct {
	name  string
	array bool // Name[]=value
	value any
}

// jsonNumber is the JSON grammar of a number.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseAPIFields reads -f and -F in the order given.
func parseAPIFields(e cmdEnv, opts *APIOptions) ([]apiField, error) {
	var out []apiField
	parse := func(flag, kv string, typed bool) error {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" || name == "[]" {
			return cmdutil.UsageErrorf("invalid %s %q: expected Name=value", flag, kv)
		}
		fd := apiField{name: name, value: value}
		if n, ok := strings.CutSuffix(name, "[]"); ok {
			fd.name, fd.array = n, true
		}
		if typed {
			v, err := typedValue(e, flag, value)
			if err != nil {
				return err
			}
			fd.value = v
		}
		out = append(out, fd)
		return nil
	}
	for _, kv := range opts.RawFields {
		if err := parse("-f", kv, false); err != nil {
			return nil, err
		}
	}
	for _, kv := range opts.TypedFields {
		if err := parse("-F", kv, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// typedValue is -F's reading of a value.
func typedValue(e cmdEnv, flag, v string) (any, error) {
	switch {
	case v == "true":
		return true, nil
	case v == "false":
		return false, nil
	case v == "null":
		return nil, nil
	case jsonNumber.MatchString(v):
		return json.Number(v), nil
	case strings.HasPrefix(v, "@"):
		b, err := readLimited(e, v[1:], flag+" "+v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return v, nil
}

// addQueryFields turns fields into query parameters, as gh does for GET.
func addQueryFields(q url.Values, fields []apiField) url.Values {
	if len(fields) == 0 {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	for _, fd := range fields {
		name := fd.name
		if fd.array {
			name += "[]"
		}
		var s string
		switch v := fd.value.(type) {
		case nil:
		case string:
			s = v
		default:
			s = fmt.Sprint(v)
		}
		q.Add(name, s)
	}
	return q
}

// readAPIInput reads --input: a file or stdin, JSON, at most 1 MiB.
func readAPIInput(e cmdEnv, name string) ([]byte, error) {
	b, err := readLimited(e, name, "--input")
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, cmdutil.UsageErrorf("--input is not JSON: the body goes as application/json")
	}
	return b, nil
}

// readLimited reads a file, or stdin for "-", refusing more than the
// server takes in a body.
func readLimited(e cmdEnv, name, what string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = e.IO.In
	} else {
		file, err := os.Open(name)
		if err != nil {
			return nil, cmdutil.UsageErrorf("%s: %w", what, err)
		}
		defer file.Close()
		r = file
	}
	b, err := io.ReadAll(io.LimitReader(r, maxAPIInput+1))
	if err != nil {
		return nil, cmdutil.UsageErrorf("%s: %w", what, err)
	}
	if len(b) > maxAPIInput {
		return nil, cmdutil.UsageErrorf("%s is over 1 MiB, more than the server takes in a body", what)
	}
	return b, nil
}

// parseAPIHeaders reads -H "Name: value": a header name of token
// characters and a value of printable characters, never one the client
// sets itself (credentials, framing, Idempotency-Key).
func parseAPIHeaders(raw []string) (http.Header, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, kv := range raw {
		name, value, ok := strings.Cut(kv, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) {
			return nil, cmdutil.UsageErrorf("invalid -H %q: expected \"Name: value\"", kv)
		}
		for _, r := range value {
			if r < 0x20 || r == 0x7f {
				return nil, cmdutil.UsageErrorf("invalid -H %s: the value holds a control character", name)
			}
		}
		if client.ReservedHeader(name) {
			hint := ""
			if http.CanonicalHeaderKey(name) == "Idempotency-Key" {
				hint = ": use --idempotency-key"
			}
			return nil, cmdutil.UsageErrorf("-H %s: impactctl sets that header itself%s", http.CanonicalHeaderKey(name), hint)
		}
		h.Add(name, value)
	}
	return h, nil
}

// validHeaderName reports whether s is an HTTP header name (RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// printAPIHead writes an answer's status line and headers, as gh api -i
// does, sanitised: they come from the server.
func printAPIHead(e cmdEnv, res *client.RawResponse) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d %s\n", res.StatusCode, http.StatusText(res.StatusCode))
	names := make([]string, 0, len(res.Header))
	for name := range res.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range res.Header[name] {
			fmt.Fprintf(&b, "%s: %s\n", output.Sanitize(name), output.Sanitize(v))
		}
	}
	b.WriteString("\n")
	io.WriteString(e.IO.Out, b.String())
}

// maxAPIPages bounds --paginate when a page does not say how many there are.
const maxAPIPages = 10000

// followPages reads the pages after first by their @nextpageuri and returns
// one answer: first's, with its items' array holding every page's items and
// @nextpageuri empty. A page whose items are not found, a link to another
// host, or a chain longer than the first page's @numpages + 1 ends it with
// an error and no answer, so nothing partial is printed.
func followPages(ctx context.Context, c *client.Client, first *client.RawResponse, req client.RawRequest) (*client.RawResponse, error) {
	env, key, items, err := splitAPIPage(first.Body)
	if err != nil {
		return nil, cmdutil.UsageErrorf("--paginate: the answer is not a list: %v", err)
	}
	numPages, _ := strconv.Atoi(fmt.Sprint(env["@numpages"]))
	limit := min(max(numPages, 1), maxAPIPages) + 1
	res := first
	for read := 1; ; read++ {
		next, _ := env["@nextpageuri"].(string)
		if next == "" {
			break
		}
		if read >= limit {
			return nil, fmt.Errorf("--paginate: the server announced %d page(s) but linked past them; stopped after %d pages", numPages, read)
		}
		if res, err = c.RawNext(ctx, res, next, req); err != nil {
			return nil, err
		}
		var more []json.RawMessage
		var nextKey string
		if env, nextKey, more, err = splitAPIPage(res.Body); err != nil || nextKey != key {
			return nil, fmt.Errorf("--paginate: page %d is not a page of the same list", read+1)
		}
		if len(more) == 0 {
			break
		}
		items = append(items, more...)
	}
	merged, _, _, _ := splitAPIPage(first.Body)
	merged[key] = items
	merged["@nextpageuri"] = ""
	body, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	out := *first
	out.Body = body
	return &out, nil
}

// splitAPIPage decodes a list answer into its members and finds its items:
// the one array-valued member whose name does not start with "@".
func splitAPIPage(body []byte) (map[string]any, string, []json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, "", nil, err
	}
	env := map[string]any{}
	key := ""
	var items []json.RawMessage
	for name, v := range raw {
		var arr []json.RawMessage
		if !strings.HasPrefix(name, "@") && json.Unmarshal(v, &arr) == nil && len(v) > 0 && v[0] == '[' {
			if key != "" {
				return nil, "", nil, errors.New("more than one array in it")
			}
			key, items = name, arr
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var val any
		if err := dec.Decode(&val); err != nil {
			return nil, "", nil, err
		}
		env[name] = val
	}
	if key == "" {
		return nil, "", nil, errors.New("no array of items in it")
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return env, key, items, nil
}

// printAPIAnswer writes an answer's body to stdout: JSON through the output
// flags when the request succeeded, as the server sent it otherwise. Under
// GitHub Actions every AuthToken in it is masked first.
func printAPIAnswer(e cmdEnv, res *client.RawResponse, ok bool) error {
	body := bytes.TrimSpace(res.Body)
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		// Not JSON: shown as it came, made safe for a terminal.
		text := string(body)
		if e.IO.IsStdoutTTY() {
			text = output.Sanitize(text)
		}
		_, err := fmt.Fprintln(e.IO.Out, text)
		return err
	}
	secrets := authTokens(doc)
	for _, s := range secrets {
		if err := pipeline.CheckSecret(s, "an AuthToken in the answer"); err != nil {
			return err
		}
	}
	for _, s := range secrets {
		pipeline.MaskSecret(e.Msgs, pipeline.InGitHubActions(e.Getenv), s)
	}
	if ok {
		return e.Printer.Object(doc)
	}
	// An error's body is the API's error object, shown whole whatever
	// --jq or --template asked of a successful answer.
	p, err := output.New(e.IO.Out, output.Options{Format: output.FormatJSON})
	if err != nil {
		return err
	}
	return p.Object(doc)
}

// authTokens finds every string under an "AuthToken" key in a decoded JSON
// document, however deep.
func authTokens(doc any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "AuthToken" && s != "" {
					out = append(out, s)
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	slices.Sort(out)
	return slices.Compact(out)
}
