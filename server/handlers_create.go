package server

import (
	"context"
	"database/sql"
	"net/http"
	"time"
)

// selfResetGrace is how long a token's previous secret may replay its own reset.
const selfResetGrace = 10 * time.Minute

var createFields = []string{"Name", "Description", "ApiVersion", "PrimaryContactId", "Scopes", "DeveloperEmails"}

// tokenSpec is a create or duplicate request; nil fields were not given.
type tokenSpec struct {
	name, description *string
	version           *int
	contact           *string // "" means none
	scopes, emails    []string
	hasScopes         bool
	hasEmails         bool
}

// parseSpec reads the create fields, all optional here; create requires Name itself.
func parseSpec(f fields) (*tokenSpec, error) {
	s := &tokenSpec{}
	for _, name := range []string{"Name", "Description", "ApiVersion", "Scopes", "DeveloperEmails"} {
		if f.null(name) {
			return nil, badRequest(name, "cannot be null")
		}
	}
	if f.has("Name") {
		v, err := f.str("Name")
		if err != nil {
			return nil, err
		}
		if err := checkText("Name", v, true, maxName); err != nil {
			return nil, err
		}
		s.name = &v
	}
	if f.has("Description") {
		v, err := f.str("Description")
		if err != nil {
			return nil, err
		}
		if err := checkText("Description", v, false, maxDescription); err != nil {
			return nil, err
		}
		s.description = &v
	}
	if f.has("ApiVersion") {
		v, err := f.integer("ApiVersion")
		if err != nil {
			return nil, err
		}
		s.version = &v
	}
	if f.has("PrimaryContactId") {
		v := ""
		if !f.null("PrimaryContactId") {
			var err error
			if v, err = f.str("PrimaryContactId"); err != nil {
				return nil, err
			}
		}
		s.contact = &v
	}
	if f.has("Scopes") {
		v, err := f.strings("Scopes")
		if err != nil {
			return nil, err
		}
		s.scopes, s.hasScopes = v, true
	}
	if f.has("DeveloperEmails") {
		v, err := f.strings("DeveloperEmails")
		if err != nil {
			return nil, err
		}
		if err := checkEmails("DeveloperEmails", v); err != nil {
			return nil, err
		}
		s.emails, s.hasEmails = v, true
	}
	return s, nil
}

// apply lays spec over t (a fresh token or a copy of the source), validating what
// needs the database and refusing scopes the caller cannot grant.
func (h *handler) apply(ctx context.Context, tx *sql.Tx, c *call, s *tokenSpec, t *token) error {
	if s.name != nil {
		t.Name = *s.name
	}
	if s.description != nil {
		t.Description = *s.description
	}
	if s.version != nil {
		if err := checkVersion(t.Kind, *s.version); err != nil {
			return err
		}
		t.APIVersion = *s.version
	}
	if s.contact != nil {
		if _, err := h.setContact(ctx, tx, t, *s.contact); err != nil {
			return err
		}
	}
	if s.hasScopes {
		scopes, err := scopeField("Scopes", t.Kind, s.scopes)
		if err != nil {
			return err
		}
		t.Scopes = scopes
	}
	if err := mayGrant(c.caller, t.Scopes); err != nil {
		return err
	}
	if s.hasEmails {
		t.Emails = s.emails
	}
	return nil
}

// insertNew gives t a SID, a secret and its dates, stores it and answers 201 with
// Location and the secret.
func (h *handler) insertNew(ctx context.Context, tx *sql.Tx, c *call, t *token) (*answer, error) {
	sid, err := h.store.rand.sid()
	if err != nil {
		return nil, err
	}
	now := h.store.clock().Unix()
	t.SID, t.State, t.Version, t.ResetCount = sid, stateEnabled, 1, 0
	t.Created, t.Updated, t.AuthReset = now, now, now
	t.LastUsed, t.PrevMAC, t.PrevExpires, t.PrevResetKey = sql.NullInt64{}, nil, sql.NullInt64{}, sql.NullString{}
	secret, err := h.store.setSecret(t)
	if err != nil {
		return nil, err
	}
	if err := h.store.insertToken(ctx, tx, t); err != nil {
		return nil, err
	}
	b := bodyOf(t, c.base)
	b.AuthToken = secret
	a, err := tokenAnswer(http.StatusCreated, b)
	if err != nil {
		return nil, err
	}
	a.header.Set("Location", b.Uri)
	a.resets = []resetMark{{Sid: t.SID, ResetCount: t.ResetCount}}
	return a, nil
}

// createToken makes a new token (always ENABLED; ApiVersion defaults to the latest).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := readFields(r, true, createFields...)
	if err != nil {
		return err
	}
	if !f.has("Name") {
		return badRequest("Name", "is required")
	}
	spec, err := parseSpec(f)
	if err != nil {
		return err
	}
	ctx := r.Context()
	return h.commit(w, r, c, func(tx *sql.Tx) (*answer, error) {
		t := &token{AccountID: c.account.ID, Kind: c.account.Kind, APIVersion: latestVersion(c.account.Kind),
			Emails: []string{}, Scopes: []string{}}
		if err := h.apply(ctx, tx, c, spec, t); err != nil {
			return nil, err
		}
		return h.insertNew(ctx, tx, c, t)
	})
}

// duplicateToken makes a new token with the source's settings, the body's fields
// overriding them; the name defaults to "<Name> (copy)" and the state is ENABLED.
func (h *handler) duplicateToken(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := readFields(r, false, createFields...)
	if err != nil {
		return err
	}
	spec, err := parseSpec(f)
	if err != nil {
		return err
	}
	ctx := r.Context()
	return h.commit(w, r, c, func(tx *sql.Tx) (*answer, error) {
		src, err := h.target(r, tx, c)
		if err != nil {
			return nil, err
		}
		if err := mayActOn(c.caller, src); err != nil {
			return nil, err
		}
		t := &token{AccountID: src.AccountID, Kind: src.Kind, Name: src.Name + " (copy)",
			Description: src.Description, APIVersion: src.APIVersion, ContactID: src.ContactID,
			ContactName: src.ContactName, ContactEmail: src.ContactEmail,
			Emails: append([]string{}, src.Emails...), Scopes: append([]string{}, src.Scopes...)}
		if err := h.apply(ctx, tx, c, spec, t); err != nil {
			return nil, err
		}
		return h.insertNew(ctx, tx, c, t)
	})
}

// resetToken gives a token a new secret; the old one is refused from the next request,
// except, after a self-reset made with an Idempotency-Key, to replay that reset for
// selfResetGrace.
func (h *handler) resetToken(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := readFields(r, false); err != nil {
		return err
	}
	ctx := r.Context()
	return h.commit(w, r, c, func(tx *sql.Tx) (*answer, error) {
		t, err := h.writable(r, tx, c)
		if err != nil {
			return nil, err
		}
		secret, err := h.reset(ctx, tx, c, t)
		if err != nil {
			return nil, err
		}
		b := bodyOf(t, c.base)
		b.AuthToken = secret
		a, err := tokenAnswer(http.StatusOK, b)
		if err != nil {
			return nil, err
		}
		a.resets = []resetMark{{Sid: t.SID, ResetCount: t.ResetCount}}
		return a, nil
	})
}

// reset rotates t's secret and stores it, answering the new secret.
func (h *handler) reset(ctx context.Context, tx *sql.Tx, c *call, t *token) (string, error) {
	oldMAC := t.SecretMAC
	secret, err := h.store.setSecret(t)
	if err != nil {
		return "", err
	}
	now := h.store.clock()
	t.ResetCount++
	t.Version++
	t.Updated, t.AuthReset = now.Unix(), now.Unix()
	t.PrevMAC, t.PrevExpires, t.PrevResetKey = nil, sql.NullInt64{}, sql.NullString{}
	if t.SID == c.caller.SID && c.idem != nil {
		t.PrevMAC = oldMAC
		t.PrevExpires = sql.NullInt64{Int64: now.Add(selfResetGrace).Unix(), Valid: true}
		t.PrevResetKey = sql.NullString{String: c.idem.key, Valid: true}
	}
	if err := h.store.updateToken(ctx, tx, t); err != nil {
		return "", err
	}
	return secret, nil
}
