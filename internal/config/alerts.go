package config

import (
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Notifier is somewhere alert notifications are sent.
type Notifier struct {
	// Name identifies the notifier in alerts' notify lists; unique.
	Name string `yaml:"name" json:"name"`
	// Type is NotifierWebhook (a signed JSON POST), NotifierSlack (a
	// Slack-compatible incoming webhook, {"text": …}), NotifierAlertmanager
	// (an Alertmanager-compatible POST of /api/v2/alerts),
	// NotifierPagerDuty (PagerDuty Events API v2) or NotifierEmail (a
	// plain-text e-mail over SMTP).
	Type string `yaml:"type" json:"type"`
	// URL is the absolute http or https address notifications are POSTed
	// to. For an email notifier it is the mail server instead:
	// smtp://host[:port] (port 587 when left out) upgrades the connection
	// with STARTTLS, which is required unless the server is on a loopback
	// address; smtps://host[:port] (port 465) speaks TLS from the start.
	URL string `yaml:"url" json:"url"`
	// Secret is the env:NAME reference of a webhook's HMAC-SHA256 signing
	// key, of a pagerduty notifier's routing key, or of an email
	// notifier's SMTP password; required for the first two and for an
	// email notifier with a Username, not used by the others.
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty"`
	// From is an email notifier's sender, an RFC 5322 address such as
	// "Hypergate <alerts@example.com>"; required for email, refused for
	// the others.
	From string `yaml:"from,omitempty" json:"from,omitempty"`
	// To lists an email notifier's recipients, each an RFC 5322 address;
	// at least one for email, refused for the others. Every notification
	// is one message to all of them.
	To []string `yaml:"to,omitempty" json:"to,omitempty"`
	// Username is the SMTP user an email notifier authenticates as (AUTH
	// PLAIN, only ever over TLS or to a loopback server), with Secret as
	// its password; no authentication when empty.
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
}

// Notifier types.
const (
	NotifierWebhook      = "webhook"
	NotifierSlack        = "slack"
	NotifierAlertmanager = "alertmanager"
	NotifierPagerDuty    = "pagerduty"
	NotifierEmail        = "email"
)

var notifierTypes = []string{NotifierWebhook, NotifierSlack, NotifierAlertmanager, NotifierPagerDuty, NotifierEmail}

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

// Metrics of the synthetic probes, read from their recorded calls (probe
// calls are kept out of the rollups): failed runs over the window, and
// their share of the runs. Their only dimension is AlertDimensionProbe.
const (
	MetricProbeFailures    = "probe_failures"
	MetricProbeFailureRate = "probe_failure_rate"
)

// AlertMetrics are the metrics an alert may watch. All but the call log's
// counters and the probe metrics are computed from the analytics rollups.
var AlertMetrics = []string{"requests", "errors", "error_rate", "latency_mean", "latency_p50", "latency_p95",
	"latency_p99", "ttft_p50", "ttft_p95", "tokens", "input_tokens", "output_tokens", "cost", "cache_hit_rate",
	"rate_limited", "anomalies", "anomaly_rate", "feedback", "feedback_mean", "negative_feedback_ratio",
	MetricProbeFailures, MetricProbeFailureRate, MetricCallLogSpilled, MetricCallLogDropped}

// AlertDimensions are the keys of an alert's filter and group_by for the
// metrics of the rollups.
var AlertDimensions = []string{"service", "route", "model", "provider", "consumer"}

// AlertDimensionProbe is the one dimension of the probe metrics: the
// probe's name.
const AlertDimensionProbe = "probe"

// IsCallLogMetric reports whether m is one of the call log's counters,
// which have no dimensions.
func IsCallLogMetric(m string) bool {
	return m == MetricCallLogSpilled || m == MetricCallLogDropped
}

// IsProbeMetric reports whether m is one of the probe metrics.
func IsProbeMetric(m string) bool {
	return m == MetricProbeFailures || m == MetricProbeFailureRate
}

// IsFeedbackMetric reports whether m is computed from feedback, whose
// count (not the calls') min_requests applies to.
func IsFeedbackMetric(m string) bool {
	return m == "feedback_mean" || m == "negative_feedback_ratio"
}

// alertDimensions returns the dimensions metric m may be filtered and
// grouped by.
func alertDimensions(m string) []string {
	switch {
	case IsCallLogMetric(m):
		return nil
	case IsProbeMetric(m):
		return []string{AlertDimensionProbe}
	}
	return AlertDimensions
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
		if n.Type == NotifierEmail {
			v.emailNotifier(n, path)
		} else {
			v.eventURL(n.URL, path+".url")
			if n.From != "" || len(n.To) > 0 || n.Username != "" {
				v.fail(path, "from, to and username are for email notifiers only")
			}
		}
		switch {
		case n.Type == NotifierWebhook && n.Secret == "":
			v.fail(path+".secret", "is required: receivers check each notification's X-Hypergate-Signature with it")
		case n.Type == NotifierPagerDuty && n.Secret == "":
			v.fail(path+".secret", "is required: the integration's routing key, as env:NAME")
		case n.Type == NotifierEmail && n.Username != "" && n.Secret == "":
			v.fail(path+".secret", "is required with username: the SMTP password, as env:NAME")
		case n.Secret != "" && !IsSecretRef(n.Secret):
			v.fail(path+".secret", "secret must be a secret reference like env:HOOK_SECRET; secrets are never stored in clear")
		case (n.Type == NotifierSlack || n.Type == NotifierAlertmanager) && n.Secret != "":
			v.fail(path+".secret", "%s notifiers are not signed; leave secret out", n.Type)
		case n.Type == NotifierEmail && n.Username == "" && n.Secret != "":
			v.fail(path+".username", "is required with secret: the SMTP password is sent with a user name")
		}
	}
	return seen
}

// emailNotifier checks an email notifier's server address and addresses.
func (v *validator) emailNotifier(n Notifier, path string) {
	u, err := url.Parse(n.URL)
	switch {
	case n.URL == "":
		v.fail(path+".url", "is required: the mail server, as smtp://host:587 or smtps://host:465")
	case err != nil:
		v.fail(path+".url", "invalid URL: %s", strings.TrimPrefix(err.Error(), "parse "))
	case u.Scheme != "smtp" && u.Scheme != "smtps":
		v.fail(path+".url", "must be an smtp:// (STARTTLS) or smtps:// (TLS) URL")
	case u.User != nil:
		v.fail(path+".url", "must not contain credentials: set username, and the password as secret: env:NAME")
	case u.Hostname() == "":
		v.fail(path+".url", "must include a host")
	case u.Port() != "" && !validPort(u.Port()):
		v.fail(path+".url", "port must be 1 to 65535")
	case u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		v.fail(path+".url", "must be only a scheme, a host and a port")
	}
	if n.From == "" {
		v.fail(path+".from", "is required: the sender address, like \"Hypergate <alerts@example.com>\"")
	} else if _, err := mail.ParseAddress(n.From); err != nil {
		v.fail(path+".from", "invalid address: %v", err)
	}
	if len(n.To) == 0 {
		v.fail(path+".to", "is required: list at least one recipient")
	}
	seen := map[string]bool{}
	for i, to := range n.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			v.fail(fmt.Sprintf("%s.to[%d]", path, i), "invalid address: %v", err)
			continue
		}
		if key := strings.ToLower(a.Address); seen[key] {
			v.fail(fmt.Sprintf("%s.to[%d]", path, i), "recipient %q is listed twice", a.Address)
		} else {
			seen[key] = true
		}
	}
	if !isHeaderValue(n.Username) {
		v.fail(path+".username", "must be printable characters")
	}
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
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
		allowed := alertDimensions(a.Metric)
		for _, k := range sortedKeys(a.Filter) {
			switch {
			case counter:
				v.fail(path+".filter."+k, "%s counts the whole call log; it has no dimensions to filter on", a.Metric)
			case !slices.Contains(allowed, k):
				v.fail(path+".filter."+k, "unknown dimension %q for %s (one of: %s)", k, a.Metric, strings.Join(allowed, ", "))
			case a.Filter[k] == "":
				v.fail(path+".filter."+k, "is empty: remove it or give a value")
			}
		}
		dims := map[string]bool{}
		for j, d := range a.GroupBy {
			gp := fmt.Sprintf("%s.group_by[%d]", path, j)
			switch {
			case counter:
				v.fail(gp, "%s counts the whole call log; it has no dimensions to group by", a.Metric)
			case !slices.Contains(allowed, d):
				v.fail(gp, "unknown dimension %q for %s (one of: %s)", d, a.Metric, strings.Join(allowed, ", "))
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
