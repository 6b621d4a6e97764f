package api

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// TestSpecIsPlainYAML keeps the contract free of what YAML readers disagree on:
// anchors, aliases and merge keys (Go's YAML expands `<<`, JavaScript's YAML 1.2
// readers keep it as a key), and YAML 1.1's unquoted yes/no/on/off.
func TestSpecIsPlainYAML(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Spec(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Anchor != "" {
			t.Errorf("line %d (%s): anchor &%s", n.Line, path, n.Anchor)
		}
		switch n.Kind {
		case yaml.AliasNode:
			t.Errorf("line %d (%s): alias *%s", n.Line, path, n.Value)
		case yaml.ScalarNode:
			if n.Style == 0 && n.Tag == "!!str" && slices.Contains([]string{"yes", "no", "on", "off", "y", "n"}, strings.ToLower(n.Value)) {
				t.Errorf("line %d (%s): %q is a boolean to YAML 1.1 readers: quote it", n.Line, path, n.Value)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Tag == "!!merge" || k.Value == "<<" {
					t.Errorf("line %d (%s): merge key", k.Line, path)
				}
				walk(k, path)
				walk(n.Content[i+1], path+"/"+k.Value)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, path)
		}
	}
	walk(&doc, "")
}

// TestTokenShapesAgree checks the shapes written out in full where YAML 1.1
// merge keys or allOf would have shared them: each holds the token's
// properties exactly as ApiToken declares them, plus its own.
func TestTokenShapesAgree(t *testing.T) {
	v := newValidator(t)
	schemas := v.doc.Components.Schemas
	token := schemas["ApiToken"].Value
	bulkToken := func(name string) *openapi3.Schema {
		return schemas[name].Value.Properties["ApiToken"].Value
	}
	for name, c := range map[string]struct {
		schema *openapi3.Schema
		extra  []string
	}{
		"ApiTokenWithSecret":       {schemas["ApiTokenWithSecret"].Value, []string{"AuthToken"}},
		"Current":                  {schemas["Current"].Value, []string{"RateLimit", "UsingPreviousAuthToken"}},
		"BulkResult.ApiToken":      {bulkToken("BulkResult"), nil},
		"BulkResetResult.ApiToken": {bulkToken("BulkResetResult"), []string{"AuthToken"}},
	} {
		sameShape(t, name, c.schema, token, c.extra)
	}
	sameShape(t, "PrimaryContact", schemas["PrimaryContact"].Value, schemas["User"].Value, nil)
	if !schemas["PrimaryContact"].Value.Nullable || !bulkToken("BulkResult").Nullable || !bulkToken("BulkResetResult").Nullable {
		t.Error("PrimaryContact and the bulk outcomes' ApiToken must be nullable")
	}
	for _, name := range []string{"BulkResult", "BulkResetResult"} {
		r, base := schemas[name].Value, schemas["BulkResult"].Value
		if !slices.Equal(slices.Sorted(maps.Keys(r.Properties)), slices.Sorted(maps.Keys(base.Properties))) || !slices.Equal(r.Required, base.Required) {
			t.Errorf("%s: properties or required differ from BulkResult's", name)
		}
		for p, s := range base.Properties {
			if p != "ApiToken" && marshalJSON(t, r.Properties[p]) != marshalJSON(t, s) {
				t.Errorf("%s.%s differs from BulkResult's", name, p)
			}
		}
	}
}

func sameShape(t *testing.T, name string, got, want *openapi3.Schema, extra []string) {
	t.Helper()
	if got.AdditionalProperties.Has == nil || *got.AdditionalProperties.Has {
		t.Errorf("%s: additionalProperties must be false", name)
	}
	wantNames := append(slices.Sorted(maps.Keys(want.Properties)), extra...)
	slices.Sort(wantNames)
	if gotNames := slices.Sorted(maps.Keys(got.Properties)); !slices.Equal(gotNames, wantNames) {
		t.Errorf("%s: properties %v, want %v", name, gotNames, wantNames)
	}
	wantRequired := append(slices.Clone(want.Required), extra...)
	if !slices.Equal(got.Required, wantRequired) {
		t.Errorf("%s: required %v, want %v", name, got.Required, wantRequired)
	}
	for p, s := range want.Properties {
		if g := got.Properties[p]; g != nil && marshalJSON(t, g) != marshalJSON(t, s) {
			t.Errorf("%s.%s differs from the original's", name, p)
		}
	}
}

// TestRootsAgree checks that the operations written out under the brand root
// and the passthrough root are the agency root's, but for their operationId.
func TestRootsAgree(t *testing.T) {
	v := newValidator(t)
	const agency = "/Agencies/{AccountSid}/"
	copies := 0
	for path, item := range v.doc.Paths.Map() {
		var rel string
		switch {
		case strings.HasPrefix(path, "/Agencies/{AccountSid}/Advertisers/{AdvertiserId}/"):
			rel = strings.TrimPrefix(path, "/Agencies/{AccountSid}/Advertisers/{AdvertiserId}/")
		case strings.HasPrefix(path, "/Advertisers/{AccountSid}/"):
			rel = strings.TrimPrefix(path, "/Advertisers/{AccountSid}/")
		default:
			continue
		}
		orig := v.doc.Paths.Value(agency + rel)
		if orig == nil {
			t.Errorf("%s: no %s%s to match", path, agency, rel)
			continue
		}
		for method, op := range item.Operations() {
			want := orig.GetOperation(method)
			if want == nil {
				t.Errorf("%s %s: the agency root has no such operation", method, path)
				continue
			}
			copies++
			a, b := *op, *want
			a.OperationID, b.OperationID = "", ""
			if x, y := marshalJSON(t, &a), marshalJSON(t, &b); x != y {
				t.Errorf("%s %s differs from %s%s", method, path, agency, rel)
			}
		}
	}
	if copies == 0 {
		t.Fatal("no operation under the brand or passthrough root")
	}
}

func marshalJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
