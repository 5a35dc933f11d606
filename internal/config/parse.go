package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse decodes a declarative YAML file, applies defaults and validates it.
// Every problem is reported at once, each with its line, as *Errors: syntax
// errors, unknown keys, values of the wrong type, then (when the file is
// structurally sound) validation errors. An empty file is an empty
// configuration.
func Parse(data []byte) (*Config, error) {
	root, errs := decodeDocument(data)
	if len(errs) > 0 {
		return nil, errs.asError()
	}
	var c Config
	lines := map[string]int{}
	if root != nil {
		w := walker{lines: lines, maxVisits: visitBudget(len(data))}
		w.walk(root, reflect.TypeFor[Config](), "", 0)
		if len(w.errs) > 0 {
			return nil, w.errs.asError()
		}
		// The walk has checked every key and scalar, so this only fails on
		// what it cannot see; report that rather than trust the walk blindly.
		if err := root.Decode(&c); err != nil {
			return nil, yamlErrors(err).asError()
		}
	}
	errs = explicitZeros(&c, lines)
	c.ApplyDefaults()
	errs = append(errs, c.validate()...)
	for i := range errs {
		errs[i].Line = lineFor(lines, errs[i].Path)
	}
	// Validation goes section by section; the reader goes down the file.
	slices.SortStableFunc(errs, func(a, b Error) int { return a.Line - b.Line })
	if len(errs) > 0 {
		return nil, errs.asError()
	}
	return &c, nil
}

// ParseJSON decodes the JSON form stored in configuration revisions and sent
// to the admin API, applies defaults and validates it. Unknown fields are
// errors, as in YAML.
func ParseJSON(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, Errors{{Msg: "decoding JSON: " + strings.TrimPrefix(err.Error(), "json: ")}}.asError()
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errors{{Msg: "decoding JSON: unexpected data after the configuration"}}.asError()
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// explicitZeros reports durations written as zero in the file. Zero is how
// the struct says "unset", so only the file can tell "timeout: 0s" (a
// mistake) from no timeout at all (the default).
func explicitZeros(c *Config, lines map[string]int) Errors {
	var errs Errors
	check := func(d Duration, path string) {
		if _, written := lines[path]; written && d == 0 {
			errs = append(errs, Error{Path: path, Msg: "must be greater than 0"})
		}
	}
	for i, p := range c.Providers {
		check(p.Timeout, fmt.Sprintf("providers[%d].timeout", i))
	}
	for i, m := range c.Models {
		path := fmt.Sprintf("models[%d]", i)
		check(m.Timeout, path+".timeout")
		check(m.AttemptTimeout, path+".attempt_timeout")
		if r := m.Retry; r != nil {
			check(r.Backoff, path+".retry.backoff")
			check(r.MaxBackoff, path+".retry.max_backoff")
		}
		if b := m.Breaker; b != nil {
			check(b.Window, path+".breaker.window")
			check(b.Cooldown, path+".breaker.cooldown")
		}
	}
	return errs
}

// decodeDocument parses data into a node tree and returns its root, or nil
// for a file holding no document at all.
func decodeDocument(data []byte) (*yaml.Node, Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlErrors(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlErrors(err)
	default:
		return nil, Errors{{Line: extra.Line, Msg: "a second YAML document is not supported: put everything in one document"}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlErrors turns yaml.v3's errors ("yaml: line 3: did not find expected
// key", or a TypeError listing several) into Error values with their lines.
func yamlErrors(err error) Errors {
	var msgs []string
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	errs := make(Errors, 0, len(msgs))
	for _, m := range msgs {
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			errs = append(errs, Error{Line: line, Msg: sm[2]})
			continue
		}
		errs = append(errs, Error{Msg: strings.TrimPrefix(m, "yaml: ")})
	}
	return errs
}

// lineFor returns the line of path, or of its nearest ancestor present in
// the file: a missing required field is reported on the line of the entry
// that lacks it.
func lineFor(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		if strings.HasSuffix(path, "]") {
			path = path[:strings.LastIndexByte(path, '[')]
		} else if i := strings.LastIndexByte(path, '.'); i >= 0 {
			path = path[:i]
		} else {
			return 0
		}
	}
	return 0
}

// visitBudget bounds the walk over a node tree. Aliases and merge keys let a
// small file describe an exponentially large tree ("billion laughs"). A file
// without them needs about one visit per node, far fewer than its size in
// bytes, so the budget leaves ample room for honest reuse of anchors.
func visitBudget(size int) int { return 1<<16 + 32*size }

// maxAliasDepth bounds chains of aliases and merges, which yaml.v3 lets form
// cycles in a node tree (an anchor that merges itself).
const maxAliasDepth = 64

// walker checks a node tree against the Config type before it is decoded,
// because yaml.v3 stops at the first unknown key and reports neither its
// path nor the other problems. On the way it records the line of every path
// so that validation errors can point at the file.
type walker struct {
	lines     map[string]int
	errs      Errors
	visits    int
	maxVisits int
	tooBig    bool
}

func (w *walker) fail(line int, path, format string, args ...any) {
	w.errs = append(w.errs, Error{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they name.
func (w *walker) resolve(n *yaml.Node, path string) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i == maxAliasDepth {
			w.fail(n.Line, path, "alias *%s cannot be resolved", n.Value)
			return nil
		}
		n = n.Alias
	}
	return n
}

// budget counts a visit and reports whether the walk may go on.
func (w *walker) budget() bool {
	w.visits++
	if w.visits > w.maxVisits {
		if !w.tooBig {
			w.tooBig = true
			w.fail(0, "", "the document expands to too many nodes (aliases or merge keys nested too deeply)")
		}
		return false
	}
	return true
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if !w.budget() {
		return
	}
	if n = w.resolve(n, path); n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // the zero value: an absent list, an unset optional field
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		w.scalar(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.fail(n.Line, path, "expected a mapping, got %s", describe(n))
			return
		}
		w.mapping(n, t, path, false, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(n.Line, path, "expected a list, got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.lines[p] = item.Line
			w.walk(item, t.Elem(), p, depth)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.fail(n.Line, path, "expected a mapping, got %s", describe(n))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				w.fail(k.Line, path, "keys must be plain strings")
				continue
			}
			p := path + "." + k.Value
			if first, dup := seen[k.Value]; dup {
				w.fail(k.Line, p, "key %q is already defined on line %d", k.Value, first)
				continue
			}
			seen[k.Value] = k.Line
			w.lines[p] = k.Line
			w.walk(v, t.Elem(), p, depth)
		}
	default:
		w.scalar(n, t, path)
	}
}

// mapping checks the keys of n against the fields of struct type t. merged is
// set for a mapping pulled in by a "<<" merge key, whose keys an explicit key
// may override.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string, merged bool, depth int) {
	fields := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !w.budget() {
			return
		}
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			w.merge(v, t, path, depth)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.fail(k.Line, path, "keys must be plain strings")
			continue
		}
		p := joinPath(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := suggest(k.Value, t); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			w.fail(k.Line, p, "%s", msg)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			w.fail(k.Line, p, "%q is already defined on line %d", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if _, set := w.lines[p]; !merged || !set {
			w.lines[p] = k.Line
		}
		w.walk(v, f.Type, p, depth)
	}
}

// merge handles "<<: *anchor" and "<<: [*a, *b]".
func (w *walker) merge(v *yaml.Node, t reflect.Type, path string, depth int) {
	if depth >= maxAliasDepth {
		w.fail(v.Line, path, "merge keys nested too deeply")
		return
	}
	if v = w.resolve(v, path); v == nil {
		return
	}
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	for _, s := range sources {
		if s = w.resolve(s, path); s == nil {
			return
		}
		if s.Kind != yaml.MappingNode {
			w.fail(s.Line, path, "a merge key (<<) takes a mapping or a list of mappings")
			return
		}
		w.mapping(s, t, path, true, depth+1)
	}
}

// scalar checks that n can be decoded into a value of type t. The value
// itself is never quoted in the message: a secret pasted in the wrong place
// must not end up in logs.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, path string) {
	want := describeType(t)
	if n.Kind != yaml.ScalarNode {
		w.fail(n.Line, path, "expected %s, got %s", want, describe(n))
		return
	}
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// yaml.v3 would truncate 1.5 into 1; refuse anything but an integer.
		if tag != "!!int" && !reflect.PointerTo(t).Implements(textUnmarshaler) {
			w.fail(n.Line, path, "expected %s, got %s", want, describe(n))
			return
		}
	case reflect.Float32, reflect.Float64:
		if tag != "!!int" && tag != "!!float" {
			w.fail(n.Line, path, "expected %s, got %s", want, describe(n))
			return
		}
	case reflect.Bool:
		if tag != "!!bool" {
			w.fail(n.Line, path, "expected %s, got %s", want, describe(n))
			return
		}
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			w.fail(n.Line, path, "expected %s, got %s", want, describe(n))
			return
		}
		w.fail(n.Line, path, "%s", err.Error())
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!str":
		return "a string"
	}
	return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " value"
}

func describeType(t reflect.Type) string {
	if t == reflect.TypeFor[Duration]() {
		return "a duration like 30s"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// yamlFields maps each YAML key of struct type t to its field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if name := yamlName(f); name != "" {
			fields[name] = f
		}
	}
	return fields
}

// yamlName returns the YAML key of a field, or "" for a field not in YAML.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}

// suggest returns the field of t closest to an unknown key, when one is
// close enough to be the likely intent.
func suggest(key string, t reflect.Type) string {
	best, bestDist := "", 3
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, for "did you mean" hints on
// short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// UnmarshalYAML decodes a target, defaulting Weight to 1 when the key is
// absent so that an explicit weight: 0 stays 0.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	type plain Target
	p := plain{Weight: 1}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*t = Target(p)
	return nil
}

// UnmarshalJSON decodes a target, defaulting Weight to 1 when the key is
// absent. Unknown fields are refused, as everywhere else in the
// configuration.
func (t *Target) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	type plain Target
	p := plain{Weight: 1}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*t = Target(p)
	return nil
}
