package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/webhook"
)

// SubscriptionEvent names what happened to a subscription.
type SubscriptionEvent string

// The events a service's webhook receives.
const (
	EventRequested SubscriptionEvent = "subscription.requested"
	EventApproved  SubscriptionEvent = "subscription.approved"
	EventRejected  SubscriptionEvent = "subscription.rejected"
	EventRevoked   SubscriptionEvent = "subscription.revoked"
)

// Webhook request headers. The signature (internal/webhook) covers the
// timestamp and the body, which carries the event's id and time: a
// receiver that checks it can refuse an id it has seen or a time too old,
// so a captured request cannot be replayed.
const (
	SignatureHeader = webhook.SignatureHeader // sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
	TimestampHeader = webhook.TimestampHeader // unix seconds of this attempt
	EventHeader     = webhook.EventHeader
	DeliveryHeader  = webhook.DeliveryHeader // the event id, the same on every attempt
)

// WebhookEvent is the JSON a webhook receives.
type WebhookEvent struct {
	ID           string            `json:"id"`
	Event        SubscriptionEvent `json:"event"`
	Subscription Subscription      `json:"subscription"`
	Service      string            `json:"service"`
	Consumer     string            `json:"consumer"`
	Reason       string            `json:"reason"`
	Actor        string            `json:"actor"`
	Time         time.Time         `json:"time"`
}

// NewEvent builds the body announcing event on sub, done by actor at t.
func NewEvent(event SubscriptionEvent, sub Subscription, actor string, t time.Time) WebhookEvent {
	id, err := uuid.NewV7()
	eid := "evt_" + id.String()
	if err != nil {
		eid = "evt_" + uuid.NewString()
	}
	return WebhookEvent{ID: eid, Event: event, Subscription: sub, Service: sub.Service, Consumer: sub.Consumer,
		Reason: sub.Reason, Actor: actor, Time: t.UTC().Truncate(time.Millisecond)}
}

// WebhookOptions configures Webhooks.
type WebhookOptions struct {
	// QueueSize, Workers, Attempts, Backoff, MaxBackoff and Timeout are
	// those of webhook.Options, zero values getting its defaults.
	QueueSize, Workers, Attempts int
	Backoff, MaxBackoff, Timeout time.Duration
	// Client sends the requests. The default follows no redirects and, as
	// imports do, refuses link-local addresses.
	Client *http.Client
	Logger *slog.Logger
	// Registerer, when set, gets hypergate_webhook_deliveries_total and
	// hypergate_webhook_retries_total.
	Registerer prometheus.Registerer
}

// WebhookStats counts events by outcome.
type WebhookStats = webhook.Stats

// Webhooks sends events to services' webhooks off the request path
// through a webhook.Sender. What it adds: a client that refuses
// link-local receivers, the secret resolved when the decision is made,
// and the Prometheus counters. No event is lost silently: one that is
// not delivered is counted (failed or dropped) and logged with its id.
type Webhooks struct {
	s *webhook.Sender
}

// NewWebhooks starts the workers; Close stops them.
func NewWebhooks(o WebhookOptions) *Webhooks {
	if o.Client == nil {
		dialer := &net.Dialer{Timeout: 5 * time.Second, Control: refuseLinkLocal}
		o.Client = &http.Client{
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				DialContext:         dialer.DialContext,
				TLSHandshakeTimeout: 5 * time.Second,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     30 * time.Second,
			},
			// A receiver that redirects is misconfigured; following would
			// turn the POST into a GET or send the event somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_webhook_deliveries_total",
		Help: "Subscription webhook events by outcome: delivered, failed (every attempt failed or the receiver refused it) or dropped (queue full, secret missing, or shut down before sending).",
	}, []string{"outcome"})
	retries := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hypergate_webhook_retries_total",
		Help: "Subscription webhook attempts that were retries of an earlier failed attempt.",
	})
	for _, o := range []string{"delivered", "failed", "dropped"} {
		outcomes.WithLabelValues(o)
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(outcomes, retries)
	}
	return &Webhooks{s: webhook.NewSender(webhook.Options{QueueSize: o.QueueSize, Workers: o.Workers,
		Attempts: o.Attempts, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, Timeout: o.Timeout, Client: o.Client,
		Logger: o.Logger, OnOutcome: func(outcome string) {
			if outcome == "retried" {
				retries.Inc()
				return
			}
			outcomes.WithLabelValues(outcome).Inc()
		}})}
}

// Stats returns the counts so far.
func (w *Webhooks) Stats() WebhookStats { return w.s.Stats() }

// Send queues ev for hook without waiting. The secret is resolved now, so
// that a missing variable is reported with the decision that needed it.
func (w *Webhooks) Send(hook config.Webhook, ev WebhookEvent) {
	m := webhook.Message{URL: hook.URL, Event: string(ev.Event), ID: ev.ID,
		Attrs: []any{"service", ev.Service, "consumer", ev.Consumer}}
	secret, err := config.ResolveSecret(hook.Secret)
	if err != nil {
		w.s.Drop(m, fmt.Sprintf("cannot sign it: %v", err))
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		w.s.Drop(m, fmt.Sprintf("cannot encode it: %v", err))
		return
	}
	m.Secret, m.Body = []byte(secret), body
	w.s.Send(m)
}

// Close stops taking events and waits for the queued ones to be sent, or
// for ctx to end: then the retries still waiting are abandoned, and every
// event not sent is counted as dropped and logged.
func (w *Webhooks) Close(ctx context.Context) error { return w.s.Close(ctx) }
