package gateway

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/feedback"
)

// Tracing follows the OpenTelemetry GenAI semantic conventions: one server
// span per call, named "{operation} {model}", and one client span per
// upstream attempt, whose context is what the upstream receives as its
// traceparent. With no tracer configured none of this runs: every hook
// returns on a nil check, and no span, context or attribute is created.

// CallTraces finds the trace a recorded call belongs to, so that feedback
// given later can point at it.
type CallTraces interface {
	CallTraceID(ctx context.Context, requestID string) (string, error)
}

// callTrace is a call's spans; the zero value is tracing off.
type callTrace struct {
	span     trace.Span
	ctx      context.Context
	attempt  trace.Span
	method   string // copied: a stream's record is finished after the request is reused
	provType string // the answering attempt's provider type
	clientTS string // the client's tracestate, forwarded with the attempt's traceparent
}

// headerCarrier reads the trace context from the request headers.
type headerCarrier struct{ c *call }

func (h headerCarrier) Get(key string) string {
	v := h.c.ctx.Request.Header.Peek(key)
	if key == "traceparent" && !validTraceparent(v) {
		return ""
	}
	if len(v) > 512 {
		return ""
	}
	return string(v)
}
func (headerCarrier) Set(string, string) {}
func (headerCarrier) Keys() []string     { return []string{"traceparent", "tracestate"} }

var propagator = propagation.TraceContext{}

// traceStart starts the call's span, once, backdated to the call's arrival.
// It continues the client's trace when a valid traceparent came in, and
// puts the trace id in the call's record.
func (c *call) traceStart() {
	if c.g.tracer == nil || c.tr.span != nil {
		return
	}
	parent := propagator.Extract(context.Background(), headerCarrier{c})
	c.tr.method = string(c.ctx.Method())
	if ts := c.ctx.Request.Header.Peek("tracestate"); len(ts) > 0 && len(ts) <= 512 {
		c.tr.clientTS = string(ts)
	}
	c.tr.ctx, c.tr.span = c.g.tracer.Start(parent, c.tr.method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(c.start), trace.WithAttributes(
			attribute.String("http.request.method", c.tr.method),
			attribute.String("url.path", c.rec.Endpoint),
			attribute.String("hypergate.request_id", c.rec.ID),
		))
	c.rec.TraceID = c.tr.span.SpanContext().TraceID().String()
}

// operationName is the GenAI operation of an endpoint, "" for others.
func operationName(endpoint string) string {
	switch endpoint {
	case "/v1/chat/completions", "/v1/messages", "/v1/responses":
		return "chat"
	case "/v1/embeddings":
		return "embeddings"
	}
	if isPromptPath([]byte(endpoint)) {
		return "chat"
	}
	return ""
}

// providerName is the semantic conventions' gen_ai.provider.name for a
// provider type; types the conventions do not list keep their own name.
func providerName(typ string) string {
	switch typ {
	case "azure", "azure-openai":
		return "azure.ai.openai"
	case "gemini":
		return "gcp.gemini"
	case "vertex":
		return "gcp.vertex_ai"
	case "bedrock":
		return "aws.bedrock"
	case "mistral":
		return "mistral_ai"
	case "xai":
		return "x_ai"
	}
	return typ
}

// traceFinish names the call's span, sets what the record knows and ends
// it. It runs from finish, in the stream writer's goroutine for streams.
func (c *call) traceFinish(status int) {
	if c.g.tracer == nil {
		return
	}
	c.traceStart()
	s := c.tr.span
	op := operationName(c.rec.Endpoint)
	name := c.tr.method
	switch {
	case op != "" && c.rec.Model != "":
		name = op + " " + c.rec.Model
	case c.rec.Route != "":
		name = c.tr.method + " " + c.rec.Route
	case c.rec.Service == "" && len(c.rec.Endpoint) < 64 && (op != "" || c.rec.Endpoint == "/v1/models"):
		name = c.tr.method + " " + c.rec.Endpoint
	}
	s.SetName(name)
	attrs := make([]attribute.KeyValue, 0, 16)
	attrs = append(attrs, attribute.Int("http.response.status_code", status))
	if op != "" {
		attrs = append(attrs, attribute.String("gen_ai.operation.name", op))
	}
	if c.rec.Model != "" {
		attrs = append(attrs, attribute.String("gen_ai.request.model", c.rec.Model))
	}
	if c.rec.UpstreamModel != "" {
		// The model the gateway routed to; upstreams that answer with a
		// dated variant say so in their body, which is not read for this.
		attrs = append(attrs, attribute.String("gen_ai.response.model", c.rec.UpstreamModel))
	}
	if c.tr.provType != "" {
		attrs = append(attrs, attribute.String("gen_ai.provider.name", providerName(c.tr.provType)))
	}
	if c.rec.Provider != "" {
		attrs = append(attrs, attribute.String("hypergate.provider", c.rec.Provider))
	}
	if c.usage.Present {
		attrs = append(attrs, attribute.Int64("gen_ai.usage.input_tokens", c.rec.InputTokens),
			attribute.Int64("gen_ai.usage.output_tokens", c.rec.OutputTokens))
	}
	if c.rec.Consumer != "" {
		attrs = append(attrs, attribute.String("hypergate.consumer", c.rec.Consumer))
	}
	if c.rec.Service != "" {
		attrs = append(attrs, attribute.String("hypergate.service", c.rec.Service))
	}
	if c.rec.Route != "" {
		attrs = append(attrs, attribute.String("http.route", c.rec.Route))
	}
	if c.rec.Stream {
		attrs = append(attrs, attribute.Bool("gen_ai.request.stream", true))
	}
	if c.rec.TTFTUS > 0 {
		attrs = append(attrs, attribute.Float64("gen_ai.response.time_to_first_chunk", float64(c.rec.TTFTUS)/1e6))
	}
	if c.rec.CacheHit {
		attrs = append(attrs, attribute.Bool("hypergate.cache_hit", true))
	}
	if c.rec.CostUSD > 0 {
		attrs = append(attrs, attribute.Float64("hypergate.cost_usd", c.rec.CostUSD))
	}
	if c.rec.Fallback {
		attrs = append(attrs, attribute.Bool("hypergate.fallback", true))
	}
	if n := len(c.rec.Attempts); n > 0 {
		attrs = append(attrs, attribute.Int("hypergate.attempts", n))
	}
	if c.rec.ErrorType != "" {
		attrs = append(attrs, attribute.String("error.type", c.rec.ErrorType))
	}
	s.SetAttributes(attrs...)
	if status >= 500 {
		s.SetStatus(codes.Error, c.rec.ErrorType)
	}
	s.End()
}

// traceAttemptStart starts the span of one upstream attempt, a child of
// the call's span.
func (c *call) traceAttemptStart(t target, keyID string) {
	if c.g.tracer == nil {
		return
	}
	c.traceStart()
	c.tr.provType = t.up.Type
	op := operationName(c.rec.Endpoint)
	if op == "" {
		op = "chat"
	}
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", op),
		attribute.String("gen_ai.request.model", t.model),
		attribute.String("gen_ai.provider.name", providerName(t.up.Type)),
		attribute.String("hypergate.provider", t.up.Name),
		attribute.String("hypergate.key_id", keyID),
		attribute.Int("hypergate.attempt", len(c.rec.Attempts)+1),
		attribute.Bool("hypergate.fallback", c.rec.Fallback),
	}
	if u, err := url.Parse(t.up.BaseURL); err == nil && u.Host != "" {
		attrs = append(attrs, attribute.String("server.address", u.Hostname()))
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err == nil {
				attrs = append(attrs, attribute.Int("server.port", n))
			}
		}
	}
	_, c.tr.attempt = c.g.tracer.Start(c.tr.ctx, op+" "+t.model, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
}

// traceRESTAttempt starts the span of one try of a REST call and puts its
// context in the upstream request's traceparent.
func (c *call) traceRESTAttempt(t *upstreamTarget, set func(k, v string)) {
	if c.g.tracer == nil {
		return
	}
	c.traceStart()
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", c.tr.method),
		attribute.String("url.full", t.url),
		attribute.Int("hypergate.attempt", len(c.rec.Attempts)+1),
	}
	if u, err := url.Parse(t.url); err == nil && u.Host != "" {
		attrs = append(attrs, attribute.String("server.address", u.Hostname()))
	}
	_, c.tr.attempt = c.g.tracer.Start(c.tr.ctx, c.tr.method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	c.traceHeaders(set)
}

// traceHeaders writes the attempt span's context as the upstream's
// traceparent, with the client's tracestate. It reports false when
// tracing is off, leaving the client's headers to be forwarded as they are.
func (c *call) traceHeaders(set func(k, v string)) bool {
	if c.tr.attempt == nil {
		return false
	}
	sc := c.tr.attempt.SpanContext()
	var b [55]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	const hex = "0123456789abcdef"
	b[0], b[1], b[2] = '0', '0', '-'
	for i, x := range tid {
		b[3+2*i], b[4+2*i] = hex[x>>4], hex[x&0xf]
	}
	b[35] = '-'
	for i, x := range sid {
		b[36+2*i], b[37+2*i] = hex[x>>4], hex[x&0xf]
	}
	b[52], b[53], b[54] = '-', '0', '0'
	if sc.IsSampled() {
		b[54] = '1'
	}
	set("traceparent", string(b[:]))
	if c.tr.clientTS != "" {
		set("tracestate", c.tr.clientTS)
	}
	return true
}

// traceAttemptEnd ends the attempt's span with what became of it.
func (c *call) traceAttemptEnd(a *calllog.Attempt, outcome string) {
	s := c.tr.attempt
	if s == nil {
		return
	}
	c.tr.attempt = nil
	attrs := []attribute.KeyValue{attribute.String("hypergate.outcome", outcome)}
	if a.Status > 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", a.Status))
	}
	if a.ErrorType != "" {
		attrs = append(attrs, attribute.String("error.type", a.ErrorType))
	}
	s.SetAttributes(attrs...)
	if a.Status >= 400 || (a.Status == 0 && a.ErrorType != "") {
		s.SetStatus(codes.Error, a.ErrorType)
	}
	s.End()
}

// traceFeedback emits feedback as a gen_ai.evaluation.result event on a
// short span of its own, linked to the trace of the call it judges: the
// call's span has long ended, and the conventions let an evaluation point
// at its operation by trace when the span cannot be its parent.
func (g *Gateway) traceFeedback(f feedback.Feedback) {
	if g.tracer == nil {
		return
	}
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.evaluation.name", f.Name),
	}
	switch f.Value.Kind {
	case feedback.Numeric:
		attrs = append(attrs, attribute.Float64("gen_ai.evaluation.score.value", f.Value.Num))
	case feedback.Boolean:
		label := "false"
		if f.Value.Bool() {
			label = "true"
		}
		attrs = append(attrs, attribute.Float64("gen_ai.evaluation.score.value", f.Value.Num),
			attribute.String("gen_ai.evaluation.score.label", label))
	case feedback.String:
		attrs = append(attrs, attribute.String("gen_ai.evaluation.score.label", truncate(f.Value.Str, 128)))
	}
	var opts []trace.SpanStartOption
	if g.o.CallTraces != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		tid, err := g.o.CallTraces.CallTraceID(ctx, f.RequestID)
		cancel()
		if id, perr := trace.TraceIDFromHex(tid); err == nil && perr == nil {
			// A link needs no span id: the call's trace is what it points at.
			opts = append(opts, trace.WithLinks(trace.Link{
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, Remote: true}),
				Attributes:  []attribute.KeyValue{attribute.String("hypergate.request_id", f.RequestID)},
			}))
		}
	}
	opts = append(opts, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(append(attrs,
		attribute.String("hypergate.request_id", f.RequestID),
		attribute.String("hypergate.feedback_id", f.ID),
		attribute.String("hypergate.consumer", f.Consumer))...))
	_, s := g.tracer.Start(context.Background(), "gen_ai.evaluation "+f.Name, opts...)
	s.AddEvent("gen_ai.evaluation.result", trace.WithAttributes(attrs...))
	s.End()
}
