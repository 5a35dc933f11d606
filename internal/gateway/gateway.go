// Package gateway is the data plane: it authenticates OpenAI-compatible
// requests, matches the model, forwards the body to the chosen upstream
// (rewriting only the model name), streams answers back chunk by chunk and
// hands a call record to the call log without waiting on the database.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/hypergate/hypergate/internal/cache"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/feedback"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/policy"
	"github.com/hypergate/hypergate/internal/provider"
	"github.com/hypergate/hypergate/internal/telemetry"
)

// Recorder takes finished call records; it must not block on I/O.
type Recorder interface {
	Record(calllog.Record)
}

// FeedbackSubmitter stores feedback posted to POST /v1/feedback, on calls
// and on documentation pages (feedback.Service).
type FeedbackSubmitter interface {
	SubmitAs(ctx context.Context, by feedback.Submitter, in feedback.Input) (feedback.Feedback, bool, error)
	SubmitPage(ctx context.Context, by feedback.Submitter, in feedback.Input) (feedback.PageFeedback, bool, error)
}

// Options configures a Gateway. Zero values get the documented defaults.
type Options struct {
	Recorder Recorder
	Feedback FeedbackSubmitter
	Metrics  *telemetry.Metrics
	Logger   *slog.Logger
	// BodyCapture is how many bytes of each request and response body a call
	// record keeps (default 32 KiB; negative: none). Consumers and models can
	// lower it or turn capture off.
	BodyCapture int
	// MaxRequestBody is the largest request body accepted (default 32 MiB).
	MaxRequestBody int
	// MaxUpstreamResponse bounds a non-streamed upstream response (default 64 MiB).
	MaxUpstreamResponse int
	// PolicyCounters hold the counts rate limits, quotas and budgets are
	// enforced against (default: in memory, this node only).
	PolicyCounters policy.Counters
	// CacheBytes bounds the response cache of the models that turn it on
	// (default 64 MiB; negative: no cache).
	CacheBytes int64
	// Tracer exports a span per call and per upstream attempt; nil: no
	// tracing, and no span is ever created (trace.go).
	Tracer *telemetry.Tracer
	// CallTraces links feedback spans to their call's trace (optional).
	CallTraces CallTraces
}

// Gateway is the data-plane handler. It is safe for concurrent use; its
// configuration is swapped atomically with SetSnapshot and SetKeys.
type Gateway struct {
	o    Options
	log  *slog.Logger
	snap atomic.Pointer[Snapshot]
	keys atomic.Pointer[KeyTable]
	// pkeys are the publishable keys, which may only post feedback (feedback.go).
	pkeys atomic.Pointer[PublishableKeyTable]
	// subs are the subscriptions made through the admin API (subscriptions.go).
	subs atomic.Pointer[SubscriptionTable]
	// state is the routing state (breakers, latency, keys set aside) that
	// survives configuration reloads.
	state *State
	// cache holds answers of the models with a response cache (cache.go);
	// nil when turned off.
	cache *cache.Cache
	// tracer is nil when tracing is off: the hooks test it and do nothing.
	tracer trace.Tracer

	fc *fasthttp.Client // non-streamed calls: the hot path
	hc *http.Client     // streamed calls: context cancellation and idle timeouts
}

// New builds a Gateway. It serves 503 until a snapshot is set.
func New(o Options) *Gateway {
	if o.BodyCapture == 0 {
		o.BodyCapture = 32 << 10
	}
	if o.MaxRequestBody <= 0 {
		o.MaxRequestBody = 32 << 20
	}
	if o.MaxUpstreamResponse <= 0 {
		o.MaxUpstreamResponse = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = telemetry.NewMetrics()
	}
	g := &Gateway{o: o, log: o.Logger, state: NewState()}
	g.state.policy = newPolicyEngine(o)
	g.state.log = o.Logger
	g.cache = newResponseCache(o)
	if o.Tracer != nil {
		g.tracer = o.Tracer.Tracer()
	}
	empty := KeyTable{}
	g.keys.Store(&empty)
	g.pkeys.Store(NewPublishableKeyTable(nil))
	g.subs.Store(NewSubscriptionTable(nil))
	g.fc = &fasthttp.Client{
		Name:                          "hypergate",
		NoDefaultUserAgentHeader:      true,
		MaxConnsPerHost:               4096,
		MaxConnWaitTimeout:            5 * time.Second,
		MaxIdleConnDuration:           5 * time.Second, // below common upstream keep-alive timeouts, so pooled connections are rarely stale
		MaxResponseBodySize:           o.MaxUpstreamResponse,
		DisablePathNormalizing:        true,
		DisableHeaderNamesNormalizing: false,
		ReadBufferSize:                16 << 10,
	}
	g.hc = &http.Client{
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     60 * time.Second,
			ForceAttemptHTTP2:   true,
			DisableCompression:  true, // SSE must reach the client as it arrives; no gzip layer in between
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return g
}

// Compile builds a snapshot of cfg that keeps this gateway's routing state
// (and drops the state of what cfg no longer names): call it only for a
// snapshot that will be put in service; validate with the package's Compile.
func (g *Gateway) Compile(cfg *config.Config, revision int64) (*Snapshot, error) {
	return CompileWith(cfg, revision, g.state)
}

// CompileReleases is Compile knowing the services' releases (see
// CompileReleases).
func (g *Gateway) CompileReleases(cfg *config.Config, revision int64, rel Releases) (*Snapshot, error) {
	return CompileReleases(cfg, revision, g.state, rel)
}

// SetSnapshot swaps in a new compiled configuration and brings the REST
// services' active health checks in line with it.
func (g *Gateway) SetSnapshot(s *Snapshot) {
	g.snap.Store(s)
	if s != nil {
		g.state.rest.activate(s.services, g.log)
	}
}

// Snapshot returns the configuration in use, or nil before the first SetSnapshot.
func (g *Gateway) Snapshot() *Snapshot { return g.snap.Load() }

// SetKeys swaps in the table of keys created through the admin API.
func (g *Gateway) SetKeys(t KeyTable) { g.keys.Store(&t) }

// Secrets returns the resolved secrets of the configuration in use.
func (g *Gateway) Secrets() []string {
	if s := g.snap.Load(); s != nil {
		return s.secrets
	}
	return nil
}

// Server returns a fasthttp server for the data plane. fasthttp was chosen by
// measurement (docs/benchmarks.md): net/http's per-request allocations cost
// more than half the throughput on small calls.
func (g *Gateway) Server() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               g.Handle,
		ErrorHandler:          g.handleParseError,
		ExpectHandler:         g.handleExpect,
		Name:                  "hypergate",
		NoDefaultServerHeader: true,
		MaxRequestBodySize:    g.o.MaxRequestBody,
		ReadBufferSize:        16 << 10, // room for long bearer tokens and JWTs
		ReadTimeout:           60 * time.Second,
		IdleTimeout:           120 * time.Second,
		CloseOnShutdown:       true,
		TCPKeepalive:          true,
		Logger:                fasthttpLogger{g.log},
	}
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn(fmt.Sprintf(format, args...), "component", "http-server")
}

// Handle serves one data-plane request.
func (g *Gateway) Handle(ctx *fasthttp.RequestCtx) {
	c := g.newCall(ctx)
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("panic in data plane", "request_id", c.rec.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			c.fail(&apiError{Status: 500, Type: "server_error", Code: errInternal, Message: "internal error; the request id identifies it in the gateway's logs"})
		}
	}()
	path := ctx.Path()
	switch string(path) {
	case "/v1/chat/completions":
		if !c.method(fasthttp.MethodPost) {
			return
		}
		g.proxy(c, opChat, openaiInbound)
	case "/v1/messages":
		c.in = anthropicInbound
		if !c.method(fasthttp.MethodPost) {
			return
		}
		g.proxy(c, opChat, anthropicInbound)
	case "/v1/messages/count_tokens":
		c.in = anthropicInbound
		if !c.method(fasthttp.MethodPost) {
			return
		}
		g.countTokens(c)
	case "/v1/responses":
		if !c.method(fasthttp.MethodPost) {
			return
		}
		g.proxy(c, provider.Responses, responsesInbound)
	case "/v1/embeddings":
		if !c.method(fasthttp.MethodPost) {
			return
		}
		g.proxy(c, opEmbeddings, openaiInbound)
	case "/v1/models":
		if !c.method(fasthttp.MethodGet) {
			return
		}
		g.listModels(c)
	case "/v1/feedback":
		c.noRecord = true // the feedback itself is the record
		if ctx.IsOptions() {
			g.feedbackPreflight(c) // feedback.go
			return
		}
		if !c.method(fasthttp.MethodPost) {
			return
		}
		g.postFeedback(c)
	case "/widget.js":
		c.noRecord = true
		g.serveWidget(c) // widget.go
	case "/healthz":
		c.noRecord = true
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"ok"}`)
	default:
		if isPromptPath(path) {
			g.servePrompt(c) // prompt.go
			return
		}
		g.serveRoute(c) // the services' routes, or 404
	}
}

// handleParseError answers requests fasthttp could not read: a body over the
// limit, a malformed request line, a read timeout.
func (g *Gateway) handleParseError(ctx *fasthttp.RequestCtx, err error) {
	c := g.newCall(ctx)
	var e *apiError
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = &apiError{Status: 413, Type: errInvalidRequest, Code: errTooLarge,
			Message: fmt.Sprintf("request body is larger than the limit of %d bytes", g.o.MaxRequestBody)}
	case isTimeout(err):
		e = &apiError{Status: 408, Type: errInvalidRequest, Code: "request_timeout", Message: "timed out reading the request", cause: err}
	default:
		e = &apiError{Status: 400, Type: errInvalidRequest, Code: "malformed_request", Message: "malformed HTTP request", cause: err}
	}
	c.fail(e)
}

// handleExpect answers "Expect: 100-continue" (curl sends it for bodies
// over 1 MiB): a body announced as too large is refused before it is sent,
// so the client reads a clean 413 instead of a reset connection.
func (g *Gateway) handleExpect(ctx *fasthttp.RequestCtx) int {
	if n := ctx.Request.Header.ContentLength(); n > g.o.MaxRequestBody {
		g.handleParseError(ctx, fasthttp.ErrBodyTooLarge)
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusContinue
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// bodyCap is how much of each body to capture for a consumer and model.
func (g *Gateway) bodyCap(c *consumer, m *model) int {
	n := g.o.BodyCapture
	if c != nil && c.bodyMax != nil && *c.bodyMax < n {
		n = *c.bodyMax
	}
	if (c != nil && c.logBodies != nil && !*c.logBodies) || (m != nil && m.logBodies != nil && !*m.logBodies) {
		n = 0
	}
	if n < 0 {
		n = 0
	}
	return n
}

// cost prices a call: the model's configured price, else the built-in table
// by upstream model name, else by the name the client sent.
func cost(m *model, upstreamModel string, u llm.Usage) float64 {
	if !u.Present {
		return 0
	}
	if m != nil && m.price != nil {
		return m.price.Cost(u)
	}
	if p, ok := llm.LookupPrice(upstreamModel); ok {
		return p.Cost(u)
	}
	if m != nil {
		if p, ok := llm.LookupPrice(m.name); ok {
			return p.Cost(u)
		}
	}
	return 0
}
