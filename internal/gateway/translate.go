package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/balance"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/openai"
)

// translate sends a neutral request to an upstream of another format and
// answers the client in its own: whole, or streamed event by event.
func (g *Gateway) translate(c *call, t target, key string, neutral *llm.Request, stream bool, timeout time.Duration) *failure {
	codec := upstreamCodec(t)
	r := *neutral // shallow: the codec may append to Dropped, never to shared slices' elements
	r.Dropped = append([]string(nil), neutral.Dropped...)
	r.Model, r.Stream, r.IncludeUsage = t.model, stream, stream
	body, err := codec.EncodeRequest(&r)
	c.rec.Dropped = r.Dropped // the inbound decoder's drops, and the encoder's where it lists them
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) {
			// This upstream's format cannot express the request; another
			// target's may. The target itself is not failing.
			return &failure{translated: le, status: le.Status, outcome: balance.Unsupported}
		}
		return &failure{err: &apiError{Status: 500, Type: "server_error", Code: errInternal, cause: err,
			Message: "the request could not be translated for the upstream"}, outcome: balance.ServerError}
	}
	if stream {
		return g.translateStream(c, t, key, codec, body, neutral.IncludeUsage, timeout)
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if f := g.send(c, t, key, t.up.URL(opChat, t.model, false), body, timeout, resp); f != nil {
		if f.err == nil {
			f.translated = codec.DecodeError(f.status, f.body)
		}
		return f
	}
	rb := resp.Body()
	answer, err := codec.DecodeResponse(rb)
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) { // an error the upstream reported inside a 200
			return &failure{translated: le, status: le.Status, body: copyBytes(rb)}
		}
		return &failure{err: &apiError{Status: 502, Type: errUpstream, Code: "upstream_unreadable", cause: err,
			Message: fmt.Sprintf("upstream %q answered in a form the gateway could not read", t.up.Name)}}
	}
	out, err := c.in.codec.EncodeResponse(answer)
	if err != nil {
		return &failure{err: &apiError{Status: 500, Type: "server_error", Code: errInternal, cause: err,
			Message: "the upstream's answer could not be translated"}, outcome: balance.ServerError}
	}
	c.usage = answer.Usage // not Present when the upstream sent none: finish then estimates it
	c.outText.WriteString(answer.Message.Text())
	c.rec.ResponseBody = calllog.Cap(out, c.capBytes)
	c.ctx.SetStatusCode(200)
	c.ctx.SetContentType("application/json")
	c.ctx.SetBody(out)
	c.finish(200)
	return nil
}

// translateStream opens a translated stream. Failures before the upstream's
// first byte may still fall back; after that they are told in-band, in the
// client's format.
func (g *Gateway) translateStream(c *call, t target, key string, codec llm.UpstreamCodec, body []byte,
	includeUsage bool, timeout time.Duration) *failure {
	up, f := g.openStream(c, t, key, t.up.URL(opChat, t.model, true), body, timeout)
	if f != nil {
		return f
	}
	resp, uctx, cancel, idle, upStart := up.resp, up.ctx, up.cancel, up.idle, up.started
	if resp.StatusCode >= 400 {
		rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		idle.Stop()
		cancel(nil)
		c.rec.UpstreamUS = time.Since(upStart).Microseconds()
		f := newFailure(resp.StatusCode, []byte(resp.Header.Get("Content-Type")), rb, resp.Header.Get)
		f.translated = codec.DecodeError(resp.StatusCode, rb)
		return f
	}
	h := &c.ctx.Response.Header
	c.ctx.SetStatusCode(200)
	h.SetContentType("text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	events := codec.NewStreamReader(resp.Body)
	c.ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		status := 200
		defer func() {
			idle.Stop()
			resp.Body.Close()
			cancel(nil)
			if p := recover(); p != nil {
				g.log.Error("panic while streaming", "request_id", c.rec.ID, "panic", fmt.Sprint(p))
				c.rec.ErrorType = errInternal
				status = 500
			}
			c.rec.UpstreamUS = time.Since(upStart).Microseconds()
			c.finish(status)
		}()
		capture := &captureWriter{w: w, left: c.capBytes}
		out := c.in.streamWriter(c, c.cache.tee(capture), includeUsage)
		status = g.relayEvents(c, events, out, capture, idle, timeout, func() error { return context.Cause(uctx) }, cancel)
		c.rec.ResponseBody = calllog.Cap(capture.buf, c.capBytes)
	})
	return nil
}

// captureWriter writes to the client and keeps the first bytes for the
// call record.
type captureWriter struct {
	w    *bufio.Writer
	buf  []byte
	left int
	n    int64
}

func (cw *captureWriter) Write(p []byte) (int, error) {
	if cw.left > 0 {
		k := min(cw.left, len(p))
		cw.buf = append(cw.buf, p[:k]...)
		cw.left -= k
	}
	cw.n += int64(len(p))
	return cw.w.Write(p)
}

func (cw *captureWriter) Flush() error { return cw.w.Flush() }

type neutralEvent struct {
	ev  llm.StreamEvent
	err error
}

// relayEvents copies neutral events from an upstream reader to the client's
// writer, with the same heartbeat and client-gone handling as relay.
func (g *Gateway) relayEvents(c *call, events llm.StreamReader, out llm.StreamWriter, w *captureWriter, idle *time.Timer,
	timeout time.Duration, cause func() error, cancel context.CancelCauseFunc) int {
	ch := make(chan neutralEvent, 16) // events own their data: no hand-shake needed
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			ev, err := events.Next()
			select {
			case ch <- neutralEvent{ev, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	clientGone := func() int {
		cancel(errClientGone)
		c.rec.ErrorType = errClientClosed
		c.rec.ErrorMessage = "the client closed the connection before the stream ended"
		return 499
	}
	firstToken := false
	hb := time.NewTimer(heartbeat)
	defer hb.Stop()
	for {
		var ne neutralEvent
		select {
		case <-hb.C:
			if _, err := w.Write(keepAlive); err != nil || w.Flush() != nil {
				return clientGone()
			}
			hb.Reset(heartbeat)
			continue
		case ne = <-ch:
		}
		if ne.err != nil {
			if errors.Is(ne.err, io.EOF) {
				if err := out.Close(); err != nil {
					return clientGone()
				}
				c.rec.ResponseBytes = w.n
				return 200
			}
			code, msg := "upstream_stream_error", "the upstream stream broke off"
			if errors.Is(cause(), errIdle) {
				code, msg = errTimeout, fmt.Sprintf("the upstream sent nothing for %s", timeout)
			}
			c.rec.ErrorType, c.rec.ErrorMessage = code, msg
			g.log.Warn("translated stream ended with an error", "request_id", c.rec.ID, "provider", c.rec.Provider, "error", ne.err, "code", code)
			_ = out.Write(llm.StreamEvent{Type: llm.EventError, Err: &llm.Error{Status: 502, Type: errUpstream, Code: code, Message: msg}})
			c.rec.ResponseBytes = w.n
			return 200
		}
		idle.Reset(timeout)
		ev := ne.ev
		switch ev.Type {
		case llm.EventUsage:
			if ev.Usage != nil {
				c.usage = *ev.Usage
				c.usage.Present = true
			}
		case llm.EventStart:
			if ev.Usage != nil && !c.usage.Present {
				c.usage = *ev.Usage
				c.usage.Present = true
			}
		case llm.EventText, llm.EventThinking, llm.EventToolCallStart, llm.EventToolCallArgs:
			c.outText.WriteString(ev.Text)
			if ev.ToolCall != nil {
				c.outText.WriteString(ev.ToolCall.Name)
			}
			if !firstToken {
				firstToken = true
				c.rec.TTFTUS = time.Since(c.start).Microseconds()
			}
		case llm.EventError:
			if ev.Err != nil {
				c.rec.ErrorType = firstNonEmpty(ev.Err.Code, ev.Err.Type)
				c.rec.ErrorMessage = truncate(ev.Err.Message, 1024)
			}
		}
		if err := out.Write(ev); err != nil {
			return clientGone()
		}
		hb.Reset(heartbeat)
	}
}

// anthropicUsage reads an Anthropic usage object at path in OpenAI's
// accounting: input includes cache reads and writes.
func anthropicUsage(body []byte, path string) llm.Usage {
	u := gjson.GetBytes(body, path)
	if !u.IsObject() {
		return llm.Usage{}
	}
	read := u.Get("cache_read_input_tokens").Int()
	written := u.Get("cache_creation_input_tokens").Int()
	return llm.Usage{
		InputTokens:           u.Get("input_tokens").Int() + read + written,
		OutputTokens:          u.Get("output_tokens").Int(),
		CachedInputTokens:     read,
		CacheWriteInputTokens: written,
		Present:               true,
	}
}

// inspectAnthropicEvent reads what the call record needs from one event of
// an Anthropic stream passing through: input usage from message_start,
// output usage from message_delta, and an in-stream error. It reports
// whether the event carries content (for the time to first token).
func (c *call) inspectAnthropicEvent(data []byte) bool {
	u := &c.usage
	switch gjson.GetBytes(data, "type").Str {
	case "message_start":
		*u = anthropicUsage(data, "message.usage")
	case "message_delta":
		if out := gjson.GetBytes(data, "usage.output_tokens"); out.Exists() {
			u.OutputTokens = out.Int()
			u.Present = true
		}
	case "content_block_delta":
		return true
	case "content_block_start":
		return gjson.GetBytes(data, "content_block.type").Str == "tool_use"
	case "error":
		e := gjson.GetManyBytes(data, "error.type", "error.message")
		c.rec.ErrorType = firstNonEmpty(e[0].Str, "upstream_stream_error")
		c.rec.ErrorMessage = truncate(e[1].Str, 1024)
	}
	return false
}

// responsesUsage reads a Responses API usage object at path.
func responsesUsage(body []byte, path string) llm.Usage {
	u := gjson.GetBytes(body, path)
	if !u.IsObject() {
		return llm.Usage{}
	}
	return llm.Usage{
		InputTokens:       u.Get("input_tokens").Int(),
		OutputTokens:      u.Get("output_tokens").Int(),
		CachedInputTokens: u.Get("input_tokens_details.cached_tokens").Int(),
		ReasoningTokens:   u.Get("output_tokens_details.reasoning_tokens").Int(),
		Present:           true,
	}
}

// inspectResponsesEvent reads usage from a Responses API stream's
// response.completed event and reports whether an event carries output.
func inspectResponsesEvent(data []byte, u *llm.Usage) bool {
	switch typ := gjson.GetBytes(data, "type").Str; typ {
	case "response.completed", "response.incomplete":
		if got := responsesUsage(data, "response.usage"); got.Present {
			*u = got
		}
	case "response.output_text.delta", "response.function_call_arguments.delta", "response.reasoning_summary_text.delta":
		return true
	}
	return false
}

// upstreamCodec returns the codec for a target, with the OpenAI codec's
// options set for the upstreams that need them: OpenAI's own API wants
// max_completion_tokens (its reasoning models refuse max_tokens), DeepSeek
// wants earlier thinking sent back as reasoning_content.
func upstreamCodec(t target) llm.UpstreamCodec {
	codec := t.up.Codec()
	if oc, ok := codec.(openai.Codec); ok {
		oc.MaxCompletionTokens = strings.Contains(t.up.BaseURL, "api.openai.com")
		oc.ReasoningContent = t.up.Type == "deepseek"
		return oc
	}
	return codec
}
