package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// Error types of a failed run, in the record's error_type.
const (
	// ErrorAssertion: the call was answered and an assertion failed.
	ErrorAssertion = "probe_assertion_failed"
	// ErrorRequest: no answer came (the data plane is unreachable, or the
	// run timed out), or the probe could not be sent.
	ErrorRequest = "probe_request_failed"
)

// maxBody caps how much of a response a run reads: assertions look at
// the start of bodies, and a probe must not buffer a download.
const maxBody = 1 << 20

// recordWait bounds how long a run waits for the gateway's record of its
// call once the answer is in; streams are recorded after their last byte.
const recordWait = 2 * time.Second

// abandonedTTL is how long the id of a call whose record never came is
// remembered, so that a late record is still marked synthetic.
const abandonedTTL = 10 * time.Minute

// resultsKept is how many results of each probe Status returns.
const resultsKept = 20

// Clock is the time source of the schedule; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Recorder takes the finished record of a probe's call: the call log.
type Recorder interface{ Record(calllog.Record) }

// Options configure a Scheduler.
type Options struct {
	// Base is the data plane's loopback address, e.g. http://127.0.0.1:8080;
	// called at each run, so that it may be bound after New.
	Base func() string
	// Recorder receives the records of probe calls, marked synthetic.
	Recorder Recorder
	// Client sends the probes; a client that follows no redirects when nil.
	Client *http.Client
	// Clock defaults to the system clock.
	Clock Clock
	// Jitter returns the delay before a probe's first run, in [0, interval);
	// uniform at random when nil, so that probes do not run in step.
	Jitter func(interval time.Duration) time.Duration
	// Registerer receives the probe metrics; none are exported when nil.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Result is the outcome of one run.
type Result struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	Pass      bool      `json:"pass"`
	// Status is the HTTP status the gateway answered; 0 when none came.
	Status    int     `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
	// Failure is the assertion that failed; absent when the run passed.
	Failure *Failure `json:"failure,omitempty"`
}

// Status is a probe with its latest results.
type Status struct {
	Name string `json:"name"`
	// Target is "model NAME" or "METHOD PATH".
	Target   string `json:"target"`
	Interval string `json:"interval"`
	Consumer string `json:"consumer,omitempty"`
	// Results are the latest runs, newest first.
	Results []Result `json:"results"`
}

// spec is what a runner runs; a runner whose spec is unchanged by a
// reload keeps running, with its results.
type spec struct {
	probe  config.Probe
	key    string // the consumer's key, resolved; "" when none is sent
	keyErr string
}

type runner struct {
	spec    spec
	cancel  context.CancelFunc
	mu      sync.Mutex
	results []Result // newest first
}

type pending struct {
	probe     string
	ch        chan calllog.Record // capacity 1: Claim never blocks
	abandoned time.Time           // non-zero once the run stopped waiting
}

// Scheduler runs the configured probes, one goroutine each.
type Scheduler struct {
	o        Options
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu      sync.Mutex
	ctx     context.Context // nil until Start
	stop    context.CancelFunc
	wg      sync.WaitGroup
	runners map[string]*runner
	specs   []spec
	pending map[string]*pending
}

// New returns a scheduler that runs nothing until Start.
func New(o Options) *Scheduler {
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration { return mrand.N(max(d, 1)) }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{o: o, runners: map[string]*runner{}, pending: map[string]*pending{},
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergate_probe_runs_total",
			Help: "Synthetic probe runs, by probe and result (pass or fail).",
		}, []string{"probe", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hypergate_probe_duration_seconds",
			Help:    "Time from sending a synthetic probe to the end of its answer, as a client sees it.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"probe"}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(s.runs, s.duration)
	}
	return s
}

// Start runs the probes of the last Update, and those of later ones, until
// Close.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		return
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.reconcile()
}

// Close stops every probe and waits for runs in flight.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.stop != nil {
		s.stop()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.o.Client.CloseIdleConnections()
}

// Update puts cfg's probes in service: new ones start, removed ones stop,
// changed ones restart (their results are dropped, being of another probe).
// A consumer key that cannot be resolved fails each run of the probe,
// rather than the configuration.
func (s *Scheduler) Update(cfg *config.Config) {
	var specs []spec
	if cfg != nil {
		for _, p := range cfg.Probes {
			sp := spec{probe: p}
			if p.Consumer != "" {
				sp.key, sp.keyErr = consumerKey(cfg, p.Consumer)
			}
			specs = append(specs, sp)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every configured probe has its series from the start (zero until it
	// runs), so dashboards and alerts see a probe before its first result;
	// removed probes lose theirs.
	names := map[string]bool{}
	for _, sp := range specs {
		names[sp.probe.Name] = true
		s.runs.WithLabelValues(sp.probe.Name, "pass")
		s.runs.WithLabelValues(sp.probe.Name, "fail")
		s.duration.WithLabelValues(sp.probe.Name)
	}
	for _, old := range s.specs {
		if !names[old.probe.Name] {
			s.runs.DeleteLabelValues(old.probe.Name, "pass")
			s.runs.DeleteLabelValues(old.probe.Name, "fail")
			s.duration.DeleteLabelValues(old.probe.Name)
		}
	}
	s.specs = specs
	if s.ctx != nil {
		s.reconcile()
	}
}

func consumerKey(cfg *config.Config, name string) (key, errMsg string) {
	for _, c := range cfg.Consumers {
		if c.Name != name {
			continue
		}
		if len(c.Keys) == 0 {
			return "", fmt.Sprintf("consumer %q declares no key", name)
		}
		k, err := config.ResolveSecret(c.Keys[0].Key)
		if err != nil {
			return "", fmt.Sprintf("consumer %q: %v", name, err)
		}
		return k, ""
	}
	return "", fmt.Sprintf("unknown consumer %q", name)
}

// reconcile makes the runners match s.specs; s.mu is held.
func (s *Scheduler) reconcile() {
	want := map[string]bool{}
	for _, sp := range s.specs {
		name := sp.probe.Name
		want[name] = true
		if r := s.runners[name]; r != nil {
			if reflect.DeepEqual(r.spec, sp) {
				continue
			}
			r.cancel()
		}
		ctx, cancel := context.WithCancel(s.ctx)
		r := &runner{spec: sp, cancel: cancel}
		s.runners[name] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.loop(ctx, r)
		}()
	}
	for name, r := range s.runners {
		if !want[name] {
			r.cancel()
			delete(s.runners, name)
		}
	}
}

func (s *Scheduler) loop(ctx context.Context, r *runner) {
	interval := r.spec.probe.Interval.Std()
	wait := s.o.Jitter(interval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.o.Clock.After(wait):
		}
		res := s.run(ctx, r.spec)
		if ctx.Err() != nil && res.Status == 0 {
			return // stopped mid-run: not a failure of the probe
		}
		r.mu.Lock()
		r.results = append([]Result{res}, r.results[:min(len(r.results), resultsKept-1)]...)
		r.mu.Unlock()
		wait = interval
	}
}

// run sends one probe and records its call.
func (s *Scheduler) run(ctx context.Context, sp spec) Result {
	p := sp.probe
	id := newID()
	at := s.o.Clock.Now()
	res := Result{Time: at.UTC(), RequestID: id}
	endpoint := p.Path
	if p.Model != "" {
		endpoint = "/v1/chat/completions"
	}

	entry := &pending{probe: p.Name, ch: make(chan calllog.Record, 1)}
	s.mu.Lock()
	s.pending[id] = entry
	s.pruneAbandoned(at)
	s.mu.Unlock()

	var body []byte
	var err error
	t0 := time.Now()
	if sp.keyErr != "" {
		err = errors.New(sp.keyErr)
	} else {
		res.Status, body, err = s.send(ctx, sp, id, endpoint)
	}
	latency := time.Since(t0)
	res.LatencyMS = float64(latency.Microseconds()) / 1000
	if err != nil {
		res.Failure = &Failure{"request", err.Error()}
	} else {
		res.Failure = Evaluate(p.Assert, res.Status, latency, body)
	}
	res.Pass = res.Failure == nil

	rec, ok := s.gatewayRecord(ctx, id, entry, err == nil)
	if !ok {
		// No record came: the call never reached the gateway, or it is
		// late. The run is recorded anyway, so that alerts see it.
		rec = calllog.Record{ID: id, Time: at.UTC(), Endpoint: endpoint, Model: p.Model, Status: res.Status,
			LatencyUS: latency.Microseconds(), ClientIP: "127.0.0.1", Consumer: p.Consumer}
	}
	rec.Synthetic, rec.Probe = true, p.Name
	if res.Failure != nil {
		msg := res.Failure.String()
		if rec.ErrorType != "" {
			msg += "; the call failed with " + rec.ErrorType
			if rec.ErrorMessage != "" {
				msg += ": " + rec.ErrorMessage
			}
		}
		rec.ErrorType, rec.ErrorMessage = ErrorAssertion, msg
		if res.Failure.Assertion == "request" {
			rec.ErrorType = ErrorRequest
		}
	}
	if s.o.Recorder != nil {
		s.o.Recorder.Record(rec)
	}
	result := "pass"
	if !res.Pass {
		result = "fail"
		s.o.Logger.Warn("probe failed", "probe", p.Name, "request_id", id, "status", res.Status, "failure", res.Failure.String())
	}
	s.runs.WithLabelValues(p.Name, result).Inc()
	s.duration.WithLabelValues(p.Name).Observe(latency.Seconds())
	return res
}

// gatewayRecord waits for the gateway's record of call id, if answered.
func (s *Scheduler) gatewayRecord(ctx context.Context, id string, e *pending, answered bool) (calllog.Record, bool) {
	if answered {
		t := time.NewTimer(recordWait)
		defer t.Stop()
		select {
		case rec := <-e.ch:
			return rec, true
		case <-t.C:
		case <-ctx.Done():
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case rec := <-e.ch:
		return rec, true
	default:
		e.abandoned = s.o.Clock.Now()
		return calllog.Record{}, false
	}
}

// pruneAbandoned forgets ids whose record never came; s.mu is held.
func (s *Scheduler) pruneAbandoned(now time.Time) {
	for id, e := range s.pending {
		if !e.abandoned.IsZero() && now.Sub(e.abandoned) > abandonedTTL {
			delete(s.pending, id)
		}
	}
}

func (s *Scheduler) send(ctx context.Context, sp spec, id, endpoint string) (int, []byte, error) {
	p := sp.probe
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.Std())
	defer cancel()
	payload := p.Body
	if p.Model != "" && payload == "" {
		b, err := json.Marshal(map[string]any{
			"model":      p.Model,
			"messages":   []map[string]string{{"role": "user", "content": config.DefaultProbeMessage}},
			"max_tokens": 16,
		})
		if err != nil {
			return 0, nil, err
		}
		payload = string(b)
	}
	var rd io.Reader
	if payload != "" {
		rd = strings.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, p.ProbeMethod(), strings.TrimSuffix(s.o.Base(), "/")+endpoint, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("building the request: %w", err)
	}
	if payload != "" && (p.Model != "" || json.Valid([]byte(payload))) {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "hypergate-probe/"+p.Name)
	if sp.key != "" {
		req.Header.Set("Authorization", "Bearer "+sp.key)
	}
	for name, v := range p.Headers {
		if config.IsSecretRef(v) {
			if v, err = config.ResolveSecret(v); err != nil {
				return 0, nil, fmt.Errorf("header %s: %w", name, err)
			}
		}
		if strings.EqualFold(name, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(name, v)
	}
	// The id ties the gateway's record to this run (Claim); set last so
	// that no configured header replaces it.
	req.Header.Set("X-Request-Id", id)
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(resp.Body, maxBody)); err != nil {
		return resp.StatusCode, buf.Bytes(), fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, buf.Bytes(), nil
}

// Claim takes the gateway's record of a probe's call, to be completed with
// the run's result and recorded by the probe: it reports whether r was a
// probe's call, in which case the caller must not record it. A call is a
// probe's when its request id is one the scheduler generated for a run
// in flight: ids are random and single-use, and no request header marks a
// call synthetic, so a client cannot have its own calls left out of
// analytics.
func (s *Scheduler) Claim(r calllog.Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.pending[r.ID]
	if e == nil {
		return false
	}
	delete(s.pending, r.ID)
	if e.abandoned.IsZero() {
		e.ch <- r
		return true
	}
	// The run gave up waiting and recorded its own view under this id;
	// the store keeps the first record of an id, so this is the late
	// duplicate, still marked so that it cannot count as a client's.
	r.Synthetic, r.Probe = true, e.probe
	if s.o.Recorder != nil {
		s.o.Recorder.Record(r)
	}
	return true
}

// Status returns every probe in service with its latest results.
func (s *Scheduler) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.specs))
	for _, sp := range s.specs {
		p := sp.probe
		st := Status{Name: p.Name, Interval: p.Interval.String(), Consumer: p.Consumer, Results: []Result{}}
		if p.Model != "" {
			st.Target = "model " + p.Model
		} else {
			st.Target = p.ProbeMethod() + " " + p.Path
		}
		if r := s.runners[p.Name]; r != nil && reflect.DeepEqual(r.spec, sp) {
			r.mu.Lock()
			st.Results = append(st.Results, r.results...)
			r.mu.Unlock()
		}
		out = append(out, st)
	}
	return out
}

// newID returns an unguessable request id, so that no client can send
// one a run will use.
func newID() string { return "probe-" + rand.Text() }
