package triage

import (
	"fmt"
	"math"
	"strings"
)

// Severity is how bad one occurrence of an incident is.
type Severity string

// The severities, least severe first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities returns every severity, least severe first.
func Severities() []Severity {
	return []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool { return s.Weight() > 0 }

// Weight is the severity's factor in Priority: 1, 2, 4 and 8 from low to
// critical, so that each step outweighs a doubling of impact or frequency
// and no more. 0 for an unknown severity.
func (s Severity) Weight() float64 {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 8
	}
	return 0
}

// defaultSeverities are the severities by status class, anomaly flag and
// negative feedback. Failures that are the gateway's or upstream's fault
// are high; a client's own mistakes (4xx) medium. An anomaly's severity
// follows what the user saw: nothing at all or unusable JSON is high; an
// answer cut short, filtered, refused, repetitive or in another language
// medium; a merely long or slow answer low.
var defaultSeverities = map[string]Severity{
	ClassServerError: SeverityHigh,
	ClassTimeout:     SeverityHigh,
	ClassConnection:  SeverityHigh,
	ClassStream:      SeverityHigh,
	ClassClientError: SeverityMedium,

	"empty_output":      SeverityHigh,
	"invalid_json":      SeverityHigh,
	"truncated":         SeverityMedium,
	"content_filter":    SeverityMedium,
	"refusal":           SeverityMedium,
	"repetition":        SeverityMedium,
	"language_mismatch": SeverityMedium,
	"long_output":       SeverityLow,
	"latency_outlier":   SeverityLow,
	"ttft_outlier":      SeverityLow,

	SeverityNegativeFeedback: SeverityMedium,
}

// SeverityTable maps a status class, anomaly flag or SeverityNegativeFeedback
// to a severity: the defaults, with the configuration's overrides.
type SeverityTable map[string]Severity

// NewSeverityTable returns the default severities with overrides applied.
// An override with an unknown severity is an error.
func NewSeverityTable(overrides map[string]string) (SeverityTable, error) {
	t := SeverityTable{}
	for k, v := range defaultSeverities {
		t[k] = v
	}
	for k, v := range overrides {
		s := Severity(strings.ToLower(v))
		if !s.Valid() {
			return nil, fmt.Errorf("severity of %q: %q is not one of low, medium, high, critical", k, v)
		}
		t[k] = s
	}
	return t, nil
}

// Of returns the severity of a key: by its status class for a failure,
// its flag for an anomaly (low for a flag without a default), and
// SeverityNegativeFeedback's for feedback.
func (t SeverityTable) Of(k Key) Severity {
	var name string
	switch k.Kind {
	case KindFailure:
		name = k.StatusClass
	case KindAnomaly:
		name = k.Flag
	case KindFeedback:
		name = SeverityNegativeFeedback
	}
	if s, ok := t[name]; ok {
		return s
	}
	if s, ok := defaultSeverities[name]; ok {
		return s
	}
	if k.Kind == KindAnomaly {
		return SeverityLow
	}
	return SeverityMedium
}

// Priority ranks an incident:
//
//	priority = severity × impact × frequency
//	severity  = 1 (low), 2 (medium), 4 (high), 8 (critical)
//	impact    = 1 + log2(1 + consumers) + log2(1 + end users)
//	frequency = log2(2 + occurrences in the last 24 hours)
//
// Each factor is at least 1, so an incident nobody else saw and that did
// not recur today ranks by its severity alone. The logarithms keep one
// noisy consumer or a burst of thousands of calls from drowning everything
// else: doubling the consumers, the end users or the daily count adds
// about one to its factor, while a step of severity doubles the priority.
// An incident that stops recurring sinks as its 24-hour count falls to 0.
// The result is rounded to two decimals.
func Priority(s Severity, consumers, endUsers, recent int64) float64 {
	w := s.Weight()
	if w == 0 {
		w = 1
	}
	impact := 1 + math.Log2(1+float64(max(consumers, 0))) + math.Log2(1+float64(max(endUsers, 0)))
	frequency := math.Log2(2 + float64(max(recent, 0)))
	return math.Round(w*impact*frequency*100) / 100
}
