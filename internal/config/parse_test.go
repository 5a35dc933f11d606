package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// parseErr parses src and returns the error text, failing the test when src
// parses.
func parseErr(t *testing.T, src string) string {
	t.Helper()
	c, err := Parse([]byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; got %+v", c)
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error is %T, want *Errors: %v", err, err)
	}
	return err.Error()
}

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestParseFull(t *testing.T) {
	c := mustParse(t, string(readFile(t, "full.yaml")))

	if got, want := len(c.Providers), 3; got != want {
		t.Fatalf("providers: got %d, want %d", got, want)
	}
	pool := c.Providers[1]
	if pool.BaseURL != "https://api.openai.com/v1" {
		t.Errorf("default base_url: got %q", pool.BaseURL)
	}
	if !reflect.DeepEqual(pool.APIKeys, []string{"env:OPENAI_KEY_1", "env:OPENAI_KEY_2"}) {
		t.Errorf("api_keys: got %q", pool.APIKeys)
	}
	if pool.Headers["OpenAI-Project"] != "env:OPENAI_PROJECT" {
		t.Errorf("headers: got %v", pool.Headers)
	}
	if pool.Timeout.Std() != 90*time.Second {
		t.Errorf("timeout: got %v", pool.Timeout)
	}
	if c.Providers[2].Timeout != DefaultTimeout || c.Providers[2].APIKey != "" {
		t.Errorf("local-vllm: got %+v", c.Providers[2])
	}

	m := c.Models[0]
	wantTargets := []Target{
		{Provider: "openai-main", Model: "gpt-4o-mini", Weight: 3},
		{Provider: "openai-pool", Model: "gpt-4o-mini", Weight: 1},
		{Provider: "local-vllm", Model: "meta-llama/Llama-3.1-8B-Instruct", Weight: 0},
	}
	if !reflect.DeepEqual(m.Targets, wantTargets) {
		t.Errorf("targets: got %+v, want %+v", m.Targets, wantTargets)
	}
	if m.Price == nil || *m.Price != (Price{InputPerMTok: 0.15, OutputPerMTok: 0.60}) {
		t.Errorf("price: got %+v", m.Price)
	}
	if m.LogBodies != nil {
		t.Errorf("log_bodies: got %v, want unset", *m.LogBodies)
	}
	if l := c.Models[1]; l.Strategy != StrategyPriority || l.LogBodies == nil || *l.LogBodies || l.Targets[0].Weight != 1 {
		t.Errorf("llama3:8b: got %+v", l)
	}

	web := c.Consumers[0]
	if web.Team != "payments" || len(web.Keys) != 2 || web.Keys[1] != (ConsumerKey{Name: "ci", Key: "env:WEB_SHOP_CI_KEY"}) {
		t.Errorf("web-shop: got %+v", web)
	}
	if web.BodyMaxBytes == nil || *web.BodyMaxBytes != 65536 {
		t.Errorf("body_max_bytes: got %v", web.BodyMaxBytes)
	}
	if p := c.Consumers[2]; p.Name != "playground" || p.Models != nil || p.Keys != nil {
		t.Errorf("playground: got %+v", p)
	}
}

func TestFullGolden(t *testing.T) {
	c := mustParse(t, string(readFile(t, "full.yaml")))
	y, err := ToYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "full.golden.yaml", y)
	j, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "full.golden.json", append(j, '\n'))
}

func TestRoundTrip(t *testing.T) {
	cases := map[string]string{
		"full":  string(readFile(t, "full.yaml")),
		"empty": "",
		"minimal": `
providers: [{name: p, type: openai}]
models: [{name: m, targets: [{provider: p}]}]
`,
		"odd strings": `
providers:
  - name: p
    type: openai
    headers: {X-Note: "yes", X-Empty: "", X-Colon: "a: b", X-Quote: "it's \"x\""}
models:
  - name: "123"
    targets: [{provider: p, model: "true"}]
consumers:
  - name: c
    team: t
    models: ["123"]
    body_max_bytes: 0
    log_bodies: true
teams:
  - name: t
    description: "  spaced: #team  "
`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			first := mustParse(t, src)

			y, err := ToYAML(first)
			if err != nil {
				t.Fatal(err)
			}
			second := mustParse(t, string(y))
			if !reflect.DeepEqual(first, second) {
				t.Errorf("YAML round trip changed the configuration:\n%s\nfirst:  %+v\nsecond: %+v", y, first, second)
			}
			if y2, _ := ToYAML(second); !bytes.Equal(y, y2) {
				t.Errorf("ToYAML is not stable:\n%s\n---\n%s", y, y2)
			}

			j, err := json.Marshal(first)
			if err != nil {
				t.Fatal(err)
			}
			third, err := ParseJSON(j)
			if err != nil {
				t.Fatalf("ParseJSON(%s): %v", j, err)
			}
			if !reflect.DeepEqual(first, third) {
				t.Errorf("JSON round trip changed the configuration:\n%s\nfirst: %+v\nthird: %+v", j, first, third)
			}
			if d := Diff(first, third); d != nil {
				t.Errorf("Diff after round trip: %q", d)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	cases := map[string]string{
		"nothing":        "",
		"blank lines":    "\n\n  \n",
		"comments only":  "# nothing here yet\n",
		"document start": "---\n",
		"null":           "~\n",
		"empty mapping":  "{}\n",
		"empty sections": "providers: []\nmodels:\nconsumers: []\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, src)
			if !reflect.DeepEqual(c, &Config{}) {
				t.Errorf("got %+v, want an empty configuration", c)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	c := mustParse(t, `
providers:
  - name: p
    type: openai
models:
  - name: m
    targets:
      - provider: p
      - {provider: p, model: other, weight: 0}
`)
	p := c.Providers[0]
	if p.BaseURL != "https://api.openai.com/v1" {
		t.Errorf("base_url: got %q", p.BaseURL)
	}
	if p.Timeout.Std() != 60*time.Second {
		t.Errorf("timeout: got %v", p.Timeout)
	}
	m := c.Models[0]
	if m.Strategy != StrategyWeighted {
		t.Errorf("strategy: got %q", m.Strategy)
	}
	if m.Timeout != 0 || m.Price != nil || m.LogBodies != nil {
		t.Errorf("optional model fields: got %+v", m)
	}
	want := []Target{{Provider: "p", Model: "m", Weight: 1}, {Provider: "p", Model: "other", Weight: 0}}
	if !reflect.DeepEqual(m.Targets, want) {
		t.Errorf("targets: got %+v, want %+v", m.Targets, want)
	}
}

func TestParseAnchorsAndMerges(t *testing.T) {
	c := mustParse(t, `
providers:
  - &base
    name: a
    type: openai
    timeout: 10s
  - <<: *base
    name: b
models:
  - name: m
    targets: &targets [{provider: a}, {provider: b, weight: 2}]
  - name: n
    targets: *targets
`)
	if b := c.Providers[1]; b.Name != "b" || b.Timeout.Std() != 10*time.Second {
		t.Errorf("merged provider: got %+v", b)
	}
	if got := c.Models[1].Targets; len(got) != 2 || got[0].Model != "n" || got[1].Weight != 2 {
		t.Errorf("aliased targets: got %+v", got)
	}

	// A merged mapping is checked like any other, and its problems point at
	// the anchor.
	got := parseErr(t, `
defaults: &d
  tiemout: 10s
providers:
  - <<: *d
    name: a
    type: openai
`)
	for _, want := range []string{
		`line 2: defaults: unknown field "defaults"`,
		`line 3: providers[0].tiemout: unknown field "tiemout" (did you mean "timeout"?)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got:\n%s\nwant a line %q", got, want)
		}
	}
}

func TestParseHostileDocuments(t *testing.T) {
	cases := map[string]struct {
		src  string
		want string
	}{
		"merge cycle": {
			src:  "providers: [&a {<<: *a, name: x}]\n",
			want: "nested too deeply",
		},
		"exponential merges": {
			src: func() string {
				var b strings.Builder
				b.WriteString("providers:\n  - &a0 {name: x}\n")
				for i := 1; i < 40; i++ {
					b.WriteString("  - &a" + strconv.Itoa(i) + " {<<: [*a" + strconv.Itoa(i-1) + ", *a" + strconv.Itoa(i-1) + "]}\n")
				}
				return b.String()
			}(),
			want: "too many nodes",
		},
		"unknown anchor": {
			src:  "providers: *nowhere\n",
			want: "unknown anchor 'nowhere' referenced",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			got := parseErr(t, tc.src)
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want it to contain %q", got, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestParseStructureErrors covers what is wrong with the file's shape:
// syntax, unknown keys, wrong types. Each case lists the whole error text.
func TestParseStructureErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
	}{
		{
			name: "syntax error",
			src:  "providers:\n  - name: a: b\n",
			want: "line 2: mapping values are not allowed in this context",
		},
		{
			name: "tab indentation",
			src:  "providers:\n  - name: a\n\ttype: openai\n",
			want: "line 2: found a tab character that violates indentation",
		},
		{
			name: "second document",
			src:  "providers: []\n---\nmodels: []\n",
			want: "line 2: a second YAML document is not supported: put everything in one document",
		},
		{
			name: "top level is a list",
			src:  "- name: a\n",
			want: "line 1: expected a mapping, got a list",
		},
		{
			name: "unknown section",
			src:  "providers: []\ngadgets:\n  - name: orders\n",
			want: `line 2: gadgets: unknown field "gadgets"`,
		},
		{
			name: "unknown provider field with suggestion",
			src:  "providers:\n  - name: a\n    type: openai\n    api_kye: env:K\n",
			want: `line 4: providers[0].api_kye: unknown field "api_kye" (did you mean "api_key"?)`,
		},
		{
			name: "unknown field in a flow mapping",
			src:  "models:\n  - name: m\n    targets:\n      - {provider: p, wieght: 2}\n",
			want: `line 4: models[0].targets[0].wieght: unknown field "wieght" (did you mean "weight"?)`,
		},
		{
			name: "unknown price field without suggestion",
			src:  "models:\n  - name: m\n    price: {input: 1}\n",
			want: `line 3: models[0].price.input: unknown field "input"`,
		},
		{
			name: "unknown consumer key field",
			src:  "consumers:\n  - name: c\n    keys:\n      - name: k\n        secret: env:K\n",
			want: `line 5: consumers[0].keys[0].secret: unknown field "secret"`,
		},
		{
			name: "all unknown keys at once",
			src:  "providers:\n  - name: a\n    kind: openai\n    url: http://x\nmodels:\n  - name: m\n    fallback: [x]\n",
			want: `line 3: providers[0].kind: unknown field "kind"` + "\n" +
				`line 4: providers[0].url: unknown field "url"` + "\n" +
				`line 7: models[0].fallback: unknown field "fallback" (did you mean "fallbacks"?)`,
		},
		{
			name: "duplicate key",
			src:  "providers:\n  - name: a\n    type: openai\n    name: b\n",
			want: `line 4: providers[0].name: "name" is already defined on line 2`,
		},
		{
			name: "duplicate header",
			src:  "providers:\n  - name: a\n    headers:\n      X-A: 1\n      X-A: 2\n",
			want: `line 5: providers[0].headers.X-A: key "X-A" is already defined on line 4`,
		},
		{
			name: "section is not a list",
			src:  "providers: openai\n",
			want: "line 1: providers: expected a list, got a string",
		},
		{
			name: "entity is not a mapping",
			src:  "models:\n  - gpt-4o\n",
			want: "line 2: models[0]: expected a mapping, got a string",
		},
		{
			name: "weight is not a number",
			src:  "models:\n  - name: m\n    targets: [{provider: p, weight: heavy}]\n",
			want: "line 3: models[0].targets[0].weight: expected an integer, got a string",
		},
		{
			name: "fractional weight",
			src:  "models:\n  - name: m\n    targets: [{provider: p, weight: 1.5}]\n",
			want: "line 3: models[0].targets[0].weight: expected an integer, got a number",
		},
		{
			name: "api_key is a list, value not echoed",
			src:  "providers:\n  - name: a\n    api_key: [sk-secret]\n",
			want: "line 3: providers[0].api_key: expected a string, got a list",
		},
		{
			name: "api_keys is a string, value not echoed",
			src:  "providers:\n  - name: a\n    api_keys: sk-secret\n",
			want: "line 3: providers[0].api_keys: expected a list, got a string",
		},
		{
			name: "headers is a list",
			src:  "providers:\n  - name: a\n    headers: [X-A]\n",
			want: "line 3: providers[0].headers: expected a mapping, got a list",
		},
		{
			name: "log_bodies is not a boolean",
			src:  "consumers:\n  - name: c\n    log_bodies: sometimes\n",
			want: "line 3: consumers[0].log_bodies: expected true or false, got a string",
		},
		{
			name: "price is a string",
			src:  "models:\n  - name: m\n    price: {input_per_mtok: cheap, output_per_mtok: 1}\n",
			want: "line 3: models[0].price.input_per_mtok: expected a number, got a string",
		},
		{
			name: "duration without unit",
			src:  "providers:\n  - name: a\n    timeout: 30\n",
			want: `line 3: providers[0].timeout: invalid duration "30": use a number with a unit, like 30s, 1m30s, 2h or 14d`,
		},
		{
			name: "duration with unknown unit",
			src:  "models:\n  - name: m\n    timeout: 5x\n",
			want: `line 3: models[0].timeout: invalid duration "5x": use a number with a unit, like 30s, 1m30s, 2h or 14d`,
		},
		{
			name: "duration is a mapping",
			src:  "providers:\n  - name: a\n    timeout: {seconds: 3}\n",
			want: "line 3: providers[0].timeout: expected a duration like 30s, got a mapping",
		},
		{
			name: "body_max_bytes is not an integer",
			src:  "consumers:\n  - name: c\n    body_max_bytes: 1MB\n",
			want: "line 3: consumers[0].body_max_bytes: expected an integer, got a string",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, tc.src); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestParseErrorsAsValues(t *testing.T) {
	_, err := Parse([]byte("providers:\n  - name: a\n    type: nope\n  - name: a\n    type: openai\n"))
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %T, want *Errors", err)
	}
	want := Errors{
		{Line: 3, Path: "providers[0].type", Msg: `unknown provider type "nope" (one of: openai, anthropic, gemini, azure-openai, bedrock, cohere, mistral, groq, deepseek, together, openrouter, xai, fireworks, ollama, vllm)`},
		{Line: 4, Path: "providers[1].name", Msg: `duplicate provider name "a"`},
	}
	if !reflect.DeepEqual(*errs, want) {
		t.Errorf("got %#v, want %#v", *errs, want)
	}
	var one Error
	if !errors.As(err, &one) || one != want[0] {
		t.Errorf("errors.As(Error): got %#v", one)
	}
}

func TestParseJSON(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		c, err := ParseJSON([]byte(`{"providers":[{"name":"p","type":"openai"}],"models":[{"name":"m","targets":[{"provider":"p"},{"provider":"p","model":"x","weight":0}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		want := []Target{{Provider: "p", Model: "m", Weight: 1}, {Provider: "p", Model: "x", Weight: 0}}
		if !reflect.DeepEqual(c.Models[0].Targets, want) {
			t.Errorf("targets: got %+v, want %+v", c.Models[0].Targets, want)
		}
		if c.Providers[0].Timeout != DefaultTimeout {
			t.Errorf("timeout: got %v", c.Providers[0].Timeout)
		}
	})
	t.Run("empty sections encode as lists", func(t *testing.T) {
		b, err := json.Marshal(&Config{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), `{"providers":[],"models":[],"consumers":[],"teams":[],"services":[],"prompts":[],"notifiers":[],"alerts":[],"probes":[],"hypercare":[],"scores":[],"review_queues":[]}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	errCases := []struct {
		name string
		src  string
		want string
	}{
		{"unknown field", `{"providers":[{"name":"p","type":"openai","kind":"x"}]}`, `decoding JSON: unknown field "kind"`},
		{"unknown target field", `{"models":[{"name":"m","targets":[{"provider":"p","wieght":1}]}]}`, `decoding JSON: unknown field "wieght"`},
		{"trailing data", `{} {}`, "decoding JSON: unexpected data after the configuration"},
		{"bad duration", `{"providers":[{"name":"p","type":"openai","timeout":"soon"}]}`, `decoding JSON: invalid duration "soon": use a number with a unit, like 30s, 1m30s, 2h or 14d`},
		{"validation without lines", `{"providers":[{"name":"p","type":"openai","api_key":"sk-123"}]}`, "providers[0].api_key: " + apiKeyMsg},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.src))
			if err == nil {
				t.Fatal("ParseJSON succeeded, want an error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		name string
		err  Error
		want string
	}{
		{"line and path", Error{Line: 12, Path: "models[0].targets[1].provider", Msg: `unknown provider "openai-mian"`}, `line 12: models[0].targets[1].provider: unknown provider "openai-mian"`},
		{"no line", Error{Path: "providers[0].name", Msg: "is required"}, "providers[0].name: is required"},
		{"no path", Error{Line: 3, Msg: "did not find expected key"}, "line 3: did not find expected key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	errs := Errors{cases[0].err, cases[1].err}
	if got, want := errs.Error(), cases[0].want+"\n"+cases[1].want; got != want {
		t.Errorf("Errors: got %q, want %q", got, want)
	}
}

func TestEntityKindsCoverConfig(t *testing.T) {
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type.Kind() != reflect.Slice {
			continue
		}
		if entityKinds[yamlName(f)] == "" {
			t.Errorf("Config.%s has no entry in entityKinds", f.Name)
		}
		if _, ok := f.Type.Elem().FieldByName("Name"); !ok {
			t.Errorf("Config.%s: entities need a Name field for Diff", f.Name)
		}
		if j, y := strings.Split(f.Tag.Get("json"), ",")[0], yamlName(f); j != y {
			t.Errorf("Config.%s: json name %q differs from yaml name %q", f.Name, j, y)
		}
	}
}

// TestTagsMatch keeps the JSON and YAML names of every field identical.
func TestTagsMatch(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Provider](), reflect.TypeFor[Model](), reflect.TypeFor[Target](),
		reflect.TypeFor[Price](), reflect.TypeFor[Consumer](), reflect.TypeFor[ConsumerKey](),
		reflect.TypeFor[Retry](), reflect.TypeFor[Breaker](),
	} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if j, y := f.Tag.Get("json"), f.Tag.Get("yaml"); j != y {
				t.Errorf("%s.%s: json tag %q, yaml tag %q", typ.Name(), f.Name, j, y)
			}
		}
	}
}
