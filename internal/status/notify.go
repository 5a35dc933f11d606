package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	EventHeader    = "X-Hypergate-Event"
	DeliveryHeader = "X-Hypergate-Delivery" // the event id, the same on every attempt
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

// NotifierOptions configures a Notifier; zero values get the defaults.
type NotifierOptions struct {
	// Subscribers returns the subscribers to send each event to, read when
	// the event is sent so that one deleted stops hearing at once.
	Subscribers func(ctx context.Context) ([]Subscriber, error)
	// QueueSize bounds the deliveries waiting (default 256); one that
	// finds the queue full is dropped, counted and logged.
	QueueSize int
	// Workers send in parallel (default 2).
	Workers int
	// Attempts is how many times one delivery is tried (default 5).
	Attempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff (defaults 1s and 30s).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Client sends the requests; the default follows no redirects.
	Client *http.Client
	Logger *slog.Logger
}

// NotifierStats counts deliveries by outcome.
type NotifierStats struct {
	Delivered, Failed, Dropped, Retries int64
}

// Notifier delivers events to the subscribers off the caller's path: a
// bounded queue, a few workers, retries with exponential backoff for
// connection errors, 408, 429 and 5xx. A delivery not made is counted and
// logged, never lost silently.
type Notifier struct {
	o      NotifierOptions
	log    *slog.Logger
	queue  chan delivery
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool

	delivered, failed, dropped, retries atomic.Int64
}

type delivery struct {
	sub  Subscriber
	ev   Event
	body []byte
}

// NewNotifier starts the workers; Close stops them.
func NewNotifier(o NotifierOptions) *Notifier {
	o.QueueSize = cmpOr(o.QueueSize, 256)
	o.Workers = cmpOr(o.Workers, 2)
	o.Attempts = cmpOr(o.Attempts, 5)
	o.Backoff = cmpOr(o.Backoff, time.Second)
	o.MaxBackoff = cmpOr(o.MaxBackoff, 30*time.Second)
	o.Timeout = cmpOr(o.Timeout, 10*time.Second)
	if o.Client == nil {
		// A receiver that redirects is misconfigured; following would
		// turn the POST into a GET or send the event elsewhere.
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	n := &Notifier{o: o, log: log.With("component", "status-webhooks"), queue: make(chan delivery, o.QueueSize)}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for range o.Workers {
		n.wg.Add(1)
		go n.work()
	}
	return n
}

func cmpOr[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// Send queues ev for every subscriber without waiting for delivery.
func (n *Notifier) Send(ev Event) {
	if n.o.Subscribers == nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	subs, err := n.o.Subscribers(ctx)
	cancel()
	if err != nil {
		n.log.Error("status event not sent: listing subscribers", "event", ev.Event, "event_id", ev.ID, "error", err)
		n.failed.Add(1)
		return
	}
	if len(subs) == 0 {
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		n.log.Error("status event not sent: encoding", "event_id", ev.ID, "error", err)
		n.failed.Add(1)
		return
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, s := range subs {
		if n.closed {
			n.drop(s, ev, "the gateway is shutting down")
			continue
		}
		select {
		case n.queue <- delivery{sub: s, ev: ev, body: body}:
		default:
			n.drop(s, ev, fmt.Sprintf("the queue of %d deliveries is full", cap(n.queue)))
		}
	}
}

func (n *Notifier) drop(s Subscriber, ev Event, why string) {
	n.dropped.Add(1)
	n.log.Error("status event dropped", "subscriber", s.ID, "event", ev.Event, "event_id", ev.ID, "reason", why)
}

// Stats returns the counters.
func (n *Notifier) Stats() NotifierStats {
	return NotifierStats{Delivered: n.delivered.Load(), Failed: n.failed.Load(), Dropped: n.dropped.Load(), Retries: n.retries.Load()}
}

// Close stops taking events and waits for the queued ones until ctx is
// done; the retries still waiting then are abandoned and counted.
func (n *Notifier) Close(ctx context.Context) {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		n.cancel()
		<-done
	}
	n.cancel()
}

func (n *Notifier) work() {
	defer n.wg.Done()
	for d := range n.queue {
		n.deliver(d)
	}
}

func (n *Notifier) deliver(d delivery) {
	secret, err := config.ResolveSecret(d.sub.SecretRef)
	if err != nil {
		n.failed.Add(1)
		n.log.Error("status event not delivered: cannot sign it", "subscriber", d.sub.ID, "event_id", d.ev.ID, "error", err)
		return
	}
	wait := n.o.Backoff
	var last error
	for attempt := 1; attempt <= n.o.Attempts; attempt++ {
		if attempt > 1 {
			n.retries.Add(1)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-n.ctx.Done():
				t.Stop()
				n.drop(d.sub, d.ev, fmt.Sprintf("shut down while a retry was waiting (last error: %v)", last))
				return
			}
			wait = min(wait*2, n.o.MaxBackoff)
		}
		retry, err := n.attempt(d, []byte(secret))
		if err == nil {
			n.delivered.Add(1)
			return
		}
		last = err
		if !retry {
			break
		}
		n.log.Warn("status event attempt failed", "subscriber", d.sub.ID, "event_id", d.ev.ID, "attempt", attempt, "error", err)
	}
	n.failed.Add(1)
	n.log.Error("status event not delivered", "subscriber", d.sub.ID, "url", d.sub.URL, "event", d.ev.Event,
		"event_id", d.ev.ID, "error", last)
}

// attempt sends d once; retry says whether another attempt may succeed.
func (n *Notifier) attempt(d delivery, secret []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.sub.URL, bytes.NewReader(d.body))
	if err != nil {
		return false, fmt.Errorf("building request: %w", err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hypergate-Webhook/1")
	req.Header.Set(EventHeader, d.ev.Event)
	req.Header.Set(DeliveryHeader, d.ev.ID)
	req.Header.Set(webhook.TimestampHeader, ts)
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, ts, d.body))
	resp, err := n.o.Client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return false, nil
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		return true, fmt.Errorf("receiver answered HTTP %d", s)
	default:
		return false, fmt.Errorf("receiver answered HTTP %d %s", s, strings.TrimSpace(http.StatusText(s)))
	}
}
