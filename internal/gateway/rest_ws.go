package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/route"
)

// maxUpgradeHead bounds the upstream's answer head to an upgrade request.
const maxUpgradeHead = 64 << 10

// isUpgrade reports whether the request asks to switch protocols, as a
// WebSocket handshake does.
func isUpgrade(h *fasthttp.RequestHeader) bool {
	return len(h.Peek("Upgrade")) > 0 && h.ConnectionUpgrade()
}

// proxyWebSocket passes a protocol upgrade (a WebSocket handshake) to a
// target and, once the target has switched protocols, splices the client's
// connection to the target's both ways until either side closes. The
// gateway does not look inside the frames. An answer other than 101 goes
// back to the client as an ordinary response.
func (g *Gateway) proxyWebSocket(c *call, rr *restRoute, path string, m *route.Match) {
	ctx := c.ctx
	pool := rr.svc.pool
	now := time.Now()
	t := pool.pick(pool.hashKey(c), 0, nil, now.UnixNano())
	if t == nil {
		c.fail(&apiError{Status: 503, Type: "server_error", Code: "no_healthy_upstream",
			Message: fmt.Sprintf("no target of service %q is available right now (all unhealthy or ejected); retry shortly", pool.service)})
		return
	}
	head := c.upgradeHead(rr, t, path, m)
	up, err := dialTarget(t, pool.timeout)
	if err == nil {
		_ = up.SetDeadline(now.Add(pool.timeout))
		_, err = up.Write(head)
	}
	var br *bufio.Reader
	var raw []byte
	status := 0
	if err == nil {
		br = bufio.NewReaderSize(up, 4096)
		raw, status, err = readHead(br)
	}
	c.rec.UpstreamUS = time.Since(now).Microseconds()
	if err != nil {
		if up != nil {
			up.Close()
		}
		e := restTransportError(err, pool)
		c.restAttempt(t, 0, e.Code, now)
		g.reportTarget(c, pool, t, true)
		c.fail(e)
		return
	}
	g.reportTarget(c, pool, t, status >= 500)
	c.rec.Provider = t.url
	c.restAttempt(t, status, "", now)
	if status != fasthttp.StatusSwitchingProtocols {
		defer up.Close()
		g.relayUpgradeRefusal(c, rr, raw, br, status)
		return
	}
	_ = up.SetDeadline(time.Time{})
	// The 101 goes back as the target wrote it, with the request id added.
	out := append(raw[:len(raw)-2:len(raw)-2], "X-Request-Id: "...)
	out = append(append(out, c.rec.ID...), "\r\n\r\n"...)
	t.st.inflight.Add(1)
	started := now
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(client net.Conn) {
		defer t.st.inflight.Add(-1)
		_ = client.SetDeadline(time.Time{})
		var fromClient, toClient atomic.Int64
		if _, err := client.Write(out); err == nil {
			done := make(chan struct{})
			go func() {
				defer close(done)
				n, _ := io.Copy(up, client)
				fromClient.Store(n)
				up.Close() // unblocks the other direction
			}()
			n, _ := io.Copy(client, br) // what br holds already, then the connection
			toClient.Store(n)
			client.Close()
			<-done
		}
		up.Close()
		c.rec.RequestBytes += fromClient.Load()
		c.rec.ResponseBytes = toClient.Load()
		c.rec.UpstreamUS = time.Since(started).Microseconds()
		c.finish(fasthttp.StatusSwitchingProtocols)
	})
}

// upgradeHead builds the request head sent to the target: the forwarded
// path and the client's headers prepared as for any call, with the upgrade
// asked for again (Connection and Upgrade are hop-by-hop).
func (c *call) upgradeHead(rr *restRoute, t *upstreamTarget, path string, m *route.Match) []byte {
	var h fasthttp.RequestHeader
	c.prepareUpstreamRequest(rr, &h)
	b := make([]byte, 0, 1024)
	b = append(b, "GET "...)
	b = append(b, t.basePath...)
	b = rr.appendForwardPath(b, path, m)
	if q := c.ctx.URI().QueryString(); len(q) > 0 {
		b = append(append(b, '?'), q...)
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, t.host...)
	b = append(b, "\r\n"...)
	for k, v := range h.All() {
		switch {
		case strings.EqualFold(b2s(k), "Host"), strings.EqualFold(b2s(k), "Content-Length"),
			strings.EqualFold(b2s(k), "Content-Type") && len(c.ctx.Request.Body()) == 0:
			continue
		}
		b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
	}
	b = append(b, "Connection: Upgrade\r\nUpgrade: "...)
	b = append(b, c.ctx.Request.Header.Peek("Upgrade")...)
	return append(b, "\r\n\r\n"...)
}

// dialTarget opens a connection to a target, with TLS for https.
func dialTarget(t *upstreamTarget, timeout time.Duration) (net.Conn, error) {
	addr := t.client.Addr
	d := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !t.tls {
		return d.Dial("tcp", addr)
	}
	host, _, _ := net.SplitHostPort(addr)
	td := &tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}}}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return td.DialContext(ctx, "tcp", addr)
}

// readHead reads a response head up to and including its blank line and
// returns it with its status code.
func readHead(br *bufio.Reader) ([]byte, int, error) {
	var raw []byte
	lineStart := 0
	for {
		part, err := br.ReadSlice('\n')
		raw = append(raw, part...)
		if len(raw) > maxUpgradeHead {
			return nil, 0, fmt.Errorf("upgrade answer head over %d bytes", maxUpgradeHead)
		}
		if err == bufio.ErrBufferFull {
			continue // a long line: read on
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading the upgrade answer: %w", err)
		}
		line := raw[lineStart:]
		if lineStart > 0 && (string(line) == "\r\n" || string(line) == "\n") {
			break // the blank line after the headers
		}
		lineStart = len(raw)
	}
	if !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		return nil, 0, fmt.Errorf("malformed upgrade answer head")
	}
	first, _, _ := bytes.Cut(raw, []byte("\r\n"))
	f := bytes.Fields(first)
	if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/1.")) {
		return nil, 0, fmt.Errorf("malformed upgrade answer status line %q", truncate(string(first), 64))
	}
	status, err := strconv.Atoi(string(f[1]))
	if err != nil || status < 100 || status > 599 {
		return nil, 0, fmt.Errorf("malformed upgrade answer status %q", truncate(string(f[1]), 16))
	}
	return raw, status, nil
}

// relayUpgradeRefusal answers with a target's refusal to switch protocols
// (a 400, 401, 404 …), body included.
func (g *Gateway) relayUpgradeRefusal(c *call, rr *restRoute, raw []byte, br *bufio.Reader, status int) {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := resp.Header.Read(bufio.NewReader(bytes.NewReader(raw))); err == nil {
		if err := resp.ReadBody(br, g.o.MaxUpstreamResponse); err != nil {
			resp.ResetBody()
		}
	}
	rh := &c.ctx.Response.Header
	rh.SetNoDefaultContentType(true)
	copyRESTHeaders(&resp.Header, rh)
	for _, name := range rr.respRemove {
		rh.Del(name)
	}
	for _, kv := range rr.respSet {
		rh.Set(kv.name, kv.value)
	}
	if status >= 400 {
		c.rec.ErrorType = "upstream_" + statusLabel(status)
	}
	body := resp.Body()
	c.rec.ResponseBytes = int64(len(body))
	c.ctx.SetStatusCode(status)
	c.ctx.SetBody(body)
	c.finish(status)
}
