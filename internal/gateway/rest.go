package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/balance"
	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/route"
)

// Requests that no /v1 endpoint takes go through the route table to the
// service that published the path.
//
// Authentication: every route, public or not, needs a consumer key, sent
// as for /v1 (Authorization: Bearer, api-key or x-api-key). That is what a
// catalog in the style of Kong does: "public" means that any consumer with
// a key may call, without a subscription; a service open to anonymous
// callers is not something a gateway that records who called what offers.
// The key is the gateway's, so the header that carried it is not passed
// upstream; an upstream that needs credentials of its own gets them from
// the route's request_headers (env:NAME values).

// serveRoute serves a request through the route table, or answers 404 or
// 405 when no route takes it.
func (g *Gateway) serveRoute(c *call) {
	ctx := c.ctx
	s := g.snap.Load()
	var t *serviceTable
	if s != nil {
		t = s.services
	}
	if t == nil || t.routes.Len() == 0 {
		c.fail(unknownURL(ctx))
		return
	}
	host, path, method := b2s(ctx.Host()), b2s(ctx.Path()), b2s(ctx.Method())
	var m route.Match
	preflight := isPreflight(ctx)
	found := false
	if preflight {
		// A preflight asks about the method the page wants to use.
		found = t.routes.Match(host, path, b2s(ctx.Request.Header.Peek("Access-Control-Request-Method")), &m)
		if found && t.byID[m.Route.ID].cors == nil {
			found = false // no CORS here: an OPTIONS like any other
		}
		preflight = found
	}
	if !found && !t.routes.Match(host, path, method, &m) {
		if m.Allow != "" {
			ctx.Response.Header.Set("Allow", m.Allow)
			c.fail(&apiError{Status: 405, Type: errInvalidRequest, Code: "method_not_allowed",
				Message: fmt.Sprintf("method %s is not allowed here; use %s", truncate(method, 32), m.Allow)})
			return
		}
		c.fail(unknownURL(ctx))
		return
	}
	rr := t.byID[m.Route.ID]
	if rr.svc.canary != nil {
		matched := method
		if preflight {
			matched = b2s(ctx.Request.Header.Peek("Access-Control-Request-Method"))
		}
		rr = pickRelease(c, rr, host, path, matched, preflight, &m)
	}
	recordRoute(c, rr.svc.name, m.Route.Name)
	c.rec.Release = rr.svc.release
	if !lifecycle(c, rr.svc) {
		return
	}
	if preflight {
		rr.cors.preflight(c)
		return
	}
	cons, aerr := g.authenticate(c, s)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	if !rr.svc.public {
		if aerr := g.checkSubscription(t, cons.name, rr.svc.name); aerr != nil {
			c.fail(aerr)
			return
		}
	}
	// The policies of the consumer, its subscription, the service and the
	// route: rate limits, quotas, budgets, IP rules and body size. A refusal
	// is answered there.
	if !g.checkPolicies(c, cons.policy, t.subscriptionPolicy(cons.name, rr.svc.name), rr.svc.policy, rr.policy) {
		return
	}
	c.capBytes = g.bodyCap(cons, nil)
	body := ctx.Request.Body()
	if limit := rr.maxBody; limit > 0 && int64(len(body)) > limit {
		c.fail(&apiError{Status: 413, Type: errInvalidRequest, Code: errTooLarge,
			Message: fmt.Sprintf("request body is larger than this route's limit of %d bytes", limit)})
		return
	}
	if rr.svc.kind == config.KindAI {
		g.serveAIService(c, rr, path, &m)
		return
	}
	c.rec.RequestBody = calllog.Cap(body, c.capBytes)
	if isUpgrade(&ctx.Request.Header) {
		g.proxyWebSocket(c, rr, path, &m)
		return
	}
	g.proxyREST(c, rr, path, &m)
}

func unknownURL(ctx *fasthttp.RequestCtx) *apiError {
	return &apiError{Status: 404, Type: errInvalidRequest, Code: "unknown_url",
		Message: fmt.Sprintf("Invalid URL (%s %s)", ctx.Method(), truncate(string(ctx.Path()), 256))}
}

// b2s views b as a string without copying. The string is only valid while
// b is unchanged: the data plane uses it on request buffers for the time of
// the handler, and keeps nothing of it.
func b2s(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// restBuf is a pooled buffer for the URLs and paths a call builds.
type restBuf struct{ b []byte }

var restBufs = sync.Pool{New: func() any { return &restBuf{b: make([]byte, 0, 512)} }}

// proxyREST forwards a request to the service's upstream. An idempotent
// request that meets a connection error or a 502, 503 or 504 is tried again
// on another target, up to the pool's retries; any other answer, error
// statuses included, goes back to the client as it is.
func (g *Gateway) proxyREST(c *call, rr *restRoute, path string, m *route.Match) {
	ctx := c.ctx
	pool := rr.svc.pool
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	c.prepareUpstreamRequest(rr, &req.Header)
	req.SetBodyRaw(ctx.Request.Body())

	pb, ub := restBufs.Get().(*restBuf), restBufs.Get().(*restBuf)
	defer restBufs.Put(pb)
	defer restBufs.Put(ub)
	pb.b = rr.appendForwardPath(pb.b[:0], path, m)
	query := ctx.URI().QueryString()

	attempts := 1
	if isIdempotent(ctx.Method()) {
		attempts += pool.retries
	}
	key := pool.hashKey(c)
	var tried uint64
	var last *apiError
	var prev *upstreamTarget
	for a := 0; a < attempts; a++ {
		now := time.Now()
		t := pool.pick(key, tried, prev, now.UnixNano())
		if t == nil {
			break
		}
		tried |= 1 << t.index
		prev = t
		ub.b = t.appendURL(ub.b[:0], pb.b, query)
		req.SetRequestURIBytes(ub.b)
		resp := fasthttp.AcquireResponse()
		t.st.inflight.Add(1)
		c.traceRESTAttempt(t, req.Header.Set)
		err := t.client.Do(req, resp)
		c.rec.UpstreamUS = time.Since(now).Microseconds()
		if err != nil {
			t.st.inflight.Add(-1)
			fasthttp.ReleaseResponse(resp)
			last = restTransportError(err, pool)
			c.restAttempt(t, 0, last.Code, now)
			g.reportTarget(c, pool, t, true)
			continue
		}
		status := resp.StatusCode()
		if retryableStatus(status) && a+1 < attempts && pool.anyAvailable(tried, time.Now().UnixNano()) {
			_ = resp.CloseBodyStream()
			t.st.inflight.Add(-1)
			fasthttp.ReleaseResponse(resp)
			last = &apiError{Status: 502, Type: errUpstream, Code: "upstream_" + statusLabel(status),
				Message: fmt.Sprintf("service %q answered HTTP %d", pool.service, status)}
			c.restAttempt(t, status, last.Code, now)
			g.reportTarget(c, pool, t, status >= 500)
			continue
		}
		g.reportTarget(c, pool, t, status >= 500)
		g.relayREST(c, rr, t, resp, now)
		return
	}
	if last == nil {
		c.fail(&apiError{Status: 503, Type: "server_error", Code: "no_healthy_upstream",
			Message: fmt.Sprintf("no target of service %q is available right now (all unhealthy or ejected); retry shortly", pool.service)})
		return
	}
	c.fail(last)
}

// reportTarget feeds passive health, logging an ejection.
func (g *Gateway) reportTarget(c *call, p *upstreamPool, t *upstreamTarget, failed bool) {
	if p.report(t, failed, time.Now()) {
		g.log.Warn("upstream target ejected", "service", p.service, "target", t.url,
			"failures", p.ejectAfter, "for", p.ejectFor.String(), "request_id", c.rec.ID)
	}
}

// restTransportError maps an upstream that could not be reached, or went
// silent, to 502 or 504. The cause, which names hosts, goes to the log only.
func restTransportError(err error, p *upstreamPool) *apiError {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) || isTimeout(err) {
		return &apiError{Status: 504, Type: errUpstream, Code: errTimeout, cause: err,
			Message: fmt.Sprintf("service %q did not answer within %s", p.service, p.timeout)}
	}
	return &apiError{Status: 502, Type: errUpstream, Code: errUnreachable, cause: err,
		Message: fmt.Sprintf("service %q could not be reached", p.service)}
}

func retryableStatus(s int) bool { return s == 502 || s == 503 || s == 504 }

// isIdempotent reports whether a request may be sent twice: RFC 9110's
// idempotent methods. POST and PATCH never are — the first try may have
// taken effect.
func isIdempotent(method []byte) bool {
	switch string(method) {
	case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE":
		return true
	}
	return false
}

// restAttempt records a try of a REST call; the target's URL stands where
// an AI call's attempt names its provider.
func (c *call) restAttempt(t *upstreamTarget, status int, errType string, started time.Time) {
	c.rec.Attempts = append(c.rec.Attempts, calllog.Attempt{
		Provider: t.url, Status: status, ErrorType: errType, LatencyUS: time.Since(started).Microseconds(),
	})
	outcome := balance.Success
	switch {
	case errType == errTimeout:
		outcome = balance.Timeout
	case status == 0:
		outcome = balance.ConnectionError
	case status >= 400:
		outcome = balance.Classify(status, nil)
	}
	c.observeAttempt(&c.rec.Attempts[len(c.rec.Attempts)-1], "", outcome.String())
}

// hashKey hashes what balance hash keeps together: the configured header,
// or the client's address when the header is absent.
func (p *upstreamPool) hashKey(c *call) uint64 {
	if p.balance != balanceHash {
		return 0
	}
	if p.hashHeader != "" {
		if v := c.ctx.Request.Header.Peek(p.hashHeader); len(v) > 0 {
			return fnv64aBytes(v)
		}
	}
	return fnv64a(c.rec.ClientIP)
}

// hopHeaders are meaningful for one connection only and never forwarded
// (RFC 9110, 7.6.1), with Expect, which the gateway has already answered.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect",
}

// prepareUpstreamRequest copies the client's headers into h for the
// upstream: without hop-by-hop headers and the consumer's key, with the
// X-Forwarded-* headers and the request id, then the route's rules.
func (c *call) prepareUpstreamRequest(rr *restRoute, h *fasthttp.RequestHeader) {
	in := &c.ctx.Request.Header
	in.CopyTo(h)
	// Headers the client named in Connection are hop-by-hop too.
	if conn := in.Peek("Connection"); len(conn) > 0 {
		for _, name := range bytes.Split(conn, []byte(",")) {
			if name = bytes.TrimSpace(name); len(name) > 0 {
				h.DelBytes(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
	h.ResetConnectionClose()
	h.Del(credentialHeader(in))
	xff := restBufs.Get().(*restBuf)
	xff.b = append(xff.b[:0], in.Peek("X-Forwarded-For")...)
	if len(xff.b) > 0 {
		xff.b = append(xff.b, ", "...)
	}
	xff.b = append(xff.b, c.rec.ClientIP...)
	h.SetBytesV("X-Forwarded-For", xff.b)
	restBufs.Put(xff)
	if c.ctx.IsTLS() {
		h.Set("X-Forwarded-Proto", "https")
	} else {
		h.Set("X-Forwarded-Proto", "http")
	}
	h.SetBytesV("X-Forwarded-Host", c.ctx.Host())
	h.Set("X-Request-Id", c.rec.ID)
	for _, name := range rr.reqRemove {
		h.Del(name)
	}
	for _, kv := range rr.reqSet {
		h.Set(kv.name, kv.value)
	}
}

// credentialHeader names the header the consumer's key came in, in the
// order authenticate looks for it.
func credentialHeader(h *fasthttp.RequestHeader) string {
	switch {
	case len(h.Peek("Authorization")) > 0:
		return "Authorization"
	case len(h.Peek("api-key")) > 0:
		return "Api-Key"
	default:
		return "X-Api-Key"
	}
}

// appendForwardPath appends the path to send upstream (before the target's
// base path is put in front): the request's path, without the matched
// part when the route strips it, or the route's rewrite with its
// parameters filled in. What lay under a prefix route's path follows a
// rewrite. The result is escaped for the request line.
func (rr *restRoute) appendForwardPath(dst []byte, path string, m *route.Match) []byte {
	rest := path[m.Matched:]
	switch {
	case rr.rewrite != nil:
		for _, p := range rr.rewrite {
			if p.param < 0 {
				dst = appendEscapedPath(dst, p.lit, true)
			} else {
				dst = appendEscapedPath(dst, m.ParamAt(p.param), false)
			}
		}
		if rest != "" {
			if len(dst) > 0 && dst[len(dst)-1] == '/' && rest[0] == '/' {
				rest = rest[1:]
			}
			dst = appendEscapedPath(dst, rest, false)
		}
	case rr.strip:
		if rest == "" || rest[0] != '/' {
			dst = append(dst, '/')
		}
		dst = appendEscapedPath(dst, rest, false)
	default:
		dst = appendEscapedPath(dst, path, false)
	}
	return dst
}

// appendURL appends the target's URL for a forwarded path and query.
func (t *upstreamTarget) appendURL(dst, path, query []byte) []byte {
	dst = append(dst, t.prefix...)
	dst = append(dst, t.basePath...)
	dst = append(dst, path...)
	if len(query) > 0 {
		dst = append(dst, '?')
		dst = append(dst, query...)
	}
	return dst
}

// pathSafe marks the bytes a path keeps as they are: RFC 3986's unreserved
// characters, sub-delimiters, ':', '@' and '/'.
var pathSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=:@/" {
		t[c] = true
	}
	return t
}()

// appendEscapedPath appends a decoded path, percent-encoding what a
// request line cannot carry as is. keepPercent leaves '%' alone, for
// configured text that is already encoded.
func appendEscapedPath(dst []byte, s string, keepPercent bool) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pathSafe[c] || c == '%' && keepPercent {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&0xf])
	}
	return dst
}

// relayREST sends the upstream's answer to the client: status and headers
// at once, then the body as it arrives — an event stream chunk by chunk,
// flushed, a download without being held in memory.
func (g *Gateway) relayREST(c *call, rr *restRoute, t *upstreamTarget, resp *fasthttp.Response, started time.Time) {
	ctx := c.ctx
	status := resp.StatusCode()
	c.rec.Provider = t.url
	c.restAttempt(t, status, "", started)
	if status >= 400 {
		c.rec.ErrorType = "upstream_" + statusLabel(status)
	}
	rh := &ctx.Response.Header
	rh.SetNoDefaultContentType(true)
	copyRESTHeaders(&resp.Header, rh)
	for _, name := range rr.respRemove {
		rh.Del(name)
	}
	for _, kv := range rr.respSet {
		rh.Set(kv.name, kv.value)
	}
	if rr.cors != nil {
		rr.cors.decorate(ctx)
	}
	ctx.SetStatusCode(status)
	b := &restBody{c: c, t: t, resp: resp, started: started, status: status, capLeft: c.capBytes, stream: resp.BodyStream()}
	size := resp.Header.ContentLength()
	if b.stream == nil || ctx.IsHead() || status < 200 || status == 204 || status == 304 {
		if size >= 0 && (ctx.IsHead() || status == 304) {
			rh.SetContentLength(size)
		}
		b.eof = true
		b.Close()
		return
	}
	if isEventStream(b2s(resp.Header.ContentType())) {
		// Headers go out at once: a client waits on them before the first
		// event, which may be long in coming.
		ctx.Response.ImmediateHeaderFlush = true
		size = -1
	}
	if size < 0 {
		size = -1 // chunked to the client, each read flushed as it comes
	}
	ctx.Response.SetBodyStream(b, size)
}

// copyRESTHeaders copies an upstream answer's headers but those of its
// connection and framing; the gateway's X-Request-Id and Date stay.
func copyRESTHeaders(from *fasthttp.ResponseHeader, to *fasthttp.ResponseHeader) {
	connNamed := from.Peek("Connection")
	for k, v := range from.All() {
		if skipResponseHeader(k) || len(connNamed) > 0 && tokenListed(connNamed, k) {
			continue
		}
		to.AddBytesKV(k, v)
	}
}

func skipResponseHeader(k []byte) bool {
	for _, h := range responseSkip {
		if strings.EqualFold(b2s(k), h) {
			return true
		}
	}
	return false
}

var responseSkip = append([]string{"Content-Length", "X-Request-Id", "Date"}, hopHeaders...)

// tokenListed reports whether a comma-separated list names tok.
func tokenListed(list, tok []byte) bool {
	for _, x := range bytes.Split(list, []byte(",")) {
		if bytes.EqualFold(bytes.TrimSpace(x), tok) {
			return true
		}
	}
	return false
}

// restBody streams an upstream body to the client. fasthttp reads it after
// the handler returns and closes it when done or when the client leaves;
// Close completes the call's record.
type restBody struct {
	c        *call
	t        *upstreamTarget
	resp     *fasthttp.Response
	stream   io.Reader
	started  time.Time
	status   int
	n        int64
	captured []byte
	capLeft  int
	eof      bool
	err      error
	closed   bool
}

func (b *restBody) Read(p []byte) (int, error) {
	n, err := b.stream.Read(p)
	if n > 0 {
		b.n += int64(n)
		if b.capLeft > 0 {
			k := min(b.capLeft, n)
			b.captured = append(b.captured, p[:k]...)
			b.capLeft -= k
		}
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// Close releases the upstream response and records the call: with the
// upstream's status, or 499 when the client left before the end.
func (b *restBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	_ = b.resp.CloseBodyStream()
	fasthttp.ReleaseResponse(b.resp)
	b.t.st.inflight.Add(-1)
	c := b.c
	c.rec.ResponseBytes = b.n
	c.rec.ResponseBody = calllog.Cap(b.captured, c.capBytes)
	c.rec.UpstreamUS = time.Since(b.started).Microseconds()
	status := b.status
	switch {
	case b.err != nil:
		c.rec.ErrorType = "upstream_stream_error"
		c.rec.ErrorMessage = "the upstream body broke off"
		if isTimeout(b.err) {
			c.rec.ErrorType = errTimeout
			c.rec.ErrorMessage = "the upstream went silent in the middle of its body"
		}
		c.g.log.Warn("upstream body broke off", "request_id", c.rec.ID, "target", b.t.url, "error", b.err)
	case !b.eof:
		status = 499
		c.rec.ErrorType = errClientClosed
		c.rec.ErrorMessage = "the client closed the connection before the body ended"
	}
	c.finish(status)
	return nil
}

// recordRoute notes in the call's record the service and route that took it.
func recordRoute(c *call, service, route string) {
	c.rec.Service, c.rec.Route = service, route
}
