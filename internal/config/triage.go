package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Triage configures how incidents (internal/triage) are graded and
// announced: one object, not a list; absent, incidents take the default
// severities and notify no one.
type Triage struct {
	// Notify names the notifiers (of type webhook or slack) told when an
	// incident is new or regresses; never on every occurrence.
	Notify []string `yaml:"notify,omitempty" json:"notify,omitempty"`
	// Severity overrides the default severity of a status class (5xx,
	// 4xx, timeout, connection, stream), an anomaly flag (refusal,
	// empty_output …) or negative_feedback: one of TriageSeverities.
	Severity map[string]string `yaml:"severity,omitempty" json:"severity,omitempty"`
}

// TriageSeverities are the severities an incident can have, least severe
// first.
var TriageSeverities = []string{"low", "medium", "high", "critical"}

// triageKey is what a severity override may name: a status class, a
// detector's flag or negative_feedback, all lowercase words.
var triageKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,62}$`)

// normalize drops an empty section, so that "triage: {}" and no section
// are the same configuration.
func (t *Triage) normalize() *Triage {
	if t == nil {
		return nil
	}
	if len(t.Notify) == 0 {
		t.Notify = nil
	}
	if len(t.Severity) == 0 {
		t.Severity = nil
	}
	if t.Notify == nil && t.Severity == nil {
		return nil
	}
	return t
}

func (v *validator) triage(t *Triage, notifiers []Notifier) {
	if t == nil {
		return
	}
	seen := map[string]bool{}
	for j, n := range t.Notify {
		np := fmt.Sprintf("triage.notify[%d]", j)
		k := slices.IndexFunc(notifiers, func(x Notifier) bool { return x.Name == n })
		switch {
		case k < 0:
			v.fail(np, "unknown notifier %q: declare it under notifiers", n)
		case notifiers[k].Type != NotifierWebhook && notifiers[k].Type != NotifierSlack:
			v.fail(np, "notifier %q is of type %s; incidents go to webhook and slack notifiers", n, notifiers[k].Type)
		case seen[n]:
			v.fail(np, "notifier %q is listed twice", n)
		}
		seen[n] = true
	}
	keys := make([]string, 0, len(t.Severity))
	for k := range t.Severity {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := "triage.severity." + k
		if !triageKey.MatchString(k) {
			v.fail(path, "%q is not a status class (5xx, 4xx, timeout, connection, stream), an anomaly flag or negative_feedback", k)
			continue
		}
		if !slices.Contains(TriageSeverities, strings.ToLower(t.Severity[k])) {
			v.fail(path, "severity %q is not one of %s", t.Severity[k], strings.Join(TriageSeverities, ", "))
		}
	}
}
