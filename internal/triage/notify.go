package triage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// The events a notification announces.
const (
	EventNew       = "incident.new"
	EventRegressed = "incident.regressed"
)

// Webhook headers besides the signature ones of internal/webhook, named as
// the alert notifications name theirs.
const (
	EventHeader    = "X-Hypergate-Event"    // incident.new or incident.regressed
	DeliveryHeader = "X-Hypergate-Delivery" // the notification id, the same on every attempt
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

// NotifierOptions configures a Notifier; zero values get the defaults.
type NotifierOptions struct {
	// QueueSize bounds the notifications waiting (default 256); one that
	// finds the queue full is dropped, counted and logged.
	QueueSize int
	// Attempts is how many times one notification is tried (default 5).
	Attempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff (defaults 1s and 30s).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Client sends the requests; default one that follows no redirects.
	Client *http.Client
	Logger *slog.Logger
}

// NotifierStats counts notifications by outcome.
type NotifierStats struct {
	Delivered, Failed, Dropped, Retries int64
}

// Notifier delivers incident notifications off the observer's path: a
// bounded queue, one worker, retries with exponential backoff. A
// notification not delivered is counted and logged, never lost silently.
// Webhooks are signed with internal/webhook as alert notifications are.
type Notifier struct {
	o      NotifierOptions
	log    *slog.Logger
	queue  chan job
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.RWMutex
	closed bool

	delivered, failed, dropped, retries atomic.Int64
}

type job struct {
	target Target
	id     string
	event  string
	body   []byte
}

// NewNotifier starts the worker; Close stops it.
func NewNotifier(o NotifierOptions) *Notifier {
	o.QueueSize = cmp.Or(o.QueueSize, 256)
	o.Attempts = cmp.Or(o.Attempts, 5)
	o.Backoff = cmp.Or(o.Backoff, time.Second)
	o.MaxBackoff = cmp.Or(o.MaxBackoff, 30*time.Second)
	o.Timeout = cmp.Or(o.Timeout, 10*time.Second)
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{o: o, log: log.With("component", "triage-notifier"), queue: make(chan job, o.QueueSize),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go n.work()
	return n
}

// Send queues n for t: a Slack message for a slack notifier, the JSON
// Notification otherwise.
func (n *Notifier) Send(t Target, note Notification) {
	var v any = note
	if t.Type == config.NotifierSlack {
		v = map[string]string{"text": SlackText(note)}
	}
	body, err := json.Marshal(v)
	if err != nil {
		n.fail(t.Name, note.ID, "encoding: "+err.Error())
		return
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		n.dropped.Add(1)
		n.log.Error("incident notification dropped: notifier closed", "notifier", t.Name, "id", note.ID)
		return
	}
	select {
	case n.queue <- job{target: t, id: note.ID, event: note.Event, body: body}:
	default:
		n.dropped.Add(1)
		n.log.Error("incident notification dropped: queue full", "notifier", t.Name, "id", note.ID)
	}
}

func (n *Notifier) fail(notifier, id, why string) {
	n.failed.Add(1)
	n.log.Error("incident notification failed", "notifier", notifier, "id", id, "err", why)
}

// Stats returns the counters.
func (n *Notifier) Stats() NotifierStats {
	return NotifierStats{Delivered: n.delivered.Load(), Failed: n.failed.Load(), Dropped: n.dropped.Load(), Retries: n.retries.Load()}
}

// Close stops taking notifications and waits for the queued ones until
// ctx is done; those still undelivered then are counted as failed.
func (n *Notifier) Close(ctx context.Context) {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	select {
	case <-n.done:
	case <-ctx.Done():
		n.cancel()
		<-n.done
	}
	n.cancel()
}

func (n *Notifier) work() {
	defer close(n.done)
	for j := range n.queue {
		n.deliver(j)
	}
}

func (n *Notifier) deliver(j job) {
	wait := n.o.Backoff
	var last string
	for attempt := 1; attempt <= n.o.Attempts; attempt++ {
		if attempt > 1 {
			n.retries.Add(1)
			select {
			case <-time.After(wait):
			case <-n.ctx.Done():
				n.fail(j.target.Name, j.id, "shutting down after: "+last)
				return
			}
			wait = min(wait*2, n.o.MaxBackoff)
		}
		err := n.attempt(j)
		if err == nil {
			n.delivered.Add(1)
			return
		}
		last = err.Error()
		n.log.Warn("incident notification attempt failed", "notifier", j.target.Name, "id", j.id, "attempt", attempt, "err", err)
	}
	n.fail(j.target.Name, j.id, fmt.Sprintf("gave up after %d attempts: %s", n.o.Attempts, last))
}

func (n *Notifier) attempt(j job) error {
	ctx, cancel := context.WithTimeout(n.ctx, n.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.target.URL, bytes.NewReader(j.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hypergate-triage")
	if j.target.Type != config.NotifierSlack {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(webhook.TimestampHeader, ts)
		req.Header.Set(EventHeader, j.event)
		req.Header.Set(DeliveryHeader, j.id)
		if len(j.target.Secret) > 0 {
			req.Header.Set(webhook.SignatureHeader, webhook.Sign(j.target.Secret, ts, j.body))
		}
	}
	resp, err := n.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

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
