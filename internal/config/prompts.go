package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Prompt is a prompt template published as an API: POST
// /v1/prompts/{name} with {"variables": {...}, "messages": [...]} renders
// the template and calls its model. A prompt has numbered, immutable
// versions; Release says which one answers, and Canary sends a share of
// the calls to another.
//
// The short form (Model, Template … at the top) declares version 1; the
// long form lists Versions. Not both.
type Prompt struct {
	// Name identifies the prompt and is the last segment of its path.
	Name string `yaml:"name" json:"name"`
	// Team is the owning team; it must be declared under teams.
	Team string `yaml:"team,omitempty" json:"team,omitempty"`
	// Description is shown in the catalog and the generated OpenAPI document.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// The short form, version 1 (see PromptVersion for the fields).
	Model       string           `yaml:"model,omitempty" json:"model,omitempty"`
	System      string           `yaml:"system,omitempty" json:"system,omitempty"`
	Template    string           `yaml:"template,omitempty" json:"template,omitempty"`
	Variables   []PromptVariable `yaml:"variables,omitempty" json:"variables,omitempty"`
	Temperature *float64         `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	MaxTokens   *int             `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`

	// Versions is the long form.
	Versions []PromptVersion `yaml:"versions,omitempty" json:"versions,omitempty"`
	// Release is the version that answers; default the highest.
	Release int `yaml:"release,omitempty" json:"release,omitempty"`
	// Canary sends Percent of the calls to another version.
	Canary *PromptCanary `yaml:"canary,omitempty" json:"canary,omitempty"`
}

// PromptVersion is one immutable version of a prompt.
type PromptVersion struct {
	// Version numbers start at 1; unique within a prompt.
	Version int `yaml:"version" json:"version"`
	// Model is one of the configuration's model names.
	Model string `yaml:"model,omitempty" json:"model,omitempty"`
	// System is an optional system message template.
	System string `yaml:"system,omitempty" json:"system,omitempty"`
	// Template is the user message template; {{name}} inserts a variable.
	Template string `yaml:"template,omitempty" json:"template,omitempty"`
	// Variables declares every variable the templates use.
	Variables []PromptVariable `yaml:"variables,omitempty" json:"variables,omitempty"`
	// Temperature and MaxTokens, when set, are sent with every call.
	Temperature *float64 `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	MaxTokens   *int     `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
}

// Prompt variable types.
const (
	VarString  = "string"
	VarNumber  = "number"
	VarInteger = "integer"
	VarBoolean = "boolean"
)

var varTypes = []string{VarString, VarNumber, VarInteger, VarBoolean}

// PromptVariable is a typed template variable.
type PromptVariable struct {
	Name string `yaml:"name" json:"name"`
	// Type is string (default), number, integer or boolean.
	Type        string `yaml:"type,omitempty" json:"type,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Required variables must be given; others take Default (or "").
	Required bool   `yaml:"required,omitempty" json:"required,omitempty"`
	Default  string `yaml:"default,omitempty" json:"default,omitempty"`
	// Enum, when set, lists the values allowed.
	Enum []string `yaml:"enum,omitempty" json:"enum,omitempty"`
	// MaxLength caps a string value, in characters.
	MaxLength int `yaml:"max_length,omitempty" json:"max_length,omitempty"`
}

// PromptCanary sends a share of a prompt's calls to another version.
type PromptCanary struct {
	Version int     `yaml:"version" json:"version"`
	Percent float64 `yaml:"percent" json:"percent"`
}

// templateRef finds {{ name }} references; anything else between braces is
// an error, so that a typo cannot reach the model as literal text.
var templateRef = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// varNameRe is the shape of a variable name.
var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// TemplateVariables returns the variable names a template refers to, in
// order of first use, or an error for a malformed reference.
func TemplateVariables(tmpl string) ([]string, error) {
	var names []string
	for _, m := range templateRef.FindAllStringSubmatch(tmpl, -1) {
		if !varNameRe.MatchString(m[1]) {
			return nil, fmt.Errorf("%s is not a variable reference: write {{name}} with a name of letters, digits and _", m[0])
		}
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	rest := templateRef.ReplaceAllString(tmpl, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return nil, fmt.Errorf("unbalanced {{ or }}")
	}
	return names, nil
}

// PromptVersions returns a prompt's versions, the short form as version 1.
func (p Prompt) PromptVersions() []PromptVersion {
	if len(p.Versions) > 0 {
		return p.Versions
	}
	return []PromptVersion{{Version: 1, Model: p.Model, System: p.System, Template: p.Template,
		Variables: p.Variables, Temperature: p.Temperature, MaxTokens: p.MaxTokens}}
}

// ReleaseVersion is the version that answers when no canary applies.
func (p Prompt) ReleaseVersion() int {
	if p.Release > 0 {
		return p.Release
	}
	best := 0
	for _, v := range p.PromptVersions() {
		best = max(best, v.Version)
	}
	return best
}

func (v *validator) prompts(ps []Prompt, models, teams map[string]bool) {
	seen := map[string]bool{}
	for i, p := range ps {
		path := fmt.Sprintf("prompts[%d]", i)
		v.name(p.Name, path+".name")
		v.unique(seen, p.Name, path, "prompt")
		v.team(p.Team, path+".team", teams)
		short := p.Model != "" || p.Template != "" || p.System != "" || len(p.Variables) > 0 ||
			p.Temperature != nil || p.MaxTokens != nil
		switch {
		case short && len(p.Versions) > 0:
			v.fail(path+".versions", "write either the short form (model, template, variables) or versions, not both")
			continue
		case !short && len(p.Versions) == 0:
			v.fail(path+".template", "is required (or list versions)")
			continue
		}
		versions := map[int]bool{}
		for j, pv := range p.PromptVersions() {
			vp := path
			if !short {
				vp = fmt.Sprintf("%s.versions[%d]", path, j)
				if pv.Version < 1 {
					v.fail(vp+".version", "is required: a number from 1")
				}
			}
			if versions[pv.Version] {
				v.fail(vp+".version", "version %d is listed twice", pv.Version)
			}
			versions[pv.Version] = true
			v.promptVersion(pv, vp, models)
		}
		if p.Release != 0 && !versions[p.Release] {
			v.fail(path+".release", "version %d is not declared", p.Release)
		}
		if c := p.Canary; c != nil {
			switch {
			case !versions[c.Version]:
				v.fail(path+".canary.version", "version %d is not declared", c.Version)
			case c.Version == p.ReleaseVersion():
				v.fail(path+".canary.version", "is the released version; a canary sends calls to another")
			}
			if c.Percent <= 0 || c.Percent >= 100 || math.IsNaN(c.Percent) {
				v.fail(path+".canary.percent", "must be more than 0 and less than 100")
			}
		}
	}
}

func (v *validator) promptVersion(pv PromptVersion, path string, models map[string]bool) {
	switch {
	case pv.Model == "":
		v.fail(path+".model", "is required")
	case !models[pv.Model]:
		v.fail(path+".model", "unknown model %q", pv.Model)
	}
	if strings.TrimSpace(pv.Template) == "" {
		v.fail(path+".template", "is required")
	}
	declared := map[string]PromptVariable{}
	for i, pvar := range pv.Variables {
		vp := fmt.Sprintf("%s.variables[%d]", path, i)
		switch {
		case !varNameRe.MatchString(pvar.Name):
			v.fail(vp+".name", "invalid variable name %q: letters, digits and _, not starting with a digit", pvar.Name)
			continue
		case declared[pvar.Name].Name != "":
			v.fail(vp+".name", "variable %q is declared twice", pvar.Name)
			continue
		}
		declared[pvar.Name] = pvar
		if pvar.Type != "" && !slices.Contains(varTypes, pvar.Type) {
			v.fail(vp+".type", "unknown type %q (one of: %s)", pvar.Type, strings.Join(varTypes, ", "))
		}
		if pvar.Required && pvar.Default != "" {
			v.fail(vp+".default", "a required variable has no default")
		}
		if pvar.MaxLength < 0 {
			v.fail(vp+".max_length", "must be 0 (no limit) or more")
		}
		if pvar.Default != "" && len(pvar.Enum) > 0 && !slices.Contains(pvar.Enum, pvar.Default) {
			v.fail(vp+".default", "%q is not one of the enum values", pvar.Default)
		}
	}
	used := map[string]bool{}
	for _, t := range []struct{ name, text string }{{"system", pv.System}, {"template", pv.Template}} {
		names, err := TemplateVariables(t.text)
		if err != nil {
			v.fail(path+"."+t.name, "%v", err)
			continue
		}
		for _, n := range names {
			used[n] = true
			if declared[n].Name == "" {
				v.fail(path+"."+t.name, "{{%s}} is not declared under variables", n)
			}
		}
	}
	for i, pvar := range pv.Variables {
		if varNameRe.MatchString(pvar.Name) && !used[pvar.Name] {
			v.fail(fmt.Sprintf("%s.variables[%d]", path, i), "variable %q is not used by the template", pvar.Name)
		}
	}
	if pv.Temperature != nil && (*pv.Temperature < 0 || *pv.Temperature > 2) {
		v.fail(path+".temperature", "must be between 0 and 2")
	}
	if pv.MaxTokens != nil && *pv.MaxTokens < 1 {
		v.fail(path+".max_tokens", "must be at least 1")
	}
}
