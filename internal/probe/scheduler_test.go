package probe

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// fakeClock fires After channels only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// Advance moves the clock and fires what is due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// waitFor waits until n goroutines wait on the clock.
func (c *fakeClock) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.waiters)
		c.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines wait on the clock, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type records struct {
	mu   sync.Mutex
	recs []calllog.Record
}

func (r *records) Record(rec calllog.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *records) all() []calllog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]calllog.Record(nil), r.recs...)
}

// fakePlane stands for the data plane: it answers with the status it is
// told and hands its record of each call to the scheduler, as the
// gateway's recorder does.
type fakePlane struct {
	status atomic.Int32
	hits   atomic.Int32
	s      *Scheduler
	rec    *records
}

func (f *fakePlane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	st := int(f.status.Load())
	rec := calllog.Record{ID: r.Header.Get("X-Request-Id"), Time: time.Now(), Endpoint: r.URL.Path, Status: st,
		Consumer: "shop-from-" + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}
	if st >= 500 {
		rec.ErrorType = "upstream_error"
	}
	if !f.s.Claim(rec) {
		f.rec.Record(rec)
	}
	w.WriteHeader(st)
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func TestSchedulerRunsOnItsClock(t *testing.T) {
	t.Setenv("SHOP_KEY", "k-123")
	clock := &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	rec := &records{}
	reg := prometheus.NewRegistry()
	plane := &fakePlane{rec: rec}
	plane.status.Store(200)
	srv := httptest.NewServer(plane)
	defer srv.Close()
	s := New(Options{Base: func() string { return srv.URL }, Recorder: rec, Clock: clock, Registerer: reg,
		Jitter: func(d time.Duration) time.Duration { return d / 2 }})
	plane.s = s
	defer s.Close()

	cfg := &config.Config{
		Consumers: []config.Consumer{{Name: "shop", Keys: []config.ConsumerKey{{Name: "k", Key: "env:SHOP_KEY"}}}},
		Probes: []config.Probe{{Name: "health", Path: "/health", Interval: config.Duration(10 * time.Second),
			Timeout: config.Duration(5 * time.Second), Consumer: "shop", Assert: config.ProbeAssertions{BodyContains: "ok"}}},
	}
	s.Update(cfg)
	s.Start()
	clock.waitFor(t, 1)
	clock.Advance(4 * time.Second) // before the jittered start
	if plane.hits.Load() != 0 {
		t.Fatal("the probe ran before its jittered start")
	}
	clock.Advance(time.Second) // at half the interval
	waitResults(t, s, "health", 1)
	clock.waitFor(t, 1)

	plane.status.Store(503)
	clock.Advance(10 * time.Second)
	st := waitResults(t, s, "health", 2)

	res := st.Results
	if !res[1].Pass || res[1].Status != 200 || res[0].Pass || res[0].Failure == nil || res[0].Failure.Assertion != "status" {
		t.Fatalf("results (newest first) = %+v", res)
	}
	if !res[0].Time.Equal(clock.Now()) {
		t.Errorf("result time %s, want the clock's %s", res[0].Time, clock.Now())
	}
	recs := rec.all()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, r := range recs {
		if !r.Synthetic || r.Probe != "health" || r.Consumer != "shop-from-k-123" {
			t.Errorf("record %+v: want synthetic, of probe health, sent with the consumer's key", r)
		}
	}
	if recs[1].ErrorType != ErrorAssertion || !strings.Contains(recs[1].ErrorMessage, "status: 503 is not one of 2xx") ||
		!strings.Contains(recs[1].ErrorMessage, "upstream_error") {
		t.Errorf("failed run recorded as %q: %q", recs[1].ErrorType, recs[1].ErrorMessage)
	}
	var m dto.Metric
	if err := s.runs.WithLabelValues("health", "fail").Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		got := m.GetCounter().GetValue()
		t.Errorf("hypergate_probe_runs_total{result=fail} = %v, want 1", got)
	}

	// A reload that changes the probe restarts it (a fresh jitter) and
	// drops the old results; removing it stops it.
	clock.waitFor(t, 1)
	cfg.Probes[0].Interval = config.Duration(20 * time.Second)
	s.Update(cfg)
	if st := s.Status(); len(st) != 1 || len(st[0].Results) != 0 || st[0].Interval != "20s" {
		t.Fatalf("after a change: %+v", st)
	}
	s.Update(&config.Config{})
	if st := s.Status(); len(st) != 0 {
		t.Fatalf("after removal: %+v", st)
	}
	hits := plane.hits.Load()
	clock.Advance(time.Minute)
	time.Sleep(20 * time.Millisecond)
	if plane.hits.Load() != hits {
		t.Error("a removed probe still runs")
	}
}

func TestSchedulerRecordsUnreachablePlane(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	rec := &records{}
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	s := New(Options{Base: func() string { return base }, Recorder: rec, Clock: clock,
		Jitter: func(time.Duration) time.Duration { return 0 }})
	defer s.Close()
	s.Update(&config.Config{Probes: []config.Probe{{Name: "chat", Model: "m", Interval: config.Duration(5 * time.Second),
		Timeout: config.Duration(time.Second)}}})
	s.Start()
	clock.waitFor(t, 1)
	clock.Advance(0)
	st := waitResults(t, s, "chat", 1)
	if r := st.Results[0]; r.Pass || r.Status != 0 || r.Failure == nil || r.Failure.Assertion != "request" {
		t.Fatalf("result %+v, want a failed request", r)
	}
	recs := rec.all()
	if len(recs) != 1 || !recs[0].Synthetic || recs[0].ErrorType != ErrorRequest || recs[0].Endpoint != "/v1/chat/completions" ||
		recs[0].Model != "m" {
		t.Fatalf("records %+v", recs)
	}
}

func TestClaimIgnoresUnknownIDs(t *testing.T) {
	s := New(Options{})
	if s.Claim(calllog.Record{ID: "probe-AAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
		t.Fatal("claimed a record whose id no run generated")
	}
}

func waitResults(t *testing.T, s *Scheduler, name string, n int) Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, st := range s.Status() {
			if st.Name == name && len(st.Results) >= n {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %s has fewer than %d results: %+v", name, n, s.Status())
		}
		time.Sleep(time.Millisecond)
	}
}
