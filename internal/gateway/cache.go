package gateway

import (
	"bytes"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/cache"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
	"github.com/hypergate/hypergate/internal/telemetry"
)

// This file connects the data plane to the exact response cache
// (internal/cache), for the models whose configuration turns it on.
//
// A call of such a model is looked up (lookupCache) after authentication,
// policy admission and the model checks, before routing: a hit is
// answered at once, with no upstream contacted, and its record says so
// (cache_hit, no attempts, cost 0, the cached answer's tokens for
// reference). A miss goes on as usual and its answer is stored once the
// call finishes, if the call ended well: status 200, no error told in-band,
// and for a stream its last event received (storeCached). A stream's
// answer is what its client received, event by event in the client's own
// format (cacheCall.add); a hit replays it.
//
// The client steers it with request headers: "Cache-Control: no-cache"
// or "X-Hypergate-Cache: bypass" skip the lookup (the answer is still
// stored), "Cache-Control: no-store" skips storing. The answer says
// "X-Hypergate-Cache: hit", "miss" or "bypass" (also for a request the
// cache does not take: n > 1, a body it cannot normalise), and a hit
// carries Age.

// Response and request headers of the cache.
const (
	headerCache = "X-Hypergate-Cache"
	headerAge   = "Age"
)

// Lookup results, as headers and metric labels.
const (
	cacheHit    = "hit"
	cacheMiss   = "miss"
	cacheBypass = "bypass"
)

// modelCache is a model's cache configuration, compiled.
type modelCache struct {
	ttl    time.Duration
	shared bool
}

// modelCacheOf compiles a model's cache section; nil when it has none.
func modelCacheOf(c *config.Cache) *modelCache {
	if c == nil || c.TTL <= 0 {
		return nil
	}
	return &modelCache{ttl: time.Duration(c.TTL), shared: c.Shared}
}

// newResponseCache builds the gateway's response cache, its figures
// exported on the gateway's metrics; nil when o turns it off.
func newResponseCache(o Options) *cache.Cache {
	if o.CacheBytes < 0 {
		return nil
	}
	c := cache.New(cache.Options{MaxBytes: o.CacheBytes})
	o.Metrics.RegisterCache(func() telemetry.CacheStats {
		st := c.Stats()
		return telemetry.CacheStats{Bytes: st.Bytes, MaxBytes: st.MaxBytes, Entries: st.Entries,
			Evictions: st.Evictions, Expirations: st.Expirations}
	})
	return c
}

// cacheCall is the cache's part in a call whose answer is to be stored.
type cacheCall struct {
	key    cache.Key
	ttl    time.Duration
	format cache.Format
	stream bool
	// buf is a stream's events as the client received them; over is set
	// (and buf dropped) once they outgrow the largest entry.
	buf  []byte
	max  int
	over bool
}

// lookupCache consults the cache for a call of model m and reports
// whether it answered the call. Otherwise, unless the request said
// no-store, it leaves on c what storeCached needs to store the answer.
func (g *Gateway) lookupCache(c *call, m *model, cons *consumer, op provider.Operation, body []byte, stream bool) bool {
	mc := m.cache
	if mc == nil || g.cache == nil {
		return false
	}
	noCache, noStore := cacheDirectives(&c.ctx.Request.Header)
	format := cacheFormat(c.in, op)
	r := cache.Request{Model: m.name, Consumer: cons.name, Shared: mc.shared, Format: format, Stream: stream, Body: body}
	key, err := r.Key()
	if err != nil { // n > 1, or a body the normaliser refuses: the upstream judges it
		g.cacheResult(c, m, cacheBypass)
		return false
	}
	if !noStore {
		c.cache = &cacheCall{key: key, ttl: mc.ttl, format: format, stream: stream, max: int(g.cache.MaxEntryBytes())}
	}
	if noCache {
		g.cacheResult(c, m, cacheBypass)
		return false
	}
	e, ok := g.cache.Get(key, mc.ttl)
	if !ok {
		g.cacheResult(c, m, cacheMiss)
		return false
	}
	g.cacheResult(c, m, cacheHit)
	c.cache = nil
	c.rec.CacheHit = true
	c.usage = e.Usage
	h := &c.ctx.Response.Header
	var b [20]byte
	h.SetBytesV(headerAge, strconv.AppendInt(b[:0], int64(max(0, time.Since(e.Stored))/time.Second), 10))
	h.SetContentType(e.ContentType)
	if stream {
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
	}
	c.ctx.SetStatusCode(fasthttp.StatusOK)
	c.ctx.Response.SetBodyRaw(e.Body) // entries are immutable: no copy
	c.rec.ResponseBytes = int64(len(e.Body))
	c.rec.ResponseBody = calllog.Cap(e.Body, c.capBytes)
	c.finish(fasthttp.StatusOK)
	return true
}

// cacheResult tells the client and the metrics how the lookup went.
func (g *Gateway) cacheResult(c *call, m *model, result string) {
	c.ctx.Response.Header.Set(headerCache, result)
	g.o.Metrics.CacheRequests.WithLabelValues(m.name, result).Inc()
}

// cacheDirectives reads the request's cache directives: Cache-Control
// no-cache (or X-Hypergate-Cache: bypass) and no-store.
func cacheDirectives(h *fasthttp.RequestHeader) (noCache, noStore bool) {
	if v := h.Peek(headerCache); len(v) > 0 && bytes.EqualFold(bytes.TrimSpace(v), []byte(cacheBypass)) {
		noCache = true
	}
	for _, v := range h.PeekAll("Cache-Control") {
		for len(v) > 0 {
			var d []byte
			d, v, _ = bytes.Cut(v, []byte(","))
			d, _, _ = bytes.Cut(d, []byte("="))
			d = bytes.TrimSpace(d)
			switch {
			case bytes.EqualFold(d, []byte("no-cache")):
				noCache = true
			case bytes.EqualFold(d, []byte("no-store")):
				noStore = true
			}
		}
	}
	return noCache, noStore
}

// cacheFormat is the format a call's answer is cached in.
func cacheFormat(in *inbound, op provider.Operation) cache.Format {
	switch {
	case op == opEmbeddings:
		return cache.OpenAIEmbeddings
	case op == provider.Responses:
		return cache.OpenAIResponses
	case in == anthropicInbound:
		return cache.AnthropicMessages
	}
	return cache.OpenAIChat
}

// add records bytes of a stream as its client received them. It is safe
// on a nil cacheCall (a call whose answer is not to be stored).
func (cc *cacheCall) add(p []byte) {
	if cc == nil || cc.over {
		return
	}
	if len(cc.buf)+len(p) > cc.max {
		cc.over, cc.buf = true, nil
		return
	}
	cc.buf = append(cc.buf, p...)
}

// tee returns w, writing what goes through it to the cache recording too
// when there is one.
func (cc *cacheCall) tee(w flushWriter) flushWriter {
	if cc == nil {
		return w
	}
	return cacheTee{cc: cc, w: w}
}

// flushWriter is what a translated stream's client-format writer writes to.
type flushWriter interface {
	Write([]byte) (int, error)
	Flush() error
}

type cacheTee struct {
	cc *cacheCall
	w  flushWriter
}

func (t cacheTee) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err == nil {
		t.cc.add(p)
	}
	return n, err
}

func (t cacheTee) Flush() error { return t.w.Flush() }

// storeCached stores the answer of a call that ended with status, if it
// is to be stored and ended well: 200 with no error told in-band, whole,
// or a stream that the client received to its last event.
func (c *call) storeCached(status int) {
	cc := c.cache
	if cc == nil || status != fasthttp.StatusOK || c.rec.ErrorType != "" || cc.over {
		return
	}
	e := &cache.Entry{Usage: c.usage}
	switch {
	case cc.stream:
		// An upstream that answered a stream request whole (c.rec.Stream
		// was cleared) is not stored: a stream request must replay a stream.
		if !c.rec.Stream || !streamComplete(cc.format, cc.buf) {
			return
		}
		e.Body, e.ContentType = cc.buf, "text/event-stream"
	default:
		e.Body = copyBytes(c.ctx.Response.Body())
		e.ContentType = string(c.ctx.Response.Header.ContentType())
	}
	c.g.cache.Put(cc.key, e, cc.ttl)
}

// streamComplete reports whether a stream's transcript reached the event
// that ends an answer in its format: OpenAI's [DONE] (or a finish_reason,
// for upstreams that leave [DONE] out), Anthropic's message_stop, the
// Responses API's response.completed or response.incomplete.
func streamComplete(format cache.Format, transcript []byte) bool {
	r := llm.NewSSEReader(bytes.NewReader(transcript))
	finished, lastType := false, ""
	for {
		ev, err := r.Next()
		if err != nil {
			break // io.EOF at the end; the gateway wrote what it parsed, so nothing else
		}
		if !ev.IsMessage() {
			continue
		}
		if format == cache.OpenAIChat {
			finished = finished || bytes.Equal(ev.Data, []byte("[DONE]")) ||
				gjson.GetBytes(ev.Data, "choices.0.finish_reason").Str != ""
			continue
		}
		lastType = gjson.GetBytes(ev.Data, "type").Str
	}
	switch format {
	case cache.OpenAIChat:
		return finished
	case cache.AnthropicMessages:
		return lastType == "message_stop"
	case cache.OpenAIResponses:
		return lastType == "response.completed" || lastType == "response.incomplete"
	}
	return false
}
