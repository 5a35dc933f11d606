package gemini

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestConvertSchema(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		response bool
		want     string
	}{
		{
			name: "supported keywords kept, type upper-cased",
			in:   `{"type":"string","title":"T","description":"d","format":"date-time","pattern":"^a","minLength":1,"maxLength":9,"default":"a","example":"b"}`,
			want: `{"type":"STRING","title":"T","description":"d","format":"date-time","pattern":"^a","minLength":1,"maxLength":9,"default":"a","example":"b"}`,
		},
		{
			name: "unsupported keywords dropped",
			in: `{"$schema":"x","$id":"y","$comment":"c","type":"object","additionalProperties":false,"patternProperties":{"a":{}},` +
				`"properties":{"n":{"type":"number","exclusiveMinimum":0,"multipleOf":2,"readOnly":true,"deprecated":true}},` +
				`"not":{"type":"null"},"if":{},"then":{},"else":{},"x-vendor":1,"strict":true}`,
			want: `{"type":"OBJECT","properties":{"n":{"type":"NUMBER"}}}`,
		},
		{
			name: "nullable type list",
			in:   `{"type":["string","null"]}`,
			want: `{"nullable":true,"type":"STRING"}`,
		},
		{
			name: "several types become anyOf",
			in:   `{"type":["string","integer","null"],"description":"id"}`,
			want: `{"nullable":true,"description":"id","anyOf":[{"type":"STRING"},{"type":"INTEGER"}]}`,
		},
		{
			name: "enum values become strings, null becomes nullable",
			in:   `{"type":"integer","enum":[1,2,null]}`,
			want: `{"type":"INTEGER","nullable":true,"enum":["1","2"],"format":"enum"}`,
		},
		{
			name: "enum without type is a string enum",
			in:   `{"enum":["a","b"]}`,
			want: `{"enum":["a","b"],"type":"STRING"}`,
		},
		{
			name: "const becomes an enum",
			in:   `{"type":"string","const":"fixed"}`,
			want: `{"type":"STRING","enum":["fixed"]}`,
		},
		{
			name: "oneOf becomes anyOf",
			in:   `{"oneOf":[{"type":"string"},{"type":"number"}]}`,
			want: `{"anyOf":[{"type":"STRING"},{"type":"NUMBER"}]}`,
		},
		{
			name: "optional as anyOf with null",
			in:   `{"anyOf":[{"type":"integer","minimum":1},{"type":"null"}],"default":null,"title":"Servings"}`,
			want: `{"default":null,"title":"Servings","nullable":true,"type":"INTEGER","minimum":1}`,
		},
		{
			name: "anyOf with null and two others",
			in:   `{"anyOf":[{"type":"integer"},{"type":"string"},{"type":"null"}]}`,
			want: `{"nullable":true,"anyOf":[{"type":"INTEGER"},{"type":"STRING"}]}`,
		},
		{
			name: "anyOf wins over oneOf",
			in:   `{"anyOf":[{"type":"string"}],"oneOf":[{"type":"number"}]}`,
			want: `{"type":"STRING"}`,
		},
		{
			name: "allOf merged",
			in: `{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},` +
				`{"properties":{"b":{"type":"integer"}},"required":["b"],"description":"inner"}],"description":"outer"}`,
			want: `{"description":"outer","type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"INTEGER"}},"required":["a","b"]}`,
		},
		{
			name: "ref resolved, referring keywords win",
			in:   `{"type":"object","properties":{"p":{"$ref":"#/definitions/Pet","description":"the pet"}},"definitions":{"Pet":{"type":"object","description":"a pet","properties":{"name":{"type":"string"}}}}}`,
			want: `{"type":"OBJECT","properties":{"p":{"description":"the pet","type":"OBJECT","properties":{"name":{"type":"STRING"}}}}}`,
		},
		{
			name: "recursive ref cut at the repeat",
			in:   `{"$ref":"#/$defs/Node","$defs":{"Node":{"type":"object","properties":{"value":{"type":"string"},"next":{"$ref":"#/$defs/Node"}}}}}`,
			want: `{"type":"OBJECT","properties":{"value":{"type":"STRING"},"next":{}}}`,
		},
		{
			name: "unknown ref is unconstrained",
			in:   `{"type":"object","properties":{"x":{"$ref":"https://example.com/schema.json"}}}`,
			want: `{"type":"OBJECT","properties":{"x":{}}}`,
		},
		{
			name: "required keeps known properties only",
			in:   `{"type":"object","properties":{"a":{"type":"string"}},"required":["a","ghost"]}`,
			want: `{"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":["a"]}`,
		},
		{
			name: "required without properties dropped",
			in:   `{"type":"object","required":["a"]}`,
			want: `{"type":"OBJECT"}`,
		},
		{
			name: "boolean schemas",
			in:   `{"type":"object","properties":{"any":true,"never":false},"items":true}`,
			want: `{"type":"OBJECT","properties":{"any":{}},"items":{}}`,
		},
		{
			name: "tuple items dropped",
			in:   `{"type":"array","items":[{"type":"string"}],"prefixItems":[{"type":"string"}],"minItems":1,"uniqueItems":true}`,
			want: `{"type":"ARRAY","minItems":1}`,
		},
		{
			name: "examples gives example",
			in:   `{"type":"string","examples":["x","y"]}`,
			want: `{"type":"STRING","example":"x"}`,
		},
		{
			name: "numeric keywords must be numbers",
			in:   `{"type":"integer","minimum":"0","maximum":10.5}`,
			want: `{"type":"INTEGER","maximum":10.5}`,
		},
		{
			name:     "response schema gets propertyOrdering",
			in:       `{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"object","properties":{"y":{"type":"string"},"x":{"type":"string"}}}}}`,
			response: true,
			want:     `{"type":"OBJECT","properties":{"zeta":{"type":"STRING"},"alpha":{"type":"OBJECT","properties":{"y":{"type":"STRING"},"x":{"type":"STRING"}},"propertyOrdering":["y","x"]}},"propertyOrdering":["zeta","alpha"]}`,
		},
		{
			name:     "given propertyOrdering kept",
			in:       `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"propertyOrdering":["b","a"]}`,
			response: true,
			want:     `{"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"STRING"}},"propertyOrdering":["b","a"]}`,
		},
		{
			name:     "merged properties get a full ordering",
			in:       `{"allOf":[{"$ref":"#/$defs/A"},{"properties":{"c":{"type":"string"}}}],"$defs":{"A":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"propertyOrdering":["b","a"]}}}`,
			response: true,
			want:     `{"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"STRING"},"c":{"type":"STRING"}},"propertyOrdering":["a","b","c"]}`,
		},
		{
			name: "not a schema is unconstrained",
			in:   `"string"`,
			want: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := convertSchema([]byte(tt.in), tt.response)
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestConvertSchemaExpansionBounded feeds a schema whose definitions each
// refer twice to the next, which would expand to 2^40 nodes.
func TestConvertSchemaExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"$ref":"#/$defs/d0","$defs":{`)
	for i := range 40 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"d%d":{"type":"object","properties":{"l":{"$ref":"#/$defs/d%d"},"r":{"$ref":"#/$defs/d%d"}}}`, i, i+1, i+1)
	}
	b.WriteString(`}}`)
	if _, err := convertSchema([]byte(b.String()), false); !errors.Is(err, errSchemaTooLarge) {
		t.Fatalf("err = %v, want errSchemaTooLarge", err)
	}
}
