package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/llm"
)

// call is the state of one data-plane request, from arrival to its record.
type call struct {
	g          *Gateway
	ctx        *fasthttp.RequestCtx
	start      time.Time
	rec        calllog.Record
	model      *model
	usage      llm.Usage
	noRecord   bool
	capBytes   int
	cur        *attempt // the upstream try in progress, if any (points at curAttempt)
	curAttempt attempt
	in         *inbound // the client's API format; nil: OpenAI's
	// outText accumulates a stream's generated text, for estimating its
	// tokens when the upstream reports no usage (an aborted stream).
	outText strings.Builder
	// reqBody is a copy of a streamed call's request body: the stream writer
	// runs after the handler returns, when the request may already be reused.
	reqBody []byte
	pol     callPolicies // the policy sets admitted, charged in finish
	cache   *cacheCall   // the answer to store in the response cache, if any (cache.go)
	tr      callTrace    // the call's spans; zero when tracing is off (trace.go)
}

func (g *Gateway) newCall(ctx *fasthttp.RequestCtx) *call {
	start := time.Now()
	var id string
	if v := ctx.Request.Header.Peek("X-Request-Id"); validRequestID(v) {
		id = string(v)
	} else {
		id = newRequestID()
	}
	ctx.Response.Header.Set("X-Request-Id", id)
	return &call{
		g:     g,
		ctx:   ctx,
		start: start,
		rec: calllog.Record{
			ID:           id,
			Time:         start.UTC(),
			Endpoint:     truncate(string(ctx.Path()), 256),
			RequestBytes: int64(len(ctx.Request.Body())),
			ClientIP:     ctx.RemoteIP().String(),
			UserAgent:    truncate(string(ctx.UserAgent()), 512),
			TraceID:      traceID(ctx.Request.Header.Peek("traceparent")),
		},
	}
}

// method checks the request method, answering 405 when it is wrong.
func (c *call) method(want string) bool {
	if string(c.ctx.Method()) == want {
		return true
	}
	c.ctx.Response.Header.Set("Allow", want)
	c.fail(&apiError{Status: 405, Type: errInvalidRequest, Code: "method_not_allowed",
		Message: "method " + string(c.ctx.Method()) + " is not allowed here; use " + want})
	return false
}

// fail answers with e and records the call.
func (c *call) fail(e *apiError) {
	writeError(c.ctx, c.in, e)
	c.rec.ErrorType = e.Code
	if c.rec.ErrorType == "" {
		c.rec.ErrorType = e.Type
	}
	c.rec.ErrorMessage = truncate(e.Message, 1024)
	if e.Status >= 500 || e.cause != nil {
		c.g.log.Warn("request failed", "request_id", c.rec.ID, "status", e.Status, "error", e.Error(),
			"model", c.rec.Model, "provider", c.rec.Provider)
	}
	c.finish(e.Status)
}

// finish completes the record and hands it to the call log, then updates
// the metrics. It runs once per call, after the last byte is written.
func (c *call) finish(status int) {
	if c.noRecord {
		return
	}
	c.rec.Status = status
	c.endAttempt(c.upstreamStatus(status), nil)
	if !c.usage.Present && (c.rec.Stream || c.outText.Len() > 0) && len(c.rec.Attempts) > 0 && c.upstreamStatus(status) < 300 {
		c.estimateUsage()
	}
	c.rec.LatencyUS = time.Since(c.start).Microseconds()
	if c.usage.Present {
		c.rec.InputTokens = c.usage.InputTokens
		c.rec.OutputTokens = c.usage.OutputTokens
		c.rec.CostUSD = cost(c.model, c.rec.UpstreamModel, c.usage)
	}
	if c.rec.CacheHit {
		c.rec.CostUSD = 0 // no upstream was paid; the tokens are the cached answer's, for reference
	} else {
		c.chargePolicies()
	}
	c.storeCached(status)
	c.traceFinish(status)
	if c.g.o.Recorder != nil {
		c.g.o.Recorder.Record(c.rec)
	}
	if c.g.log.Enabled(context.Background(), slog.LevelDebug) {
		c.g.log.Debug("request", "request_id", c.rec.ID, "status", status, "endpoint", c.rec.Endpoint,
			"consumer", c.rec.Consumer, "model", c.rec.Model, "provider", c.rec.Provider,
			"latency_us", c.rec.LatencyUS, "input_tokens", c.rec.InputTokens, "output_tokens", c.rec.OutputTokens)
	}
	m := c.g.o.Metrics
	modelLabel := ""
	if c.model != nil {
		modelLabel = c.model.name // only configured names: clients cannot inflate label cardinality
	}
	m.Requests.WithLabelValues(modelLabel, statusText(status)).Inc()
	if status >= 400 || c.rec.ErrorType != "" {
		m.Errors.WithLabelValues(modelLabel, c.rec.Service, m.ErrorType(c.rec.ErrorType)).Inc()
	}
	if c.rec.Service != "" { // configured names only, like the model label
		m.ServiceRequests.WithLabelValues(c.rec.Service, c.rec.Route, statusText(status)).Inc()
		m.ServiceDuration.WithLabelValues(c.rec.Service, c.rec.Route).Observe(float64(c.rec.LatencyUS) / 1e6)
	}
	if c.model == nil {
		return
	}
	if c.rec.CostUSD > 0 {
		m.Cost.WithLabelValues(modelLabel, c.rec.Provider).Add(c.rec.CostUSD)
	}
	m.Duration.WithLabelValues(modelLabel, c.rec.Provider).Observe(float64(c.rec.LatencyUS) / 1e6)
	if c.rec.UpstreamUS > 0 {
		m.Upstream.WithLabelValues(c.rec.Provider).Observe(float64(c.rec.UpstreamUS) / 1e6)
	}
	if c.rec.TTFTUS > 0 {
		m.TTFT.WithLabelValues(modelLabel, c.rec.Provider).Observe(float64(c.rec.TTFTUS) / 1e6)
	}
	if c.usage.Present && !c.rec.CacheHit {
		m.Tokens.WithLabelValues("input", modelLabel, c.rec.Provider).Observe(float64(c.usage.InputTokens))
		m.Tokens.WithLabelValues("output", modelLabel, c.rec.Provider).Observe(float64(c.usage.OutputTokens))
	}
}

// estimateUsage counts a stream's tokens with the tokenizer when the
// upstream reported none — typically because the client left and the
// upstream request was cancelled before its usage chunk — so that the call
// is still counted and priced; the record says the counts are estimated.
func (c *call) estimateUsage() {
	model := c.rec.UpstreamModel
	body := c.reqBody
	if body == nil { // a whole answer: finish runs in the handler, the request is still ours
		body = c.ctx.Request.Body()
	}
	var texts []string
	if s := gjson.GetBytes(body, "system"); s.Exists() {
		texts = append(texts, contentText(s))
	}
	for _, m := range gjson.GetBytes(body, "messages").Array() {
		texts = append(texts, contentText(m.Get("content")))
	}
	c.usage = llm.Usage{
		InputTokens: int64(llm.EstimateMessagesTokens(model, texts)),
		Present:     true,
	}
	out, _ := llm.EstimateTokens(model, c.outText.String())
	c.usage.OutputTokens = int64(out)
	c.rec.UsageEstimated = true
}

// contentText returns the text of a message's content: a string, or an
// array of parts with text fields (both APIs' shapes).
func contentText(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	var b strings.Builder
	for _, p := range v.Array() {
		if p.Type == gjson.String {
			b.WriteString(p.Str)
		} else {
			b.WriteString(p.Get("text").Str)
		}
	}
	return b.String()
}

// noteOutput keeps the text of a passed-through stream event, for
// estimateUsage: OpenAI's delta content or Anthropic's text delta.
func (c *call) noteOutput(data []byte) {
	r := gjson.GetManyBytes(data, "choices.0.delta.content", "delta.text", "choices.0.delta.tool_calls.0.function.arguments", "delta.partial_json")
	for _, x := range r {
		c.outText.WriteString(x.Str)
	}
}

// upstreamStatus is the status the upstream answered with, for the attempt
// record: a stream the client abandoned (499) still had a 200 from upstream.
func (c *call) upstreamStatus(status int) int {
	if status == 499 {
		return 200
	}
	return status
}

var statusTexts = func() map[int]string {
	m := map[int]string{}
	for s := 100; s < 600; s++ {
		m[s] = strconv.Itoa(s)
	}
	return m
}()

func statusText(s int) string {
	if t, ok := statusTexts[s]; ok {
		return t
	}
	return "other"
}

// traceID returns the trace id of a valid W3C traceparent, or "".
func traceID(tp []byte) string {
	if !validTraceparent(tp) {
		return ""
	}
	return string(tp[3:35])
}

// validTraceparent checks the version-00 form "00-<32 hex>-<16 hex>-<2 hex>"
// with non-zero ids; anything else is not forwarded.
func validTraceparent(tp []byte) bool {
	if len(tp) != 55 || tp[0] != '0' || tp[1] != '0' || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' {
		return false
	}
	allZero := func(b []byte) bool {
		for _, c := range b {
			if c != '0' {
				return false
			}
		}
		return true
	}
	for i, c := range tp {
		if i == 2 || i == 35 || i == 52 {
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return !allZero(tp[3:35]) && !allZero(tp[36:52])
}
