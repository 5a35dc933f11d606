package alert

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/webhook"
)

// Webhook request headers. The signature covers the timestamp and the
// body ("<timestamp>.<body>"), so a captured notification cannot be
// replayed later with a fresh timestamp.
const (
	SignatureHeader = webhook.SignatureHeader // sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
	TimestampHeader = webhook.TimestampHeader // unix seconds of this attempt
	EventHeader     = webhook.EventHeader     // alert.firing or alert.resolved
	DeliveryHeader  = webhook.DeliveryHeader  // the notification id, the same on every attempt
)

// Target is a notifier with its secret resolved.
type Target struct {
	Name, Type, URL string
	Secret          []byte
	// From, To and Username are an email notifier's sender, recipients
	// and SMTP user; Secret is then the user's password.
	From     string
	To       []string
	Username string
}

// Notification statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notification is what a webhook receives: the transitions of one rule
// at one evaluation that share a status.
type Notification struct {
	ID          string                `json:"id"`
	Status      string                `json:"status"`
	Rule        string                `json:"rule"`
	Description string                `json:"description,omitempty"`
	Metric      string                `json:"metric"`
	Operator    string                `json:"operator"`
	Threshold   config.AlertThreshold `json:"threshold"`
	Window      string                `json:"window"`
	Time        time.Time             `json:"time"`
	Alerts      []Notice              `json:"alerts"`
}

// Notice is one group's transition in a notification.
type Notice struct {
	Labels   map[string]string `json:"labels"`
	State    State             `json:"state"`
	Severity Severity          `json:"severity,omitempty"`
	Value    *float64          `json:"value"`
	// Since is when the condition started holding.
	Since time.Time `json:"since"`
	// CallsURL lists the matching calls in the admin API.
	CallsURL string `json:"calls_url"`
}

// SlackText renders n as the text of a Slack-compatible message.
func SlackText(n Notification) string {
	var b strings.Builder
	level := ""
	for _, a := range n.Alerts {
		if a.Severity == SeverityCritical || (a.Severity == SeverityWarning && level == "") {
			level = " " + string(a.Severity)
		}
	}
	fmt.Fprintf(&b, "[%s%s] %s: %s %s %s over %s", strings.ToUpper(n.Status), level, n.Rule, n.Metric, n.Operator,
		thresholdText(n.Threshold), n.Window)
	if n.Description != "" {
		b.WriteString("\n" + n.Description)
	}
	for _, a := range n.Alerts {
		b.WriteString("\n• ")
		if len(a.Labels) == 0 {
			b.WriteString("all calls")
		}
		b.WriteString(labelsText(a.Labels))
		if a.Value != nil {
			b.WriteString(": " + strconv.FormatFloat(*a.Value, 'g', 4, 64))
		} else {
			b.WriteString(": no data")
		}
		fmt.Fprintf(&b, " <%s|calls>", a.CallsURL)
	}
	return b.String()
}

func thresholdText(t config.AlertThreshold) string {
	var parts []string
	if t.Warning != nil {
		parts = append(parts, "warning "+strconv.FormatFloat(*t.Warning, 'g', -1, 64))
	}
	if t.Critical != nil {
		parts = append(parts, "critical "+strconv.FormatFloat(*t.Critical, 'g', -1, 64))
	}
	return strings.Join(parts, " / ")
}

// notify groups the notifiable transitions per rule and status, drops the
// silenced ones and queues one notification per group for each of the
// rule's notifiers.
func (e *Evaluator) notify(trans []transition, evs []Event, now time.Time) {
	if e.o.Sender == nil {
		return
	}
	type key struct{ rule, status string }
	groups := map[key]*Notification{}
	var order []key
	rules := map[string]config.Alert{}
	for i, t := range trans {
		if !t.notify || evs[i].Silenced {
			continue
		}
		a := t.rule.def
		k := key{a.Name, StatusFiring}
		if t.to == StateResolved {
			k.status = StatusResolved
		}
		n := groups[k]
		if n == nil {
			n = &Notification{ID: NewID("alnt_"), Status: k.status, Rule: a.Name, Description: a.Description,
				Metric: a.Metric, Operator: a.EffectiveOperator(), Threshold: a.Threshold,
				Window: config.Duration(a.EffectiveWindow()).String(), Time: now.UTC()}
			groups[k] = n
			order = append(order, k)
			rules[a.Name] = a
		}
		n.Alerts = append(n.Alerts, Notice{Labels: t.g.labels, State: t.to, Severity: t.severity, Value: t.g.value,
			Since: t.g.activeSince.UTC(), CallsURL: e.callsURL(a, t.g.labels, now)})
	}
	e.mu.Lock()
	targets := e.notifiers
	e.mu.Unlock()
	for _, k := range order {
		for _, name := range rules[k.rule].Notify {
			t, ok := targets[name]
			if !ok {
				e.o.Sender.fail(name, groups[k].ID, "notifier unavailable (its secret did not resolve)")
				continue
			}
			e.o.Sender.Send(t, *groups[k])
		}
	}
}

// SenderOptions configures a Sender.
type SenderOptions struct {
	// QueueSize, Workers, Attempts, Backoff, MaxBackoff, Timeout and
	// Client are those of webhook.Options, zero values getting its
	// defaults. A notification refused for good, such as by an SMTP 5xx
	// reply, is tried once.
	QueueSize, Workers, Attempts int
	Backoff, MaxBackoff, Timeout time.Duration
	Client                       *http.Client
	// TLSConfig is the base of email notifiers' TLS settings, its
	// ServerName set to each mail server's host; default the system's
	// roots.
	TLSConfig *tls.Config
	Logger    *slog.Logger
}

// SenderStats counts notifications by outcome.
type SenderStats = webhook.Stats

// Sender delivers notifications off the evaluation path through a
// webhook.Sender. What it adds: each notifier's format (Slack,
// Alertmanager, PagerDuty, a signed webhook) and email, sent over SMTP
// through the same queue, retries and counters. None is lost silently:
// one not delivered is counted and logged.
type Sender struct {
	o   SenderOptions
	log *slog.Logger
	s   *webhook.Sender
}

// NewSender starts the workers; Close stops them.
func NewSender(o SenderOptions) *Sender {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "alert-notifier")
	return &Sender{o: o, log: log, s: webhook.NewSender(webhook.Options{QueueSize: o.QueueSize, Workers: o.Workers,
		Attempts: o.Attempts, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, Timeout: o.Timeout, Client: o.Client,
		UserAgent: "hypergate-alerts", Logger: log})}
}

// Send queues n for t in t's format (for PagerDuty, one event per group;
// for email, one message to all the recipients).
func (s *Sender) Send(t Target, n Notification) {
	bs, err := bodies(t, n)
	if err != nil {
		s.fail(t.Name, n.ID, "encoding: "+err.Error())
		return
	}
	for _, body := range bs {
		m := webhook.Message{URL: t.URL, Body: body, ID: n.ID, Attrs: []any{"notifier", t.Name}}
		switch t.Type {
		case config.NotifierEmail:
			m.Deliver = func(ctx context.Context) error { return s.sendEmail(ctx, t, body) }
		case config.NotifierWebhook:
			m.Event, m.Secret = "alert."+n.Status, t.Secret
		}
		s.s.Send(m)
	}
}

func (s *Sender) fail(notifier, id, why string) {
	s.s.Fail(why, "notifier", notifier, "id", id)
}

// Stats returns the counters.
func (s *Sender) Stats() SenderStats { return s.s.Stats() }

// Close stops taking notifications and waits for the queued ones until
// ctx is done; those still undelivered then are counted as dropped.
func (s *Sender) Close(ctx context.Context) { _ = s.s.Close(ctx) }

// permanentError is a failure another attempt would only repeat, such as
// an SMTP 5xx reply: the Sender gives up on it at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent tells the webhook.Sender not to retry.
func (e permanentError) Permanent() bool { return true }

// labelsText writes labels as "k=v, k2=v2", by name.
func labelsText(l map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(l)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + l[k])
	}
	return b.String()
}
