package client

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/impactcom/impactctl/contract"
)

// ErrBrandNeedsAgency is returned when a managed brand is asked for with a
// brand token: only an agency token reaches a brand through the
// passthrough root.
var ErrBrandNeedsAgency = errors.New("a managed brand can only be reached with an agency token")

// APIError is a non-success answer from the server, after any retries.
type APIError struct {
	// StatusCode is the HTTP status, for example 403.
	StatusCode int
	// Code is the server's machine-readable kind of failure, for example
	// contract.CodeMissingScope; "" when the server sent none. Decide on it and
	// StatusCode, never on Message.
	Code contract.ErrorCode
	// Scope is the scope a missing_scope or escalation refusal is about.
	Scope string
	// Message is the server's Message, for example "Missing scope apitokens.reveal".
	Message string
	// Errors names the fields a 400 refused.
	Errors []FieldError
	// RetryAfter is the server's Retry-After, zero when it sent none.
	RetryAfter time.Duration
	// Method and Path identify the request (the path without its query).
	Method, Path string
	// RequestID is the answer's X-Request-Id, the server's name for the
	// request (its log and events record it); "" when it sent none fit to show.
	RequestID string `json:"RequestId,omitempty"`
}

// FieldError is one refused field of a request.
type FieldError struct {
	Field   string `json:"Field"`
	Message string `json:"Message"`
}

// Error reads like "403 forbidden: missing scope apitokens.reveal" or
// "400 bad request: validation failed: Name: must not be empty". Each fact
// is said once: a message that starts with the status phrase
// ("Forbidden: …") loses it, and a field error that repeats the message
// is left out, or stands in for it when it says more. It never holds a
// secret or a request header.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.StatusCode)
	text := strings.ToLower(http.StatusText(e.StatusCode))
	if text != "" {
		b.WriteString(" " + text)
	}
	msg := strings.TrimSpace(e.Message)
	if text != "" && len(msg) > len(text) && strings.EqualFold(msg[:len(text)], text) && msg[len(text)] == ':' {
		msg = strings.TrimSpace(msg[len(text)+1:])
	}
	msg = lowerFirst(msg)
	if strings.EqualFold(msg, text) {
		msg = ""
	}
	var fields []FieldError
	for _, fe := range e.Errors {
		m := strings.TrimSpace(fe.Message)
		if msg != "" && m != "" && repeats(msg, m) {
			if len(m) > len(msg) && strings.Contains(strings.ToLower(m), strings.ToLower(msg)) {
				msg = lowerFirst(m)
			}
			continue
		}
		fields = append(fields, fe)
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	for i, fe := range fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		switch {
		case fe.Field != "" && fe.Message != "":
			b.WriteString(fe.Field + ": " + lowerFirst(fe.Message))
		case fe.Field != "":
			b.WriteString(fe.Field)
		default:
			b.WriteString(lowerFirst(fe.Message))
		}
	}
	return b.String()
}

// repeats reports whether a field error's text says what the message
// says: one holds the other, or the field error holds the message's last
// two words, as "this API token lacks the scope users.read" holds the
// "scope users.read" of "missing scope users.read". A field error that
// only names the same scope ("the token holds users.read, which the
// calling token lacks") adds a fact and is kept.
func repeats(msg, field string) bool {
	m, f := strings.ToLower(msg), strings.ToLower(field)
	if strings.Contains(f, m) || strings.Contains(m, f) {
		return true
	}
	words := strings.Fields(m)
	if len(words) < 3 {
		return false
	}
	return strings.Contains(f, strings.Join(words[len(words)-2:], " "))
}

// lowerFirst lower-cases the first letter of s unless it starts an
// acronym or an identifier such as "IR…" or "ApiVersion".
func lowerFirst(s string) string {
	if isTitlePhrase(s) {
		return strings.ToLower(s)
	}
	if len(s) < 2 {
		return strings.ToLower(s)
	}
	if s[0] >= 'A' && s[0] <= 'Z' && (s[1] < 'A' || s[1] > 'Z') && !hasInnerUpper(s) {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// isTitlePhrase reports whether s is a short phrase in title case such as
// "Validation Failed" or "Not Found", which reads better lower-cased.
func isTitlePhrase(s string) bool {
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 5 {
		return false
	}
	for _, w := range words {
		if len(w) < 2 || w[0] < 'A' || w[0] > 'Z' {
			return false
		}
		for i := 1; i < len(w); i++ {
			if w[i] < 'a' || w[i] > 'z' {
				return false
			}
		}
	}
	return true
}

// hasInnerUpper reports whether the first word of s has an upper-case
// letter after its first, as identifiers like "ApiVersion" do.
func hasInnerUpper(s string) bool {
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == ':' || c == ',' || c == '.' {
			return false
		}
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// NetworkError is a request that got no HTTP answer after all retries: the
// connection was refused, reset or timed out, or the answer was cut off.
type NetworkError struct {
	// Method and Path identify the request (the path without its query).
	Method, Path string
	// URL is the request's URL without its query.
	URL string
	// Err is the transport's error.
	Err error
}

// Error reads like "GET http://127.0.0.1:8787/…: dial tcp …: connection refused".
func (e *NetworkError) Error() string {
	cause := e.Err
	var ue *url.Error
	if errors.As(cause, &ue) {
		cause = ue.Err
	}
	where := e.URL
	if where == "" {
		where = e.Path
	}
	return fmt.Sprintf("%s %s: %v", e.Method, where, cause)
}

// Unwrap returns the transport's error.
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the failure was a timeout.
func (e *NetworkError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}
