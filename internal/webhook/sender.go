package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The headers that name a delivery, besides the signature ones.
const (
	EventHeader    = "X-Hypergate-Event"
	DeliveryHeader = "X-Hypergate-Delivery" // the same on every attempt, so a receiver can drop a repeat
)

// Message is one request to deliver: a ready body, so that each caller
// keeps its own formats (Slack, PagerDuty, a signed event) and the Sender
// only carries them.
type Message struct {
	URL  string
	Body []byte
	// Header holds extra request headers; Content-Type is
	// application/json unless set here.
	Header http.Header
	// ID names the message in the logs and, when Event is set, in
	// X-Hypergate-Delivery.
	ID string
	// Event, when set, makes this a Hypergate webhook: the request carries
	// X-Hypergate-Event, X-Hypergate-Delivery and X-Hypergate-Timestamp,
	// and X-Hypergate-Signature when Secret is not empty. A message in a
	// third party's format (Slack) leaves it empty and goes out unsigned.
	Event  string
	Secret []byte
	// Attrs are logged with every line about this message, to say whose
	// it is (notifier, subscriber).
	Attrs []any
	// Deliver, when set, is called for each attempt instead of posting
	// Body to URL: for a notification that goes another way (email) and
	// still wants the queue, the retries and the counters. An error that
	// has a Permanent method returning true is not retried.
	Deliver func(ctx context.Context) error
}

// Options configures a Sender; zero values get the defaults.
type Options struct {
	// QueueSize bounds the messages waiting (default 256); one that finds
	// the queue full is dropped, counted and logged.
	QueueSize int
	// Workers send in parallel (default 2).
	Workers int
	// Attempts is how many times one message is tried (default 5).
	Attempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff (defaults 1s and 30s). Each wait is
	// jittered down to half, so that receivers coming back from an outage
	// are not hit by every sender at once.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Client sends the requests; the default follows no redirects: a
	// receiver that redirects is misconfigured, and following would turn
	// the POST into a GET or send the body elsewhere.
	Client *http.Client
	// UserAgent is sent with every request (default Hypergate-Webhook/1).
	UserAgent string
	Logger    *slog.Logger
	// OnOutcome, when set, is called once per message with "delivered",
	// "failed" or "dropped", and once per retry with "retried": for
	// callers that export their own metrics.
	OnOutcome func(outcome string)

	// after replaces time.After in tests, to see the waits without
	// sleeping through them.
	after func(time.Duration) <-chan time.Time
}

func (o Options) withDefaults() Options {
	o.QueueSize = orDefault(o.QueueSize, 256)
	o.Workers = orDefault(o.Workers, 2)
	o.Attempts = orDefault(o.Attempts, 5)
	o.Backoff = orDefault(o.Backoff, time.Second)
	o.MaxBackoff = orDefault(o.MaxBackoff, 30*time.Second)
	o.Timeout = orDefault(o.Timeout, 10*time.Second)
	if o.UserAgent == "" {
		o.UserAgent = "Hypergate-Webhook/1"
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.after == nil {
		o.after = time.After
	}
	return o
}

// orDefault is cmp.Or for options, where a negative value is as unset as
// zero.
func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Stats counts messages by outcome; Retries counts attempts after the
// first.
type Stats struct {
	Delivered, Failed, Dropped, Retries int64
}

// Sender delivers messages off the caller's path: a bounded queue, a few
// workers, retries with exponential backoff and jitter for connection
// errors, timeouts, 408, 429 and 5xx (honouring Retry-After), none for
// another answer, which is the receiver's considered refusal. No message
// is lost silently: one not delivered is counted (failed or dropped) and
// logged.
type Sender struct {
	o      Options
	log    *slog.Logger
	queue  chan Message
	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex // held for reading by Send, for writing by Close
	closed bool

	delivered, failed, dropped, retries atomic.Int64
}

// NewSender starts the workers; Close stops them.
func NewSender(o Options) *Sender {
	o = o.withDefaults()
	s := &Sender{o: o, log: o.Logger, queue: make(chan Message, o.QueueSize)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range o.Workers {
		s.wg.Add(1)
		go s.work()
	}
	return s
}

// Post sends m now, on the caller's goroutine, with the retries of o
// (whose queue and workers it does not use), and returns the last error if
// every attempt failed: for a caller that sends rarely and wants to know.
func Post(ctx context.Context, o Options, m Message) error {
	s := &Sender{o: o.withDefaults(), ctx: ctx}
	s.log = s.o.Logger
	return s.deliver(m)
}

// Send queues m without waiting.
func (s *Sender) Send(m Message) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.Drop(m, "the sender is closed")
		return
	}
	select {
	case s.queue <- m:
	default:
		s.Drop(m, fmt.Sprintf("the queue of %d messages is full", cap(s.queue)))
	}
}

// Fail counts and logs as failed a message that could not even be built
// (its secret did not resolve, it did not encode), so that it shows in the
// same counters as those the receiver refused.
func (s *Sender) Fail(why string, attrs ...any) {
	s.failed.Add(1)
	s.outcome("failed")
	s.log.Error("webhook not delivered", slices.Concat(attrs, []any{"error", why})...)
}

// Drop counts and logs m as dropped: never sent, or abandoned at shutdown.
func (s *Sender) Drop(m Message, why string) {
	s.dropped.Add(1)
	s.outcome("dropped")
	s.log.Error("webhook dropped", append(m.logAttrs(), "reason", why)...)
}

// Stats returns the counts so far.
func (s *Sender) Stats() Stats {
	return Stats{Delivered: s.delivered.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load(), Retries: s.retries.Load()}
}

// Close stops taking messages and waits for the queued ones until ctx is
// done; then the retries still waiting are abandoned, and every message
// not sent is counted as dropped, logged, and the error says so.
func (s *Sender) Close(ctx context.Context) error {
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
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return fmt.Errorf("webhooks still being sent at shutdown were dropped: %w", ctx.Err())
	}
}

func (s *Sender) work() {
	defer s.wg.Done()
	for m := range s.queue {
		if s.ctx.Err() != nil {
			s.Drop(m, "shut down before it was sent")
			continue
		}
		_ = s.deliver(m)
	}
}

func (s *Sender) outcome(o string) {
	if s.o.OnOutcome != nil {
		s.o.OnOutcome(o)
	}
}

func (m Message) logAttrs() []any {
	a := slices.Clone(m.Attrs)
	if m.Event != "" {
		a = append(a, "event", m.Event)
	}
	if m.ID != "" {
		a = append(a, "id", m.ID)
	}
	return a
}

// deliver tries m up to Attempts times, counts the outcome and returns the
// last error when not delivered.
func (s *Sender) deliver(m Message) error {
	wait := s.o.Backoff
	var last error
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := s.attempt(m)
		if err == nil {
			s.delivered.Add(1)
			s.outcome("delivered")
			return nil
		}
		last = err
		if s.ctx.Err() != nil {
			// Shut down mid-attempt: the receiver did not refuse it.
			s.Drop(m, fmt.Sprintf("shut down during an attempt (error: %v)", err))
			return fmt.Errorf("attempt abandoned: %w", err)
		}
		if !retry {
			last = fmt.Errorf("refused at attempt %d, not retried: %w", attempt, err)
			break
		}
		if attempt >= s.o.Attempts {
			last = fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			break
		}
		s.log.Warn("webhook attempt failed; retrying", append(m.logAttrs(), "url", m.URL, "attempt", attempt, "error", err)...)
		delay := wait/2 + rand.N(wait/2+1)
		if retryAfter > delay {
			delay = min(retryAfter, s.o.MaxBackoff)
		}
		wait = min(wait*2, s.o.MaxBackoff)
		select {
		case <-s.o.after(delay):
		case <-s.ctx.Done():
			s.Drop(m, fmt.Sprintf("shut down while a retry was waiting (last error: %v)", err))
			return fmt.Errorf("retry abandoned: %w (last error: %w)", s.ctx.Err(), err)
		}
		s.retries.Add(1)
		s.outcome("retried")
	}
	s.failed.Add(1)
	s.outcome("failed")
	s.log.Error("webhook not delivered", append(m.logAttrs(), "url", m.URL, "error", last)...)
	return last
}

// attempt sends m once. retry says whether another attempt may succeed:
// connection errors, timeouts, 408, 429 and 5xx; retryAfter is the wait
// the receiver asked for, if any.
func (s *Sender) attempt(m Message) (retryAfter time.Duration, retry bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	if m.Deliver != nil {
		err := m.Deliver(ctx)
		var p interface{ Permanent() bool }
		return 0, err != nil && !(errors.As(err, &p) && p.Permanent()), err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return 0, false, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.o.UserAgent)
	for k, vs := range m.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if m.Event != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(EventHeader, m.Event)
		req.Header.Set(DeliveryHeader, m.ID)
		req.Header.Set(TimestampHeader, ts)
		if len(m.Secret) > 0 {
			req.Header.Set(SignatureHeader, Sign(m.Secret, ts, m.Body))
		}
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		// Refused, reset or timed out: it may pass next time.
		return 0, true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return 0, false, nil
	case c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500:
		return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), true, &StatusError{Code: c}
	default:
		return 0, false, &StatusError{Code: c}
	}
}

// StatusError is a receiver's answer other than 2xx.
type StatusError struct{ Code int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("receiver answered HTTP %d %s", e.Code, strings.TrimSpace(http.StatusText(e.Code)))
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP
// date; zero when absent, malformed or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(n)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
