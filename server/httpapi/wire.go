package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/impactcom/impactctl/server/service"
)

// tokenBody is a token on the wire.
type tokenBody struct {
	AccountSid         string            `json:"AccountSid"`
	AuthToken          string            `json:"AuthToken,omitempty"` // only in create, duplicate and reset answers
	Name               string            `json:"Name"`
	Description        string            `json:"Description"`
	State              string            `json:"State"`
	ApiVersion         int               `json:"ApiVersion"`
	LatestApiVersion   int               `json:"LatestApiVersion"`
	AuthTokenHint      string            `json:"AuthTokenHint"`
	PrimaryContact     *service.UserBody `json:"PrimaryContact"`
	DeveloperEmails    []string          `json:"DeveloperEmails"`
	Scopes             []string          `json:"Scopes"`
	DateCreated        string            `json:"DateCreated"`
	DateUpdated        string            `json:"DateUpdated"`
	DateLastUsed       *string           `json:"DateLastUsed"` // null when never used
	DateAuthTokenReset string            `json:"DateAuthTokenReset"`
	ExpiresAt          *string           `json:"ExpiresAt"` // null: never
	// The previous secret of an overlapping reset: until when it works (null: none
	// works), and when it was last used.
	PreviousAuthTokenExpiresAt *string `json:"PreviousAuthTokenExpiresAt"`
	PreviousAuthTokenLastUsed  *string `json:"PreviousAuthTokenLastUsed"`
	// UsingPreviousAuthToken is only in ApiTokens/Current: the caller used the
	// previous secret.
	UsingPreviousAuthToken *bool     `json:"UsingPreviousAuthToken,omitempty"`
	Uri                    string    `json:"Uri"`
	RateLimit              *RateBody `json:"RateLimit,omitempty"` // only in ApiTokens/Current
	etag                   string    // sent as the ETag header
}

type RateBody struct {
	Limit     int `json:"Limit"`
	Remaining int `json:"Remaining"`
	Reset     int `json:"Reset"`
}

type SecretBody struct {
	AccountSid string `json:"AccountSid"`
	AuthToken  string `json:"AuthToken"`
}

// bodyOf renders t as seen under the root base at now (the store's clock, Unix
// seconds): an overlap that has run out shows as none.
func bodyOf(t *service.Token, base string, now int64) tokenBody {
	b := tokenBody{
		AccountSid:         t.SID,
		Name:               t.Name,
		Description:        t.Description,
		State:              t.State,
		ApiVersion:         t.APIVersion,
		LatestApiVersion:   service.LatestVersion(t.Kind),
		AuthTokenHint:      t.Hint,
		DeveloperEmails:    t.Emails,
		Scopes:             t.Scopes,
		DateCreated:        service.WireTime(t.Created),
		DateUpdated:        service.WireTime(t.Updated),
		DateAuthTokenReset: service.WireTime(t.AuthReset),
		Uri:                base + "/ApiTokens/" + t.SID,
		etag:               service.ETagOf(t),
	}
	if t.ContactID.Valid {
		b.PrimaryContact = &service.UserBody{Id: t.ContactID.V, Name: t.ContactName.V, Email: t.ContactEmail.V}
	}
	if t.LastUsed.Valid {
		s := service.WireTime(t.LastUsed.V)
		b.DateLastUsed = &s
	}
	if t.ExpiresAt.Valid {
		s := service.WireTime(t.ExpiresAt.V)
		b.ExpiresAt = &s
	}
	if t.OverlapAt(now) {
		s := service.WireTime(t.OverlapExpires.V)
		b.PreviousAuthTokenExpiresAt = &s
		if t.OverlapLastUsed.Valid {
			u := service.WireTime(t.OverlapLastUsed.V)
			b.PreviousAuthTokenLastUsed = &u
		}
	}
	if b.DeveloperEmails == nil {
		b.DeveloperEmails = []string{}
	}
	if b.Scopes == nil {
		b.Scopes = []string{}
	}
	return b
}

// writeToken answers one token with its ETag; an answer holding a secret is never cached.
func writeToken(w http.ResponseWriter, status int, b tokenBody) {
	w.Header().Set("ETag", b.etag)
	if b.AuthToken != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, status, b)
}

// encode marshals v as every answer is sent: one line, "&" and "<" left as they are
// (paths with queries read naturally).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
