package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	EventHeader     = "X-Hypergate-Event"
	DeliveryHeader  = "X-Hypergate-Delivery" // the event id, the same on every attempt
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

// WebhookOptions configures Webhooks; zero values get the defaults.
type WebhookOptions struct {
	// QueueSize bounds the events waiting to be sent (default 256). An
	// event that finds the queue full is dropped, counted and logged.
	QueueSize int
	// Workers send in parallel (default 2).
	Workers int
	// Attempts is how many times one event is tried (default 5).
	Attempts int
	// Backoff is the wait before the first retry, doubled before each next
	// one up to MaxBackoff (defaults 1s and 30s).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Client sends the requests. The default follows no redirects and, as
	// imports do, refuses link-local addresses.
	Client *http.Client
	Logger *slog.Logger
	// Registerer, when set, gets hypergate_webhook_deliveries_total and
	// hypergate_webhook_retries_total.
	Registerer prometheus.Registerer
}

// WebhookStats counts events by outcome.
type WebhookStats struct {
	Delivered, Failed, Dropped, Retries int64
}

// Webhooks sends events to services' webhooks off the request path: a
// bounded queue, a few workers, retries with exponential backoff. No event
// is lost silently: one that is not delivered is counted (failed or
// dropped) and logged with its id.
type Webhooks struct {
	o      WebhookOptions
	log    *slog.Logger
	queue  chan delivery
	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex // held for reading by Send, for writing by Close
	closed bool

	delivered, failed, dropped, retries atomic.Int64
	outcomes                            *prometheus.CounterVec
	retryCounter                        prometheus.Counter
}

type delivery struct {
	url    string
	secret []byte
	event  WebhookEvent
	body   []byte
}

// NewWebhooks starts the workers; Close stops them.
func NewWebhooks(o WebhookOptions) *Webhooks {
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
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
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	w := &Webhooks{o: o, log: o.Logger, queue: make(chan delivery, o.QueueSize)}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_webhook_deliveries_total",
		Help: "Subscription webhook events by outcome: delivered, failed (every attempt failed or the receiver refused it) or dropped (queue full, secret missing, or shut down before sending).",
	}, []string{"outcome"})
	w.retryCounter = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hypergate_webhook_retries_total",
		Help: "Subscription webhook attempts that were retries of an earlier failed attempt.",
	})
	for _, o := range []string{"delivered", "failed", "dropped"} {
		w.outcomes.WithLabelValues(o)
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(w.outcomes, w.retryCounter)
	}
	for range o.Workers {
		w.wg.Add(1)
		go w.work()
	}
	return w
}

// Stats returns the counts so far.
func (w *Webhooks) Stats() WebhookStats {
	return WebhookStats{Delivered: w.delivered.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load(), Retries: w.retries.Load()}
}

// Send queues ev for hook without waiting. The secret is resolved now, so
// that a missing variable is reported with the decision that needed it.
func (w *Webhooks) Send(hook config.Webhook, ev WebhookEvent) {
	secret, err := config.ResolveSecret(hook.Secret)
	if err != nil {
		w.drop(ev, fmt.Sprintf("cannot sign it: %v", err))
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		w.drop(ev, fmt.Sprintf("cannot encode it: %v", err))
		return
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.drop(ev, "the gateway is shutting down")
		return
	}
	select {
	case w.queue <- delivery{url: hook.URL, secret: []byte(secret), event: ev, body: body}:
	default:
		w.drop(ev, fmt.Sprintf("the queue of %d events is full", cap(w.queue)))
	}
}

func (w *Webhooks) drop(ev WebhookEvent, why string) {
	w.dropped.Add(1)
	w.outcomes.WithLabelValues("dropped").Inc()
	w.log.Error("subscription webhook event dropped", "event", ev.Event, "event_id", ev.ID,
		"service", ev.Service, "consumer", ev.Consumer, "reason", why)
}

// Close stops taking events and waits for the queued ones to be sent, or
// for ctx to end: then the retries still waiting are abandoned, and every
// event not sent is counted as dropped and logged.
func (w *Webhooks) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-done
		return fmt.Errorf("webhook events still being sent at shutdown were dropped: %w", ctx.Err())
	}
}

func (w *Webhooks) work() {
	defer w.wg.Done()
	for d := range w.queue {
		if w.ctx.Err() != nil {
			w.drop(d.event, "the gateway shut down before it was sent")
			continue
		}
		w.deliver(d)
	}
}

// deliver tries d up to Attempts times.
func (w *Webhooks) deliver(d delivery) {
	wait := w.o.Backoff
	var last error
	for attempt := 1; attempt <= w.o.Attempts; attempt++ {
		if attempt > 1 {
			w.retries.Add(1)
			w.retryCounter.Inc()
		}
		retryAfter, retry, err := w.attempt(d)
		if err == nil {
			w.delivered.Add(1)
			w.outcomes.WithLabelValues("delivered").Inc()
			return
		}
		last = err
		if !retry || attempt == w.o.Attempts {
			break
		}
		w.log.Warn("subscription webhook attempt failed; retrying", "event", d.event.Event, "event_id", d.event.ID,
			"url", d.url, "attempt", attempt, "error", err)
		delay := wait
		if retryAfter > delay {
			delay = min(retryAfter, w.o.MaxBackoff)
		}
		wait = min(wait*2, w.o.MaxBackoff)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
			w.drop(d.event, fmt.Sprintf("the gateway shut down while a retry was waiting (last error: %v)", err))
			return
		}
	}
	w.failed.Add(1)
	w.outcomes.WithLabelValues("failed").Inc()
	w.log.Error("subscription webhook event not delivered", "event", d.event.Event, "event_id", d.event.ID,
		"service", d.event.Service, "consumer", d.event.Consumer, "url", d.url, "error", last)
}

// attempt sends d once. retry says whether another attempt may succeed:
// connection errors, timeouts, 408, 429 and 5xx; other answers are the
// receiver's considered refusal.
func (w *Webhooks) attempt(d delivery) (retryAfter time.Duration, retry bool, err error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, false, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hypergate-Webhook/1")
	req.Header.Set(EventHeader, string(d.event.Event))
	req.Header.Set(DeliveryHeader, d.event.ID)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, webhook.Sign(d.secret, ts, d.body))
	resp, err := w.o.Client.Do(req)
	if err != nil {
		return 0, true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return 0, false, nil
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		if v, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && v > 0 {
			retryAfter = time.Duration(v) * time.Second
		}
		return retryAfter, true, fmt.Errorf("receiver answered HTTP %d", s)
	default:
		return 0, false, fmt.Errorf("receiver answered HTTP %d", s)
	}
}
