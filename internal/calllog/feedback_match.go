package calllog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FeedbackMatch selects calls by their feedback: those with at least one
// feedback item of the name and value, or of the polarity, given. The zero
// value matches every call.
type FeedbackMatch struct {
	// Name is the score's name; Value what it must be: "true" and "false"
	// match booleans, a number matches that number, anything else matches
	// a string (a category). With an empty Value any value matches.
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
	// Polarity, "positive" or "negative", matches feedback of any name
	// judged so when it was given.
	Polarity string `json:"polarity,omitempty"`
}

// IsZero reports whether m matches every call.
func (m FeedbackMatch) IsZero() bool { return m == FeedbackMatch{} }

// String writes m as ParseFeedbackMatch reads it.
func (m FeedbackMatch) String() string {
	switch {
	case m.Polarity != "":
		return m.Polarity
	case m.Value != "":
		return m.Name + ":" + m.Value
	}
	return m.Name
}

// Bool returns the boolean Value matches: ok is false when it matches no
// boolean.
func (m FeedbackMatch) Bool() (v, ok bool) {
	switch m.Value {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Number returns the number Value matches: ok is false when it is no
// finite number.
func (m FeedbackMatch) Number() (float64, bool) {
	f, err := strconv.ParseFloat(m.Value, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// ParseFeedbackMatch reads a feedback filter as the call list takes it:
// "negative" or "positive" (any feedback of that polarity), "name" (any
// value of that score) or "name:value", e.g. "helpful:false", "rating:1",
// "category:wrong".
func ParseFeedbackMatch(s string) (FeedbackMatch, error) {
	if s == "negative" || s == "positive" {
		return FeedbackMatch{Polarity: s}, nil
	}
	name, value, _ := strings.Cut(s, ":")
	if name == "" || len(name) > 64 || !scoreNameOK(name) {
		return FeedbackMatch{}, fmt.Errorf("%q is not a feedback filter: write negative, positive, a score name, or name:value such as helpful:false", s)
	}
	if len(value) > 256 {
		return FeedbackMatch{}, fmt.Errorf("the value of feedback filter %q is longer than 256 bytes", name)
	}
	return FeedbackMatch{Name: name, Value: value}, nil
}

func scoreNameOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
