package app_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// restTarget is a REST upstream for the route tests: it echoes what it
// received as JSON, and can be told to fail, to stall, to fail its health
// check, to stream events or to speak WebSocket.
type restTarget struct {
	name   string
	srv    *httptest.Server
	hits   atomic.Int64 // requests other than health checks
	health atomic.Int32 // status of /health; 0 means 200
	status atomic.Int32 // when set, every other request answers it
	delay  atomic.Int64 // nanoseconds to wait before answering
	// release, when set, is what /events waits on between its two events.
	release chan struct{}
}

// echoed is what a restTarget answers: the request as it arrived.
type echoed struct {
	Target  string            `json:"target"`
	Method  string            `json:"method"`
	URI     string            `json:"uri"`
	Path    string            `json:"path"`
	Host    string            `json:"host"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func newRESTTarget(t *testing.T, name string) *restTarget {
	t.Helper()
	rt := &restTarget{name: name}
	rt.srv = httptest.NewServer(http.HandlerFunc(rt.serve))
	t.Cleanup(rt.srv.Close)
	return rt
}

func (rt *restTarget) URL() string { return rt.srv.URL }

func (rt *restTarget) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/health") {
		if s := rt.health.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
		return
	}
	rt.hits.Add(1)
	if d := rt.delay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/ws"):
		rt.serveWebSocket(w, r)
		return
	case strings.HasSuffix(r.URL.Path, "/events"):
		rt.serveEvents(w)
		return
	}
	w.Header().Set("X-Upstream", rt.name)
	if s := rt.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		fmt.Fprintf(w, `{"target":%q}`, rt.name)
		return
	}
	body, _ := io.ReadAll(r.Body)
	e := echoed{Target: rt.name, Method: r.Method, URI: r.RequestURI, Path: r.URL.Path, Host: r.Host, Headers: map[string]string{}, Body: string(body)}
	for k, v := range r.Header {
		e.Headers[k] = strings.Join(v, ", ")
	}
	// Headers the gateway must drop or replace on the way back.
	w.Header().Set("Connection", "X-Hop")
	w.Header().Set("X-Hop", "1")
	w.Header().Set("X-Internal", "upstream-only")
	w.Header().Set("X-Request-Id", "upstream-made-this-up")
	w.Header().Set("Access-Control-Allow-Origin", "https://evil.example")
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/missing") {
		w.WriteHeader(404)
	}
	_ = json.NewEncoder(w).Encode(e)
}

// serveEvents writes one event, then waits for release before the
// second: a client that sees the first event before release is closed has
// had it passed through unbuffered.
func (rt *restTarget) serveEvents(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	fmt.Fprint(w, "data: one\n\n")
	w.(http.Flusher).Flush()
	select {
	case <-rt.release:
	case <-time.After(5 * time.Second):
	}
	fmt.Fprint(w, "event: last\ndata: two\n\n")
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// serveWebSocket completes a WebSocket handshake by hand (RFC 6455) and
// echoes text frames, prefixed with the target's name, until a close frame
// or the connection ends.
func (rt *restTarget) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "websocket upgrade required", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Upstream: %s\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")), rt.name)
	if brw.Flush() != nil {
		return
	}
	for {
		op, payload, err := readFrame(brw.Reader)
		if err != nil || op == 8 {
			return
		}
		if writeFrame(conn, op, []byte(rt.name+":"+string(payload)), false) != nil {
			return
		}
	}
}

// readFrame reads one unfragmented WebSocket frame, unmasking it.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	op := h[0] & 0x0f
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = int(binary.BigEndian.Uint16(b[:]))
	case 127:
		return 0, nil, errors.New("frame too large for the test")
	}
	var mask [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= mask[i%4]
		}
	}
	return op, p, nil
}

// writeFrame writes one final frame; clients mask theirs (RFC 6455, 5.3).
func writeFrame(w io.Writer, op byte, p []byte, mask bool) error {
	b := []byte{0x80 | op}
	mbit := byte(0)
	if mask {
		mbit = 0x80
	}
	switch {
	case len(p) < 126:
		b = append(b, mbit|byte(len(p)))
	default:
		b = append(b, mbit|126, byte(len(p)>>8), byte(len(p)))
	}
	if mask {
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		b = append(b, key[:]...)
		for i, c := range p {
			b = append(b, c^key[i%4])
		}
	} else {
		b = append(b, p...)
	}
	_, err := w.Write(b)
	return err
}

// restConfig is the base configuration with the shop consumer subscribed
// to subs and the given services section.
func restConfig(e *env, subs []string, services string) string {
	base := fmt.Sprintf(baseConfig, e.up.BaseURL())
	if len(subs) > 0 {
		line := "    keys: [ { name: default, key: env:TEST_SHOP_KEY } ]\n"
		base = strings.Replace(base, line, line+"    subscriptions: ["+strings.Join(subs, ", ")+"]\n", 1)
	}
	return base + "services:\n" + services
}

// apply puts a configuration in service through the admin API.
func (e *env) apply(cfg string) {
	e.t.Helper()
	var out map[string]any
	if st := e.adminDo("PUT", "/admin/v1/config", cfg, &out); st != 200 {
		e.t.Fatalf("PUT /admin/v1/config: %d %v", st, out)
	}
}

// restDo sends a request to the data plane; hdr are name, value pairs, and
// a "Host" pair sets the Host header.
func (e *env) restDo(method, path, key, body string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	resp, b, err := e.tryRESTDo(method, path, key, body, hdr...)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

func (e *env) tryRESTDo(method, path, key, body string, hdr ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, e.data+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// echo decodes a target's echo, failing the test on another answer.
func echoOf(t *testing.T, resp *http.Response, b []byte) echoed {
	t.Helper()
	var e echoed
	if resp.StatusCode != 200 || json.Unmarshal(b, &e) != nil || e.Target == "" {
		t.Fatalf("status %d, body %s; want a target's echo", resp.StatusCode, b)
	}
	return e
}

// echo sends a request and returns the target's echo of it.
func (e *env) echo(method, path, key, body string, hdr ...string) echoed {
	e.t.Helper()
	resp, b := e.restDo(method, path, key, body, hdr...)
	return echoOf(e.t, resp, b)
}

// wsDial performs a WebSocket handshake with the gateway by hand and
// returns the connection and the answer's status and headers.
func wsDial(t *testing.T, addr, path, key string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	wsKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
		path, addr, wsKey, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake answer: %v", err)
	}
	if resp.StatusCode == 101 && resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(wsKey) {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", resp.Header.Get("Sec-WebSocket-Accept"), wsAccept(wsKey))
	}
	return conn, br, resp
}
