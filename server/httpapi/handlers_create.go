package httpapi

import (
	"net/http"

	"github.com/impactcom/impactctl/server/service"
)

var CreateFields = []string{"Name", "Description", "ApiVersion", "PrimaryContactId", "Scopes", "DeveloperEmails", "ExpiresAt"}

// parseSpec reads the create fields, all optional here; create requires Name itself.
func parseSpec(f fields) (*service.TokenSpec, error) {
	s := &service.TokenSpec{}
	for _, name := range []string{"Name", "Description", "ApiVersion", "Scopes", "DeveloperEmails"} {
		if f.null(name) {
			return nil, service.BadRequest(name, "cannot be null")
		}
	}
	if err := parseSpecText(f, s); err != nil {
		return nil, err
	}
	if f.has("ApiVersion") {
		v, err := f.integer("ApiVersion")
		if err != nil {
			return nil, err
		}
		s.Version = &v
	}
	if f.has("PrimaryContactId") {
		v := ""
		if !f.null("PrimaryContactId") {
			var err error
			if v, err = f.str("PrimaryContactId"); err != nil {
				return nil, err
			}
			if v == "" {
				return nil, service.EmptyContact()
			}
		}
		s.Contact = &v
	}
	if f.has("Scopes") {
		v, err := f.strings("Scopes")
		if err != nil {
			return nil, err
		}
		s.Scopes, s.HasScopes = v, true
	}
	if f.has("DeveloperEmails") {
		v, err := f.strings("DeveloperEmails")
		if err != nil {
			return nil, err
		}
		if err := checkEmails("DeveloperEmails", v); err != nil {
			return nil, err
		}
		s.Emails, s.HasEmails = v, true
	}
	if f.has("ExpiresAt") {
		at, err := f.expiry("ExpiresAt")
		if err != nil {
			return nil, err
		}
		if at.Valid {
			s.ExpiresAt = &at.V
		}
	}
	return s, nil
}

// parseSpecText reads a spec's Name and Description, each checked by the text rules.
func parseSpecText(f fields, s *service.TokenSpec) error {
	if f.has("Name") {
		v, err := f.str("Name")
		if err != nil {
			return err
		}
		if err := checkName(v); err != nil {
			return err
		}
		s.Name = &v
	}
	if f.has("Description") {
		v, err := f.str("Description")
		if err != nil {
			return err
		}
		if err := checkText("Description", v, false, maxDescription); err != nil {
			return err
		}
		s.Description = &v
	}
	return nil
}

// createToken makes a new token (always ENABLED; ApiVersion defaults to the latest).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	f, err := readFields(r, true, CreateFields...)
	if err != nil {
		return err
	}
	if !f.has("Name") {
		return service.BadRequest("Name", "is required")
	}
	spec, err := parseSpec(f)
	if err != nil {
		return err
	}
	return send(w)(h.svc.Create(r.Context(), change(r, c, tokenReply(c)), spec))
}

// duplicateToken makes a new token with the source's settings, the body's fields
// overriding them; the name defaults to "<Name> (copy)" and the state is ENABLED.
func (h *handler) duplicateToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	f, err := readFields(r, false, CreateFields...)
	if err != nil {
		return err
	}
	spec, err := parseSpec(f)
	if err != nil {
		return err
	}
	return send(w)(h.svc.Duplicate(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), spec))
}

// resetToken gives a token a new secret; the old one is refused from the next request
// unless the optional body's PreviousValidFor keeps it working beside the new one.
func (h *handler) resetToken(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	f, err := readFields(r, false, resetFields...)
	if err != nil {
		return err
	}
	o, err := f.resetOptions()
	if err != nil {
		return err
	}
	return send(w)(h.svc.Reset(r.Context(), change(r, c, tokenReply(c)), r.PathValue("tok"), o))
}

// resetFields are a reset's optional body fields.
var resetFields = []string{"PreviousValidFor", "ExpiresAt"}

// endOverlap forgets a token's previous secret: 204, also when there was none.
func (h *handler) endOverlap(w http.ResponseWriter, r *http.Request, c *service.Call) error {
	if _, err := readFields(r, false); err != nil {
		return err
	}
	return send(w)(h.svc.EndOverlap(r.Context(), change(r, c, func(service.Outcome) (*service.Answer, error) {
		return &service.Answer{Status: http.StatusNoContent, Header: http.Header{}}, nil
	}), r.PathValue("tok")))
}
