package server

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/impactcom/impactctl/contract"
)

// bulkOp is the action a bulk call applies to each SID.
type bulkOp int

const (
	bulkDisable bulkOp = iota
	bulkEnable
	bulkDelete
	bulkReset
)

// bulkResult is one SID's outcome: StatusCode is what the single-token call would have
// answered; ApiToken is the token afterwards (null for a delete and on ERROR).
type bulkResult struct {
	AccountSid string             `json:"AccountSid"`
	Status     string             `json:"Status"`
	StatusCode int                `json:"StatusCode"`
	Code       contract.ErrorCode `json:"Code,omitempty"` // on ERROR only
	Message    string             `json:"Message"`
	Scope      string             `json:"Scope,omitempty"`
	Errors     []FieldError       `json:"Errors,omitempty"`
	ApiToken   *tokenBody         `json:"ApiToken"`
}

// bulk answers POST ApiTokens/Disable|Enable|Delete|Reset: {"Sids":[…]} (1 to 100, each
// once), one outcome per SID in request order. The SIDs are handled in one transaction,
// one after another, so the last-writer rule sees the earlier ones; one SID's refusal
// does not stop the rest.
func (h *handler) bulk(op bulkOp) func(http.ResponseWriter, *http.Request, *call) error {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		f, err := readFields(r, true, "Sids")
		if err != nil {
			return err
		}
		if !f.has("Sids") {
			return badRequest("Sids", "is required")
		}
		sids, err := f.strings("Sids")
		if err != nil {
			return err
		}
		if len(sids) == 0 || len(sids) > maxBulk {
			return badRequest("Sids", "must list 1 to %d SIDs, got %d", maxBulk, len(sids))
		}
		seen := map[string]bool{}
		for _, s := range sids {
			if err := contract.CheckRunes(s); err != nil {
				return badRequest("Sids", "%q %s", s, err)
			}
			if seen[s] {
				return badRequest("Sids", "%s is listed twice", s)
			}
			seen[s] = true
		}
		ctx := r.Context()
		return h.commit(w, r, c, func(tx *sql.Tx) (*answer, error) {
			results := make([]bulkResult, 0, len(sids))
			var resets []resetMark
			for _, sid := range sids {
				res, mark, err := h.bulkOne(ctx, tx, c, op, sid)
				if err != nil {
					ae, known := asAPIError(err)
					if !known {
						return nil, err // the database failed: nothing is kept
					}
					res = bulkResult{AccountSid: sid, Status: "ERROR", StatusCode: ae.Status, Code: ae.Code, Message: ae.Message, Scope: ae.Scope, Errors: ae.Errors}
				}
				if mark != nil {
					resets = append(resets, *mark)
				}
				results = append(results, res)
			}
			a, err := jsonAnswer(http.StatusOK, struct {
				Results []bulkResult `json:"Results"`
			}{results})
			if err != nil {
				return nil, err
			}
			if op == bulkReset {
				a.header.Set("Cache-Control", "no-store")
			}
			a.resets = resets
			return a, nil
		})
	}
}

// bulkOne applies op to one SID as the single-token call would.
func (h *handler) bulkOne(ctx context.Context, tx *sql.Tx, c *call, op bulkOp, sid string) (bulkResult, *resetMark, error) {
	t, err := h.store.tokenOf(ctx, tx, c.account.ID, sid)
	if errors.Is(err, errNotFound) {
		return bulkResult{}, nil, notFound()
	}
	if err != nil {
		return bulkResult{}, nil, err
	}
	if err := mayActOn(c.caller, t); err != nil {
		return bulkResult{}, nil, err
	}
	res := bulkResult{AccountSid: sid, Status: "OK", StatusCode: http.StatusOK}
	wasWriter := isWriter(t)
	switch op {
	case bulkDisable, bulkEnable:
		state, verb := stateDisabled, "disabled"
		if op == bulkEnable {
			state, verb = stateEnabled, "enabled"
		}
		res.Message = verb
		if t.State == state {
			res.Message = "already " + verb
			break
		}
		t.State = state
		if err := h.keepWriter(ctx, tx, t.AccountID, wasWriter, isWriter(t)); err != nil {
			return bulkResult{}, nil, err
		}
		t.Version++
		t.Updated = h.store.clock().Unix()
		if err := h.store.updateToken(ctx, tx, t); err != nil {
			return bulkResult{}, nil, err
		}
	case bulkDelete:
		if err := h.keepWriter(ctx, tx, t.AccountID, wasWriter, false); err != nil {
			return bulkResult{}, nil, err
		}
		if err := h.store.deleteToken(ctx, tx, t.SID); err != nil {
			return bulkResult{}, nil, err
		}
		res.StatusCode, res.Message = http.StatusNoContent, "deleted"
		return res, nil, nil
	case bulkReset:
		secret, err := h.reset(ctx, tx, c, t)
		if err != nil {
			return bulkResult{}, nil, err
		}
		b := bodyOf(t, c.base)
		b.AuthToken = secret
		res.Message, res.ApiToken = "reset", &b
		return res, &resetMark{Sid: t.SID, ResetCount: t.ResetCount}, nil
	}
	b := bodyOf(t, c.base)
	res.ApiToken = &b
	return res, nil, nil
}
