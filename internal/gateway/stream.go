package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

var (
	errIdle       = errors.New("upstream idle timeout")
	errClientGone = errors.New("client closed the connection")
)

// stream relays an SSE chat completion. The upstream is asked with net/http
// so that a client that goes away, or an upstream that goes quiet for longer
// than the timeout, cancels the upstream request at once. Each event is
// written and flushed as it arrives; nothing is buffered. It returns nil once
// the answer is committed to the client — from then on failures are told
// in-band — or what went wrong before that, when another attempt may follow.
func (g *Gateway) stream(c *call, t target, key string, op provider.Operation, body []byte, stripUsage bool, timeout time.Duration) *failure {
	// The body must outlive the handler: fasthttp reuses the request buffer
	// once Handle returns, while the upstream may still be reading it.
	if &body[0] == &c.ctx.Request.Body()[0] {
		body = copyBytes(body)
	}
	up, f := g.openStream(c, t, key, t.up.URL(op, t.model, true), body, timeout)
	if f != nil {
		return f
	}
	resp, uctx, cancel, idle, upStart := up.resp, up.ctx, up.cancel, up.idle, up.started
	if resp.StatusCode >= 400 {
		rb, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(g.o.MaxUpstreamResponse)))
		resp.Body.Close()
		idle.Stop()
		cancel(nil)
		c.rec.UpstreamUS = time.Since(upStart).Microseconds()
		if rerr != nil {
			return &failure{err: upstreamError(rerr, t, timeout)}
		}
		c.rec.ResponseBytes = int64(len(rb))
		return newFailure(resp.StatusCode, []byte(resp.Header.Get("Content-Type")), rb, resp.Header.Get)
	}
	h := &c.ctx.Response.Header
	for _, name := range passedHeaders {
		if v := resp.Header.Get(name); v != "" {
			h.Set(name, v)
		}
	}
	if !isEventStream(resp.Header.Get("Content-Type")) {
		// An upstream that ignored "stream": relay the body whole.
		rb, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(g.o.MaxUpstreamResponse)))
		resp.Body.Close()
		idle.Stop()
		cancel(nil)
		c.rec.UpstreamUS = time.Since(upStart).Microseconds()
		if rerr != nil {
			return &failure{err: upstreamError(rerr, t, timeout)}
		}
		c.rec.ResponseBytes = int64(len(rb))
		c.usage = llm.UsageFromChatCompletion(rb)
		c.rec.Stream = false
		c.rec.ResponseBody = calllog.Cap(rb, c.capBytes)
		c.ctx.SetStatusCode(resp.StatusCode)
		c.ctx.SetContentType("application/json")
		c.ctx.SetBody(rb)
		c.finish(resp.StatusCode)
		return nil
	}

	c.ctx.SetStatusCode(resp.StatusCode)
	h.SetContentType("text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell proxies in front of us not to buffer either
	status := resp.StatusCode
	c.ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
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
		status = g.relay(c, resp.Body, w, idle, timeout, stripUsage, status, func() error { return context.Cause(uctx) }, cancel)
	})
	return nil
}

// upstreamStream is an upstream stream whose headers have arrived.
type upstreamStream struct {
	resp    *http.Response
	ctx     context.Context
	cancel  context.CancelCauseFunc
	idle    *time.Timer
	started time.Time
}

// openStream sends a streamed request with net/http, so that a client that
// goes away, or an upstream that goes quiet for longer than the timeout,
// cancels it at once: the timeout bounds the wait for the first byte and
// every gap between events (the caller resets idle), not the whole stream.
// It returns once the upstream's headers are in, or what went wrong.
func (g *Gateway) openStream(c *call, t target, key, url string, body []byte, timeout time.Duration) (*upstreamStream, *failure) {
	uctx, cancel := context.WithCancelCause(context.Background())
	idle := time.AfterFunc(timeout, func() { cancel(errIdle) })
	req, err := http.NewRequestWithContext(uctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		idle.Stop()
		cancel(err)
		return nil, &failure{err: upstreamError(err, t, timeout)}
	}
	c.upstreamHeaders(t, key, req.Header.Set)
	req.Header.Set("Accept", "text/event-stream")
	if f := sign(t, url, body, key, req.Header.Set); f != nil {
		idle.Stop()
		cancel(nil)
		return nil, f
	}
	started := time.Now()
	resp, err := g.hc.Do(req)
	if err != nil {
		idle.Stop()
		idled := errors.Is(context.Cause(uctx), errIdle)
		cancel(nil)
		c.rec.UpstreamUS = time.Since(started).Microseconds()
		if idled {
			return nil, &failure{err: &apiError{Status: 504, Type: errUpstream, Code: errTimeout, cause: fmt.Errorf("%w: %w", errIdle, err),
				Message: fmt.Sprintf("upstream %q did not answer within %s", t.up.Name, timeout)}}
		}
		return nil, &failure{err: upstreamError(err, t, timeout)}
	}
	return &upstreamStream{resp: resp, ctx: uctx, cancel: cancel, idle: idle, started: started}, nil
}

// heartbeat is how long a stream may stay silent before the gateway writes
// an SSE comment to the client. It keeps idle connections open through
// proxies and, since a write to a closed socket fails, it is how a client
// that left is noticed while the upstream is still thinking — so the
// upstream request is cancelled instead of running on for nobody.
const heartbeat = time.Second

var keepAlive = []byte(": keep-alive\n\n")

type upstreamEvent struct {
	ev  llm.Event
	err error
}

// relay copies SSE events from the upstream to the client and returns the
// status to record (499 when the client went away). A reader goroutine hands
// over one event at a time and waits for it to be written, because an
// event's bytes are only valid until the next read.
func (g *Gateway) relay(c *call, upstream io.Reader, w *bufio.Writer, idle *time.Timer, timeout time.Duration,
	stripUsage bool, status int, cause func() error, cancel context.CancelCauseFunc) int {
	events := make(chan upstreamEvent)
	ack := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		r := llm.NewSSEReader(upstream)
		for {
			ev, err := r.Next()
			select {
			case events <- upstreamEvent{ev, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
			select {
			case <-ack:
			case <-done:
				return
			}
		}
	}()

	var captured []byte
	capLeft := c.capBytes
	firstToken := false
	clientGone := func() int {
		cancel(errClientGone)
		c.rec.ErrorType = errClientClosed
		c.rec.ErrorMessage = "the client closed the connection before the stream ended"
		c.rec.ResponseBody = calllog.Cap(captured, c.capBytes)
		return 499
	}
	hb := time.NewTimer(heartbeat)
	defer hb.Stop()
	for {
		var ue upstreamEvent
		select {
		case <-hb.C:
			if _, err := w.Write(keepAlive); err != nil || w.Flush() != nil {
				return clientGone()
			}
			hb.Reset(heartbeat)
			continue
		case ue = <-events:
		}
		if ue.err != nil {
			if errors.Is(ue.err, io.EOF) {
				break
			}
			// The upstream broke off mid-stream or went quiet: tell the client
			// in-band, as OpenAI does, so the error is not swallowed.
			code, msg := "upstream_stream_error", "the upstream stream broke off"
			if errors.Is(cause(), errIdle) {
				code, msg = errTimeout, fmt.Sprintf("the upstream sent nothing for %s", timeout)
			}
			c.rec.ErrorType, c.rec.ErrorMessage = code, msg
			c.rec.ResponseBody = calllog.Cap(captured, c.capBytes)
			g.log.Warn("stream ended with an error", "request_id", c.rec.ID, "provider", c.rec.Provider, "error", ue.err, "code", code)
			e := &apiError{Status: 502, Type: errUpstream, Code: code, Message: msg}
			ev := llm.Event{Data: marshalError(e)}
			if c.in == anthropicInbound { // Anthropic clients read errors from a typed event
				ev = llm.Event{Name: "error", Data: c.in.render(e)}
			}
			_ = llm.WriteEvent(w, ev)
			_ = w.Flush()
			return status
		}
		idle.Reset(timeout)
		ev := ue.ev
		forward := true
		if ev.Data != nil {
			var hasContent bool
			switch c.in {
			case anthropicInbound:
				hasContent = c.inspectAnthropicEvent(ev.Data)
			case responsesInbound:
				hasContent = inspectResponsesEvent(ev.Data, &c.usage)
			default:
				info := llm.InspectChunk(ev.Data)
				if info.Usage.Present {
					c.usage = info.Usage
					forward = !(stripUsage && info.UsageOnly)
				}
				hasContent = info.HasContent
			}
			if hasContent {
				c.noteOutput(ev.Data)
			}
			if !firstToken && hasContent {
				firstToken = true
				c.rec.TTFTUS = time.Since(c.start).Microseconds()
			}
		}
		if forward {
			if capLeft > 0 {
				n := min(capLeft, len(ev.Raw))
				captured = append(captured, ev.Raw[:n]...)
				capLeft -= n
			}
			c.rec.ResponseBytes += int64(len(ev.Raw))
			_, err := w.Write(ev.Raw)
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				return clientGone()
			}
			c.cache.add(ev.Raw)
			hb.Reset(heartbeat)
		}
		ack <- struct{}{}
	}
	c.rec.ResponseBody = calllog.Cap(captured, c.capBytes)
	return status
}

func isEventStream(ct string) bool {
	return len(ct) >= 17 && (ct[:17] == "text/event-stream")
}
