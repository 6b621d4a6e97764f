package httpapi

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"

	"github.com/impactcom/impactctl/server/service"
)

// jsonAnswer is a reply with v as its JSON body.
func jsonAnswer(status int, v any) (*service.Answer, error) {
	body, err := encode(v)
	if err != nil {
		return nil, err
	}
	return &service.Answer{Status: status, Header: http.Header{}, Body: body}, nil
}

// tokenAnswer is a reply holding one token, with its ETag.
func tokenAnswer(status int, b tokenBody) (*service.Answer, error) {
	a, err := jsonAnswer(status, b)
	if err != nil {
		return nil, err
	}
	a.Header.Set("ETag", b.etag)
	if b.AuthToken != "" {
		a.Header.Set("Cache-Control", "no-store")
	}
	return a, nil
}

// writeAnswer sends the reply.
func writeAnswer(w http.ResponseWriter, a *service.Answer) {
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	if a.Body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	if a.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(a.Status)
	if a.Body != nil {
		w.Write(a.Body)
	}
}

// prepareIdempotency reads a POST's Idempotency-Key. A stored answer for the same
// body is replayed (replayed true); another body is 422; a replay the caller may not
// have (the previous secret without a stored answer) is 401. Otherwise c.idem is set
// so the change stores its reply with it. A key present but empty is 400, never
// taken as no key: the client meant to be protected from replays.
func (h *handler) prepareIdempotency(w http.ResponseWriter, r *http.Request, c *service.Call) (replayed bool, err error) {
	key := r.Header.Get("Idempotency-Key")
	if _, present := r.Header["Idempotency-Key"]; present && key == "" {
		return false, service.BadRequest("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
	}
	if key == "" {
		if c.ReplayOnly {
			return false, service.Unauthorized()
		}
		return false, nil
	}
	if len(key) > 255 || !PrintableASCII(key) {
		return false, service.BadRequest("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	c.Idem = &service.IdemKey{Caller: c.Caller.SID, Method: r.Method, Path: r.URL.Path, Key: key, Hash: sum[:]}
	a, err := h.svc.Replay(r.Context(), c)
	if err != nil || a == nil {
		return false, err
	}
	writeAnswer(w, a)
	return true, nil
}

func PrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}
