package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// fields is a JSON object body, kept raw so a field can be told absent from null.
type fields map[string]json.RawMessage

// readFields reads a JSON object body whose field names must be among allowed. An
// empty body is an empty object unless required.
func readFields(r *http.Request, required bool, allowed ...string) (fields, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err // a *http.MaxBytesError becomes 413
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return nil, service.BadRequest("Body", "a JSON object is required")
		}
		return fields{}, nil
	}
	var f fields
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil || f == nil {
		return nil, service.BadRequest("Body", "must be a JSON object")
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		// Anything after the object, a stray "}" included, is refused: the
		// decoder's More reports only values, not every trailing byte.
		return nil, service.BadRequest("Body", "must be a single JSON object")
	}
	for name := range f {
		if !slices.Contains(allowed, name) {
			// A name that could not be a field (empty, long, or not plain text) is
			// not echoed as one: the refusal names the body instead.
			field := name
			if field == "" || len(field) > 64 || contract.CheckRunes(field) != nil {
				field = "Body"
			}
			if len(allowed) == 0 {
				return nil, service.BadRequest(field, "unknown field; this request takes none")
			}
			return nil, service.BadRequest(field, "unknown field; allowed: %s", strings.Join(allowed, ", "))
		}
	}
	return f, nil
}

func (f fields) has(name string) bool { _, ok := f[name]; return ok }

func (f fields) null(name string) bool {
	v, ok := f[name]
	return ok && bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// str decodes a string field; null is refused here (callers that allow it check first).
func (f fields) str(name string) (string, error) {
	var s string
	if f.null(name) || json.Unmarshal(f[name], &s) != nil {
		return "", service.BadRequest(name, "must be a string")
	}
	return s, nil
}

func (f fields) integer(name string) (int, error) {
	var n int
	if f.null(name) || json.Unmarshal(f[name], &n) != nil {
		return 0, service.BadRequest(name, "must be a whole number")
	}
	return n, nil
}

func (f fields) strings(name string) ([]string, error) {
	var s []string
	if f.null(name) || json.Unmarshal(f[name], &s) != nil {
		return nil, service.BadRequest(name, "must be an array of strings")
	}
	if s == nil {
		s = []string{}
	}
	return s, nil
}

// checkText refuses what contract.CheckText refuses: empty (when required),
// over-long, invalid UTF-8, and characters that do not show as themselves.
func checkText(field, s string, required bool, max int) error {
	if err := contract.CheckText(s, required, max); err != nil {
		return service.BadRequest(field, "%s", err)
	}
	return nil
}

// checkName checks a token's Name as create, duplicate and PATCH take it: text
// within the limit, and never of an Account SID's shape (in NFC form), since
// the CLI takes an argument of that shape as a SID, never as a name.
func checkName(name string) error {
	if err := checkText("Name", name, true, maxName); err != nil {
		return err
	}
	if contract.NameLikeSID(name) {
		return service.BadRequest("Name", "must not look like an Account SID (IR and 32 letters or digits)")
	}
	return nil
}

// The field limits both ends share.
const (
	maxName        = contract.MaxName
	maxDescription = contract.MaxDescription
	maxEmails      = contract.MaxEmails
	maxBulk        = contract.MaxBulk
)

// checkEmails validates a whole developer e-mail list: at most 50, each a bare address,
// no repeats. The error names the offending address.
func checkEmails(field string, emails []string) error {
	if len(emails) > maxEmails {
		return service.BadRequest(field, "at most %d addresses, got %d", maxEmails, len(emails))
	}
	seen := map[string]bool{}
	for _, e := range emails {
		if !contract.ValidEmail(e) {
			return service.BadRequest(field, "%q is not a valid e-mail address", e)
		}
		k := strings.ToLower(e)
		if seen[k] {
			return service.BadRequest(field, "%q is listed twice", e)
		}
		seen[k] = true
	}
	return nil
}

// expiry reads an ExpiresAt field: an RFC 3339 time or a date (00:00:00Z that day),
// or null (never). Whether it lies in the future is the service's to say, by the
// store's clock.
func (f fields) expiry(name string) (service.Opt[int64], error) {
	if f.null(name) {
		return service.Opt[int64]{}, nil
	}
	var s string
	if json.Unmarshal(f[name], &s) != nil {
		return service.Opt[int64]{}, service.BadRequest(name, "must be an RFC 3339 time (2026-01-02T03:04:05Z), a date (2026-01-02) or null")
	}
	t, err := parseWhen(s)
	if err != nil {
		return service.Opt[int64]{}, service.BadRequest(name, "must be an RFC 3339 time (2026-01-02T03:04:05Z), a date (2026-01-02) or null")
	}
	return service.Some(t.Unix()), nil
}

// maxPreviousValidFor is the longest a reset may keep the previous secret: 7 days.
const maxPreviousValidFor = 7 * 24 * 60 * 60

// resetOptions reads a reset's optional PreviousValidFor and ExpiresAt.
func (f fields) resetOptions() (service.ResetOptions, error) {
	var o service.ResetOptions
	if f.has("PreviousValidFor") {
		n, err := f.integer("PreviousValidFor")
		if err != nil || n < 0 || n > maxPreviousValidFor {
			return o, service.BadRequest("PreviousValidFor", "must be a whole number of seconds from 0 to %d (7 days)", maxPreviousValidFor)
		}
		o.PreviousValidFor = int64(n)
	}
	if f.has("ExpiresAt") {
		at, err := f.expiry("ExpiresAt")
		if err != nil {
			return o, err
		}
		o.ExpiresAt = &at
	}
	return o, nil
}
