// Package telemetry sets up what operators read: JSON logs, the
// Prometheus metrics of the data plane and the call log, and OpenTelemetry
// traces exported over OTLP/HTTP. Metric and attribute names follow the
// OpenTelemetry GenAI semantic conventions where one exists.
package telemetry

import (
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewLogger returns a JSON logger at the named level (debug, info, warn, error).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Metrics holds the data plane's instruments. It is created once per
// process (or per test) with its own registry, so tests never collide.
type Metrics struct {
	Registry *prometheus.Registry

	// Requests counts data-plane requests by model name and HTTP status.
	Requests *prometheus.CounterVec
	// Duration is gen_ai.server.request.duration: time from request to last byte.
	Duration *prometheus.HistogramVec
	// TTFT is gen_ai.server.time_to_first_token, for streamed calls.
	TTFT *prometheus.HistogramVec
	// Upstream is the time spent waiting on the upstream.
	Upstream *prometheus.HistogramVec
	// Tokens is gen_ai.client.token.usage by token type (input, output).
	Tokens *prometheus.HistogramVec
	// CacheRequests counts the calls of models with a response cache by
	// model and result: hit, miss, or bypass (the cache not consulted).
	CacheRequests *prometheus.CounterVec
	// Errors counts failed data-plane requests (status 400 and above, or an
	// error told in a stream) by model, service and error type. The error
	// type is bounded: past ErrorTypeLimit distinct values it reads "other".
	Errors *prometheus.CounterVec
	// Operation is gen_ai.client.operation.duration: the gateway as the
	// client of its upstreams, one observation per attempt.
	Operation *prometheus.HistogramVec
	// Attempts counts upstream attempts by provider (or REST target) and
	// outcome: success, or the failure class that decides retries.
	Attempts *prometheus.CounterVec
	// Cost is the estimated spend in US dollars by model and provider.
	Cost *prometheus.CounterVec
	// ServiceRequests counts REST and AI service calls by service, route and
	// status; ServiceDuration is their latency by service and route.
	ServiceRequests *prometheus.CounterVec
	ServiceDuration *prometheus.HistogramVec
	// Anomalies counts the calls an anomaly detector flagged, by flag and
	// requested model (bounded as error types are); see CountAnomaly.
	Anomalies *prometheus.CounterVec

	errorTypes    boundedSet
	anomalyModels boundedSet
}

// CountAnomaly counts one flag set on a call of model. Detectors see every
// record, models clients made up included, so the model label is bounded:
// past ErrorTypeLimit distinct models it reads "other".
func (m *Metrics) CountAnomaly(flag, model string) {
	label := "none"
	if model != "" {
		label = m.anomalyModels.admit(model, ErrorTypeLimit)
	}
	m.Anomalies.WithLabelValues(flag, label).Inc()
}

// ErrorTypeLimit bounds the distinct error_type label values: upstreams
// name their own error codes, and no upstream may grow the series without
// end.
const ErrorTypeLimit = 64

// ErrorType returns t as a label value: t itself among the first
// ErrorTypeLimit distinct values seen, "other" after.
func (m *Metrics) ErrorType(t string) string {
	if t == "" {
		return "none"
	}
	return m.errorTypes.admit(t, ErrorTypeLimit)
}

// boundedSet admits the first n distinct strings.
type boundedSet struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

func (b *boundedSet) admit(s string, n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[s]; ok {
		return s
	}
	if len(b.seen) >= n {
		return "other"
	}
	if b.seen == nil {
		b.seen = map[string]struct{}{}
	}
	s = strings.Clone(s)
	b.seen[s] = struct{}{}
	return s
}

// NewMetrics registers the data-plane instruments and the Go runtime
// collectors on a fresh registry.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: r,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergate_requests_total",
			Help: "Data-plane requests by requested model and HTTP status.",
		}, []string{"gen_ai_request_model", "http_response_status_code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gen_ai_server_request_duration_seconds",
			Help:    "Time from receiving a request to sending its last byte.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92},
		}, []string{"gen_ai_request_model", "gen_ai_provider_name"}),
		TTFT: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gen_ai_server_time_to_first_token_seconds",
			Help:    "Time from receiving a streamed request to sending its first token.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0},
		}, []string{"gen_ai_request_model", "gen_ai_provider_name"}),
		Upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hypergate_upstream_duration_seconds",
			Help:    "Time spent waiting on the upstream, from sending the request to its last byte.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92},
		}, []string{"gen_ai_provider_name"}),
		Tokens: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gen_ai_client_token_usage",
			Help:    "Tokens used per call, by token type.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 14), // 1, 4, 16 … 67108864, as the GenAI conventions advise
		}, []string{"gen_ai_token_type", "gen_ai_request_model", "gen_ai_provider_name"}),
		CacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergate_cache_requests_total",
			Help: "Calls of models with a response cache, by model and result: hit, miss, or bypass (asked by the client, or a request the cache does not take).",
		}, []string{"gen_ai_request_model", "result"}),
	}
	m.Errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_errors_total",
		Help: "Failed data-plane requests by requested model (empty for REST), service (empty for /v1 calls) and error type.",
	}, []string{"gen_ai_request_model", "service", "error_type"})
	m.Operation = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gen_ai_client_operation_duration_seconds",
		Help:    "Duration of each upstream attempt, the gateway being the GenAI client.",
		Buckets: []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92},
	}, []string{"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "error_type"})
	m.Attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_upstream_attempts_total",
		Help: "Upstream attempts by provider (or REST target URL) and outcome: success or the failure class (server_error, timeout, rate_limited …).",
	}, []string{"gen_ai_provider_name", "outcome"})
	m.Cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_cost_usd_total",
		Help: "Estimated spend in US dollars by requested model and provider (cache hits cost nothing).",
	}, []string{"gen_ai_request_model", "gen_ai_provider_name"})
	m.ServiceRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_service_requests_total",
		Help: "Requests served through the route table, by service, route name and HTTP status.",
	}, []string{"service", "route", "http_response_status_code"})
	m.ServiceDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hypergate_service_request_duration_seconds",
		Help:    "Time from receiving a service request to sending its last byte, by service and route name.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48},
	}, []string{"service", "route"})
	m.Anomalies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hypergate_anomalies_total",
		Help: "Calls flagged by an anomaly detector, by flag (empty_output, refusal, latency_outlier …) and requested model.",
	}, []string{"flag", "model"})
	r.MustRegister(m.Requests, m.Duration, m.TTFT, m.Upstream, m.Tokens, m.CacheRequests,
		m.Errors, m.Operation, m.Attempts, m.Cost, m.ServiceRequests, m.ServiceDuration, m.Anomalies)
	return m
}

// RegisterCallLog exports the call log's counters, read at scrape time so
// the hot path pays nothing for them.
func (m *Metrics) RegisterCallLog(depth func() float64, counters map[string]func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hypergate_calllog_queue_depth",
		Help: "Call records waiting in the in-memory queue.",
	}, depth))
	for name, f := range counters {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hypergate_calllog_records_total",
			Help:        "Call records by outcome: enqueued, written, spilled (to the local spill file), replayed (from it) and dropped.",
			ConstLabels: prometheus.Labels{"outcome": name},
		}, f))
	}
}

// CacheStats are the response cache's figures, read at scrape time.
type CacheStats struct {
	Bytes, MaxBytes, Entries int64
	// Evictions are entries dropped to make room, Expirations those
	// dropped because their time to live was over.
	Evictions, Expirations int64
}

// RegisterCache exports the response cache's size and evictions. stats is
// called at scrape time, so the hot path pays nothing for them.
func (m *Metrics) RegisterCache(stats func() CacheStats) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hypergate_cache_bytes",
			Help: "Bytes held by the response cache (bodies plus a fixed allowance per entry).",
		}, func() float64 { return float64(stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hypergate_cache_max_bytes",
			Help: "The response cache's bound (HYPERGATE_CACHE_BYTES).",
		}, func() float64 { return float64(stats().MaxBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hypergate_cache_entries",
			Help: "Answers held by the response cache.",
		}, func() float64 { return float64(stats().Entries) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hypergate_cache_evictions_total",
			Help:        "Answers dropped from the response cache, by reason: capacity (least recently used, to make room) or expired (time to live over).",
			ConstLabels: prometheus.Labels{"reason": "capacity"},
		}, func() float64 { return float64(stats().Evictions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hypergate_cache_evictions_total",
			Help:        "Answers dropped from the response cache, by reason: capacity (least recently used, to make room) or expired (time to live over).",
			ConstLabels: prometheus.Labels{"reason": "expired"},
		}, func() float64 { return float64(stats().Expirations) }),
	)
}

// Names returns the names of the metric families registered so far, vectors
// with no series yet included: what a dashboard may query.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		m.Registry.Describe(ch)
		close(ch)
	}()
	seen := map[string]bool{}
	var out []string
	for d := range ch {
		// Desc keeps its name private; its String form is stable:
		// Desc{fqName: "name", ...}.
		s := d.String()
		i := strings.Index(s, `fqName: "`)
		if i < 0 {
			continue
		}
		s = s[i+len(`fqName: "`):]
		if j := strings.IndexByte(s, '"'); j > 0 && !seen[s[:j]] {
			seen[s[:j]] = true
			out = append(out, s[:j])
		}
	}
	return out
}
