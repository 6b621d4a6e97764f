package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// SkipHeader marks a request as deliberately off-contract when set to any
// non-empty value: a malformed SID, a missing body, an unknown route or method.
// Such a request is not itself checked, but the answer still is: against the
// operation's responses when the route is known, else it must be one of the
// contract's error answers (404, or 405 with Allow). Transport strips the header
// before the request leaves.
const SkipHeader = "X-Contract-Skip"

type offContractKey struct{}

// OffContract returns a context that marks the requests made with it as
// deliberately off-contract, like SkipHeader does.
func OffContract(ctx context.Context) context.Context {
	return context.WithValue(ctx, offContractKey{}, true)
}

func isOffContract(req *http.Request) bool {
	if req.Header.Get(SkipHeader) != "" {
		return true
	}
	off, _ := req.Context().Value(offContractKey{}).(bool)
	return off
}

// Validator checks HTTP exchanges against the embedded contract. It is safe for
// concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	// unrouted answers for requests whose route the contract does not describe:
	// the contract's error answers, nothing else.
	unrouted *openapi3.Operation
}

// NewValidator loads the embedded contract, validates it and builds a router
// that matches server-relative paths on any host.
func NewValidator() (*Validator, error) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(Spec())
	if err != nil {
		return nil, fmt.Errorf("load the contract: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate the contract: %w", err)
	}
	// The contract names the reference server's default address; tests run
	// servers on any loopback port, so the router matches paths on any host.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the contract: %w", err)
	}

	unrouted := openapi3.NewOperation()
	unrouted.Responses = openapi3.NewResponses()
	for status, name := range map[int]string{
		http.StatusBadRequest:            "BadRequest",
		http.StatusUnauthorized:          "Unauthorized",
		http.StatusForbidden:             "Forbidden",
		http.StatusNotFound:              "NotFound",
		http.StatusRequestEntityTooLarge: "PayloadTooLarge",
		http.StatusTooManyRequests:       "TooManyRequests",
	} {
		ref := doc.Components.Responses[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("the contract has no response %q", name)
		}
		unrouted.Responses.Set(strconv.Itoa(status), ref)
	}
	methodNotAllowed, err := methodNotAllowed(doc)
	if err != nil {
		return nil, err
	}
	unrouted.Responses.Set(strconv.Itoa(http.StatusMethodNotAllowed), methodNotAllowed)

	schemaOpts := append(doc.GetSchemaValidationOptions(),
		openapi3.WithStringFormatValidator("email",
			openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		// Answers may hold secrets: errors name the place and the reason, never the value.
		openapi3.DisableSchemaErrorDetails(),
	)
	return &Validator{
		doc:    doc,
		router: router,
		opts: &openapi3filter.Options{
			IncludeResponseStatus:             true,
			RejectWhenRequestBodyNotSpecified: true,
			SkipSettingDefaults:               true,
			AuthenticationFunc:                basicAuthPresent,
			SchemaValidationOptions:           schemaOpts,
		},
		unrouted: unrouted,
	}, nil
}

// methodNotAllowed is the answer to a method a described path does not have:
// the Error object with Allow. No operation can declare it, so the contract
// describes it in prose and the validator builds it here.
func methodNotAllowed(doc *openapi3.T) (*openapi3.ResponseRef, error) {
	errSchema := doc.Components.Schemas["Error"]
	if errSchema == nil || errSchema.Value == nil {
		return nil, errors.New("the contract has no schema \"Error\"")
	}
	allow := &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "The methods the path supports, comma-separated.",
		Required:    true,
		Schema:      openapi3.NewStringSchema().WithMinLength(1).NewRef(),
	}}
	resp := openapi3.NewResponse().
		WithDescription("The path exists, the method does not; Allow lists the methods.").
		WithContent(openapi3.NewContentWithJSONSchemaRef(&openapi3.SchemaRef{
			Ref: "#/components/schemas/Error", Value: errSchema.Value,
		}))
	resp.Headers = openapi3.Headers{"Allow": &openapi3.HeaderRef{Value: allow}}
	return &openapi3.ResponseRef{Value: resp}, nil
}

// basicAuthPresent accepts any request that carries Basic credentials: the
// contract says how to authenticate, the server decides whether they are good.
func basicAuthPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "basic") {
		return fmt.Errorf("security scheme %q is not HTTP Basic", in.SecuritySchemeName)
	}
	if user, _, ok := in.RequestValidationInput.Request.BasicAuth(); !ok || user == "" {
		return errors.New("no HTTP Basic credentials")
	}
	return nil
}

// Transport wraps base (http.DefaultTransport when nil) so that every request
// and answer through it is checked against the contract. A mismatch fails t
// with the method, path, status and the reason; the answer is handed to the
// caller unchanged either way. Mark deliberately invalid requests with
// SkipHeader or OffContract.
func (v *Validator) Transport(base http.RoundTripper, t testing.TB) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{v: v, base: base, t: t}
}

type transport struct {
	v    *Validator
	base http.RoundTripper
	t    testing.TB
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("contract transport: read request body: %w", err)
		}
	}

	out := req.Clone(req.Context())
	out.Header.Del(SkipHeader)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = io.NopCloser(bytes.NewReader(reqBody))
		out.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(reqBody)), nil
		}
		out.ContentLength = int64(len(reqBody))
	}

	resp, err := tr.base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return nil, fmt.Errorf("contract transport: read response body: %w", err)
	}

	if err := tr.v.Check(req, reqBody, resp, respBody); err != nil {
		tr.t.Errorf("contract: %s %s -> %d: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

// Check validates one exchange: req with its body already read into reqBody, and
// resp with its body read into respBody (resp.Body is not touched). It reports
// every way the exchange departs from the contract, or nil. A request marked
// off-contract (SkipHeader, OffContract) is not itself checked; its answer is.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	ctx := context.WithoutCancel(req.Context())
	off := isOffContract(req)

	vreq := req.Clone(ctx)
	vreq.Header.Del(SkipHeader)
	if len(reqBody) > 0 {
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	} else {
		vreq.Body = http.NoBody
	}
	vreq.ContentLength = int64(len(reqBody))

	var errs []error
	route, pathParams, err := v.router.FindRoute(vreq)
	if err == nil && len(vreq.URL.Path) > 1 && strings.HasSuffix(vreq.URL.Path, "/") {
		// The router forgives a trailing slash; the contract's paths have none.
		err = fmt.Errorf("%w: the path ends in a slash", routers.ErrPathNotFound)
	}
	if err != nil {
		if !off {
			errs = append(errs, fmt.Errorf("request: %w (mark deliberate ones with %s)", err, SkipHeader))
		}
		route = &routers.Route{
			Spec:      v.doc,
			Path:      vreq.URL.Path,
			PathItem:  &openapi3.PathItem{},
			Method:    vreq.Method,
			Operation: v.unrouted,
		}
		pathParams = map[string]string{}
	}

	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: pathParams,
		Route:      route,
		Options:    v.opts,
	}
	if err == nil && !off {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("request: %w", err))
		}
		if err := unknownQuery(vreq, route); err != nil {
			errs = append(errs, fmt.Errorf("request: %w", err))
		}
	}

	if err := v.checkResponse(ctx, in, resp, respBody); err != nil {
		errs = append(errs, fmt.Errorf("response: %w", err))
	}
	return errors.Join(errs...)
}

func (v *Validator) checkResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) error {
	if resp.StatusCode == http.StatusNoContent && len(body) != 0 {
		return errors.New("a 204 answer must have no body")
	}
	if resp.StatusCode == http.StatusNotModified {
		return errors.New("status 304 is not part of the contract")
	}
	header := resp.Header
	if header == nil {
		header = http.Header{}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 header,
		Options:                v.opts,
	}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, out)
}

// unknownQuery reports query parameters the operation does not declare: a
// server ignores them, so a client sending one is mistaken.
func unknownQuery(req *http.Request, route *routers.Route) error {
	var declared []string
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared = append(declared, p.Value.Name)
			}
		}
	}
	var unknown []string
	for name := range req.URL.Query() {
		if !slices.Contains(declared, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("query parameters %q are not part of the operation", unknown)
}
