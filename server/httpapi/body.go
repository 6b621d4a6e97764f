package httpapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/impactcom/impactctl/server/service"
)

// checkBody runs the body checks that close authentication: a body must be sent as
// application/json (415), be at most 1 MiB (413), be valid UTF-8 and hold no lone
// surrogate escape such as "\ud800" (400), which a JSON decoder would otherwise turn
// into U+FFFD without a word. The body is read once here, within the limit
// ServeHTTP set, and handed on to the handler unchanged.
func checkBody(r *http.Request) error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	// A body of unknown length (chunked) may still be empty: look at its first byte.
	var first [1]byte
	n, err := io.ReadFull(r.Body, first[:])
	if n == 0 {
		if err == io.EOF {
			r.Body = http.NoBody
			return nil
		}
		return err
	}
	if ct := r.Header.Get("Content-Type"); !IsJSONMediaType(ct) {
		return service.UnsupportedMediaType(ct)
	}
	if r.ContentLength > MaxBody {
		return service.TooLarge()
	}
	rest, err := io.ReadAll(r.Body)
	if err != nil {
		return err // a *http.MaxBytesError becomes 413
	}
	data := append(first[:], rest...)
	r.Body = io.NopCloser(bytes.NewReader(data))
	if !utf8.Valid(data) {
		return service.BadRequest("Body", "must be valid UTF-8")
	}
	if HasLoneSurrogate(data) {
		return service.BadRequest("Body", `must not hold a lone surrogate escape such as "\ud800"`)
	}
	return nil
}

// IsJSONMediaType accepts application/json, with a charset parameter only when it
// is UTF-8.
func IsJSONMediaType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// HasLoneSurrogate reports whether a JSON text holds a \uXXXX escape of a UTF-16
// surrogate that is not half of a high-low pair. Backslashes only occur inside
// strings in valid JSON, and every escape is consumed whole, so "\\ud800" (an
// escaped backslash, then text) is not mistaken for one.
func HasLoneSurrogate(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if i+1 >= len(data) || data[i+1] != 'u' {
			i++ // a two-character escape such as \\ or \"
			continue
		}
		r, ok := hex4(data, i+2)
		if !ok {
			return false // malformed: the JSON decoder refuses it
		}
		i += 5
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return true // a low half with no high half before it
		case 0xD800 <= r && r <= 0xDBFF:
			if i+6 >= len(data) || data[i+1] != '\\' || data[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(data, i+3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		}
	}
	return false
}

// hex4 reads four hex digits at data[at:].
func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c-'a') + 10
		case 'A' <= c && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
