// Package generated is a Token API client that oapi-codegen generates from
// api/openapi.yaml, untouched. Only api's tests use it: they run it against the
// real server, the proof that a standard generator reads the contract as meant.
package generated

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../openapi.yaml
