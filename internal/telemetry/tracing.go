package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TracingOptions configures the export of traces over OTLP/HTTP.
type TracingOptions struct {
	// Endpoint is the collector's URL. A URL without a path gets the
	// standard /v1/traces; one with a path is used as it is. Empty: no
	// tracing at all.
	Endpoint string
	// Headers are sent with every export (an API key for a hosted backend).
	Headers map[string]string
	// SampleRatio is the share of new traces kept, 0 to 1. A trace the
	// client started keeps the client's decision (parent-based sampling).
	SampleRatio float64
	// ServiceName and ServiceVersion are the resource's service.name and
	// service.version.
	ServiceName, ServiceVersion string
	// QueueSize bounds the spans waiting for export (default 2048); when it
	// is full, spans are dropped rather than slowing requests down.
	QueueSize int
	// BatchTimeout is the longest a span waits before its batch is sent
	// (default 5s; tests shorten it).
	BatchTimeout time.Duration
}

// Tracer creates the gateway's spans and exports them in batches from a
// bounded queue, so a slow or absent collector never holds a request up.
type Tracer struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	// ended counts the sampled spans handed to the batch processor;
	// exported and failed what the exporter sent or could not send. What
	// ended and was neither is queued or was dropped on a full queue.
	ended, exported, failed atomic.Int64
}

// NewTracer starts the OTLP/HTTP exporter. It returns nil, nil when
// o.Endpoint is empty: callers test for a nil Tracer and create no span.
func NewTracer(o TracingOptions) (*Tracer, error) {
	if o.Endpoint == "" {
		return nil, nil
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp endpoint %q: want an http:// or https:// URL", o.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	if o.SampleRatio < 0 || o.SampleRatio > 1 {
		return nil, fmt.Errorf("trace sample ratio %v: want a number from 0 to 1", o.SampleRatio)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String())}
	if len(o.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the otlp exporter: %w", err)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 2048
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = 5 * time.Second
	}
	if o.ServiceName == "" {
		o.ServiceName = "hypergate"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", o.ServiceName),
		attribute.String("service.version", o.ServiceVersion),
	))
	if err != nil {
		return nil, fmt.Errorf("building the trace resource: %w", err)
	}
	t := &Tracer{}
	bsp := sdktrace.NewBatchSpanProcessor(&countingExporter{SpanExporter: exp, t: t},
		sdktrace.WithMaxQueueSize(o.QueueSize),
		sdktrace.WithMaxExportBatchSize(min(512, o.QueueSize)),
		sdktrace.WithBatchTimeout(o.BatchTimeout))
	t.tp = sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
		sdktrace.WithSpanProcessor(endCounter{t}),
		sdktrace.WithSpanProcessor(bsp),
	)
	t.tracer = t.tp.Tracer("github.com/hypergate/hypergate/internal/gateway")
	return t, nil
}

// Tracer returns the tracer spans are started with.
func (t *Tracer) Tracer() trace.Tracer { return t.tracer }

// Shutdown exports what is queued and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	return t.tp.Shutdown(ctx)
}

// ForceFlush exports what is queued now.
func (t *Tracer) ForceFlush(ctx context.Context) error { return t.tp.ForceFlush(ctx) }

// SpanCounts returns the spans ended (sampled), exported and failed so far.
func (t *Tracer) SpanCounts() (ended, exported, failed int64) {
	return t.ended.Load(), t.exported.Load(), t.failed.Load()
}

// RegisterTracer exports the tracer's span counts, read at scrape time.
func (m *Metrics) RegisterTracer(t *Tracer) {
	for outcome, v := range map[string]*atomic.Int64{"ended": &t.ended, "exported": &t.exported, "failed": &t.failed} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hypergate_trace_spans_total",
			Help:        "Sampled spans by outcome: ended (handed to the export queue), exported, failed (the collector refused them or was unreachable). Ended spans neither exported nor failed are queued or were dropped on a full queue.",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(v.Load()) }))
	}
}

// endCounter counts the sampled spans as they end, before the batch
// processor's queue (which drops silently when full).
type endCounter struct{ t *Tracer }

func (endCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (e endCounter) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() {
		e.t.ended.Add(1)
	}
}
func (endCounter) Shutdown(context.Context) error   { return nil }
func (endCounter) ForceFlush(context.Context) error { return nil }

// countingExporter counts what the OTLP exporter sends and fails to send.
type countingExporter struct {
	sdktrace.SpanExporter
	t *Tracer
}

func (c *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := c.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		c.t.failed.Add(int64(len(spans)))
	} else {
		c.t.exported.Add(int64(len(spans)))
	}
	return err
}

// ParseHeaders reads OTLP headers written as the OpenTelemetry
// environment variables write them: "k1=v1,k2=v2", values URL-encoded.
func ParseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("otlp header %q: want name=value", kv)
		}
		dv, err := url.QueryUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("otlp header %q: %w", k, err)
		}
		out[k] = dv
	}
	return out, nil
}
