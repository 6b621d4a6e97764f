package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/impactcom/impactctl/server/service"
)

// endpoint is one operation, mounted under each root it belongs to.
type endpoint struct {
	method string
	path   string // below the root
	scope  string // "" when none is needed
	// agencyOnly endpoints exist only under /Agencies/{sid}.
	agencyOnly bool
	// ownRootOnly endpoints are not offered on the passthrough root.
	ownRootOnly bool
	// replay marks the reset endpoints, where a self-reset may be replayed with the
	// previous secret.
	replay bool
	handle func(w http.ResponseWriter, r *http.Request, c *service.Call) error
}

var roots = []struct {
	kind   rootKind
	prefix string
}{
	{rootAgency, "/Agencies/{sid}"},
	{rootBrand, "/Advertisers/{sid}"},
	{rootPassthrough, "/Agencies/{sid}/Advertisers/{adv}"},
}

func (h *handler) routes() {
	eps := []endpoint{
		{method: "GET", path: "ApiTokens/Current", ownRootOnly: true, handle: h.current},
		{method: "GET", path: "CompanyInformation", scope: service.ScopeAccountRead, handle: h.company},
		{method: "GET", path: "Advertisers", scope: service.ScopeAdvertisersRead, agencyOnly: true, handle: h.advertisers},
		{method: "GET", path: "Advertisers/{adv}", scope: service.ScopeAdvertisersRead, agencyOnly: true, handle: h.advertiser},
		{method: "GET", path: "Users", scope: service.ScopeUsersRead, handle: h.listUsers},
		{method: "GET", path: "ApiScopes", handle: h.apiScopes},
		{method: "GET", path: "ApiTokens", scope: service.ScopeTokensRead, handle: h.listTokens},
		{method: "GET", path: "ApiTokens/{tok}", scope: service.ScopeTokensRead, handle: h.getToken},
		{method: "GET", path: "ApiTokens/{tok}/AuthToken", scope: service.ScopeTokensReveal, handle: h.revealToken},
		{method: "GET", path: "ApiTokens/{tok}/Events", scope: service.ScopeTokensRead, handle: h.tokenEvents},
		{method: "GET", path: "ApiTokenEvents", scope: service.ScopeTokensRead, handle: h.accountEvents},

		{method: "POST", path: "ApiTokens", scope: service.ScopeTokensWrite, handle: h.createToken},
		{method: "POST", path: "ApiTokens/{tok}/Duplicate", scope: service.ScopeTokensWrite, handle: h.duplicateToken},
		{method: "PATCH", path: "ApiTokens/{tok}", scope: service.ScopeTokensWrite, handle: h.patchToken},
		{method: "POST", path: "ApiTokens/{tok}/Reset", scope: service.ScopeTokensWrite, replay: true, handle: h.resetToken},
		{method: "POST", path: "ApiTokens/{tok}/Disable", scope: service.ScopeTokensWrite, handle: h.disableToken},
		{method: "POST", path: "ApiTokens/{tok}/Enable", scope: service.ScopeTokensWrite, handle: h.enableToken},
		{method: "DELETE", path: "ApiTokens/{tok}", scope: service.ScopeTokensWrite, handle: h.deleteToken},
		{method: "PUT", path: "ApiTokens/{tok}/Scopes", scope: service.ScopeTokensWrite, handle: h.setScopes},
		{method: "DELETE", path: "ApiTokens/{tok}/Scopes", scope: service.ScopeTokensWrite, handle: h.clearScopes},
		{method: "PUT", path: "ApiTokens/{tok}/DeveloperEmails", scope: service.ScopeTokensWrite, handle: h.setEmails},
		{method: "DELETE", path: "ApiTokens/{tok}/PreviousAuthToken", scope: service.ScopeTokensWrite, handle: h.endOverlap},
		{method: "POST", path: "ApiTokens/Disable", scope: service.ScopeTokensWrite, handle: h.bulk(service.BulkDisable)},
		{method: "POST", path: "ApiTokens/Enable", scope: service.ScopeTokensWrite, handle: h.bulk(service.BulkEnable)},
		{method: "POST", path: "ApiTokens/Delete", scope: service.ScopeTokensWrite, handle: h.bulk(service.BulkDelete)},
		{method: "POST", path: "ApiTokens/Reset", scope: service.ScopeTokensWrite, replay: true, handle: h.bulk(service.BulkReset)},
	}
	for _, rt := range roots {
		for _, ep := range eps {
			if ep.agencyOnly && rt.kind != rootAgency || ep.ownRootOnly && rt.kind == rootPassthrough {
				continue
			}
			h.mux.Handle(ep.method+" "+rt.prefix+"/"+ep.path, h.endpoint(rt.kind, ep))
		}
	}
}

// readsTarget reports whether the endpoint reads the token its path names as it
// stands (a GET), so authentication may read it in the same lookup as the caller's.
func (ep endpoint) readsTarget() bool {
	return ep.method == http.MethodGet && strings.Contains(ep.path, "{tok}")
}

// endpoint wraps an operation with authentication, authorisation and error answers.
func (h *handler) endpoint(kind rootKind, ep endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.authorize(w, r, kind, ep)
		replayed := false
		if err == nil && r.Method == http.MethodPost {
			replayed, err = h.prepareIdempotency(w, r, c)
		}
		if err == nil && !replayed {
			err = ep.handle(w, r, c)
		}
		if err != nil {
			h.fail(w, r, err)
		}
	})
}

// fail answers err in the API's error shape; unexpected errors are logged, never sent.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae, known := asAPIError(err)
	if !known && r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away (a CLI cancelling the page it read ahead): no
		// server fault. 499, as nginx logs it; nobody reads the answer.
		h.log.Info("request ended by the client", "method", r.Method, "path", r.URL.Path)
		ae.Status = StatusClientClosed
		writeError(w, ae)
		return
	}
	if !known {
		h.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeError(w, ae)
}

// StatusClientClosed is the status logged for a request its client abandoned.
const StatusClientClosed = 499
