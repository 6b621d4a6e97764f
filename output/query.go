package output

import (
	"errors"
	"strings"
	"text/template"
)

// QueryError is a jq expression or a template that failed on the data it
// was given, such as --jq '.Name' on a list. Like a jq expression that does
// not compile, it is the caller's mistake, so the CLI reports it as bad
// usage.
type QueryError struct {
	// Err is the failure from jq or text/template.
	Err error

	// flag is "--jq" or "--template"; when empty, the kind of Err decides.
	flag string
}

// Error reads like "--jq: expected an object but got: array" or
// "--template: 1:7: at <.Name.First>: can't evaluate field First in type
// interface {}". Previews of the data that jq puts in its messages are
// left out, as the data may hold a secret.
func (e *QueryError) Error() string {
	flag := e.flag
	if flag == "" {
		flag = "--jq"
		var ee template.ExecError
		if errors.As(e.Err, &ee) {
			flag = "--template"
		}
	}
	if e.Err == nil {
		return flag + ": failed"
	}
	msg := e.Err.Error()
	if flag == "--template" {
		msg = strings.TrimPrefix(msg, "template: output:")
		msg = strings.Replace(msg, `executing "output" at `, "at ", 1)
	} else {
		msg = withoutPreviews(msg)
	}
	return flag + ": " + msg
}

// Unwrap returns the failure from jq or text/template.
func (e *QueryError) Unwrap() error { return e.Err }

// jqTypes are the type names gojq writes before a preview of a value, as
// in "array ([1,2 ...])".
var jqTypes = []string{"null", "boolean", "number", "string", "array", "object"}

// previewMax bounds a gojq preview: at most 30 bytes of JSON.
const previewMax = 32

// withoutPreviews drops the value previews from a gojq message, turning
// `cannot add: string ("abc") and number (1)` into
// `cannot add: string and number`. A preview ends at a ")" that ends the
// message or comes before " and " or " by: ", within gojq's preview length,
// after the last character a preview of that type can have.
func withoutPreviews(msg string) string {
	var b strings.Builder
	i := 0
	for i < len(msg) {
		start, typ := -1, ""
		for _, t := range jqTypes {
			if j := strings.Index(msg[i:], t+" ("); j >= 0 && (start < 0 || i+j < start) {
				start, typ = i+j, t
			}
		}
		if start < 0 {
			break
		}
		open := start + len(typ) + 1 // the "("
		end := -1
		for k := open + 1; k < len(msg) && k <= open+previewMax+2; k++ {
			if msg[k] != ')' {
				continue
			}
			if !previewEnd(typ, msg[k-1]) || k-1 == open+1 && typ == "string" {
				continue
			}
			rest := msg[k+1:]
			if rest == "" || strings.HasPrefix(rest, " and ") || strings.HasPrefix(rest, " by: ") {
				end = k
				break
			}
		}
		if end < 0 {
			b.WriteString(msg[i:open])
			i = open
			continue
		}
		b.WriteString(msg[i : start+len(typ)])
		i = end + 1
	}
	b.WriteString(msg[i:])
	return b.String()
}

// previewEnd reports whether c can end gojq's preview of a value of type
// typ: a quote for a string, a bracket or brace for an array or object, the
// "..." of a cut-off preview.
func previewEnd(typ string, c byte) bool {
	switch typ {
	case "string":
		return c == '"'
	case "array":
		return c == ']'
	case "object":
		return c == '}'
	case "boolean":
		return c == 'e'
	}
	return c == '.' || c >= '0' && c <= '9'
}
