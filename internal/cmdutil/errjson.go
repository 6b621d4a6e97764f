package cmdutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/output"
)

// cliError is an error the CLI found itself, as JSON.
type cliError struct {
	Status   string `json:"Status"`
	Code     string `json:"Code"`
	Message  string `json:"Message"`
	ExitCode int    `json:"ExitCode"`
	Hint     string `json:"Hint,omitempty"`
}

// ErrorObject is err as JSON: the API's error object when the server
// answered one (every field it has, Code and Scope included), else the
// CLI's own with its Code; then "ExitCode" and the hint. Every string is
// sanitised.
func ErrorObject(err error, exit int, hint string) any {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return cliError{Status: "ERROR", Code: CLICode(err, exit), Message: output.Sanitize(err.Error()),
			ExitCode: exit, Hint: output.Sanitize(hint)}
	}
	obj := map[string]any{}
	b, _ := json.Marshal(ae)
	_ = json.Unmarshal(b, &obj)
	// The request's own facts are not the API's error object, and fields
	// the server did not send are left out.
	delete(obj, "Method")
	delete(obj, "Path")
	delete(obj, "RetryAfter")
	for k, v := range obj {
		if v == nil || v == "" {
			delete(obj, k)
		}
	}
	if ae.RetryAfter > 0 {
		obj["RetryAfterSeconds"] = int(ae.RetryAfter.Seconds())
	}
	sanitizeJSON(obj)
	obj["Status"] = "ERROR"
	obj["ExitCode"] = exit
	if hint != "" {
		obj["Hint"] = output.Sanitize(hint)
	}
	return orderedObject(obj, []string{"Status", "StatusCode", "Code", "Scope", "Message", "Errors"},
		[]string{"RetryAfterSeconds", "ExitCode", "Hint"})
}

// orderedObject encodes obj with the keys of first leading, those of last
// trailing, and any others between them in sorted order, so the lines
// read alike whatever fields a server adds.
func orderedObject(obj map[string]any, first, last []string) json.RawMessage {
	var middle []string
	for k := range obj {
		if !slices.Contains(first, k) && !slices.Contains(last, k) {
			middle = append(middle, k)
		}
	}
	sort.Strings(middle)
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range slices.Concat(first, middle, last) {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// sanitizeJSON sanitises every string in a decoded JSON value, in place.
func sanitizeJSON(v any) any {
	switch v := v.(type) {
	case string:
		return output.Sanitize(v)
	case map[string]any:
		for k, x := range v {
			v[k] = sanitizeJSON(x)
		}
	case []any:
		for i, x := range v {
			v[i] = sanitizeJSON(x)
		}
	}
	return v
}

// CLICode is the stable snake_case code of an error the CLI found itself,
// in the spirit of the API's codes: what a script switches on.
func CLICode(err error, exit int) string {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Kind != "" {
		return ee.Kind
	}
	var ne *client.NetworkError
	var se *client.StallError
	var pe *client.PagingError
	var ce *client.PageChainError
	switch {
	case exit == ExitInterrupted:
		return "interrupted"
	case errors.As(err, &se), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &ne):
		return "network"
	case errors.As(err, &pe), errors.As(err, &ce):
		return "invalid_answer"
	}
	switch exit {
	case ExitUsage:
		return "usage"
	case ExitConfirm:
		return "confirmation_required"
	case ExitAuth:
		return "no_credentials"
	case ExitForbidden:
		return "forbidden"
	case ExitNotFound:
		return "not_found"
	case ExitConflict:
		return "conflict"
	case ExitRateLimited:
		return "rate_limited"
	case ExitUnavailable:
		return "unavailable"
	case ExitPartial:
		return "partial_failure"
	case ExitSecretCmd:
		return "secret_delivery"
	}
	return "unexpected"
}
