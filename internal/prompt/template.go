package prompt

import (
	"regexp"
	"slices"
	"strings"

	"github.com/hypergate/hypergate/internal/config"
)

// refRe finds {{ name }} references, with the syntax config.TemplateVariables
// checks: the validated configuration and the renderer must agree on what
// is a reference and what is literal text.
var refRe = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// template is a message template parsed once, at compile time, into
// literal text and variable references. Rendering writes the parts in
// order and never scans a value, so a value that looks like a reference
// ("{{x}}") reaches the model as the text it is.
type template struct {
	parts []part
}

type part struct {
	text string // literal text, or the variable's name
	ref  bool
}

func parseTemplate(s string) (template, error) {
	if _, err := config.TemplateVariables(s); err != nil {
		return template{}, err
	}
	var t template
	last := 0
	for _, m := range refRe.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t.parts = append(t.parts, part{text: s[last:m[0]]})
		}
		t.parts = append(t.parts, part{text: s[m[2]:m[3]], ref: true})
		last = m[1]
	}
	if last < len(s) {
		t.parts = append(t.parts, part{text: s[last:]})
	}
	return t, nil
}

// empty reports whether the template renders nothing at all.
func (t template) empty() bool { return len(t.parts) == 0 }

// variables returns the names referred to, in order of first use.
func (t template) variables() []string {
	var names []string
	for _, p := range t.parts {
		if p.ref && !slices.Contains(names, p.text) {
			names = append(names, p.text)
		}
	}
	return names
}

// render writes the template with value(name) for each reference.
func (t template) render(value func(name string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref {
			b.WriteString(value(p.text))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}
