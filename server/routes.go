package server

import (
	"errors"
	"net/http"
	"strings"
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
	handle func(w http.ResponseWriter, r *http.Request, c *call) error
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
		{method: "GET", path: "CompanyInformation", scope: scopeAccountRead, handle: h.company},
		{method: "GET", path: "Advertisers", scope: scopeAdvertisersRead, agencyOnly: true, handle: h.advertisers},
		{method: "GET", path: "Advertisers/{adv}", scope: scopeAdvertisersRead, agencyOnly: true, handle: h.advertiser},
		{method: "GET", path: "Users", scope: scopeUsersRead, handle: h.listUsers},
		{method: "GET", path: "ApiScopes", handle: h.apiScopes},
		{method: "GET", path: "ApiTokens", scope: scopeTokensRead, handle: h.listTokens},
		{method: "GET", path: "ApiTokens/{tok}", scope: scopeTokensRead, handle: h.getToken},
		{method: "GET", path: "ApiTokens/{tok}/AuthToken", scope: scopeTokensReveal, handle: h.revealToken},
		{method: "GET", path: "ApiTokens/{tok}/Events", scope: scopeTokensRead, handle: h.tokenEvents},
		{method: "GET", path: "ApiTokenEvents", scope: scopeTokensRead, handle: h.accountEvents},

		{method: "POST", path: "ApiTokens", scope: scopeTokensWrite, handle: h.createToken},
		{method: "POST", path: "ApiTokens/{tok}/Duplicate", scope: scopeTokensWrite, handle: h.duplicateToken},
		{method: "PATCH", path: "ApiTokens/{tok}", scope: scopeTokensWrite, handle: h.patchToken},
		{method: "POST", path: "ApiTokens/{tok}/Reset", scope: scopeTokensWrite, replay: true, handle: h.resetToken},
		{method: "POST", path: "ApiTokens/{tok}/Disable", scope: scopeTokensWrite, handle: h.disableToken},
		{method: "POST", path: "ApiTokens/{tok}/Enable", scope: scopeTokensWrite, handle: h.enableToken},
		{method: "DELETE", path: "ApiTokens/{tok}", scope: scopeTokensWrite, handle: h.deleteToken},
		{method: "PUT", path: "ApiTokens/{tok}/Scopes", scope: scopeTokensWrite, handle: h.setScopes},
		{method: "DELETE", path: "ApiTokens/{tok}/Scopes", scope: scopeTokensWrite, handle: h.clearScopes},
		{method: "PUT", path: "ApiTokens/{tok}/DeveloperEmails", scope: scopeTokensWrite, handle: h.setEmails},
		{method: "DELETE", path: "ApiTokens/{tok}/PreviousAuthToken", scope: scopeTokensWrite, handle: h.endOverlap},
		{method: "POST", path: "ApiTokens/Disable", scope: scopeTokensWrite, handle: h.bulk(bulkDisable)},
		{method: "POST", path: "ApiTokens/Enable", scope: scopeTokensWrite, handle: h.bulk(bulkEnable)},
		{method: "POST", path: "ApiTokens/Delete", scope: scopeTokensWrite, handle: h.bulk(bulkDelete)},
		{method: "POST", path: "ApiTokens/Reset", scope: scopeTokensWrite, replay: true, handle: h.bulk(bulkReset)},
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
		ae.Status = statusClientClosed
		writeError(w, ae)
		return
	}
	if !known {
		h.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeError(w, ae)
}

// statusClientClosed is the status logged for a request its client abandoned.
const statusClientClosed = 499
