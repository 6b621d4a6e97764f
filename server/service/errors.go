package service

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/impactcom/impactctl/contract"
)

// FieldError names the input an error is about, in impact.com's error shape.
type FieldError struct {
	Field   string `json:"Field"`
	Message string `json:"Message"`
}

// APIError is a refusal: an HTTP status plus impact.com's error body and the
// machine-readable Code clients decide on.
type APIError struct {
	Status  int
	Code    contract.ErrorCode
	Message string
	Scope   string // the scope a missing_scope or escalation refusal is about
	Errors  []FieldError
	Header  http.Header // extra headers such as Allow or Retry-After
}

func (e *APIError) Error() string {
	if len(e.Errors) > 0 {
		return fmt.Sprintf("%d %s: %s: %s", e.Status, e.Message, e.Errors[0].Field, e.Errors[0].Message)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func newError(status int, code contract.ErrorCode, message string, errs ...FieldError) *APIError {
	return &APIError{Status: status, Code: code, Message: message, Errors: errs}
}

// BadRequest refuses a field's value (400 bad_request).
func BadRequest(field, format string, args ...any) *APIError {
	return newError(http.StatusBadRequest, contract.CodeBadRequest, "Validation Failed", FieldError{field, fmt.Sprintf(format, args...)})
}

// EmptyContact refuses PrimaryContactId "": null clears the contact, and an empty
// Id is never taken as null.
func EmptyContact() *APIError {
	return BadRequest("PrimaryContactId", "must be a user's Id (see Users), or null for none")
}

// Unauthorized refuses a request without valid credentials (401).
func Unauthorized() *APIError {
	e := newError(http.StatusUnauthorized, contract.CodeUnauthorized, "Unauthorized",
		FieldError{"Authorization", "unknown account SID or auth token"})
	e.Header = http.Header{"Www-Authenticate": {`Basic realm="impactctl"`}}
	return e
}

// TokenExpired refuses a token whose ExpiresAt has passed. It is told only after the
// secret matched, so it tells a guesser nothing.
func TokenExpired() *APIError {
	e := newError(http.StatusUnauthorized, contract.CodeTokenExpired, "Unauthorized: this API token has expired",
		FieldError{"ExpiresAt", "this API token has expired; another token with apitokens.write can give it a new ExpiresAt"})
	e.Header = http.Header{"Www-Authenticate": {`Basic realm="impactctl"`}}
	return e
}

// PreviousSecret refuses a change to a token made with the secret its overlapping
// reset replaced: a leaked old secret must never outlive the rotation.
func PreviousSecret() *APIError {
	return newError(http.StatusForbidden, contract.CodePreviousSecret,
		"Forbidden: the previous secret of a token cannot change that token",
		FieldError{"Authorization", "this request used the token's previous secret; use its current secret to change the token"})
}

// SelfExtension refuses a token moving its own expiry later or clearing it.
func SelfExtension() *APIError {
	return newError(http.StatusForbidden, contract.CodeEscalation, "Forbidden: a token cannot extend its own expiry",
		FieldError{"ExpiresAt", "a token may not move its own ExpiresAt later or clear it; another token with apitokens.write can"})
}

// ForbiddenDisabled refuses a disabled token (403 token_disabled).
func ForbiddenDisabled() *APIError {
	return newError(http.StatusForbidden, contract.CodeTokenDisabled, "Forbidden: this API token is disabled",
		FieldError{"AccountSid", "this API token is disabled; enable it to use it again"})
}

// ForbiddenScope refuses a token that lacks scope (403 missing_scope).
func ForbiddenScope(scope string) *APIError {
	e := newError(http.StatusForbidden, contract.CodeMissingScope, "Forbidden: missing scope "+scope,
		FieldError{"Scopes", "this API token lacks the scope " + scope})
	e.Scope = scope
	return e
}

// Escalation refuses granting scope, or acting on a token holding it, to a caller
// that lacks it; detail says which of the two.
func Escalation(scope, detail string) *APIError {
	e := newError(http.StatusForbidden, contract.CodeEscalation, "Forbidden: missing scope "+scope,
		FieldError{"Scopes", detail})
	e.Scope = scope
	return e
}

// NotFound answers for what does not exist or is not the caller's (404).
func NotFound() *APIError {
	return newError(http.StatusNotFound, contract.CodeNotFound, "Not Found",
		FieldError{"Uri", "no such resource, or it is not yours"})
}

// Conflict refuses a change that conflicts with the token's state (409 conflict).
func Conflict(field, format string, args ...any) *APIError {
	return newError(http.StatusConflict, contract.CodeConflict, "Conflict", FieldError{field, fmt.Sprintf(format, args...)})
}

// LastAdmin refuses a change that would leave the account without a manager.
func LastAdmin(format string, args ...any) *APIError {
	return newError(http.StatusConflict, contract.CodeLastAdmin, "Conflict", FieldError{"AccountSid", fmt.Sprintf(format, args...)})
}

// InFlight refuses a keyed request whose twin is still being answered.
func InFlight() *APIError {
	return newError(http.StatusConflict, contract.CodeIdempotencyInFlight, "Conflict",
		FieldError{"Idempotency-Key", "another change is in flight; retry"})
}

// IdempotencyMismatch refuses an Idempotency-Key reused with another body.
func IdempotencyMismatch() *APIError {
	return newError(http.StatusUnprocessableEntity, contract.CodeIdempotencyMismatch, "Unprocessable Entity",
		FieldError{"Idempotency-Key", "this key was used with another request body"})
}

// PreconditionFailed refuses an If-Match that names another version (412).
func PreconditionFailed() *APIError {
	return newError(http.StatusPreconditionFailed, contract.CodeStaleETag, "Precondition Failed",
		FieldError{"If-Match", "the token changed since it was read; read it again"})
}

// MethodNotAllowed refuses a method the path does not take (405), naming those it does.
func MethodNotAllowed(method, allow string) *APIError {
	e := newError(http.StatusMethodNotAllowed, contract.CodeMethodNotAllowed, "Method Not Allowed",
		FieldError{"Method", method + " is not allowed here; allowed: " + allow})
	e.Header = http.Header{"Allow": {allow}}
	return e
}

// RateLimited refuses a token whose request budget is spent.
func RateLimited(retryAfter int) *APIError {
	return tooManyRequests(contract.CodeRateLimited, "AccountSid", retryAfter,
		"this API token has used its request budget; retry after the window resets")
}

// AuthFailLimited refuses every request from an address past its failed-authentication budget.
func AuthFailLimited(retryAfter int) *APIError {
	return tooManyRequests(contract.CodeAuthFailLimited, "Authorization", retryAfter,
		"too many failed authentications from this address; wait for the window to end")
}

func tooManyRequests(code contract.ErrorCode, field string, retryAfter int, msg string) *APIError {
	e := newError(http.StatusTooManyRequests, code, "Too Many Requests", FieldError{field, msg})
	e.Header = http.Header{"Retry-After": {strconv.Itoa(retryAfter)}}
	return e
}

// TooLarge refuses a body over the limit (413).
func TooLarge() *APIError {
	return newError(http.StatusRequestEntityTooLarge, contract.CodePayloadTooLarge, "Request Entity Too Large",
		FieldError{"Body", "the request body is over 1 MiB"})
}

// UnsupportedMediaType refuses a body that is not application/json (415).
func UnsupportedMediaType(got string) *APIError {
	return newError(http.StatusUnsupportedMediaType, contract.CodeUnsupportedMediaType, "Unsupported Media Type",
		FieldError{"Content-Type", fmt.Sprintf("the body must be sent as application/json, not %q", got)})
}

// InternalError is a 500 whose detail stays in the log.
func InternalError() *APIError {
	return newError(http.StatusInternalServerError, contract.CodeInternal, "Internal Server Error")
}
