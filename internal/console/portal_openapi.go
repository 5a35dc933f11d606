package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// apiDoc is a service's OpenAPI document made readable: its operations
// grouped by tag, each with its parameters and schemas as field lists.
type apiDoc struct {
	Title, Version, Description string
	// Base is the path the operations' paths are relative to on the data
	// plane: the first server's URL when it is a path, else empty.
	Base   string
	Groups []opGroup
}

type opGroup struct {
	Tag         string
	Description string
	Ops         []operation
}

type operation struct {
	// ID is the operation's anchor, unique in the page.
	ID                                 string
	Method, Path, Summary, Description string
	Deprecated                         bool
	Params                             []param
	Body                               *schemaDoc
	Responses                          []response
}

type param struct {
	Name, In, Type, Description string
	Required                    bool
}

type schemaDoc struct {
	MediaType string
	Required  bool
	Fields    []field
	// Type is the schema's own type when it has no fields (a string, an
	// array of strings).
	Type string
	// Example is a skeleton body for the "try it" form.
	Example string
}

type response struct {
	Code, Description string
	Schema            *schemaDoc
}

// field is one property of a schema, flattened: Depth is its nesting.
type field struct {
	Depth                   int
	Name, Type, Description string
	Required                bool
}

// maxSchemaDepth bounds how deep nested schemas are shown (and followed
// through $ref), so a recursive schema ends.
const maxSchemaDepth = 4

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// parseAPIDoc reads an OpenAPI 3 document, JSON or YAML (JSON is YAML).
func parseAPIDoc(b []byte) (*apiDoc, error) {
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI document: %w", err)
	}
	root := mapOf(normalize(raw))
	d := &apiDoc{}
	r := &resolver{root: root}
	info := mapOf(root["info"])
	d.Title, d.Version, d.Description = str(info["title"]), str(info["version"]), str(info["description"])
	if servers, _ := root["servers"].([]any); len(servers) > 0 {
		if u := str(mapOf(servers[0])["url"]); strings.HasPrefix(u, "/") {
			d.Base = strings.TrimSuffix(u, "/")
		}
	}
	tagDesc := map[string]string{}
	var tagOrder []string
	for _, t := range sliceOf(root["tags"]) {
		n := str(mapOf(t)["name"])
		tagDesc[n] = str(mapOf(t)["description"])
		tagOrder = append(tagOrder, n)
	}
	groups := map[string]*opGroup{}
	paths := mapOf(root["paths"])
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	slices.Sort(names)
	seen := map[string]int{}
	for _, p := range names {
		item := r.deref(mapOf(paths[p]))
		shared := sliceOf(item["parameters"])
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			op := mapOf(raw)
			o := operation{Method: strings.ToUpper(m), Path: p, Summary: str(op["summary"]),
				Description: str(op["description"]), Deprecated: op["deprecated"] == true}
			o.ID = anchor(str(op["operationId"]), o.Method, p)
			if seen[o.ID]++; seen[o.ID] > 1 {
				o.ID = fmt.Sprintf("%s-%d", o.ID, seen[o.ID])
			}
			o.Params = r.params(append(slices.Clone(shared), sliceOf(op["parameters"])...))
			if rb := r.deref(mapOf(op["requestBody"])); len(rb) > 0 {
				o.Body = r.content(mapOf(rb["content"]))
				if o.Body != nil {
					o.Body.Required = rb["required"] == true
				}
			}
			o.Responses = r.responses(mapOf(op["responses"]))
			tag := "Operations"
			if tags := sliceOf(op["tags"]); len(tags) > 0 && str(tags[0]) != "" {
				tag = str(tags[0])
			}
			g := groups[tag]
			if g == nil {
				g = &opGroup{Tag: tag, Description: tagDesc[tag]}
				groups[tag] = g
				if !slices.Contains(tagOrder, tag) {
					tagOrder = append(tagOrder, tag)
				}
			}
			g.Ops = append(g.Ops, o)
		}
	}
	for _, t := range tagOrder {
		if g := groups[t]; g != nil {
			d.Groups = append(d.Groups, *g)
		}
	}
	return d, nil
}

var nonAnchor = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func anchor(opID, method, path string) string {
	s := opID
	if s == "" {
		s = method + "-" + path
	}
	return "op-" + strings.Trim(nonAnchor.ReplaceAllString(s, "-"), "-")
}

// resolver follows local $refs (#/components/...) of one document.
type resolver struct{ root map[string]any }

// deref returns the object a $ref points to, following a chain of them a
// few steps; an object without one is returned as it is.
func (r *resolver) deref(m map[string]any) map[string]any {
	for i := 0; i < 8; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		m = r.lookup(ref)
	}
	return m
}

func (r *resolver) lookup(ref string) map[string]any {
	if !strings.HasPrefix(ref, "#/") {
		return map[string]any{} // other documents are not fetched
	}
	var cur any = r.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		cur = mapOf(cur)[part]
	}
	return mapOf(cur)
}

func (r *resolver) params(list []any) []param {
	var out []param
	for _, raw := range list {
		p := r.deref(mapOf(raw))
		if str(p["name"]) == "" {
			continue
		}
		sch := r.deref(mapOf(p["schema"]))
		out = append(out, param{Name: str(p["name"]), In: str(p["in"]), Description: str(p["description"]),
			Required: p["required"] == true || str(p["in"]) == "path", Type: r.typeOf(sch, 0)})
	}
	return out
}

// content describes the first media type of a content map, JSON first.
func (r *resolver) content(c map[string]any) *schemaDoc {
	if len(c) == 0 {
		return nil
	}
	types := make([]string, 0, len(c))
	for t := range c {
		types = append(types, t)
	}
	slices.SortFunc(types, func(a, b string) int {
		aj, bj := strings.Contains(a, "json"), strings.Contains(b, "json")
		switch {
		case aj && !bj:
			return -1
		case bj && !aj:
			return 1
		}
		return strings.Compare(a, b)
	})
	raw := mapOf(mapOf(c[types[0]])["schema"])
	seen := map[string]bool{}
	if ref, ok := raw["$ref"].(string); ok {
		seen[ref] = true // a schema that contains itself is shown once
	}
	sch := r.deref(raw)
	sd := &schemaDoc{MediaType: types[0]}
	r.fields(sch, 0, seen, &sd.Fields)
	if len(sd.Fields) == 0 {
		sd.Type = r.typeOf(sch, 0)
	}
	if strings.Contains(types[0], "json") {
		sd.Example = exampleJSON(r, sch)
	}
	return sd
}

func (r *resolver) responses(m map[string]any) []response {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var out []response
	for _, c := range codes {
		resp := r.deref(mapOf(m[c]))
		desc := str(resp["description"])
		if desc == "" {
			desc = http.StatusText(atoi(c))
		}
		out = append(out, response{Code: c, Description: desc, Schema: r.content(mapOf(resp["content"]))})
	}
	return out
}

// fields lists the properties of an object schema (through allOf, and
// into nested objects and arrays of objects), depth-first.
func (r *resolver) fields(sch map[string]any, depth int, seen map[string]bool, out *[]field) {
	if depth >= maxSchemaDepth {
		return
	}
	sch = r.merged(sch)
	if str(sch["type"]) == "array" {
		r.fields(r.deref(mapOf(sch["items"])), depth, seen, out)
		return
	}
	props := mapOf(sch["properties"])
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	req := map[string]bool{}
	for _, n := range sliceOf(sch["required"]) {
		req[str(n)] = true
	}
	for _, n := range names {
		rawProp := mapOf(props[n])
		ref, _ := rawProp["$ref"].(string)
		if ref == "" && str(rawProp["type"]) == "array" {
			ref, _ = mapOf(rawProp["items"])["$ref"].(string)
		}
		prop := r.deref(rawProp)
		*out = append(*out, field{Depth: depth, Name: n, Type: r.typeOf(rawProp, 0), Description: str(prop["description"]), Required: req[n]})
		if ref != "" {
			if seen[ref] {
				continue // a recursive schema is shown once
			}
			seen = mapsWith(seen, ref)
		}
		r.fields(prop, depth+1, seen, out)
	}
}

func mapsWith(m map[string]bool, k string) map[string]bool {
	out := make(map[string]bool, len(m)+1)
	for x := range m {
		out[x] = true
	}
	out[k] = true
	return out
}

// merged folds allOf into one schema, following nested allOf a few levels
// (a schema may name itself in its allOf).
func (r *resolver) merged(sch map[string]any) map[string]any { return r.mergedN(sch, 0) }

func (r *resolver) mergedN(sch map[string]any, depth int) map[string]any {
	all := sliceOf(sch["allOf"])
	if len(all) == 0 || depth > maxSchemaDepth {
		return sch
	}
	out := map[string]any{"type": "object"}
	props := map[string]any{}
	var req []any
	own := map[string]any{"properties": sch["properties"], "required": sch["required"], "description": sch["description"]}
	for _, part := range append(all, own) {
		p := r.mergedN(r.deref(mapOf(part)), depth+1)
		for k, v := range mapOf(p["properties"]) {
			props[k] = v
		}
		req = append(req, sliceOf(p["required"])...)
		if d := str(p["description"]); d != "" {
			out["description"] = d
		}
	}
	out["properties"], out["required"] = props, req
	return out
}

// typeOf says a schema's type in a few words: "string (date-time)",
// "array of Order", "one of: A, B", "enum: a, b".
func (r *resolver) typeOf(sch map[string]any, depth int) string {
	if depth > maxSchemaDepth {
		return "…"
	}
	if ref, ok := sch["$ref"].(string); ok {
		return refName(ref)
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts := sliceOf(sch[k]); len(alts) > 0 {
			var names []string
			for _, a := range alts {
				names = append(names, r.typeOf(mapOf(a), depth+1))
			}
			return strings.ReplaceAll(k, "Of", " of") + ": " + strings.Join(names, ", ")
		}
	}
	if len(sliceOf(sch["allOf"])) > 0 {
		return "object"
	}
	t := str(sch["type"])
	if ts := sliceOf(sch["type"]); len(ts) > 0 { // OpenAPI 3.1: type: [string, "null"]
		var parts []string
		for _, x := range ts {
			parts = append(parts, str(x))
		}
		t = strings.Join(parts, " or ")
	}
	switch {
	case t == "array":
		t = "array of " + r.typeOf(mapOf(sch["items"]), depth+1)
	case t == "" && sch["properties"] != nil:
		t = "object"
	case t == "":
		t = "any"
	}
	if f := str(sch["format"]); f != "" {
		t += " (" + f + ")"
	}
	if enum := sliceOf(sch["enum"]); len(enum) > 0 {
		var vs []string
		for _, v := range enum {
			vs = append(vs, fmt.Sprint(v))
		}
		t += "; one of " + strings.Join(vs, ", ")
	}
	return t
}

func refName(ref string) string {
	return ref[strings.LastIndex(ref, "/")+1:]
}

// exampleJSON is a body to start from: the schema's example when it has
// one, else its properties with placeholder values.
func exampleJSON(r *resolver, sch map[string]any) string {
	v := exampleOf(r, sch, 0)
	if v == nil {
		return ""
	}
	b, err := jsonIndent(v)
	if err != nil {
		return ""
	}
	return b
}

func exampleOf(r *resolver, sch map[string]any, depth int) any {
	sch = r.merged(r.deref(sch))
	if ex, ok := sch["example"]; ok {
		return ex
	}
	if depth > maxSchemaDepth {
		return nil
	}
	if enum := sliceOf(sch["enum"]); len(enum) > 0 {
		return enum[0]
	}
	switch str(sch["type"]) {
	case "object", "":
		props := mapOf(sch["properties"])
		if len(props) == 0 {
			if str(sch["type"]) == "object" {
				return map[string]any{}
			}
			return nil
		}
		out := map[string]any{}
		for n, p := range props {
			out[n] = exampleOf(r, mapOf(p), depth+1)
		}
		return out
	case "array":
		if v := exampleOf(r, mapOf(sch["items"]), depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	case "integer", "number":
		return 0
	case "boolean":
		return false
	}
	return ""
}

// normalize gives every mapping string keys: YAML reads `200:` as a
// number.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

func jsonIndent(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func sliceOf(v any) []any {
	s, _ := v.([]any)
	return s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
