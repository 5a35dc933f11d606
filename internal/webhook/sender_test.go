package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock records the waits the Sender asks for and ends them at once.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

func (c *fakeClock) get() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// scripted answers each request with the next of its responses (the last
// one repeated) and keeps what it received.
type scripted struct {
	mu      sync.Mutex
	answers []func(http.ResponseWriter)
	reqs    []*http.Request
	bodies  [][]byte
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := min(len(s.reqs), len(s.answers)-1)
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, b)
	s.mu.Unlock()
	s.answers[i](w)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func answer(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

func TestSenderOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		answers  []func(http.ResponseWriter)
		attempts int
		want     Stats
		requests int
		// waits are the exact waits asked for, when not jittered.
		waits []time.Duration
		// jittered are the nominal waits of jittered retries: each wait
		// is in [w/2, w].
		jittered []time.Duration
	}{
		{"delivered at once", []func(http.ResponseWriter){answer(204)}, 5,
			Stats{Delivered: 1}, 1, nil, nil},
		{"5xx then delivered, backoff doubles", []func(http.ResponseWriter){answer(503), answer(500), answer(502), answer(200)}, 5,
			Stats{Delivered: 1, Retries: 3}, 4, nil, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"408 and 429 are retried", []func(http.ResponseWriter){answer(408), answer(429), answer(200)}, 5,
			Stats{Delivered: 1, Retries: 2}, 3, nil, []time.Duration{time.Second, 2 * time.Second}},
		{"gives up after the attempts", []func(http.ResponseWriter){answer(500)}, 3,
			Stats{Failed: 1, Retries: 2}, 3, nil, []time.Duration{time.Second, 2 * time.Second}},
		{"another 4xx is permanent", []func(http.ResponseWriter){answer(404)}, 5,
			Stats{Failed: 1}, 1, nil, nil},
		{"a redirect is not followed and not retried", []func(http.ResponseWriter){answer(302, "Location", "/elsewhere")}, 5,
			Stats{Failed: 1}, 1, nil, nil},
		{"Retry-After in seconds", []func(http.ResponseWriter){answer(429, "Retry-After", "7"), answer(200)}, 5,
			Stats{Delivered: 1, Retries: 1}, 2, []time.Duration{7 * time.Second}, nil},
		{"Retry-After capped at MaxBackoff", []func(http.ResponseWriter){answer(503, "Retry-After", "3600"), answer(200)}, 5,
			Stats{Delivered: 1, Retries: 1}, 2, []time.Duration{30 * time.Second}, nil},
		{"Retry-After shorter than the backoff is not obeyed", []func(http.ResponseWriter){answer(503, "Retry-After", "0"), answer(200)}, 5,
			Stats{Delivered: 1, Retries: 1}, 2, nil, []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &scripted{answers: tt.answers}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			clock := &fakeClock{}
			s := NewSender(Options{Attempts: tt.attempts, Logger: discard(), after: clock.after})
			s.Send(Message{URL: srv.URL, Body: []byte(`{}`), Event: "test.event", ID: "evt_1"})
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := s.Stats(); got != tt.want {
				t.Errorf("stats = %+v, want %+v", got, tt.want)
			}
			if n := rc.count(); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			waits := clock.get()
			switch {
			case tt.jittered != nil:
				if len(waits) != len(tt.jittered) {
					t.Fatalf("waits = %v, want %d", waits, len(tt.jittered))
				}
				for i, w := range waits {
					if w < tt.jittered[i]/2 || w > tt.jittered[i] {
						t.Errorf("wait %d = %v, want within [%v, %v]", i, w, tt.jittered[i]/2, tt.jittered[i])
					}
				}
			case len(waits) != len(tt.waits):
				t.Errorf("waits = %v, want %v", waits, tt.waits)
			default:
				for i := range waits {
					if waits[i] != tt.waits[i] {
						t.Errorf("waits = %v, want %v", waits, tt.waits)
					}
				}
			}
		})
	}
}

func TestSenderConnectionErrorIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	clock := &fakeClock{}
	s := NewSender(Options{Attempts: 3, Logger: discard(), after: clock.after})
	s.Send(Message{URL: url, Body: []byte(`{}`)})
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats(); got != (Stats{Failed: 1, Retries: 2}) {
		t.Errorf("stats = %+v, want failed after 2 retries", got)
	}
}

func TestSenderHeaders(t *testing.T) {
	secret := []byte("k")
	tests := []struct {
		name   string
		msg    Message
		signed bool
		event  bool
	}{
		{"signed event", Message{Event: "alert.firing", ID: "alnt_1", Secret: secret}, true, true},
		{"event without a secret", Message{Event: "alert.firing", ID: "alnt_1"}, false, true},
		{"third-party format", Message{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &scripted{answers: []func(http.ResponseWriter){answer(200)}}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			tt.msg.URL, tt.msg.Body = srv.URL, []byte(`{"id":"x"}`)
			tt.msg.Header = http.Header{"x-extra": {"1"}}
			s := NewSender(Options{UserAgent: "hypergate-test", Logger: discard()})
			s.Send(tt.msg)
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if rc.count() != 1 {
				t.Fatalf("%d requests", rc.count())
			}
			r, body := rc.reqs[0], rc.bodies[0]
			if r.Method != http.MethodPost || string(body) != `{"id":"x"}` {
				t.Errorf("%s with body %s", r.Method, body)
			}
			for k, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "hypergate-test", "X-Extra": "1"} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			ts := r.Header.Get(TimestampHeader)
			if got := r.Header.Get(EventHeader) != "" && r.Header.Get(DeliveryHeader) == "alnt_1" && ts != ""; got != tt.event {
				t.Errorf("event headers present = %v, want %v: %v", got, tt.event, r.Header)
			}
			sig := r.Header.Get(SignatureHeader)
			if (sig != "") != tt.signed {
				t.Fatalf("signature %q, want signed %v", sig, tt.signed)
			}
			if tt.signed && !Verify(secret, ts, body, sig) {
				t.Errorf("signature %q does not verify", sig)
			}
		})
	}
}

func TestSenderCloseDrains(t *testing.T) {
	rc := &scripted{answers: []func(http.ResponseWriter){answer(200)}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := NewSender(Options{Workers: 1, Logger: discard()})
	for range 20 {
		s.Send(Message{URL: srv.URL, Body: []byte(`{}`)})
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats(); got != (Stats{Delivered: 20}) {
		t.Errorf("stats = %+v, want all 20 delivered before Close returned", got)
	}
	s.Send(Message{URL: srv.URL, Body: []byte(`{}`)})
	if got := s.Stats(); got.Dropped != 1 || rc.count() != 20 {
		t.Errorf("after Close: stats %+v, %d requests; want the late message dropped, unsent", got, rc.count())
	}
}

func TestSenderCloseDeadline(t *testing.T) {
	// The receiver always asks for a retry, and the waits are real and
	// long: Close must give up at its deadline and count what it
	// abandons.
	rc := &scripted{answers: []func(http.ResponseWriter){answer(503)}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := NewSender(Options{Workers: 1, QueueSize: 4, Backoff: time.Hour, Logger: discard()})
	for range 3 {
		s.Send(Message{URL: srv.URL, Body: []byte(`{}`)})
	}
	for rc.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if got := s.Stats(); got != (Stats{Dropped: 3}) {
		t.Errorf("stats = %+v, want the waiting retry and the 2 queued dropped", got)
	}
	if rc.count() != 1 {
		t.Errorf("%d requests, want none after the deadline", rc.count())
	}
}

func TestSenderQueueFull(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	s := NewSender(Options{Workers: 1, QueueSize: 1, Logger: discard()})
	s.Send(Message{URL: srv.URL}) // taken by the worker, which blocks
	deadline := time.Now().Add(5 * time.Second)
	for len(s.queue) != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s.Send(Message{URL: srv.URL}) // waits in the queue
	s.Send(Message{URL: srv.URL}) // finds it full
	if got := s.Stats(); got.Dropped != 1 {
		t.Errorf("stats = %+v, want 1 dropped", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_ = s.Close(ctx)
}

func TestPost(t *testing.T) {
	rc := &scripted{answers: []func(http.ResponseWriter){answer(500), answer(200)}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	clock := &fakeClock{}
	o := Options{Attempts: 2, Logger: discard(), after: clock.after}
	if err := Post(t.Context(), o, Message{URL: srv.URL, Body: []byte(`{}`)}); err != nil {
		t.Fatalf("Post = %v, want delivered on the retry", err)
	}
	rc = &scripted{answers: []func(http.ResponseWriter){answer(400)}}
	srv2 := httptest.NewServer(rc)
	defer srv2.Close()
	err := Post(t.Context(), o, Message{URL: srv2.URL, Body: []byte(`{}`)})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 400 || rc.count() != 1 {
		t.Errorf("Post = %v after %d requests, want the 400, not retried", err, rc.count())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, v string
		want    time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"negative", "-5", 0},
		{"http date", "Fri, 27 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"past date", "Fri, 27 Nov 2026 09:00:00 GMT", 0},
		{"malformed", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.v, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

type permanent struct{ error }

func (permanent) Permanent() bool { return true }

func TestSenderCustomDelivery(t *testing.T) {
	tests := []struct {
		name  string
		errs  []error
		want  Stats
		tries int
	}{
		{"delivered", []error{nil}, Stats{Delivered: 1}, 1},
		{"transient then delivered", []error{errors.New("451 try later"), nil}, Stats{Delivered: 1, Retries: 1}, 2},
		{"permanent", []error{permanent{errors.New("550 no such user")}}, Stats{Failed: 1}, 1},
		{"wrapped permanent", []error{fmt.Errorf("smtp: %w", permanent{errors.New("554")})}, Stats{Failed: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{}
			s := NewSender(Options{Logger: discard(), after: clock.after})
			tries := 0
			s.Send(Message{Deliver: func(ctx context.Context) error {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("an attempt without a deadline")
				}
				tries++
				return tt.errs[min(tries, len(tt.errs))-1]
			}})
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := s.Stats(); got != tt.want || tries != tt.tries {
				t.Errorf("stats %+v after %d tries, want %+v after %d", got, tries, tt.want, tt.tries)
			}
		})
	}
}
