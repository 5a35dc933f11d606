package status

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/webhook"
)

// The events subscribers receive, in the X-Hypergate-Event header and the
// body's "event".
const (
	EventServiceChanged  = "status.service_changed"
	EventIncidentUpdated = "status.incident_updated"
)

// Webhook request headers besides the signature ones of internal/webhook.
const (
	EventHeader    = webhook.EventHeader
	DeliveryHeader = webhook.DeliveryHeader // the event id, the same on every attempt
)

// Event is the JSON body a subscriber receives: a service's change of
// level, or an incident's update. It carries what the public page shows,
// no more: no author, no consumer, no error text.
type Event struct {
	ID       string          `json:"id"`
	Event    string          `json:"event"`
	Time     time.Time       `json:"time"`
	Service  *ServiceChange  `json:"service,omitempty"`
	Incident *PublicIncident `json:"incident,omitempty"`
	// Update is the update that made this event, also the last of
	// Incident.Updates.
	Update *PublicUpdate `json:"update,omitempty"`
}

// ServiceChange is a service's move from one level to another.
type ServiceChange struct {
	Name     string `json:"name"`
	Status   Level  `json:"status"`
	Previous Level  `json:"previous"`
}

// ChangeEvent announces that service moved from prev to cur at t.
func ChangeEvent(service string, prev, cur Level, t time.Time) Event {
	return Event{ID: newID("evt_"), Event: EventServiceChanged, Time: t.UTC().Truncate(time.Millisecond),
		Service: &ServiceChange{Name: service, Status: cur, Previous: prev}}
}

func incidentEvent(in Incident, u Update) Event {
	pi := publicIncident(in)
	pu := publicUpdate(u)
	return Event{ID: newID("evt_"), Event: EventIncidentUpdated, Time: u.CreatedAt.UTC().Truncate(time.Millisecond),
		Incident: &pi, Update: &pu}
}

// NotifierOptions configures a Notifier.
type NotifierOptions struct {
	// Subscribers returns the subscribers to send each event to, read when
	// the event is sent so that one deleted stops hearing at once.
	Subscribers func(ctx context.Context) ([]Subscriber, error)
	// QueueSize, Workers, Attempts, Backoff, MaxBackoff, Timeout and
	// Client are those of webhook.Options, zero values getting its
	// defaults.
	QueueSize, Workers, Attempts int
	Backoff, MaxBackoff, Timeout time.Duration
	Client                       *http.Client
	Logger                       *slog.Logger
}

// NotifierStats counts deliveries by outcome.
type NotifierStats = webhook.Stats

// Notifier delivers events to the subscribers off the caller's path
// through a webhook.Sender: what it adds is the fan-out to the
// subscribers of the moment, each with its own signing key.
type Notifier struct {
	subscribers func(ctx context.Context) ([]Subscriber, error)
	s           *webhook.Sender
}

// NewNotifier starts the workers; Close stops them.
func NewNotifier(o NotifierOptions) *Notifier {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{subscribers: o.Subscribers, s: webhook.NewSender(webhook.Options{QueueSize: o.QueueSize,
		Workers: o.Workers, Attempts: o.Attempts, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, Timeout: o.Timeout,
		Client: o.Client, Logger: log.With("component", "status-webhooks")})}
}

// Send queues ev for every subscriber without waiting for delivery.
func (n *Notifier) Send(ev Event) {
	if n.subscribers == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	subs, err := n.subscribers(ctx)
	cancel()
	if err != nil {
		n.s.Fail("listing subscribers: "+err.Error(), "event", ev.Event, "event_id", ev.ID)
		return
	}
	if len(subs) == 0 {
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		n.s.Fail("encoding: "+err.Error(), "event_id", ev.ID)
		return
	}
	for _, sub := range subs {
		attrs := []any{"subscriber", sub.ID}
		// Resolved now, so that a missing variable is reported with the
		// event that needed it.
		secret, err := config.ResolveSecret(sub.SecretRef)
		if err != nil {
			n.s.Fail("cannot sign it: "+err.Error(), append(attrs, "event", ev.Event, "event_id", ev.ID)...)
			continue
		}
		n.s.Send(webhook.Message{URL: sub.URL, Body: body, Event: ev.Event, ID: ev.ID, Secret: []byte(secret), Attrs: attrs})
	}
}

// Stats returns the counters.
func (n *Notifier) Stats() NotifierStats { return n.s.Stats() }

// Close stops taking events and waits for the queued ones until ctx is
// done; the deliveries still waiting then are abandoned and counted as
// dropped.
func (n *Notifier) Close(ctx context.Context) { _ = n.s.Close(ctx) }
