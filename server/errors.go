package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// FieldError names the input an error is about, in impact.com's error shape.
type FieldError struct {
	Field   string `json:"Field"`
	Message string `json:"Message"`
}

// apiError is a refusal: an HTTP status plus impact.com's error body.
type apiError struct {
	Status  int
	Message string
	Errors  []FieldError
	header  http.Header // extra headers such as Allow or Retry-After
}

func (e *apiError) Error() string {
	if len(e.Errors) > 0 {
		return fmt.Sprintf("%d %s: %s: %s", e.Status, e.Message, e.Errors[0].Field, e.Errors[0].Message)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func newError(status int, message string, errs ...FieldError) *apiError {
	return &apiError{Status: status, Message: message, Errors: errs}
}

func badRequest(field, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "Validation Failed", FieldError{field, fmt.Sprintf(format, args...)})
}

func unauthorized() *apiError {
	e := newError(http.StatusUnauthorized, "Unauthorized",
		FieldError{"Authorization", "unknown account SID or auth token"})
	e.header = http.Header{"Www-Authenticate": {`Basic realm="impactctl"`}}
	return e
}

func forbiddenDisabled() *apiError {
	return newError(http.StatusForbidden, "Forbidden: this API token is disabled",
		FieldError{"AccountSid", "this API token is disabled; enable it to use it again"})
}

func forbiddenScope(scope string) *apiError {
	return newError(http.StatusForbidden, "Forbidden: missing scope "+scope,
		FieldError{"Scopes", "this API token lacks the scope " + scope})
}

func notFound() *apiError {
	return newError(http.StatusNotFound, "Not Found",
		FieldError{"Uri", "no such resource, or it is not yours"})
}

func conflict(field, format string, args ...any) *apiError {
	return newError(http.StatusConflict, "Conflict", FieldError{field, fmt.Sprintf(format, args...)})
}

func preconditionFailed() *apiError {
	return newError(http.StatusPreconditionFailed, "Precondition Failed",
		FieldError{"If-Match", "the token changed since it was read; read it again"})
}

func tooManyRequests(field string, retryAfter int, msg string) *apiError {
	e := newError(http.StatusTooManyRequests, "Too Many Requests", FieldError{field, msg})
	e.header = http.Header{"Retry-After": {strconv.Itoa(retryAfter)}}
	return e
}

func tooLarge() *apiError {
	return newError(http.StatusRequestEntityTooLarge, "Request Entity Too Large",
		FieldError{"Body", "the request body is over 1 MiB"})
}

func internalError() *apiError {
	return newError(http.StatusInternalServerError, "Internal Server Error")
}

// errorBody is the wire shape of every failure.
type errorBody struct {
	Status  string       `json:"Status"`
	Message string       `json:"Message"`
	Errors  []FieldError `json:"Errors"`
}

// asAPIError turns any error into the refusal to send; anything unexpected is a 500
// whose detail stays in the log.
func asAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(), true
	}
	return internalError(), false
}

func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	errs := e.Errors
	if errs == nil {
		errs = []FieldError{}
	}
	writeJSON(w, e.Status, errorBody{Status: "ERROR", Message: e.Message, Errors: errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encode(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"Status":"ERROR","Message":"Internal Server Error","Errors":[]}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
