package status_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/probe"
	"github.com/hypergate/hypergate/internal/status"
	"github.com/hypergate/hypergate/internal/webhook"
)

type triage map[string]struct {
	n     int
	worst string
}

func (t triage) OpenIncidents(_ context.Context, service string) (int, string, error) {
	return t[service].n, t[service].worst, nil
}

// TestMonitor walks a service through its levels and checks that each
// change is announced once, and a second node computing the same levels
// announces nothing.
func TestMonitor(t *testing.T) {
	db := openStore(t)
	ctx := t.Context()
	clock := now
	var events []status.Event
	tr := triage{}
	newMonitor := func(notify func(status.Event)) *status.Monitor {
		return &status.Monitor{Store: db, Triage: tr, Services: services("orders-api", "search"),
			Now: func() time.Time { return clock }, Notify: notify}
	}
	m := newMonitor(func(e status.Event) { events = append(events, e) })
	other := newMonitor(func(e status.Event) { t.Errorf("the second node announced %+v", e.Service) })
	svc := &status.Service{Store: db, Services: services("orders-api", "search"), Now: func() time.Time { return clock }}

	step := func(name string, want map[string]status.Level, changes ...string) {
		t.Helper()
		events = nil
		states, err := m.Tick(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range states {
			if want[s.Service] != s.Level {
				t.Errorf("%s: %s is %s, want %s (reasons %+v)", name, s.Service, s.Level, want[s.Service], s.Reasons)
			}
		}
		var got []string
		for _, e := range events {
			got = append(got, e.Service.Name+":"+string(e.Service.Previous)+"->"+string(e.Service.Status))
		}
		if strings.Join(got, ",") != strings.Join(changes, ",") {
			t.Errorf("%s: changes %v, want %v", name, got, changes)
		}
		if _, err := other.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}

	step("quiet", map[string]status.Level{"orders-api": status.Operational, "search": status.Operational})
	calls(t, db, "orders-api", clock.Add(-time.Minute), 200, 8)
	calls(t, db, "orders-api", clock.Add(-time.Minute), 502, 2)
	step("20 % errors", map[string]status.Level{"orders-api": status.Degraded, "search": status.Operational}, "orders-api:operational->degraded")
	step("unchanged", map[string]status.Level{"orders-api": status.Degraded, "search": status.Operational})
	calls(t, db, "orders-api", clock, 504, 20)
	step("most calls fail", map[string]status.Level{"orders-api": status.Outage, "search": status.Operational}, "orders-api:degraded->outage")

	clock = clock.Add(10 * time.Minute) // the failures leave the window
	probes := []calllog.Record{
		{ID: "p1", Time: clock.Add(-time.Minute), Service: "search", Status: 0, Synthetic: true, Probe: "s", ErrorType: probe.ErrorRequest},
		{ID: "p2", Time: clock.Add(-2 * time.Minute), Service: "search", Status: 0, Synthetic: true, Probe: "s", ErrorType: probe.ErrorRequest},
	}
	if err := db.InsertCallsAndRollups(ctx, probes); err != nil {
		t.Fatal(err)
	}
	tr["orders-api"] = struct {
		n     int
		worst string
	}{1, "critical"}
	step("probes fail; a critical triage incident", map[string]status.Level{"orders-api": status.Degraded, "search": status.Outage},
		"orders-api:outage->degraded", "search:operational->outage")

	clock = clock.Add(10 * time.Minute)
	delete(tr, "orders-api")
	if _, err := svc.CreateIncident(ctx, status.NewIncident{Title: "Upgrade", Services: []string{"search"}, Impact: status.ImpactMaintenance,
		Message: "Planned"}, "ops"); err != nil {
		t.Fatal(err)
	}
	step("maintenance announced", map[string]status.Level{"orders-api": status.Operational, "search": status.Maintenance},
		"orders-api:degraded->operational", "search:outage->maintenance")
}

func TestServiceValidation(t *testing.T) {
	db := openStore(t)
	var events []status.Event
	s := &status.Service{Store: db, Services: services("orders-api"), Notify: func(e status.Event) { events = append(events, e) },
		Now: func() time.Time { return now }}
	ctx := t.Context()
	bad := []struct {
		name string
		in   status.NewIncident
	}{
		{"no title", status.NewIncident{Services: []string{"orders-api"}, Impact: status.ImpactOutage, Message: "m"}},
		{"no message", status.NewIncident{Title: "t", Services: []string{"orders-api"}, Impact: status.ImpactOutage}},
		{"unknown impact", status.NewIncident{Title: "t", Services: []string{"orders-api"}, Impact: "meh", Message: "m"}},
		{"no service", status.NewIncident{Title: "t", Impact: status.ImpactOutage, Message: "m"}},
		{"unknown service", status.NewIncident{Title: "t", Services: []string{"nope"}, Impact: status.ImpactOutage, Message: "m"}},
		{"opened resolved", status.NewIncident{Title: "t", Services: []string{"orders-api"}, Impact: status.ImpactOutage, Status: status.StageResolved, Message: "m"}},
		{"title too long", status.NewIncident{Title: strings.Repeat("x", status.MaxTitle+1), Services: []string{"orders-api"}, Impact: status.ImpactOutage, Message: "m"}},
	}
	for _, tc := range bad {
		if _, err := s.CreateIncident(ctx, tc.in, "ops"); !errors.Is(err, status.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	in, err := s.CreateIncident(ctx, status.NewIncident{Title: " Down ", Services: []string{"orders-api", "orders-api"}, Impact: status.ImpactOutage, Message: "Looking"}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if in.Title != "Down" || len(in.Services) != 1 || in.Status != status.StageInvestigating || len(in.Updates) != 1 || in.Author != "ops" {
		t.Fatalf("created %+v", in)
	}
	if _, err := s.AddUpdate(ctx, in.ID, status.NewUpdate{Status: "done", Message: "x"}, "ops"); !errors.Is(err, status.ErrInvalid) {
		t.Errorf("unknown stage: %v", err)
	}
	in, err = s.AddUpdate(ctx, in.ID, status.NewUpdate{Status: status.StageResolved, Message: "Fixed"}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if in.Open() || len(in.Updates) != 2 {
		t.Fatalf("after resolving: %+v", in)
	}
	if _, err := s.AddUpdate(ctx, in.ID, status.NewUpdate{Status: status.StageMonitoring, Message: "again"}, "ops"); !errors.Is(err, status.ErrResolved) {
		t.Errorf("update after resolution: %v, want ErrResolved", err)
	}
	if len(events) != 2 || events[1].Update.Status != status.StageResolved || events[1].Incident.Status != status.StageResolved {
		t.Fatalf("events = %+v, want one per update", events)
	}

	for _, tc := range []struct{ name, url, secret string }{
		{"not http", "ftp://x.example/hook", ""},
		{"credentials", "https://u:p@x.example/hook", ""},
		{"clear secret", "https://x.example/hook", "hunter2"},
	} {
		if _, err := s.CreateSubscriber(ctx, status.NewSubscriber{URL: tc.url, Secret: tc.secret}, "ops"); !errors.Is(err, status.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	// The gateway keeps no secret in clear: only a reference is taken.
	if _, err := s.CreateSubscriber(ctx, status.NewSubscriber{URL: "https://x.example/hook"}, "ops"); !errors.Is(err, status.ErrInvalid) {
		t.Errorf("no secret: %v, want ErrInvalid", err)
	}
	sub, err := s.CreateSubscriber(ctx, status.NewSubscriber{URL: "https://x.example/hook2", Secret: "env:STATUS_HOOK"}, "ops")
	if err != nil || sub.SecretRef != "env:STATUS_HOOK" {
		t.Fatalf("referenced secret: %+v, %v", sub, err)
	}
}

// TestNotifier checks the subscriber webhooks: signed, one per event per
// subscriber, retried after a failure with the same delivery id.
func TestNotifier(t *testing.T) {
	type got struct {
		delivery, event string
		body            []byte
		ok              bool
	}
	var (
		mu       sync.Mutex
		received []got
		fails    = 2 // the first two attempts to /flaky answer 503
	)
	secret := "flaky-secret"
	t.Setenv("STATUS_HOOK_FLAKY", secret)
	t.Setenv("STATUS_HOOK_SECRET", "from-env")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key := secret
		if r.URL.Path == "/env" {
			key = "from-env"
		}
		ok := webhook.Verify([]byte(key), r.Header.Get(webhook.TimestampHeader), b, r.Header.Get(webhook.SignatureHeader))
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/flaky" && fails > 0 {
			fails--
			w.WriteHeader(503)
			return
		}
		received = append(received, got{r.Header.Get(status.DeliveryHeader), r.Header.Get(status.EventHeader), b, ok})
	}))
	defer srv.Close()
	subs := []status.Subscriber{
		{ID: "a", URL: srv.URL + "/flaky", SecretRef: "env:STATUS_HOOK_FLAKY"},
		{ID: "b", URL: srv.URL + "/env", SecretRef: "env:STATUS_HOOK_SECRET"},
	}
	n := status.NewNotifier(status.NotifierOptions{
		Subscribers: func(context.Context) ([]status.Subscriber, error) { return subs, nil },
		Backoff:     time.Millisecond, Attempts: 4,
	})
	ev := status.ChangeEvent("orders-api", status.Operational, status.Outage, now)
	n.Send(ev)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n.Close(ctx)

	st := n.Stats()
	if st.Delivered != 2 || st.Retries != 2 || st.Failed != 0 || st.Dropped != 0 {
		t.Fatalf("stats = %+v, want 2 delivered after 2 retries", st)
	}
	if len(received) != 2 {
		t.Fatalf("received %d deliveries, want one per subscriber", len(received))
	}
	for _, r := range received {
		if !r.ok {
			t.Error("a delivery's signature does not verify")
		}
		if r.delivery != ev.ID || r.event != status.EventServiceChanged {
			t.Errorf("headers: delivery %q event %q", r.delivery, r.event)
		}
		var body status.Event
		if err := json.Unmarshal(r.body, &body); err != nil || body.Service == nil || body.Service.Status != status.Outage ||
			body.Service.Previous != status.Operational || body.Service.Name != "orders-api" {
			t.Errorf("body %s (%v)", r.body, err)
		}
	}
}
