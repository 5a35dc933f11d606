// Package telemetry sets up what operators read: JSON logs and the
// Prometheus metrics of the data plane and the call log. Metric names follow
// the OpenTelemetry GenAI semantic conventions where one exists.
package telemetry

import (
	"io"
	"log/slog"
	"strings"

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
	r.MustRegister(m.Requests, m.Duration, m.TTFT, m.Upstream, m.Tokens, m.CacheRequests)
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
