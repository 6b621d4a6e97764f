package httpapi

import (
	"net/http"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// BulkResult is one SID's outcome: StatusCode is what the single-token call would have
// answered; ApiToken is the token afterwards (null for a delete and on ERROR).
type BulkResult struct {
	AccountSid string               `json:"AccountSid"`
	Status     string               `json:"Status"`
	StatusCode int                  `json:"StatusCode"`
	Code       contract.ErrorCode   `json:"Code,omitempty"` // on ERROR only
	Message    string               `json:"Message"`
	Scope      string               `json:"Scope,omitempty"`
	Errors     []service.FieldError `json:"Errors,omitempty"`
	ApiToken   *tokenBody           `json:"ApiToken"`
}

// bulk answers POST ApiTokens/Disable|Enable|Delete|Reset: {"Sids":[…]} (1 to 100, each
// once; a reset also takes PreviousValidFor and ExpiresAt, applied to every SID), one
// outcome per SID in request order, all in one transaction.
func (h *handler) bulk(op service.BulkOp) func(http.ResponseWriter, *http.Request, *service.Call) error {
	return func(w http.ResponseWriter, r *http.Request, c *service.Call) error {
		allowed := []string{"Sids"}
		if op == service.BulkReset {
			allowed = append(allowed, resetFields...)
		}
		f, err := readFields(r, true, allowed...)
		if err != nil {
			return err
		}
		o, err := f.resetOptions()
		if err != nil {
			return err
		}
		if !f.has("Sids") {
			return service.BadRequest("Sids", "is required")
		}
		sids, err := f.strings("Sids")
		if err != nil {
			return err
		}
		if len(sids) == 0 || len(sids) > maxBulk {
			return service.BadRequest("Sids", "must list 1 to %d SIDs, got %d", maxBulk, len(sids))
		}
		seen := map[string]bool{}
		for _, s := range sids {
			if err := contract.CheckRunes(s); err != nil {
				return service.BadRequest("Sids", "%q %s", s, err)
			}
			if seen[s] {
				return service.BadRequest("Sids", "%s is listed twice", s)
			}
			seen[s] = true
		}
		return send(w)(h.svc.Bulk(r.Context(), change(r, c, bulkReply(c, op)), op, sids, o))
	}
}

// bulkReply answers {"Results":[…]}, never cached when it holds secrets.
func bulkReply(c *service.Call, op service.BulkOp) func(service.Outcome) (*service.Answer, error) {
	return func(out service.Outcome) (*service.Answer, error) {
		results := make([]BulkResult, 0, len(out.Results))
		for _, o := range out.Results {
			res := BulkResult{AccountSid: o.Sid, Status: "OK", StatusCode: http.StatusOK, Message: o.Message}
			switch {
			case o.Err != nil:
				res = BulkResult{AccountSid: o.Sid, Status: "ERROR", StatusCode: o.Err.Status, Code: o.Err.Code,
					Message: o.Err.Message, Scope: o.Err.Scope, Errors: o.Err.Errors}
			case o.Outcome.Deleted:
				res.StatusCode = http.StatusNoContent
			default:
				b := bodyOf(o.Outcome.Token, c.Base, c.Now)
				b.AuthToken = o.Outcome.Secret
				res.ApiToken = &b
			}
			results = append(results, res)
		}
		a, err := jsonAnswer(http.StatusOK, struct {
			Results []BulkResult `json:"Results"`
		}{results})
		if err != nil {
			return nil, err
		}
		if op == service.BulkReset {
			a.Header.Set("Cache-Control", "no-store")
		}
		return a, nil
	}
}
