package httpapi

import (
	"net/http"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/ratelimit"
	"github.com/impactcom/impactctl/server/service"
)

// rootKind says which of the three roots a route hangs under.
type rootKind int

const (
	rootAgency      rootKind = iota // /Agencies/{sid}
	rootBrand                       // /Advertisers/{sid}
	rootPassthrough                 // /Agencies/{sid}/Advertisers/{adv}
)

// authorize runs the authentication order: find the token by SID, compare the secret
// in constant time (a dummy compare for unknown SIDs), expiry, state, the path's root,
// scope, the token's rate budget, then the body (415, 413, 400).
func (h *handler) authorize(w http.ResponseWriter, r *http.Request, kind rootKind, ep endpoint) (*service.Call, error) {
	ctx := r.Context()
	sid, secret, _ := r.BasicAuth()
	g := service.Grace{Method: r.Method}
	if ep.replay {
		g.Path, g.Key = r.URL.Path, r.Header.Get("Idempotency-Key")
	}
	target := ""
	if ep.readsTarget() {
		target = r.PathValue("tok")
	}
	res, err := h.svc.Authenticate(ctx, sid, secret, g, target)
	if err != nil {
		// An expired token presented its right secret: no failed authentication.
		if ae, refused := asAPIError(err); refused && ae.Code != contract.CodeTokenExpired && h.authFail.Enabled() {
			if cerr := h.authFail.Add(ctx, infoOf(ctx).clientKey); cerr != nil {
				return nil, cerr
			}
		}
		return nil, err
	}
	t := res.Token
	info := infoOf(ctx)
	c := &service.Call{Caller: t, ReplayOnly: res.ReplayOnly, Previous: res.Previous, Target: res.Read, Now: res.Now,
		RequestID: info.requestID, Client: info.client}
	info.caller = t.SID
	if !t.Enabled() {
		return nil, service.ForbiddenDisabled()
	}
	if err := h.resolveRoot(r, kind, c); err != nil {
		return nil, err
	}
	if ep.scope != "" && !t.HasScope(ep.scope) {
		return nil, service.ForbiddenScope(ep.scope)
	}
	if h.rate.Enabled() {
		b, ok, err := h.rate.Take(ctx, t.SID)
		if err != nil {
			return nil, err
		}
		setRateHeaders(w, b)
		if !ok {
			return nil, service.RateLimited(ratelimit.Seconds(b.Reset))
		}
	}
	if err := checkBody(r); err != nil {
		return nil, err
	}
	return c, nil
}

// resolveRoot checks the path's SIDs against the caller and finds the account the root
// addresses. Another SID, a brand of another agency and a brand that does not exist all
// get the same 404; the passthrough root first needs advertisers.read (403).
func (h *handler) resolveRoot(r *http.Request, kind rootKind, c *service.Call) error {
	t := c.Caller
	if r.PathValue("sid") != t.SID {
		return service.NotFound()
	}
	switch kind {
	case rootAgency, rootPassthrough:
		if t.Kind != service.KindAgency {
			return service.NotFound()
		}
	case rootBrand:
		if t.Kind != service.KindBrand {
			return service.NotFound()
		}
	}
	if kind == rootPassthrough {
		// The scope comes before the lookup: without it, a managed and an unmanaged
		// brand answer alike, so the agency's brands cannot be probed.
		if !t.HasScope(service.ScopeAdvertisersRead) {
			return service.ForbiddenScope(service.ScopeAdvertisersRead)
		}
		brand, err := h.svc.ManagedBrand(r.Context(), t.AccountID, r.PathValue("adv"))
		if err != nil {
			return err
		}
		c.Account = brand
		c.Base = "/Agencies/" + t.SID + "/Advertisers/" + brand.PublicID
		return nil
	}
	acct, err := h.svc.Account(r.Context(), t.AccountID)
	if err != nil {
		return err
	}
	c.Account = acct
	c.Base = OwnRoot(t)
	return nil
}

// OwnRoot is the root a token works under.
func OwnRoot(t *service.Token) string {
	if t.Kind == service.KindBrand {
		return "/Advertisers/" + t.SID
	}
	return "/Agencies/" + t.SID
}
