package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// entityKinds names the entity in each section of Config, for Diff lines.
// Every slice field of Config must have an entry; a test checks it.
var entityKinds = map[string]string{
	"providers":     "provider",
	"models":        "model",
	"consumers":     "consumer",
	"teams":         "team",
	"services":      "service",
	"prompts":       "prompt",
	"notifiers":     "notifier",
	"alerts":        "alert",
	"probes":        "probe",
	"hypercare":     "hypercare window",
	"scores":        "score",
	"review_queues": "review queue",
}

// Diff lists what differs between two configurations, one line per change
// (+ added, - removed, ~ changed):
//
//	~ model gpt-4o-mini: timeout: 30s -> 1m0s
//	~ model gpt-4o-mini: retry.attempts: 0 -> 2
//	~ consumer web-shop: models: [a] -> [a b]
//	+ provider openai-main
//	- model gpt-4
//
// Sections come in the order of Config, entities by name within a section,
// changed fields in the order of the struct. A nil configuration is empty.
// Entities are matched by name, so reordering a section is not a change,
// whereas reordering the targets of a model is (order matters there).
// Secrets only ever appear as their env:NAME references. Diff returns nil
// when the configurations are equal; it expects valid configurations (with
// duplicate names, the last entity of a name is compared).
func Diff(from, to *Config) []string {
	if from == nil {
		from = &Config{}
	}
	if to == nil {
		to = &Config{}
	}
	var lines []string
	a, b := reflect.ValueOf(from).Elem(), reflect.ValueOf(to).Elem()
	t := a.Type()
	for i := range t.NumField() {
		section := yamlName(t.Field(i))
		if section == "" {
			continue
		}
		if t.Field(i).Type.Kind() != reflect.Slice {
			lines = append(lines, diffObject(section, a.Field(i), b.Field(i))...)
			continue
		}
		lines = append(lines, diffSection(entityKinds[section], a.Field(i), b.Field(i))...)
	}
	return lines
}

func diffSection(kind string, from, to reflect.Value) []string {
	old, cur := byName(from), byName(to)
	names := make([]string, 0, len(old)+len(cur))
	for n := range old {
		names = append(names, n)
	}
	for n := range cur {
		if _, ok := old[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var lines []string
	for _, name := range names {
		o, inOld := old[name]
		n, inNew := cur[name]
		switch {
		case !inOld:
			lines = append(lines, fmt.Sprintf("+ %s %s", kind, name))
		case !inNew:
			lines = append(lines, fmt.Sprintf("- %s %s", kind, name))
		default:
			for _, change := range diffFields(o, n) {
				lines = append(lines, fmt.Sprintf("~ %s %s: %s", kind, name, change))
			}
		}
	}
	return lines
}

// diffObject compares a section that is one object rather than a list
// (detectors), field by field; an absent section reads as an empty one:
//
//	~ detectors: repetition.threshold: 0.5 -> 0.3
func diffObject(section string, from, to reflect.Value) []string {
	if from.Kind() != reflect.Pointer || from.Type().Elem().Kind() != reflect.Struct {
		return nil
	}
	if from.IsNil() && to.IsNil() {
		return nil
	}
	zero := reflect.New(from.Type().Elem())
	if from.IsNil() {
		from = zero
	}
	if to.IsNil() {
		to = zero
	}
	var lines []string
	for _, change := range diffStruct(from.Elem(), to.Elem(), "") {
		lines = append(lines, fmt.Sprintf("~ %s: %s", section, change))
	}
	return lines
}

// byName indexes a slice of entities by their Name field.
func byName(s reflect.Value) map[string]reflect.Value {
	m := make(map[string]reflect.Value, s.Len())
	for i := range s.Len() {
		e := s.Index(i)
		m[e.FieldByName("Name").String()] = e
	}
	return m
}

// diffFields compares two entities field by field, by their formatted
// values, so that an empty list and an absent one are the same. A nested
// structure set on both sides (retry, breaker, price) is compared field by
// field too, so that a change reads "retry.attempts: 0 -> 2" rather than as
// two whole structures to compare by eye.
func diffFields(a, b reflect.Value) []string {
	return diffStruct(a, b, "")
}

func diffStruct(a, b reflect.Value, prefix string) []string {
	var changes []string
	t := a.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" || prefix == "" && name == "name" {
			continue
		}
		x, y := a.Field(i), b.Field(i)
		if x.Kind() == reflect.Pointer && x.Type().Elem().Kind() == reflect.Struct && x.Type().Elem() != timeType && !x.IsNil() && !y.IsNil() {
			changes = append(changes, diffStruct(x.Elem(), y.Elem(), prefix+name+".")...)
			continue
		}
		secret := secretFields[name]
		fx, fy := format(x, secret), format(y, secret)
		if fx != fy {
			changes = append(changes, fmt.Sprintf("%s%s: %s -> %s", prefix, name, fx, fy))
		}
	}
	return changes
}

// secretFields hold secret references. A valid configuration has nothing
// else there, but Diff may be shown an invalid one (a file being checked),
// and a literal secret must not reach a terminal or a log through it.
var secretFields = map[string]bool{"api_key": true, "api_keys": true, "key": true, "secret": true}

const redacted = "<literal value hidden>"

// timeType is compared and written as one value: its fields are
// unexported, so a walk over them would see no difference.
var timeType = reflect.TypeFor[time.Time]()

// format writes a value compactly for a diff line: lists as [a b], mappings
// and structures as {k: v, k: v}, unset optional values as "none". secret
// marks a value that must be a secret reference and is hidden otherwise.
func format(v reflect.Value, secret bool) string {
	if v.Type() == reflect.TypeFor[Duration]() {
		return Duration(v.Int()).String()
	}
	if v.Type() == timeType {
		return v.Interface().(time.Time).UTC().Format(time.RFC3339)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "none"
		}
		return format(v.Elem(), secret)
	case reflect.String:
		if s := v.String(); secret && s != "" && !IsSecretRef(s) {
			return redacted
		}
		return quoteIfNeeded(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range v.Len() {
			parts[i] = format(v.Index(i), secret)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		parts := make([]string, len(keys))
		for i, k := range keys {
			credential := slices.Contains(credentialHeaders, strings.ToLower(k.String()))
			parts[i] = quoteIfNeeded(k.String()) + ": " + format(v.MapIndex(k), secret || credential)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Struct:
		var parts []string
		t := v.Type()
		for i := range t.NumField() {
			name := yamlName(t.Field(i))
			if name == "" {
				continue
			}
			f := v.Field(i)
			if f.IsZero() && strings.Contains(t.Field(i).Tag.Get("yaml"), ",omitempty") {
				continue
			}
			parts = append(parts, name+": "+format(f, secretFields[name]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v.Interface())
}

// quoteIfNeeded quotes strings that would otherwise read ambiguously in a
// diff line: empty ones, and those with spaces or list and map punctuation.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\r\n\"'[]{},") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}
