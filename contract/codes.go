package contract

// ErrorCode is the machine-readable kind of a Token API failure: the "Code" of every
// error answer and of each failed bulk result. Clients decide on it (with the HTTP
// status and, for CodeMissingScope, the top-level "Scope"), never on a message's
// wording. Codes are only ever added, never renamed.
type ErrorCode string

// The error codes the Token API answers.
const (
	CodeBadRequest           ErrorCode = "bad_request"            // 400: a field, query or body refused (the field named)
	CodeUnauthorized         ErrorCode = "unauthorized"           // 401: unknown, deleted or reset credentials
	CodeTokenDisabled        ErrorCode = "token_disabled"         // 403: the calling token is disabled
	CodeMissingScope         ErrorCode = "missing_scope"          // 403: the calling token lacks the scope in "Scope"
	CodeEscalation           ErrorCode = "escalation"             // 403: granting, or acting on a token holding, a scope the caller lacks
	CodeNotFound             ErrorCode = "not_found"              // 404: no such resource, or not the caller's
	CodeLastAdmin            ErrorCode = "last_admin"             // 409: the change would leave the account without a manager
	CodeConflict             ErrorCode = "conflict"               // 409: any other conflict, such as a superseded replay
	CodeStaleETag            ErrorCode = "stale_etag"             // 412: If-Match no longer matches
	CodeIdempotencyMismatch  ErrorCode = "idempotency_mismatch"   // 422: an Idempotency-Key reused with another body
	CodeIdempotencyInFlight  ErrorCode = "idempotency_in_flight"  // 409: the same keyed request is still in flight
	CodePayloadTooLarge      ErrorCode = "payload_too_large"      // 413: a body over 1 MiB
	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type" // 415: a body that is not application/json
	CodeMethodNotAllowed     ErrorCode = "method_not_allowed"     // 405: the path exists, the method does not
	CodeRateLimited          ErrorCode = "rate_limited"           // 429: the token's request budget is spent
	CodeAuthFailLimited      ErrorCode = "auth_fail_limited"      // 429: too many failed authentications from the address
	CodeInternal             ErrorCode = "internal"               // 500: the server failed
	CodeTokenExpired         ErrorCode = "token_expired"          // 401: the secret matched, but the token's ExpiresAt has passed
	CodePreviousSecret       ErrorCode = "previous_secret"        // 403: a token's previous secret may not change that token
)
