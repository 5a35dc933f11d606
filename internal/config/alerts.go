package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Notifier is somewhere alert notifications are sent.
type Notifier struct {
	// Name identifies the notifier in alerts' notify lists; unique.
	Name string `yaml:"name" json:"name"`
	// Type is NotifierWebhook (a signed JSON POST), NotifierSlack (a
	// Slack-compatible incoming webhook, {"text": …}), NotifierAlertmanager
	// (an Alertmanager-compatible POST of /api/v2/alerts) or
	// NotifierPagerDuty (PagerDuty Events API v2).
	Type string `yaml:"type" json:"type"`
	// URL is the absolute http or https address notifications are POSTed to.
	URL string `yaml:"url" json:"url"`
	// Secret is the env:NAME reference of a webhook's HMAC-SHA256 signing
	// key, or of a pagerduty notifier's routing key; required for both,
	// not used by the others.
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// Notifier types.
const (
	NotifierWebhook      = "webhook"
	NotifierSlack        = "slack"
	NotifierAlertmanager = "alertmanager"
	NotifierPagerDuty    = "pagerduty"
)

var notifierTypes = []string{NotifierWebhook, NotifierSlack, NotifierAlertmanager, NotifierPagerDuty}

// Alert is a rule evaluated periodically over the analytics rollups (or
// the call log's counters): when Metric over Window crosses a threshold
// for at least For, the alert fires and its notifiers are told; when it no
// longer does (for KeepFiringFor), it resolves and they are told again.
type Alert struct {
	// Name identifies the rule; unique.
	Name string `yaml:"name" json:"name"`
	// Description is included in notifications.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Metric is one of AlertMetrics.
	Metric string `yaml:"metric" json:"metric"`
	// Filter keeps the calls whose dimensions have these values; the keys
	// are AlertDimensions.
	Filter map[string]string `yaml:"filter,omitempty" json:"filter,omitempty"`
	// GroupBy evaluates the rule once per value (or combination of values)
	// of these dimensions, each group with its own state.
	GroupBy []string `yaml:"group_by,omitempty" json:"group_by,omitempty"`
	// Window is how far back the metric is computed; DefaultAlertWindow
	// when unset, at least a minute (the rollups' finest resolution).
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// Operator compares the metric with the thresholds: >, >=, < or <=
	// (default >).
	Operator string `yaml:"operator,omitempty" json:"operator,omitempty"`
	// Threshold holds the warning and critical levels; at least one.
	Threshold AlertThreshold `yaml:"threshold" json:"threshold"`
	// For is how long the condition must hold before the alert fires; 0
	// fires at the first evaluation that crosses.
	For Duration `yaml:"for,omitempty" json:"for,omitempty"`
	// KeepFiringFor keeps a firing alert firing this long after the
	// condition clears, so that a metric hovering at the threshold does not
	// flap.
	KeepFiringFor Duration `yaml:"keep_firing_for,omitempty" json:"keep_firing_for,omitempty"`
	// MinRequests is the fewest calls in the window for the metric to be
	// judged; below it the group has no data.
	MinRequests int `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
	// NoData says what a group without data becomes: NoDataOK (default),
	// NoDataKeep (its state is kept) or NoDataAlert (it fires, critical).
	NoData string `yaml:"no_data,omitempty" json:"no_data,omitempty"`
	// Notify lists the notifiers told when the alert fires and resolves.
	Notify []string `yaml:"notify,omitempty" json:"notify,omitempty"`
}

// AlertThreshold is the levels of an alert; nil means not set.
type AlertThreshold struct {
	Warning  *float64 `yaml:"warning,omitempty" json:"warning,omitempty"`
	Critical *float64 `yaml:"critical,omitempty" json:"critical,omitempty"`
}

// DefaultAlertWindow is an alert's window when none is set.
const DefaultAlertWindow = Duration(5 * time.Minute)

// Alert no-data policies.
const (
	NoDataOK    = "ok"
	NoDataKeep  = "keep"
	NoDataAlert = "alert"
)

var noDataPolicies = []string{NoDataOK, NoDataKeep, NoDataAlert}

// AlertOperators are the comparisons an alert may use.
var AlertOperators = []string{">", ">=", "<", "<="}

// Metrics of the call log's own counters, not of calls: records written to
// the spill file because the store was slow, and records lost.
const (
	MetricCallLogSpilled = "calllog_spilled"
	MetricCallLogDropped = "calllog_dropped"
)

// AlertMetrics are the metrics an alert may watch. All but the call log's
// counters are computed from the analytics rollups.
var AlertMetrics = []string{"requests", "errors", "error_rate", "latency_mean", "latency_p50", "latency_p95",
	"latency_p99", "ttft_p50", "ttft_p95", "tokens", "input_tokens", "output_tokens", "cost", "cache_hit_rate",
	MetricCallLogSpilled, MetricCallLogDropped}

// AlertDimensions are the keys of an alert's filter and group_by.
var AlertDimensions = []string{"service", "route", "model", "provider", "consumer"}

// IsCallLogMetric reports whether m is one of the call log's counters,
// which have no dimensions.
func IsCallLogMetric(m string) bool {
	return m == MetricCallLogSpilled || m == MetricCallLogDropped
}

// EffectiveWindow is the alert's window, the default when unset.
func (a Alert) EffectiveWindow() time.Duration {
	if a.Window == 0 {
		return DefaultAlertWindow.Std()
	}
	return a.Window.Std()
}

// EffectiveOperator is the alert's operator, > when unset.
func (a Alert) EffectiveOperator() string {
	if a.Operator == "" {
		return ">"
	}
	return a.Operator
}

// EffectiveNoData is the alert's no-data policy, ok when unset.
func (a Alert) EffectiveNoData() string {
	if a.NoData == "" {
		return NoDataOK
	}
	return a.NoData
}

func (a *Alert) applyDefaults() {
	a.GroupBy = nilIfEmpty(a.GroupBy)
	a.Notify = nilIfEmpty(a.Notify)
	if len(a.Filter) == 0 {
		a.Filter = nil
	}
}

// notifiers checks the notifiers and returns their names.
func (v *validator) notifiers(ns []Notifier) map[string]bool {
	seen := map[string]bool{}
	for i, n := range ns {
		path := fmt.Sprintf("notifiers[%d]", i)
		v.name(n.Name, path+".name")
		v.unique(seen, n.Name, path, "notifier")
		switch {
		case n.Type == "":
			v.fail(path+".type", "is required (one of: %s)", strings.Join(notifierTypes, ", "))
		case !slices.Contains(notifierTypes, n.Type):
			v.fail(path+".type", "unknown notifier type %q (one of: %s)", n.Type, strings.Join(notifierTypes, ", "))
		}
		v.eventURL(n.URL, path+".url")
		switch {
		case n.Type == NotifierWebhook && n.Secret == "":
			v.fail(path+".secret", "is required: receivers check each notification's X-Hypergate-Signature with it")
		case n.Type == NotifierPagerDuty && n.Secret == "":
			v.fail(path+".secret", "is required: the integration's routing key, as env:NAME")
		case n.Secret != "" && !IsSecretRef(n.Secret):
			v.fail(path+".secret", "secret must be a secret reference like env:HOOK_SECRET; secrets are never stored in clear")
		case (n.Type == NotifierSlack || n.Type == NotifierAlertmanager) && n.Secret != "":
			v.fail(path+".secret", "%s notifiers are not signed; leave secret out", n.Type)
		}
	}
	return seen
}

// alerts checks the alert rules against the declared notifiers.
func (v *validator) alerts(as []Alert, notifiers map[string]bool) {
	seen := map[string]bool{}
	for i, a := range as {
		path := fmt.Sprintf("alerts[%d]", i)
		v.name(a.Name, path+".name")
		v.unique(seen, a.Name, path, "alert")
		switch {
		case a.Metric == "":
			v.fail(path+".metric", "is required (one of: %s)", strings.Join(AlertMetrics, ", "))
		case !slices.Contains(AlertMetrics, a.Metric):
			v.fail(path+".metric", "unknown metric %q (one of: %s)", a.Metric, strings.Join(AlertMetrics, ", "))
		}
		counter := IsCallLogMetric(a.Metric)
		for _, k := range sortedKeys(a.Filter) {
			switch {
			case !slices.Contains(AlertDimensions, k):
				v.fail(path+".filter."+k, "unknown dimension %q (one of: %s)", k, strings.Join(AlertDimensions, ", "))
			case counter:
				v.fail(path+".filter."+k, "%s counts the whole call log; it has no dimensions to filter on", a.Metric)
			case a.Filter[k] == "":
				v.fail(path+".filter."+k, "is empty: remove it or give a value")
			}
		}
		dims := map[string]bool{}
		for j, d := range a.GroupBy {
			gp := fmt.Sprintf("%s.group_by[%d]", path, j)
			switch {
			case !slices.Contains(AlertDimensions, d):
				v.fail(gp, "unknown dimension %q (one of: %s)", d, strings.Join(AlertDimensions, ", "))
			case counter:
				v.fail(gp, "%s counts the whole call log; it has no dimensions to group by", a.Metric)
			case dims[d]:
				v.fail(gp, "dimension %q is listed twice", d)
			case a.Filter[d] != "":
				v.fail(gp, "dimension %q is fixed by the filter; grouping by it gives one group", d)
			}
			dims[d] = true
		}
		if a.Window != 0 && a.Window < Duration(time.Minute) {
			v.fail(path+".window", "must be at least 1m: rollups count calls per minute")
		}
		if a.For < 0 {
			v.fail(path+".for", "must not be negative")
		}
		if a.KeepFiringFor < 0 {
			v.fail(path+".keep_firing_for", "must not be negative")
		}
		if a.MinRequests < 0 {
			v.fail(path+".min_requests", "must be 0 or more")
		}
		if a.Operator != "" && !slices.Contains(AlertOperators, a.Operator) {
			v.fail(path+".operator", "unknown operator %q (one of: %s)", a.Operator, strings.Join(AlertOperators, " "))
		}
		if a.NoData != "" && !slices.Contains(noDataPolicies, a.NoData) {
			v.fail(path+".no_data", "unknown policy %q (one of: %s)", a.NoData, strings.Join(noDataPolicies, ", "))
		}
		v.threshold(a, path+".threshold")
		listed := map[string]bool{}
		for j, n := range a.Notify {
			np := fmt.Sprintf("%s.notify[%d]", path, j)
			switch {
			case !notifiers[n]:
				v.fail(np, "unknown notifier %q: declare it under notifiers", n)
			case listed[n]:
				v.fail(np, "notifier %q is listed twice", n)
			}
			listed[n] = true
		}
	}
}

func (v *validator) threshold(a Alert, path string) {
	w, c := a.Threshold.Warning, a.Threshold.Critical
	if w == nil && c == nil {
		v.fail(path, "is required: set warning, critical or both")
		return
	}
	for _, t := range []struct {
		name string
		v    *float64
	}{{"warning", w}, {"critical", c}} {
		if t.v != nil && (math.IsNaN(*t.v) || math.IsInf(*t.v, 0)) {
			v.fail(path+"."+t.name, "must be a finite number")
			return
		}
	}
	if w == nil || c == nil {
		return
	}
	if strings.HasPrefix(a.EffectiveOperator(), ">") && *c < *w {
		v.fail(path+".critical", "must not be below warning: with %s, critical is the worse level", a.EffectiveOperator())
	}
	if strings.HasPrefix(a.EffectiveOperator(), "<") && *c > *w {
		v.fail(path+".critical", "must not be above warning: with %s, critical is the worse level", a.EffectiveOperator())
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
