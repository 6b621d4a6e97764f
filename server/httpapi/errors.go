package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/server/service"
)

// ErrorBody is the wire shape of every failure.
type ErrorBody struct {
	Status  string               `json:"Status"`
	Code    contract.ErrorCode   `json:"Code"`
	Message string               `json:"Message"`
	Scope   string               `json:"Scope,omitempty"`
	Errors  []service.FieldError `json:"Errors"`
}

// asAPIError turns any error into the refusal to send; anything unexpected is a 500
// whose detail stays in the log.
func asAPIError(err error) (*service.APIError, bool) {
	var ae *service.APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return service.TooLarge(), true
	}
	return service.InternalError(), false
}

func writeError(w http.ResponseWriter, e *service.APIError) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	errs := e.Errors
	if errs == nil {
		errs = []service.FieldError{}
	}
	writeJSON(w, e.Status, ErrorBody{Status: "ERROR", Code: e.Code, Message: e.Message, Scope: e.Scope, Errors: errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encode(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"Status":"ERROR","Code":"internal","Message":"Internal Server Error","Errors":[]}` + "\n")
	}
	writeBody(w, status, body)
}

// writeBody sends body, JSON already encoded, as it is.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
