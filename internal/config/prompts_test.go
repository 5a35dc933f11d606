package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestTemplateVariables(t *testing.T) {
	tests := []struct {
		name, tmpl string
		want       []string
		err        string
	}{
		{name: "none", tmpl: "plain text", want: nil},
		{name: "in order of first use", tmpl: "{{b}} then {{ a }} then {{b}}", want: []string{"b", "a"}},
		{name: "not a name", tmpl: "hi {{ first name }}", err: "{{ first name }} is not a variable reference"},
		{name: "unbalanced", tmpl: "hi {{name", err: "unbalanced"},
		{name: "stray closing", tmpl: "hi }} there", err: "unbalanced"},
		{name: "digit first", tmpl: "{{1x}}", err: "is not a variable reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TemplateVariables(tt.tmpl)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPromptValidation(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{name: "short form", src: `prompts:
  - { name: s, model: m, template: "Hi {{who}}", variables: [{name: who, required: true}] }
`},
		{name: "undeclared variable", src: `prompts:
  - { name: s, model: m, template: "Hi {{who}}" }
`, want: "prompts[0].template: {{who}} is not declared under variables"},
		{name: "unused variable", src: `prompts:
  - { name: s, model: m, template: "Hi", variables: [{name: who}] }
`, want: `prompts[0].variables[0]: variable "who" is not used by the template`},
		{name: "unknown model", src: `prompts:
  - { name: s, model: nope, template: "Hi" }
`, want: `prompts[0].model: unknown model "nope"`},
		{name: "both forms", src: `prompts:
  - { name: s, model: m, template: "Hi", versions: [{version: 1, model: m, template: "x"}] }
`, want: "write either the short form"},
		{name: "duplicate versions", src: `prompts:
  - { name: s, versions: [{version: 1, model: m, template: "x"}, {version: 1, model: m, template: "y"}] }
`, want: "prompts[0].versions[1].version: version 1 is listed twice"},
		{name: "canary on the release", src: `prompts:
  - { name: s, versions: [{version: 1, model: m, template: "x"}, {version: 2, model: m, template: "y"}], canary: {version: 2, percent: 5} }
`, want: "prompts[0].canary.version: is the released version"},
		{name: "canary percent", src: `prompts:
  - { name: s, versions: [{version: 1, model: m, template: "x"}, {version: 2, model: m, template: "y"}], release: 2, canary: {version: 1, percent: 100} }
`, want: "prompts[0].canary.percent: must be more than 0 and less than 100"},
		{name: "release not declared", src: `prompts:
  - { name: s, versions: [{version: 1, model: m, template: "x"}], release: 3 }
`, want: "prompts[0].release: version 3 is not declared"},
		{name: "default outside enum", src: `prompts:
  - { name: s, model: m, template: "{{a}}", variables: [{name: a, default: x, enum: [y, z]}] }
`, want: `prompts[0].variables[0].default: "x" is not one of the enum values`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(servicesBase + tt.src))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("no error, want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got:\n%v\nwant a line containing %q", err, tt.want)
			}
		})
	}
	c := mustParse(t, servicesBase+`prompts:
  - { name: s, versions: [{version: 1, model: m, template: "x"}, {version: 4, model: m, template: "y"}] }
  - { name: t, model: m, template: "z" }
`)
	if got := c.Prompts[0].ReleaseVersion(); got != 4 {
		t.Errorf("release of a prompt without one = %d, want the highest, 4", got)
	}
	if v := c.Prompts[1].PromptVersions(); len(v) != 1 || v[0].Version != 1 || v[0].Template != "z" {
		t.Errorf("short form versions = %+v", v)
	}
}
