package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives a trip through ToYAML and the JSON form unchanged.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "full.yaml")); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		validBase,
		"providers: [{name: p, type: openai, headers: {X-A: b}}]\nmodels: [{name: m, targets: [{provider: p, weight: 2}]}]\n",
		"providers:\n  - &a {name: a, type: openai}\n  - {<<: *a, name: b}\n",
		"models: [{name: m, timeout: 1d2h, price: {input_per_mtok: 1e3, output_per_mtok: .5}}]\n",
		"consumers: [{name: c, keys: [{name: k, key: env:K}], models: [m], body_max_bytes: 0x10}]\n",
		"a: &a [*a]\n",
		"--- !!map\n? a\n: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		y, err := ToYAML(c)
		if err != nil {
			t.Fatalf("ToYAML of a parsed configuration: %v", err)
		}
		again, err := Parse(y)
		if err != nil {
			t.Fatalf("Parse(ToYAML(c)): %v\n%s", err, y)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("YAML round trip changed the configuration:\n%s\n%+v\n%+v", y, c, again)
		}
		j, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		fromJSON, err := ParseJSON(j)
		if err != nil {
			t.Fatalf("ParseJSON(json.Marshal(c)): %v\n%s", err, j)
		}
		if !reflect.DeepEqual(c, fromJSON) {
			t.Fatalf("JSON round trip changed the configuration:\n%s", j)
		}
		if d := Diff(c, again); d != nil {
			t.Fatalf("Diff of equal configurations: %q", d)
		}
	})
}
