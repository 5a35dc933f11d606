package alert

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	EventHeader     = "X-Hypergate-Event"     // alert.firing or alert.resolved
	DeliveryHeader  = "X-Hypergate-Delivery"  // the notification id, the same on every attempt
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

// SenderOptions configures a Sender; zero values get the defaults.
type SenderOptions struct {
	// QueueSize bounds the notifications waiting (default 256); one that
	// finds the queue full is dropped, counted and logged.
	QueueSize int
	// Workers send in parallel (default 2).
	Workers int
	// Attempts is how many times one notification is tried (default 5);
	// one refused for good, such as by an SMTP 5xx reply, is tried once.
	Attempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff (defaults 1s and 30s).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Client sends the requests; default one that follows no redirects.
	Client *http.Client
	// TLSConfig is the base of email notifiers' TLS settings, its
	// ServerName set to each mail server's host; default the system's
	// roots.
	TLSConfig *tls.Config
	Logger    *slog.Logger
}

// SenderStats counts notifications by outcome.
type SenderStats struct {
	Delivered, Failed, Dropped, Retries int64
}

// Sender delivers notifications off the evaluation path: a bounded
// queue, a few workers, retries with exponential backoff. None is lost
// silently: one not delivered is counted and logged.
type Sender struct {
	o      SenderOptions
	log    *slog.Logger
	queue  chan job
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

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

// NewSender starts the workers; Close stops them.
func NewSender(o SenderOptions) *Sender {
	o.QueueSize = cmp.Or(o.QueueSize, 256)
	o.Workers = cmp.Or(o.Workers, 2)
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
	s := &Sender{o: o, log: log.With("component", "alert-notifier"), queue: make(chan job, o.QueueSize), ctx: ctx, cancel: cancel}
	for range o.Workers {
		s.wg.Add(1)
		go s.work()
	}
	return s
}

// Send queues n for t in t's format (for PagerDuty, one event per group;
// for email, one message to all the recipients).
func (s *Sender) Send(t Target, n Notification) {
	bs, err := bodies(t, n)
	if err != nil {
		s.fail(t.Name, n.ID, "encoding: "+err.Error())
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, body := range bs {
		if s.closed {
			s.dropped.Add(1)
			s.log.Error("alert notification dropped: notifier closed", "notifier", t.Name, "id", n.ID)
			continue
		}
		select {
		case s.queue <- job{target: t, id: n.ID, event: "alert." + n.Status, body: body}:
		default:
			s.dropped.Add(1)
			s.log.Error("alert notification dropped: queue full", "notifier", t.Name, "id", n.ID)
		}
	}
}

func (s *Sender) fail(notifier, id, why string) {
	s.failed.Add(1)
	s.log.Error("alert notification failed", "notifier", notifier, "id", id, "err", why)
}

// Stats returns the counters.
func (s *Sender) Stats() SenderStats {
	return SenderStats{Delivered: s.delivered.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load(), Retries: s.retries.Load()}
}

// Close stops taking notifications and waits for the queued ones until
// ctx is done; those still undelivered then are counted as failed.
func (s *Sender) Close(ctx context.Context) {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
	s.cancel()
}

func (s *Sender) work() {
	defer s.wg.Done()
	for j := range s.queue {
		s.deliver(j)
	}
}

func (s *Sender) deliver(j job) {
	wait := s.o.Backoff
	var last string
	for attempt := 1; attempt <= s.o.Attempts; attempt++ {
		if attempt > 1 {
			s.retries.Add(1)
			select {
			case <-time.After(wait):
			case <-s.ctx.Done():
				s.fail(j.target.Name, j.id, "shutting down after: "+last)
				return
			}
			wait = min(wait*2, s.o.MaxBackoff)
		}
		err := s.attempt(j)
		if err == nil {
			s.delivered.Add(1)
			return
		}
		last = err.Error()
		if errors.As(err, new(permanentError)) {
			s.fail(j.target.Name, j.id, fmt.Sprintf("refused at attempt %d, not retried: %s", attempt, last))
			return
		}
		s.log.Warn("alert notification attempt failed", "notifier", j.target.Name, "id", j.id, "attempt", attempt, "err", err)
	}
	s.fail(j.target.Name, j.id, fmt.Sprintf("gave up after %d attempts: %s", s.o.Attempts, last))
}

func (s *Sender) attempt(j job) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	if j.target.Type == config.NotifierEmail {
		return s.sendEmail(ctx, j.target, j.body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.target.URL, bytes.NewReader(j.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hypergate-alerts")
	if j.target.Type == config.NotifierWebhook {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(EventHeader, j.event)
		req.Header.Set(DeliveryHeader, j.id)
		if len(j.target.Secret) > 0 {
			req.Header.Set(SignatureHeader, webhook.Sign(j.target.Secret, ts, j.body))
		}
	}
	resp, err := s.o.Client.Do(req)
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

// permanentError is a failure another attempt would only repeat, such as
// an SMTP 5xx reply: the Sender gives up on it at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

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
