package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
	"github.com/hypergate/hypergate/internal/balance"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

const (
	opChat       = provider.Chat
	opEmbeddings = provider.Embeddings
)

// authenticate finds the consumer behind the request's key. Keys are looked
// up by hash in memory: the data plane never asks the database.
func (g *Gateway) authenticate(c *call, s *Snapshot) (*consumer, *apiError) {
	h := &c.ctx.Request.Header
	var key string
	if v := h.Peek("Authorization"); len(v) > 0 {
		key = trimBearer(string(v))
	} else if v := h.Peek("api-key"); len(v) > 0 {
		key = string(v)
	} else if v := h.Peek("x-api-key"); len(v) > 0 {
		key = string(v)
	}
	if key == "" {
		return nil, &apiError{Status: 401, Type: errInvalidRequest, Code: "missing_api_key",
			Message: "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' (or in an api-key or x-api-key header)."}
	}
	hash := auth.HashKey(key)
	ref, ok := s.keys[hash]
	if !ok {
		ref, ok = (*g.keys.Load())[hash]
	}
	if !ok && g.isPublishable(key, hash) {
		return nil, errPublishableOnly // feedback.go
	}
	if !ok && len(s.jwt) > 0 && looksLikeJWT(key) {
		return g.authenticateJWT(c, s, key) // jwt.go
	}
	var cons *consumer
	if ok {
		cons = s.consumers[ref.consumer]
	}
	if cons == nil {
		return nil, &apiError{Status: 401, Type: errInvalidRequest, Code: "invalid_api_key", Message: "Incorrect API key provided."}
	}
	c.rec.Consumer = cons.name
	c.rec.KeyID = ref.keyID
	if ref.expires != 0 && c.start.UnixNano() >= ref.expires {
		return nil, &apiError{Status: 401, Type: errInvalidRequest, Code: "expired_api_key",
			Message: fmt.Sprintf("This API key (%s) has expired; use the key that replaced it or create a new one.", ref.keyID)}
	}
	return cons, nil
}

// admit loads the configuration in service and authenticates the request,
// answering the call itself (503 or 401) when either fails.
func (g *Gateway) admit(c *call) (*Snapshot, *consumer, bool) {
	s := g.snap.Load()
	if s == nil {
		c.fail(&apiError{Status: 503, Type: "server_error", Code: errUnavailable, Message: "the gateway has no configuration loaded yet"})
		return nil, nil, false
	}
	cons, aerr := g.authenticate(c, s)
	if aerr != nil {
		c.fail(aerr)
		return nil, nil, false
	}
	return s, cons, true
}

// proxy serves a model call in the inbound format in: chat completions and
// embeddings (OpenAI) or messages (Anthropic). The body is validated with a
// single scan; for an upstream of the same format it passes through with
// only "model" (and, for OpenAI streams, stream_options) rewritten, for any
// other it is translated. The model's plan orders the attempts: its targets
// by strategy, retries, then fallback models.
func (g *Gateway) proxy(c *call, op provider.Operation, in *inbound) {
	c.in = in
	s, cons, ok := g.admit(c)
	if !ok || !g.checkPolicies(c, cons.policy) {
		return
	}
	body := c.ctx.Request.Body()
	req, e := parseRequest(body, op, in)
	if e != nil {
		c.fail(e)
		return
	}
	name := req.model
	c.rec.Model = truncate(name, 256)
	m := s.models[name]
	if m == nil {
		c.fail(&apiError{Status: 404, Type: errNotFound, Code: "model_not_found", Param: "model",
			Message: fmt.Sprintf("The model '%s' does not exist.", truncate(name, 256))})
		return
	}
	if !cons.allows(name) { // the requested model only: fallbacks are the operator's choice
		c.fail(&apiError{Status: 403, Type: errPermission, Code: "model_not_allowed", Param: "model",
			Message: fmt.Sprintf("This key may not use the model '%s'.", name)})
		return
	}
	c.model = m
	c.capBytes = g.bodyCap(cons, m)
	c.rec.RequestBody = calllog.Cap(body, c.capBytes)
	stream := (op == opChat || op == provider.Responses) && req.stream
	c.rec.Stream = stream
	if g.lookupCache(c, m, cons, op, body, stream) {
		return // answered from the response cache
	}
	if stream {
		c.reqBody = copyBytes(body)
	}

	plan := m.route.Plan(c.start, nil)
	var last *failure
	var neutral *llm.Request // decoded once, on the first attempt that translates
	var embed embedDecode    // the same for embeddings
	for {
		a, ok := plan.Next(time.Now())
		if !ok {
			break
		}
		if a.Delay > 0 {
			time.Sleep(a.Delay)
		}
		tm := s.models[a.Route.Name()]
		t := tm.targets[a.Target.Index]
		c.rec.Fallback = a.Fallback // the answering attempt's, set before finish hands the record over
		key := t.pool.Next()
		c.startAttempt(t, key.ID)
		timeout := a.Timeout
		if timeout <= 0 {
			timeout = t.up.Timeout
		}
		started := time.Now()
		var f *failure
		switch {
		case !t.up.Supports(op):
			f = &failure{err: &apiError{Status: 400, Type: errInvalidRequest, Code: "operation_not_supported",
				Message: fmt.Sprintf("provider %q does not offer %s", t.up.Name, op)}, outcome: balance.Unsupported}
		case t.up.Format() == in.format || (op == opEmbeddings && t.up.Format() == ""):
			f = g.passthrough(c, t, tm, key.Secret(), op, body, req, stream, timeout)
		case op == opEmbeddings && embeddingsCodec(t) != nil:
			var stop bool
			if f, stop = g.translateEmbeddings(c, t, key.Secret(), body, &embed, timeout); stop {
				return
			}
		case t.up.Codec() == nil || op != opChat || in.codec == nil:
			f = &failure{err: &apiError{Status: 400, Type: errInvalidRequest, Code: "operation_not_supported",
				Message: fmt.Sprintf("provider %q cannot serve %s in this API format", t.up.Name, op)}, outcome: balance.Unsupported}
		default:
			if neutral == nil {
				var err error
				if neutral, err = in.codec.DecodeRequest(body); err != nil {
					c.endAttempt(0, nil)
					c.failTranslated(err)
					return
				}
			}
			f = g.translate(c, t, key.Secret(), neutral, stream, timeout)
		}
		if f == nil {
			// Answered (or, for a stream, answering: its writer already runs in
			// another goroutine, so c.rec is no longer ours to read). The
			// latency observed is to the answer's headers.
			t.pool.Report(key, 200, 0)
			plan.Report(balance.Result{Outcome: balance.Success, Latency: time.Since(started)})
			return
		}
		retryAfter := f.retryAfter()
		t.pool.Report(key, f.status, retryAfter)
		if f.status == 429 && t.pool.Available() > 0 {
			retryAfter = 0 // the wait was for this key, now set aside; another key can go at once
		}
		plan.Report(balance.Result{Outcome: f.classify(), RetryAfter: retryAfter, Latency: time.Since(started)})
		c.endAttempt(0, f)
		last = f
	}
	if last == nil {
		switch {
		case errors.Is(plan.Err(), balance.ErrDeadline):
			c.fail(&apiError{Status: 504, Type: errUpstream, Code: errTimeout,
				Message: fmt.Sprintf("no upstream of model '%s' answered within its deadline", name)})
		default:
			c.fail(&apiError{Status: 503, Type: "server_error", Code: "no_upstream_available",
				Message: fmt.Sprintf("no upstream of model '%s' is available right now (circuit breakers open); retry shortly", name)})
		}
		return
	}
	g.reportFailure(c, last)
}

// passthrough sends the client's body to an upstream of the same format,
// rewriting only what it must.
func (g *Gateway) passthrough(c *call, t target, m *model, key string, op provider.Operation, body []byte,
	req request, stream bool, timeout time.Duration) *failure {
	out := body
	if t.model != req.model {
		var err error
		if out, err = sjson.SetBytes(copyBytes(body), "model", t.model); err != nil {
			return &failure{err: badRequest("model", "cannot rewrite the model name: %v", err), outcome: balance.ClientError}
		}
	}
	if !stream {
		return g.forward(c, t, key, op, out, timeout)
	}
	strip := false
	if c.in == openaiInbound && op == opChat && !req.includeUsage {
		// Ask for usage so the call can be counted and priced; the extra
		// usage chunk is removed before the client sees it.
		strip = true
		var err error
		if out, err = sjson.SetBytes(copyBytes(out), "stream_options.include_usage", true); err != nil {
			return &failure{err: badRequest("stream_options", "cannot set stream_options.include_usage: %v", err), outcome: balance.ClientError}
		}
	}
	return g.stream(c, t, key, op, out, strip, timeout)
}

func copyBytes(b []byte) []byte { return append([]byte(nil), b...) }

// request is what the gateway reads from a body it otherwise passes through.
type request struct {
	model        string
	stream       bool
	includeUsage bool
}

// parseRequest checks what the gateway itself relies on, in one validating
// scan and one field lookup; the rest of the schema is the upstream's to
// judge, and its 400 is passed through.
func parseRequest(body []byte, op provider.Operation, in *inbound) (request, *apiError) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return request{}, badRequest("", "the request body is empty; send a JSON object")
	}
	if !gjson.ValidBytes(body) {
		return request{}, badRequest("", "We could not parse the JSON body of your request. The body must be valid JSON.")
	}
	if trimmed[0] != '{' {
		return request{}, badRequest("", "the request body must be a JSON object")
	}
	r := gjson.GetManyBytes(body, "model", "stream", "messages", "input", "stream_options.include_usage", "max_tokens")
	switch {
	case !r[0].Exists():
		return request{}, badRequest("model", "you must provide a model parameter")
	case r[0].Type != gjson.String || r[0].Str == "":
		return request{}, badRequest("model", "model must be a non-empty string")
	case r[1].Exists() && r[1].Type != gjson.True && r[1].Type != gjson.False && r[1].Type != gjson.Null:
		return request{}, badRequest("stream", "stream must be a boolean")
	}
	if in == anthropicInbound && (r[5].Type != gjson.Number || r[5].Int() < 1) {
		return request{}, badRequest("max_tokens", "max_tokens: a whole number of at least 1 is required")
	}
	switch op {
	case opChat:
		if !r[2].IsArray() {
			return request{}, badRequest("messages", "messages must be an array of message objects")
		}
		if len(r[2].Array()) == 0 {
			return request{}, badRequest("messages", "messages must contain at least one message")
		}
	case opEmbeddings, provider.Responses:
		if !r[3].Exists() || r[3].Type == gjson.Null {
			return request{}, badRequest("input", "you must provide an input parameter")
		}
	}
	return request{model: r[0].Str, stream: r[1].Type == gjson.True, includeUsage: r[4].Type == gjson.True}, nil
}

// upstreamHeaders writes credentials, configured headers, the request id
// and trace context onto an outgoing request.
func (c *call) upstreamHeaders(t target, key string, set func(k, v string)) {
	set("Content-Type", "application/json")
	for _, h := range t.up.Adapter.Credentials(key) {
		set(h.Name, h.Value)
	}
	for _, h := range t.up.Headers {
		set(h.Name, h.Value)
	}
	set("X-Request-Id", c.rec.ID)
	if ua := c.ctx.UserAgent(); len(ua) > 0 {
		set("User-Agent", string(ua))
	}
	if c.in == anthropicInbound && t.up.Format() == anthropicInbound.format {
		// Beta features (Claude Code relies on them) are the client's to ask for.
		if b := c.ctx.Request.Header.Peek("anthropic-beta"); len(b) > 0 && len(b) <= 1024 {
			set("anthropic-beta", string(b))
		}
	}
	if c.traceHeaders(set) {
		// The attempt's span is the upstream's parent (trace.go).
	} else if tp := c.ctx.Request.Header.Peek("traceparent"); validTraceparent(tp) {
		set("traceparent", string(tp))
		if ts := c.ctx.Request.Header.Peek("tracestate"); len(ts) > 0 && len(ts) <= 512 {
			set("tracestate", string(ts))
		}
	}
}

// forward sends a non-streamed call upstream and copies the answer back. It
// returns nil once the client's response is written, or what went wrong.
func (g *Gateway) forward(c *call, t target, key string, op provider.Operation, body []byte, timeout time.Duration) *failure {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if f := g.send(c, t, key, t.up.URL(op, t.model, false), body, timeout, resp); f != nil {
		return f
	}
	status := resp.StatusCode()
	rb := resp.Body()
	copyUpstreamHeaders(&resp.Header, &c.ctx.Response.Header)
	switch {
	case op == opEmbeddings:
		c.usage = llm.UsageFromEmbeddings(rb)
	case op == provider.Responses:
		c.usage = responsesUsage(rb, "usage")
	case c.in == anthropicInbound:
		c.usage = anthropicUsage(rb, "usage")
	default:
		c.usage = llm.UsageFromChatCompletion(rb)
	}
	c.rec.ResponseBody = calllog.Cap(rb, c.capBytes)
	c.ctx.SetStatusCode(status)
	if ct := resp.Header.ContentType(); len(ct) > 0 {
		c.ctx.Response.Header.SetContentTypeBytes(ct)
	} else {
		c.ctx.SetContentType("application/json")
	}
	c.ctx.SetBody(rb)
	c.finish(status)
	return nil
}

// send makes one non-streamed upstream request into resp, recording the
// time it took and the answer's size. It returns a failure for transport
// errors and upstream error statuses (the body copied), nil otherwise.
func (g *Gateway) send(c *call, t target, key, url string, body []byte, timeout time.Duration, resp *fasthttp.Response) *failure {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodPost)
	c.upstreamHeaders(t, key, req.Header.Set)
	if f := sign(t, url, body, key, req.Header.Set); f != nil {
		return f
	}
	req.SetBodyRaw(body)
	req.SetTimeout(timeout)
	started := time.Now()
	err := g.fc.Do(req, resp)
	c.rec.UpstreamUS = time.Since(started).Microseconds()
	if err != nil {
		return &failure{err: upstreamError(err, t, timeout)}
	}
	rb := resp.Body()
	c.rec.ResponseBytes = int64(len(rb))
	if st := resp.StatusCode(); st >= 400 {
		return newFailure(st, resp.Header.ContentType(), rb, func(name string) string { return string(resp.Header.Peek(name)) })
	}
	return nil
}

// sign adds the signature headers of adapters that sign requests (Bedrock).
func sign(t target, url string, body []byte, key string, set func(k, v string)) *failure {
	hs, err := t.up.Sign("POST", url, body, key)
	if err != nil {
		return &failure{err: &apiError{Status: 500, Type: "server_error", Code: errInternal, cause: err,
			Message: fmt.Sprintf("the request to upstream %q could not be signed; check its credentials", t.up.Name)},
			outcome: balance.KeyRejected}
	}
	for _, h := range hs {
		set(h.Name, h.Value)
	}
	return nil
}

// passUpstreamError relays an upstream 4xx/5xx with its status and message.
// A JSON error body passes as it is (minus any configured secret an
// upstream might echo); anything else is wrapped in OpenAI's error shape.
func (g *Gateway) passUpstreamError(c *call, status int, contentType, body []byte, secrets []string) {
	c.rec.ResponseBody = calllog.Cap(body, c.capBytes)
	for _, s := range secrets {
		if len(s) >= 8 && bytes.Contains(body, []byte(s)) {
			body = bytes.ReplaceAll(body, []byte(s), []byte("[REDACTED]"))
		}
	}
	e := gjson.GetBytes(body, "error")
	c.rec.ErrorType = upstreamErrorType(status, body)
	c.rec.ErrorMessage = truncate(firstNonEmpty(e.Get("message").String(), e.String()), 1024)
	if !e.IsObject() || !e.Get("message").Exists() {
		msg := strings.TrimSpace(string(body))
		if !gjson.ValidBytes(body) {
			msg = truncate(msg, 512)
		}
		ae := &apiError{Status: status, Type: errUpstream, Code: "upstream_" + statusText(status),
			Message: fmt.Sprintf("upstream %q returned HTTP %d: %s", c.rec.Provider, status, msg)}
		writeError(c.ctx, c.in, ae)
		c.rec.ErrorMessage = truncate(ae.Message, 1024)
	} else {
		c.ctx.SetStatusCode(status)
		c.ctx.SetContentType("application/json")
		c.ctx.SetBody(body)
	}
	if status >= 500 {
		g.log.Warn("upstream error", "request_id", c.rec.ID, "status", status, "provider", c.rec.Provider, "error_type", c.rec.ErrorType)
	}
	c.finish(status)
}

// upstreamErrorType names an upstream error: its code, else its type, else
// the status.
func upstreamErrorType(status int, body []byte) string {
	e := gjson.GetBytes(body, "error")
	return firstNonEmpty(e.Get("code").String(), e.Get("type").String(), "upstream_"+statusText(status))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// upstreamError maps a transport failure to 502 or 504. The cause, which may
// name hosts and ports, goes to the log only.
func upstreamError(err error, t target, timeout interface{ String() string }) *apiError {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) || isTimeout(err) {
		return &apiError{Status: 504, Type: errUpstream, Code: errTimeout, cause: err,
			Message: fmt.Sprintf("upstream %q did not answer within %s", t.up.Name, timeout.String())}
	}
	return &apiError{Status: 502, Type: errUpstream, Code: errUnreachable, cause: err,
		Message: fmt.Sprintf("upstream %q could not be reached", t.up.Name)}
}

// passedHeaders are the upstream response headers a client may see. Anything
// else (cookies, internal ids, echoed credentials) stays behind.
var passedHeaders = []string{
	"x-ratelimit-limit-requests", "x-ratelimit-limit-tokens",
	"x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens",
	"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
	"retry-after", "retry-after-ms", "openai-processing-ms",
}

func copyUpstreamHeaders(from *fasthttp.ResponseHeader, to *fasthttp.ResponseHeader) {
	for _, h := range passedHeaders {
		if v := from.Peek(h); len(v) > 0 {
			to.SetBytesV(h, v)
		}
	}
}
