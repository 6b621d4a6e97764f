package server

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
)

// writable finds the token a change names, inside the write's transaction:
// 404 when it is not the caller's to see, 403 when it holds a scope the
// caller lacks (no escalation), 412 when If-Match is stale.
func (h *handler) writable(r *http.Request, tx *sql.Tx, c *call) (*token, error) {
	t, err := h.target(r, tx, c)
	if err != nil {
		return nil, err
	}
	if err := mayActOn(c.caller, t); err != nil {
		return nil, err
	}
	if err := checkIfMatch(r, t); err != nil {
		return nil, err
	}
	return t, nil
}

// edit runs a change to one token in a write transaction: find it (404), refuse
// escalation (403), check If-Match (412), apply, and refuse leaving the account without
// an enabled token holding apitokens.write (409). apply reports whether anything
// changed; only then do the version (the ETag) and DateUpdated move.
func (h *handler) edit(w http.ResponseWriter, r *http.Request, c *call, apply func(ctx context.Context, tx *sql.Tx, t *token) (bool, error)) error {
	ctx := r.Context()
	return h.commit(w, r, c, func(tx *sql.Tx) (*answer, error) {
		t, err := h.writable(r, tx, c)
		if err != nil {
			return nil, err
		}
		wasWriter := isWriter(t)
		changed, err := apply(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		if changed {
			if err := h.keepWriter(ctx, tx, t.AccountID, wasWriter, isWriter(t)); err != nil {
				return nil, err
			}
			t.Version++
			t.Updated = h.store.clock().Unix()
			if err := h.store.updateToken(ctx, tx, t); err != nil {
				return nil, err
			}
		}
		return tokenAnswer(http.StatusOK, bodyOf(t, c.base))
	})
}

// isWriter reports whether t counts towards the account's last-writer rule.
func isWriter(t *token) bool { return t.enabled() && t.hasScope(scopeTokensWrite) }

// keepWriter refuses a change that turns the account's last enabled apitokens.write
// token into something else.
func (h *handler) keepWriter(ctx context.Context, q querier, accountID int64, was, is bool) error {
	if !was || is {
		return nil
	}
	n, err := h.store.writers(ctx, q, accountID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return lastAdmin("this is the account's last enabled token holding %s; enable or grant another first", scopeTokensWrite)
	}
	return nil
}

// checkIfMatch compares If-Match, when present, with the token's current ETag.
func checkIfMatch(r *http.Request, t *token) error {
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return nil
	}
	want := etagOf(t)
	for _, tag := range strings.Split(im, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == want {
			return nil
		}
	}
	return preconditionFailed()
}

// patchToken changes the named fields: Name, Description, ApiVersion, PrimaryContactId.
func (h *handler) patchToken(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := readFields(r, true, "Name", "Description", "ApiVersion", "PrimaryContactId")
	if err != nil {
		return err
	}
	for _, name := range []string{"Name", "ApiVersion"} {
		if f.null(name) {
			return badRequest(name, "cannot be null")
		}
	}
	var name, desc, contact string
	var version int
	if f.has("Name") {
		if name, err = f.str("Name"); err != nil {
			return err
		}
		if err := checkText("Name", name, true, maxName); err != nil {
			return err
		}
	}
	if f.has("Description") && !f.null("Description") {
		if desc, err = f.str("Description"); err != nil {
			return err
		}
		if err := checkText("Description", desc, false, maxDescription); err != nil {
			return err
		}
	}
	if f.has("ApiVersion") {
		if version, err = f.integer("ApiVersion"); err != nil {
			return err
		}
	}
	if f.has("PrimaryContactId") && !f.null("PrimaryContactId") {
		if contact, err = f.str("PrimaryContactId"); err != nil {
			return err
		}
	}
	return h.edit(w, r, c, func(ctx context.Context, tx *sql.Tx, t *token) (bool, error) {
		changed := false
		if f.has("Name") && name != t.Name {
			t.Name, changed = name, true
		}
		if f.has("Description") && desc != t.Description {
			t.Description, changed = desc, true
		}
		if f.has("ApiVersion") {
			if err := checkVersion(t.Kind, version); err != nil {
				return false, err
			}
			if version < t.APIVersion {
				return false, badRequest("ApiVersion", "can only go up; the token is at %d", t.APIVersion)
			}
			if version != t.APIVersion {
				t.APIVersion, changed = version, true
			}
		}
		if f.has("PrimaryContactId") {
			ch, err := h.setContact(ctx, tx, t, contact)
			if err != nil {
				return false, err
			}
			changed = changed || ch
		}
		return changed, nil
	})
}

// setContact sets t's primary contact to user id ("" clears it). A user of another
// account gets exactly the answer of a user that does not exist.
func (h *handler) setContact(ctx context.Context, q querier, t *token, id string) (bool, error) {
	if id == "" {
		if !t.ContactID.Valid {
			return false, nil
		}
		t.ContactID, t.ContactName, t.ContactEmail = sql.NullString{}, sql.NullString{}, sql.NullString{}
		return true, nil
	}
	u, err := h.store.userOf(ctx, q, t.AccountID, id)
	if errors.Is(err, errNotFound) {
		return false, badRequest("PrimaryContactId", "%q is not a user of this account; see Users", id)
	}
	if err != nil {
		return false, err
	}
	if t.ContactID.Valid && t.ContactID.String == u.ID {
		return false, nil
	}
	t.ContactID = sql.NullString{String: u.ID, Valid: true}
	t.ContactName = sql.NullString{String: u.Name, Valid: true}
	t.ContactEmail = sql.NullString{String: u.Email, Valid: true}
	return true, nil
}

func (h *handler) disableToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return h.setState(w, r, c, stateDisabled)
}

func (h *handler) enableToken(w http.ResponseWriter, r *http.Request, c *call) error {
	return h.setState(w, r, c, stateEnabled)
}

// setState disables or enables a token; already so is a 200 no-op.
func (h *handler) setState(w http.ResponseWriter, r *http.Request, c *call, state string) error {
	if _, err := readFields(r, false); err != nil {
		return err
	}
	return h.edit(w, r, c, func(ctx context.Context, tx *sql.Tx, t *token) (bool, error) {
		if t.State == state {
			return false, nil
		}
		t.State = state
		return true, nil
	})
}

// deleteToken removes a token: 204, and its credentials are refused from the next request.
func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	return h.commit(w, r, c, func(tx *sql.Tx) (*answer, error) {
		t, err := h.writable(r, tx, c)
		if err != nil {
			return nil, err
		}
		if err := h.keepWriter(ctx, tx, t.AccountID, isWriter(t), false); err != nil {
			return nil, err
		}
		if err := h.store.deleteToken(ctx, tx, t.SID); err != nil {
			return nil, err
		}
		return &answer{status: http.StatusNoContent, header: http.Header{}}, nil
	})
}

// setScopes replaces a token's scopes; "category.*" names a whole category.
func (h *handler) setScopes(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := readFields(r, true, "Scopes")
	if err != nil {
		return err
	}
	if !f.has("Scopes") {
		return badRequest("Scopes", "is required; DELETE the Scopes to clear them")
	}
	requested, err := f.strings("Scopes")
	if err != nil {
		return err
	}
	return h.edit(w, r, c, func(ctx context.Context, tx *sql.Tx, t *token) (bool, error) {
		scopes, err := scopeField("Scopes", t.Kind, requested)
		if err != nil {
			return false, err
		}
		if err := mayGrant(c.caller, scopes); err != nil {
			return false, err
		}
		return replaceList(&t.Scopes, scopes), nil
	})
}

// clearScopes is the web app's Clear All.
func (h *handler) clearScopes(w http.ResponseWriter, r *http.Request, c *call) error {
	return h.edit(w, r, c, func(ctx context.Context, tx *sql.Tx, t *token) (bool, error) {
		return replaceList(&t.Scopes, []string{}), nil
	})
}

// setEmails replaces the whole developer e-mail list.
func (h *handler) setEmails(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := readFields(r, true, "Emails")
	if err != nil {
		return err
	}
	if !f.has("Emails") {
		return badRequest("Emails", "is required; send [] to remove every address")
	}
	emails, err := f.strings("Emails")
	if err != nil {
		return err
	}
	if err := checkEmails("Emails", emails); err != nil {
		return err
	}
	return h.edit(w, r, c, func(ctx context.Context, tx *sql.Tx, t *token) (bool, error) {
		return replaceList(&t.Emails, emails), nil
	})
}

// replaceList sets *dst to v, reporting whether it differed.
func replaceList(dst *[]string, v []string) bool {
	if strings.Join(*dst, "\x00") == strings.Join(v, "\x00") && len(*dst) == len(v) {
		return false
	}
	*dst = v
	return true
}
