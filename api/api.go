// Package api holds the Token API contract, api/openapi.yaml, and a validator that
// lets tests of other packages check every HTTP exchange they make against it.
package api

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var spec []byte

// Spec returns the Token API contract: an OpenAPI 3.0 document in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}
