package httpapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The contract keeps its own house rules: request bodies are closed, strings and
// arrays are bounded, schemas carry examples, operations name their roles.
func TestContractHygiene(t *testing.T) {
	doc, _ := contract(t)
	lowerCamel := regexp.MustCompile(`^[a-z][a-zA-Z]+$`)
	knownRoles := map[string]bool{"public": true, "admin": true, "director": true, "site_staff": true, "jury_member": true, "candidate": true, "partner": true}
	seen := map[*openapi3.Schema]bool{}
	var bounded func(where string, s *openapi3.SchemaRef)
	bounded = func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		v := s.Value
		seen[v] = true
		switch {
		case v.Type.Is("string") && v.MaxLength == nil && len(v.Enum) == 0:
			t.Errorf("%s: a string without maxLength", where)
		case v.Type.Is("array") && v.MaxItems == nil:
			t.Errorf("%s: an array without maxItems", where)
		}
		for name, p := range v.Properties {
			bounded(where+"/"+name, p)
		}
		bounded(where+"/items", v.Items)
		for i, x := range v.AllOf {
			bounded(where+"/allOf/"+string(rune('0'+i)), x)
		}
		for i, x := range v.OneOf {
			bounded(where+"/oneOf/"+string(rune('0'+i)), x)
		}
	}
	// A schema whose one value is null (NullValue, in the oneOf of a nullable object)
	// has that value as its example, which YAML cannot tell from no example.
	onlyNull := func(s *openapi3.Schema) bool { return len(s.Enum) == 1 && s.Enum[0] == nil }
	for name, s := range doc.Components.Schemas {
		if s.Value.Example == nil && !onlyNull(s.Value) {
			t.Errorf("schema %s has no example", name)
		}
		bounded("#/components/schemas/"+name, s)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if !lowerCamel.MatchString(op.OperationID) {
				t.Errorf("%s: operationId %q is not a lowerCamel verb", where, op.OperationID)
			}
			roles, _ := op.Extensions["x-roles"].([]any)
			if len(roles) == 0 {
				t.Errorf("%s: no x-roles", where)
			}
			for _, r := range roles {
				if !knownRoles[r.(string)] {
					t.Errorf("%s: unknown role %v", where, r)
				}
			}
			for _, p := range op.Parameters {
				bounded(where+" "+p.Value.Name, p.Value.Schema)
			}
			if op.RequestBody == nil {
				continue
			}
			for mt, c := range op.RequestBody.Value.Content {
				s := c.Schema.Value
				opaque := s.Type.Is("string") && s.Format == "binary" // a document of another format, such as a receipt in XML
				if mt == "application/x-www-form-urlencoded" || opaque {
					continue
				}
				// A body of several forms is closed when each of its forms is.
				forms := []*openapi3.SchemaRef{c.Schema}
				if len(s.OneOf) > 0 {
					forms = s.OneOf
				}
				for _, f := range forms {
					if f.Value.AdditionalProperties.Has == nil || *f.Value.AdditionalProperties.Has {
						t.Errorf("%s: request body %s is not closed (additionalProperties: false)", where, mt)
					}
				}
			}
			if !strings.HasPrefix(path, "/v1/") && (len(op.Tags) != 1 || op.Tags[0] != "operations") {
				t.Errorf("%s: outside /v1 without being an operational endpoint", where)
			}
		}
	}
}
