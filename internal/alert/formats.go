package alert

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/hypergate/hypergate/internal/config"
)

// AlertmanagerAlert is one alert as Alertmanager's POST /api/v2/alerts
// takes it. A firing alert has no end; a resolved one ends at the
// notification's time, which is how Alertmanager learns it resolved.
type AlertmanagerAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL"`
}

// Alertmanager renders n as the body of an Alertmanager POST: one alert
// per group, labelled with alertname (the rule), severity and the group's
// labels.
func Alertmanager(n Notification) []AlertmanagerAlert {
	out := make([]AlertmanagerAlert, 0, len(n.Alerts))
	for _, a := range n.Alerts {
		labels := maps.Clone(a.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels["alertname"] = n.Rule
		if a.Severity != SeverityNone {
			labels["severity"] = string(a.Severity)
		}
		ann := map[string]string{"summary": summary(n, a), "metric": n.Metric}
		if n.Description != "" {
			ann["description"] = n.Description
		}
		if a.Value != nil {
			ann["value"] = strconv.FormatFloat(*a.Value, 'g', -1, 64)
		}
		am := AlertmanagerAlert{Labels: labels, Annotations: ann, StartsAt: a.Since, GeneratorURL: a.CallsURL}
		if n.Status == StatusResolved {
			end := n.Time
			am.EndsAt = &end
		}
		out = append(out, am)
	}
	return out
}

// PagerDutyEvent is an event of PagerDuty's Events API v2.
type PagerDutyEvent struct {
	RoutingKey  string           `json:"routing_key"`
	EventAction string           `json:"event_action"` // trigger or resolve
	DedupKey    string           `json:"dedup_key"`
	Payload     *PagerDutyDetail `json:"payload,omitempty"`
	Links       []PagerDutyLink  `json:"links,omitempty"`
}

// PagerDutyDetail is the payload of a trigger event.
type PagerDutyDetail struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical, error, warning or info
	Timestamp     time.Time      `json:"timestamp"`
	Component     string         `json:"component,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link shown with the incident.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// PagerDuty renders n as Events API v2 events, one per group: the dedup
// key is the rule and the group's labels, so that the resolve event closes
// the incident its trigger opened.
func PagerDuty(routingKey string, n Notification) []PagerDutyEvent {
	out := make([]PagerDutyEvent, 0, len(n.Alerts))
	for _, a := range n.Alerts {
		ev := PagerDutyEvent{RoutingKey: routingKey, EventAction: "trigger", DedupKey: "hypergate/" + n.Rule + "/" + labelsText(a.Labels)}
		if n.Status == StatusResolved {
			ev.EventAction = "resolve"
			out = append(out, ev)
			continue
		}
		sev := "error"
		if a.Severity == SeverityCritical {
			sev = "critical"
		} else if a.Severity == SeverityWarning {
			sev = "warning"
		}
		details := map[string]any{"metric": n.Metric, "operator": n.Operator, "window": n.Window, "labels": a.Labels}
		if a.Value != nil {
			details["value"] = *a.Value
		}
		ev.Payload = &PagerDutyDetail{Summary: summary(n, a), Source: "hypergate", Severity: sev, Timestamp: n.Time,
			Component: n.Rule, CustomDetails: details}
		ev.Links = []PagerDutyLink{{Href: a.CallsURL, Text: "Matching calls"}}
		out = append(out, ev)
	}
	return out
}

// summary is a one-line description of one group's alert.
func summary(n Notification, a Notice) string {
	v := "no data"
	if a.Value != nil {
		v = strconv.FormatFloat(*a.Value, 'g', 4, 64)
	}
	s := fmt.Sprintf("%s: %s is %s (%s %s over %s)", n.Rule, n.Metric, v, n.Operator, thresholdText(n.Threshold), n.Window)
	if l := labelsText(a.Labels); l != "" {
		s += " for " + l
	}
	return s
}

// bodies encodes n for target t: one body for most types, one per group
// for PagerDuty, which takes one event per request, and an RFC 5322
// message for email.
func bodies(t Target, n Notification) ([][]byte, error) {
	var vs []any
	switch t.Type {
	case config.NotifierEmail:
		msg, err := EmailMessage(t.From, t.To, n)
		if err != nil {
			return nil, err
		}
		return [][]byte{msg}, nil
	case config.NotifierSlack:
		vs = []any{map[string]string{"text": SlackText(n)}}
	case config.NotifierAlertmanager:
		vs = []any{Alertmanager(n)}
	case config.NotifierPagerDuty:
		for _, ev := range PagerDuty(string(t.Secret), n) {
			vs = append(vs, ev)
		}
	default:
		vs = []any{n}
	}
	out := make([][]byte, 0, len(vs))
	for _, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
