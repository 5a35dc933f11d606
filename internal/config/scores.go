package config

import (
	"fmt"
	"slices"
)

// Score types: what values a score definition accepts. Named as Langfuse
// names its score data types so that exports map one to one.
const (
	ScoreBoolean     = "boolean"     // true or false; false is negative feedback
	ScoreNumeric     = "numeric"     // a number, within [min, max] when set
	ScoreCategorical = "categorical" // one of the listed categories
	ScoreText        = "text"        // free text; says nothing positive or negative
)

// ScoreTypes lists the score types.
var ScoreTypes = []string{ScoreBoolean, ScoreNumeric, ScoreCategorical, ScoreText}

// Score defines a named score that users, applications and reviewers give
// calls as feedback. Feedback whose name has a definition is checked
// against it and judged positive or negative by it; feedback under any
// other name is accepted as it comes (a boolean, a number or a string).
type Score struct {
	// Name is the feedback name the definition applies to; unique.
	Name string `yaml:"name" json:"name"`
	// Type is one of ScoreTypes.
	Type string `yaml:"type" json:"type"`
	// Description says what the score means, for reviewers and the portal.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Min and Max bound a numeric score (inclusive). With both set, values
	// below their midpoint are negative, above it positive, and the
	// midpoint itself neutral, unless NegativeBelow or PositiveAbove say
	// otherwise.
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// NegativeBelow and PositiveAbove replace the midpoint rule of a
	// numeric score: values strictly below NegativeBelow are negative,
	// strictly above PositiveAbove positive, the rest neutral.
	NegativeBelow *float64 `yaml:"negative_below,omitempty" json:"negative_below,omitempty"`
	PositiveAbove *float64 `yaml:"positive_above,omitempty" json:"positive_above,omitempty"`
	// Categories are the values a categorical score accepts.
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"`
	// Negative and Positive are the categories that count as negative and
	// positive feedback; the others are neutral.
	Negative []string `yaml:"negative,omitempty" json:"negative,omitempty"`
	Positive []string `yaml:"positive,omitempty" json:"positive,omitempty"`
}

// FindScore returns the definition of the named score, if there is one.
func (c *Config) FindScore(name string) (Score, bool) {
	if c == nil {
		return Score{}, false
	}
	for _, s := range c.Scores {
		if s.Name == name {
			return s, true
		}
	}
	return Score{}, false
}

func (s *Score) applyDefaults() {
	s.Categories = nilIfEmpty(s.Categories)
	s.Negative = nilIfEmpty(s.Negative)
	s.Positive = nilIfEmpty(s.Positive)
}

// scores checks the score definitions.
func (v *validator) scores(ss []Score) {
	seen := map[string]bool{}
	for i, s := range ss {
		path := fmt.Sprintf("scores[%d]", i)
		v.scoreName(s.Name, path+".name")
		if seen[s.Name] {
			v.fail(path+".name", "score %q is defined twice", s.Name)
		}
		seen[s.Name] = true
		if !slices.Contains(ScoreTypes, s.Type) {
			v.fail(path+".type", "must be one of boolean, numeric, categorical, text")
			continue
		}
		if len(s.Description) > 1024 {
			v.fail(path+".description", "must be at most 1024 bytes")
		}
		numeric := s.Min != nil || s.Max != nil || s.NegativeBelow != nil || s.PositiveAbove != nil
		if numeric && s.Type != ScoreNumeric {
			v.fail(path, "min, max, negative_below and positive_above apply only to a numeric score")
		}
		if (len(s.Categories) > 0 || len(s.Negative) > 0 || len(s.Positive) > 0) && s.Type != ScoreCategorical {
			v.fail(path, "categories, negative and positive apply only to a categorical score")
		}
		switch s.Type {
		case ScoreNumeric:
			if s.Min != nil && s.Max != nil && !(*s.Min < *s.Max) {
				v.fail(path+".max", "must be greater than min (%g)", *s.Min)
			}
			if s.NegativeBelow != nil && s.PositiveAbove != nil && *s.NegativeBelow > *s.PositiveAbove {
				v.fail(path+".negative_below", "must not exceed positive_above (%g)", *s.PositiveAbove)
			}
		case ScoreCategorical:
			if len(s.Categories) == 0 {
				v.fail(path+".categories", "a categorical score lists its categories")
			}
			cats := map[string]bool{}
			for j, c := range s.Categories {
				cp := fmt.Sprintf("%s.categories[%d]", path, j)
				switch {
				case c == "" || len(c) > 256:
					v.fail(cp, "must be 1-256 bytes")
				case cats[c]:
					v.fail(cp, "category %q is listed twice", c)
				}
				cats[c] = true
			}
			judged := map[string]string{}
			for _, side := range []struct {
				key  string
				list []string
			}{{"negative", s.Negative}, {"positive", s.Positive}} {
				for j, c := range side.list {
					cp := fmt.Sprintf("%s.%s[%d]", path, side.key, j)
					switch {
					case !cats[c]:
						v.fail(cp, "%q is not one of the categories", c)
					case judged[c] != "":
						v.fail(cp, "%q is already listed as %s", c, judged[c])
					}
					judged[c] = side.key
				}
			}
		}
	}
}

// scoreName checks a score name: what feedback posts as "name".
func (v *validator) scoreName(name, path string) {
	if name == "" || len(name) > 64 {
		v.fail(path, "must be 1-64 characters")
		return
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			v.fail(path, "must be letters, digits, '-', '_', '.' or ':'")
			return
		}
	}
}
