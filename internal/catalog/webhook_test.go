package catalog_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hypergate/hypergate/internal/catalog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/webhook"
)

const hookSecret = "whsec-test-0123456789abcdef"

// quiet discards the senders' logs: the tests read their counts instead.
var quiet = slog.New(slog.DiscardHandler)

// receiver is a webhook endpoint that answers the statuses it is given in
// turn (then 200), checking each request's signature.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []catalog.WebhookEvent
	headers  []http.Header
	attempts atomic.Int32
	badSig   atomic.Int32
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{t: t, statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.attempts.Add(1)
	body, _ := io.ReadAll(req.Body)
	if !webhook.Verify([]byte(hookSecret), req.Header.Get(catalog.TimestampHeader), body, req.Header.Get(catalog.SignatureHeader)) {
		r.badSig.Add(1)
	}
	r.mu.Lock()
	status := 200
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	if status == 200 {
		var ev catalog.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			r.t.Errorf("webhook body is not an event: %v", err)
		}
		r.got = append(r.got, ev)
		r.headers = append(r.headers, req.Header.Clone())
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) events() []catalog.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]catalog.WebhookEvent(nil), r.got...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sampleEvent() catalog.WebhookEvent {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	sub := catalog.Subscription{ID: "sub_1", Consumer: "web-shop", Service: "orders-api", State: catalog.SubscriptionRejected,
		Source: catalog.SourceAPI, Reason: "internal only", RequestedBy: "token:ci", DecidedBy: "user:ana@example.com",
		CreatedAt: now, UpdatedAt: now, DecidedAt: &now}
	return catalog.NewEvent(catalog.EventRejected, sub, "user:ana@example.com", now)
}

func TestWebhookDelivery(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		wantAttempts int32
		want         catalog.WebhookStats
	}{
		{"delivered at once", nil, 1, catalog.WebhookStats{Delivered: 1}},
		{"delivered after retries", []int{500, 503, 429}, 4, catalog.WebhookStats{Delivered: 1, Retries: 3}},
		{"failed after every attempt", []int{500, 500, 500, 500}, 4, catalog.WebhookStats{Failed: 1, Retries: 3}},
		{"refused by the receiver", []int{400}, 1, catalog.WebhookStats{Failed: 1}},
		{"redirect not followed", []int{302}, 1, catalog.WebhookStats{Failed: 1}},
	}
	t.Setenv("HOOK_SECRET", hookSecret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, tt.statuses...)
			reg := prometheus.NewRegistry()
			w := catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet, Attempts: 4, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Registerer: reg})
			ev := sampleEvent()
			w.Send(config.Webhook{URL: rcv.srv.URL, Secret: "env:HOOK_SECRET"}, ev)
			waitFor(t, "the outcome", func() bool { s := w.Stats(); return s.Delivered+s.Failed+s.Dropped == 1 })
			if err := w.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := w.Stats(); got != tt.want {
				t.Errorf("stats %+v, want %+v", got, tt.want)
			}
			if got := rcv.attempts.Load(); got != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
			}
			if n := rcv.badSig.Load(); n != 0 {
				t.Errorf("%d requests with a bad signature", n)
			}
			outcome := "delivered"
			if tt.want.Failed > 0 {
				outcome = "failed"
			}
			if got := counterValue(t, reg, "hypergate_webhook_deliveries_total", outcome); got != 1 {
				t.Errorf("hypergate_webhook_deliveries_total{outcome=%q} = %v, want 1", outcome, got)
			}
			if tt.want.Delivered == 1 {
				got := rcv.events()
				if len(got) != 1 || got[0].ID != ev.ID || got[0].Event != catalog.EventRejected || got[0].Reason != "internal only" ||
					got[0].Consumer != "web-shop" || got[0].Service != "orders-api" || got[0].Actor != "user:ana@example.com" ||
					got[0].Subscription.State != catalog.SubscriptionRejected || !got[0].Time.Equal(ev.Time) {
					t.Errorf("received %+v, want %+v", got, ev)
				}
				h := rcv.headers[0]
				if h.Get(catalog.EventHeader) != "subscription.rejected" || h.Get(catalog.DeliveryHeader) != ev.ID ||
					h.Get("Content-Type") != "application/json" {
					t.Errorf("headers %v", h)
				}
				if ts, err := strconv.ParseInt(h.Get(catalog.TimestampHeader), 10, 64); err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
					t.Errorf("%s = %q", catalog.TimestampHeader, h.Get(catalog.TimestampHeader))
				}
			}
		})
	}
}

// counterValue reads a counter of the registry by name and outcome label.
func counterValue(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{outcome=%q}", name, outcome)
	return 0
}

// The signing itself is internal/webhook's, tested there; here, that a
// delivery carries a timestamp the signature covers.
func TestSignatureCoversTheTimestamp(t *testing.T) {
	t.Setenv("HOOK_SECRET", hookSecret)
	rcv := newReceiver(t)
	w := catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet, Workers: 1})
	w.Send(config.Webhook{URL: rcv.srv.URL, Secret: "env:HOOK_SECRET"}, sampleEvent())
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rcv.attempts.Load() != 1 || rcv.badSig.Load() != 0 {
		t.Fatalf("attempts %d, bad signatures %d; want one well-signed delivery", rcv.attempts.Load(), rcv.badSig.Load())
	}
}

func TestWebhookDrops(t *testing.T) {
	t.Setenv("HOOK_SECRET", hookSecret)
	t.Run("secret missing", func(t *testing.T) {
		w := catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet})
		defer w.Close(context.Background())
		w.Send(config.Webhook{URL: "http://127.0.0.1:1", Secret: "env:HYPERGATE_TEST_UNSET_SECRET"}, sampleEvent())
		if s := w.Stats(); s.Dropped != 1 {
			t.Fatalf("stats %+v, want one dropped", s)
		}
	})
	t.Run("queue full", func(t *testing.T) {
		release := make(chan struct{})
		var seen atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			<-release
		}))
		defer srv.Close()
		defer close(release)
		w := catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet, QueueSize: 2, Workers: 1})
		hook := config.Webhook{URL: srv.URL, Secret: "env:HOOK_SECRET"}
		w.Send(hook, sampleEvent()) // taken by the worker, which then waits
		waitFor(t, "the worker to be busy", func() bool { return seen.Load() == 1 })
		for range 5 {
			w.Send(hook, sampleEvent())
		}
		if s := w.Stats(); s.Dropped != 3 {
			t.Fatalf("stats %+v, want 3 dropped (a queue of 2 behind a busy worker)", s)
		}
	})
	t.Run("shutdown while retrying", func(t *testing.T) {
		rcv := newReceiver(t, 500, 500, 500)
		w := catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet, Attempts: 3, Backoff: time.Hour, MaxBackoff: time.Hour})
		w.Send(config.Webhook{URL: rcv.srv.URL, Secret: "env:HOOK_SECRET"}, sampleEvent())
		waitFor(t, "the first attempt", func() bool { return rcv.attempts.Load() == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := w.Close(ctx); err == nil {
			t.Fatal("Close returned nil with an event still waiting to be retried")
		}
		if s := w.Stats(); s.Dropped != 1 {
			t.Fatalf("stats %+v, want the waiting event dropped", s)
		}
		w.Send(config.Webhook{URL: rcv.srv.URL, Secret: "env:HOOK_SECRET"}, sampleEvent())
		if s := w.Stats(); s.Dropped != 2 {
			t.Fatalf("stats %+v: an event sent after Close must be counted as dropped", s)
		}
	})
	t.Run("close drains the queue", func(t *testing.T) {
		rcv := newReceiver(t)
		w := catalog.NewWebhooks(catalog.WebhookOptions{Logger: quiet, Workers: 1})
		for range 10 {
			w.Send(config.Webhook{URL: rcv.srv.URL, Secret: "env:HOOK_SECRET"}, sampleEvent())
		}
		if err := w.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if s := w.Stats(); s.Delivered != 10 {
			t.Fatalf("stats %+v, want 10 delivered before Close returned", s)
		}
	})
}
