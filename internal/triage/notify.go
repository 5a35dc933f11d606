package triage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/webhook"
)

// The events a notification announces.
const (
	EventNew       = "incident.new"
	EventRegressed = "incident.regressed"
)

// Webhook headers besides the signature ones of internal/webhook, named as
// the alert notifications name theirs.
const (
	EventHeader    = webhook.EventHeader    // incident.new or incident.regressed
	DeliveryHeader = webhook.DeliveryHeader // the notification id, the same on every attempt
)

// Target is a notifier (config.Notifier of type webhook or slack) with its
// secret resolved.
type Target struct {
	Name, Type, URL string
	Secret          []byte
}

// Notification is what a webhook receives when an incident is new or
// regressed: enough to open an issue in Jira or GitHub from it.
type Notification struct {
	ID       string    `json:"id"`
	Event    string    `json:"event"`
	Time     time.Time `json:"time"`
	Incident Incident  `json:"incident"`
	// URL is the incident in the admin API, when the gateway knows its
	// admin address.
	URL string `json:"url,omitempty"`
}

// SlackText renders n as the text of a Slack-compatible message.
func SlackText(n Notification) string {
	what := "New incident"
	if n.Event == EventRegressed {
		what = "Regressed incident"
	}
	inc := n.Incident
	s := fmt.Sprintf("[%s] %s: %s — %d call(s), %d consumer(s), first seen %s", strings.ToUpper(string(inc.Severity)),
		what, inc.Title, inc.Count, inc.Consumers, inc.FirstSeen.UTC().Format(time.RFC3339))
	if n.URL != "" {
		s += fmt.Sprintf(" <%s|%s>", n.URL, inc.ID)
	}
	return s
}

// NewID returns a random id with the given prefix.
func NewID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// NotifierOptions configures a Notifier.
type NotifierOptions struct {
	// QueueSize, Attempts, Backoff, MaxBackoff, Timeout and Client are
	// those of webhook.Options, zero values getting its defaults.
	QueueSize, Attempts          int
	Backoff, MaxBackoff, Timeout time.Duration
	Client                       *http.Client
	Logger                       *slog.Logger
}

// NotifierStats counts notifications by outcome.
type NotifierStats = webhook.Stats

// Notifier delivers incident notifications off the observer's path
// through a webhook.Sender, in the format of each target: what it adds is
// that format. A notification not delivered is counted and logged, never
// lost silently.
type Notifier struct {
	s *webhook.Sender
}

// NewNotifier starts the worker; Close stops it.
func NewNotifier(o NotifierOptions) *Notifier {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{s: webhook.NewSender(webhook.Options{QueueSize: o.QueueSize, Attempts: o.Attempts,
		Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, Timeout: o.Timeout, Client: o.Client,
		// One worker keeps a receiver's notifications in the order they
		// happened: new before regressed.
		Workers: 1, UserAgent: "hypergate-triage", Logger: log.With("component", "triage-notifier")})}
}

// Send queues n for t: a Slack message for a slack notifier, the JSON
// Notification, signed, otherwise.
func (n *Notifier) Send(t Target, note Notification) {
	m := webhook.Message{URL: t.URL, ID: note.ID, Attrs: []any{"notifier", t.Name}}
	var v any = note
	if t.Type == config.NotifierSlack {
		v = map[string]string{"text": SlackText(note)}
	} else {
		m.Event, m.Secret = note.Event, t.Secret
	}
	body, err := json.Marshal(v)
	if err != nil {
		n.s.Fail("encoding: "+err.Error(), "notifier", t.Name, "id", note.ID)
		return
	}
	m.Body = body
	n.s.Send(m)
}

// Stats returns the counters.
func (n *Notifier) Stats() NotifierStats { return n.s.Stats() }

// Close stops taking notifications and waits for the queued ones until
// ctx is done; those still undelivered then are counted as dropped.
func (n *Notifier) Close(ctx context.Context) { _ = n.s.Close(ctx) }

// Targets resolves the notifiers named in notify from the configuration's
// notifiers. Only webhook and slack notifiers carry incidents; a name of
// another type, or whose secret does not resolve, is left out and the
// error says so.
func Targets(notifiers []config.Notifier, notify []string) ([]Target, error) {
	byName := map[string]config.Notifier{}
	for _, n := range notifiers {
		byName[n.Name] = n
	}
	var out []Target
	var errs []string
	for _, name := range notify {
		n, ok := byName[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("notifier %s is not declared", name))
			continue
		case n.Type != config.NotifierWebhook && n.Type != config.NotifierSlack:
			errs = append(errs, fmt.Sprintf("notifier %s is of type %s; incidents go to webhook and slack notifiers", name, n.Type))
			continue
		}
		t := Target{Name: n.Name, Type: n.Type, URL: n.URL}
		if n.Secret != "" {
			s, err := config.ResolveSecret(n.Secret)
			if err != nil {
				errs = append(errs, fmt.Sprintf("notifier %s: %v", name, err))
				continue
			}
			t.Secret = []byte(s)
		}
		out = append(out, t)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("triage notifiers: %s", strings.Join(errs, "; "))
	}
	return out, nil
}
