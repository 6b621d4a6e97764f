package httpapi

import (
	"context"
	"html"
	"net/http"
	"strconv"

	"github.com/impactcom/impactctl/server/mail"
	"github.com/impactcom/impactctl/server/service"
)

// suppressor is a store that records unsubscribed addresses.
type suppressor interface {
	// Suppress stops email's updates about account's tokens.
	Suppress(ctx context.Context, accountID int64, email string, at int64) error
}

// unsubscribeRoutes answers the one-click links of update mails (RFC 8058), outside
// the Token API and its authentication: the link's signature is the authority. POST
// stops the address's updates about the account's tokens; GET (a person following
// the link, or a mail scanner fetching it) only shows a button that POSTs, so a
// scanner cannot unsubscribe anyone.
func (h *handler) unsubscribeRoutes(st service.Store, env *service.Env) {
	ob, ok := st.(suppressor)
	if !ok {
		return
	}
	signer := UnsubscribeSigner(env, "")
	verify := func(w http.ResponseWriter, r *http.Request) (int64, string, bool) {
		a, e, ok := signer.Verify(r.URL.Query())
		id, err := strconv.ParseInt(a, 10, 64)
		if !ok || err != nil {
			unsubscribePage(w, http.StatusNotFound, "This link is not valid", "The link is incomplete or was changed. Use the link from an update mail as it is.")
			return 0, "", false
		}
		return id, e, true
	}
	h.mux.HandleFunc("GET "+mail.UnsubscribePath, func(w http.ResponseWriter, r *http.Request) {
		if _, e, ok := verify(w, r); ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><title>Stop token updates</title>` +
				`<p>Stop updates about API access tokens to ` + html.EscapeString(e) + `?</p>` +
				`<form method="post" action="?` + html.EscapeString(r.URL.RawQuery) + `">` +
				`<input type="hidden" name="List-Unsubscribe" value="One-Click">` +
				`<button type="submit">Unsubscribe</button></form>`))
		}
	})
	h.mux.HandleFunc("POST "+mail.UnsubscribePath, func(w http.ResponseWriter, r *http.Request) {
		id, e, ok := verify(w, r)
		if !ok {
			return
		}
		if err := ob.Suppress(r.Context(), id, e, env.Clock().Unix()); err != nil {
			h.log.Error("unsubscribe", "error", err)
			unsubscribePage(w, http.StatusInternalServerError, "Not done", "The server could not record it. Try again later.")
			return
		}
		unsubscribePage(w, http.StatusOK, "Unsubscribed", html.EscapeString(e)+" receives no more updates about this account's API access tokens.")
	})
}

func unsubscribePage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><title>` + title + `</title><p>` + text + `</p>`))
}

// UnsubscribeSigner signs the unsubscribe links with a key derived from the server's.
func UnsubscribeSigner(env *service.Env, publicURL string) *mail.Signer {
	return mail.NewSigner(publicURL, env.Keys.UnsubscribeKey)
}
