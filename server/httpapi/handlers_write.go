package httpapi

import (
	"net/http"

	"github.com/impactcom/impactctl/server/service"
)

// change is the write a request asks for: its caller, the version it saw, and how
// the outcome is answered.
func change(r *http.Request, c *service.Call, render func(service.Outcome) (*service.Answer, error)) service.Write {
	return service.Write{Call: c, IfMatch: r.Header.Get("If-Match"), Render: render}
}

// tokenReply answers the token after a change: 200 with its ETag, 201 with Location
// for a new token, 204 after a delete; a new secret is in the body, never cached.
func tokenReply(c *service.Call) func(service.Outcome) (*service.Answer, error) {
	return func(out service.Outcome) (*service.Answer, error) {
		if out.Deleted {
			return &service.Answer{Status: http.StatusNoContent, Header: http.Header{}}, nil
		}
		b := bodyOf(out.Token, c.Base, c.Now)
		b.AuthToken = out.Secret
		status := http.StatusOK
		if out.Created {
			status = http.StatusCreated
		}
		a, err := tokenAnswer(status, b)
		if err != nil {
			return nil, err
		}
		if out.Created {
			a.Header.Set("Location", b.Uri)
		}
		return a, nil
	}
}

// send answers what a change returned, or passes its refusal on:
// send(w)(h.svc.Reset(…)).
func send(w http.ResponseWriter) func(*service.Answer, error) error {
	return func(a *service.Answer, err error) error {
		if err != nil {
			return err
		}
		writeAnswer(w, a)
		return nil
	}
}

// patchToken changes the named fields: Name, Description, ApiVersion, PrimaryContactId,
// ExpiresAt (null: never).
func (h *handler) patchToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	f, err := readFields(r, true, "Name", "Description", "ApiVersion", "PrimaryContactId", "ExpiresAt")
	if err != nil {
		return err
	}
	for _, name := range []string{"Name", "ApiVersion"} {
		if f.null(name) {
			return service.BadRequest(name, "cannot be null")
		}
	}
	var p service.TokenPatch
	if f.has("Name") {
		name, err := f.str("Name")
		if err != nil {
			return err
		}
		if err := checkName(name); err != nil {
			return err
		}
		p.Name = &name
	}
	if f.has("Description") {
		desc := ""
		if !f.null("Description") {
			if desc, err = f.str("Description"); err != nil {
				return err
			}
			if err := checkText("Description", desc, false, maxDescription); err != nil {
				return err
			}
		}
		p.Description = &desc
	}
	if f.has("ApiVersion") {
		version, err := f.integer("ApiVersion")
		if err != nil {
			return err
		}
		p.Version = &version
	}
	if f.has("PrimaryContactId") {
		contact := ""
		if !f.null("PrimaryContactId") {
			if contact, err = f.str("PrimaryContactId"); err != nil {
				return err
			}
			if contact == "" {
				return service.EmptyContact()
			}
		}
		p.Contact = &contact
	}
	if f.has("ExpiresAt") {
		at, err := f.expiry("ExpiresAt")
		if err != nil {
			return err
		}
		p.ExpiresAt = &at
	}
	return send(w)(h.svc.Update(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), p))
}

func (h *handler) disableToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	return h.setState(w, r, c, service.StateDisabled)
}

func (h *handler) enableToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	return h.setState(w, r, c, service.StateEnabled)
}

// setState disables or enables a token; already so is a 200 no-op.
func (h *handler) setState(w http.ResponseWriter, r *http.Request, c *service.Call, state string) error {
	if _, err := readFields(r, false); err != nil {
		return err
	}
	return send(w)(h.svc.SetState(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), state))
}

// deleteToken removes a token: 204, and its credentials are refused from the next request.
func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	return send(w)(h.svc.Delete(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok")))
}

// setScopes replaces a token's scopes; "category.*" names a whole category.
func (h *handler) setScopes(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	f, err := readFields(r, true, "Scopes")
	if err != nil {
		return err
	}
	if !f.has("Scopes") {
		return service.BadRequest("Scopes", "is required; DELETE the Scopes to clear them")
	}
	requested, err := f.strings("Scopes")
	if err != nil {
		return err
	}
	return send(w)(h.svc.SetScopes(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), requested))
}

// clearScopes is the web app's Clear All.
func (h *handler) clearScopes(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	return send(w)(h.svc.SetScopes(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), []string{}))
}

// setEmails replaces the whole developer e-mail list.
func (h *handler) setEmails(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	f, err := readFields(r, true, "Emails")
	if err != nil {
		return err
	}
	if !f.has("Emails") {
		return service.BadRequest("Emails", "is required; send [] to remove every address")
	}
	emails, err := f.strings("Emails")
	if err != nil {
		return err
	}
	if err := checkEmails("Emails", emails); err != nil {
		return err
	}
	return send(w)(h.svc.SetEmails(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), emails))
}
