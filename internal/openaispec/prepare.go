package openaispec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// toJSON converts a value decoded by yaml.v3 into the types a JSON decoder
// would have produced, which is what the schema compiler expects: objects
// with string keys, json.Number for integers (exact, unlike float64), and no
// YAML-only types.
func toJSON(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, string:
		return v, nil
	case int:
		return json.Number(strconv.Itoa(v)), nil
	case int64:
		return json.Number(strconv.FormatInt(v, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(v, 10)), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("number %v has no JSON form", v)
		}
		return v, nil
	case time.Time:
		// Only explicitly tagged timestamps arrive as time.Time; JSON knows
		// them as strings.
		return v.Format(time.RFC3339Nano), nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			j, err := toJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			j, err := toJSON(e)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case map[any]any:
		// yaml.v3 uses this form when some key is not a string, e.g. an
		// unquoted 200; JSON would spell that key as text.
		out := make(map[string]any, len(v))
		for k, e := range v {
			j, err := toJSON(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = j
		}
		return out, nil
	default:
		return nil, fmt.Errorf("yaml value of type %T has no JSON form", v)
	}
}

// Keywords whose values are schemas, lists of schemas, or maps of schemas in
// JSON Schema 2020-12. prepare descends only through these, so instance data
// that merely looks like a schema (enum, const, default, example, x-*) is
// never rewritten.
var (
	subschemaKeywords = []string{
		"items", "additionalItems", "additionalProperties", "not", "if", "then", "else",
		"contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
	}
	subschemaListKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	subschemaMapKeywords  = []string{"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)

// annotationKeywords stay on the outside when a nullable schema is wrapped in
// an anyOf: they describe the property as a whole and assert nothing.
var annotationKeywords = map[string]bool{
	"title": true, "description": true, "default": true, "example": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "$comment": true,
}

// prepare rewrites the OpenAPI-only constructs that a JSON Schema 2020-12
// validator would otherwise misread, returning the schema to use in place of
// s. Other OpenAPI extras (discriminator, xml, externalDocs, x-*) are
// unknown keywords to the validator and are ignored by it.
//
//   - nullable: true is an OpenAPI 3.0 keyword that 3.1 dropped but the
//     OpenAI description still uses. JSON Schema ignores it, which would
//     reject the null values the API really sends (finish_reason in stream
//     chunks, for one), so it becomes an explicit "null" alternative.
//   - exclusiveMinimum/exclusiveMaximum: true are the 3.0 boolean forms; in
//     2020-12 they must be numbers, and compiling the boolean fails.
//   - a required list naming a property twice (ContainerResource does) is
//     rejected by the 2020-12 metaschema; the duplicate changes nothing, so
//     it is dropped.
//   - $recursiveAnchor: true with $recursiveRef: "#" is the draft 2019-09
//     spelling of "this schema again" (CompoundFilter nests itself). In an
//     OpenAPI document "#" would be the document root, and 2020-12 wants the
//     anchor to be a string, so the pair becomes a plain $ref to the named
//     component self that encloses it.
func prepare(s any, self string) any {
	switch s := s.(type) {
	case map[string]any:
		for _, k := range subschemaKeywords {
			if sub, ok := s[k]; ok {
				s[k] = prepare(sub, self)
			}
		}
		for _, k := range subschemaListKeywords {
			if list, ok := s[k].([]any); ok {
				for i, sub := range list {
					list[i] = prepare(sub, self)
				}
			}
		}
		for _, k := range subschemaMapKeywords {
			if m, ok := s[k].(map[string]any); ok {
				for name, sub := range m {
					m[name] = prepare(sub, self)
				}
			}
		}
		if s["$recursiveAnchor"] == true {
			delete(s, "$recursiveAnchor")
		}
		if s["$recursiveRef"] == "#" {
			delete(s, "$recursiveRef")
			s["$ref"] = "#/components/schemas/" + escapeToken(self)
		}
		if req, ok := s["required"].([]any); ok {
			s["required"] = dedupe(req)
		}
		fixExclusive(s, "exclusiveMinimum", "minimum")
		fixExclusive(s, "exclusiveMaximum", "maximum")
		return fixNullable(s)
	case []any:
		// An array where a schema belongs is the draft-04 tuple form of
		// items; each element is a schema.
		for i, sub := range s {
			s[i] = prepare(sub, self)
		}
		return s
	default:
		return s
	}
}

func fixExclusive(s map[string]any, exclusive, bound string) {
	flag, ok := s[exclusive].(bool)
	if !ok {
		return
	}
	delete(s, exclusive)
	if flag {
		if b, ok := s[bound]; ok {
			s[exclusive] = b
			delete(s, bound)
		}
	}
}

// constraintKeywords would reject null even with "null" added to type, so a
// nullable schema using any of them is wrapped instead.
var constraintKeywords = []string{"$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "const", "if"}

func fixNullable(s map[string]any) any {
	n, ok := s["nullable"]
	if !ok {
		return s
	}
	delete(s, "nullable")
	if n != true {
		return s
	}

	complex := false
	for _, k := range constraintKeywords {
		if _, ok := s[k]; ok {
			complex = true
			break
		}
	}
	if !complex {
		switch t := s["type"].(type) {
		case string:
			if t != "null" {
				s["type"] = []any{t, "null"}
			}
		case []any:
			if !containsValue(t, "null") {
				s["type"] = append(t, "null")
			}
		}
		if enum, ok := s["enum"].([]any); ok && !containsValue(enum, nil) {
			s["enum"] = append(enum, nil)
		}
		return s
	}

	// A lone anyOf only needs one more alternative.
	only := true
	for k := range s {
		if k != "anyOf" && !annotationKeywords[k] && !isExtension(k) {
			only = false
			break
		}
	}
	if only {
		if list, ok := s["anyOf"].([]any); ok {
			if !hasNullAlternative(list) {
				s["anyOf"] = append(list, map[string]any{"type": "null"})
			}
			return s
		}
	}

	inner := map[string]any{}
	outer := map[string]any{}
	for k, v := range s {
		if annotationKeywords[k] || isExtension(k) {
			outer[k] = v
		} else {
			inner[k] = v
		}
	}
	outer["anyOf"] = []any{inner, map[string]any{"type": "null"}}
	return outer
}

func isExtension(k string) bool { return len(k) > 2 && k[:2] == "x-" }

func hasNullAlternative(list []any) bool {
	for _, alt := range list {
		if m, ok := alt.(map[string]any); ok && len(m) == 1 && m["type"] == "null" {
			return true
		}
	}
	return false
}

func containsValue(list []any, v any) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// dedupe drops repeated entries of a required list, keeping first positions.
func dedupe(list []any) []any {
	seen := make(map[any]bool, len(list))
	out := list[:0]
	for _, e := range list {
		if _, ok := e.(string); ok {
			if seen[e] {
				continue
			}
			seen[e] = true
		}
		out = append(out, e)
	}
	return out
}
