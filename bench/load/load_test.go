package main

import (
	"bufio"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serve runs handler on a loopback port for the test and returns the URL of
// its chat endpoint.
func serve(t *testing.T, handler fasthttp.RequestHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: handler, CloseOnShutdown: true}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String() + "/v1/chat/completions"
}

func answer(status int, delay time.Duration) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		time.Sleep(delay)
		ctx.SetStatusCode(status)
		ctx.SetBodyString(`{"object":"chat.completion"}`)
	}
}

// sse streams n events, 2ms apart, ending with [DONE] when done is set.
func sse(n int, done bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := range n {
				if i > 0 {
					time.Sleep(2 * time.Millisecond)
				}
				w.WriteString("data: {}\n\n")
				w.Flush()
			}
			if done {
				w.WriteString("data: [DONE]\n\n")
				w.Flush()
			}
		})
	}
}

func baseOptions(url string) options {
	return options{label: "t", url: url, key: "k", body: []byte(chatBody), conns: 4, maxInflight: 16,
		duration: 300 * time.Millisecond, timeout: 2 * time.Second}
}

func TestRuns(t *testing.T) {
	tests := []struct {
		name    string
		handler fasthttp.RequestHandler
		tweak   func(*options)
		check   func(t *testing.T, r *result)
	}{
		{
			name:    "closed loop counts successes",
			handler: answer(200, 0),
			check: func(t *testing.T, r *result) {
				if r.OK == 0 || r.Errors != 0 || r.Non2xx != 0 || r.Latency.Count != r.OK {
					t.Errorf("unexpected tally: %+v", r)
				}
			},
		},
		{
			name:    "non-2xx is counted apart",
			handler: answer(401, 0),
			check: func(t *testing.T, r *result) {
				if r.OK != 0 || r.Non2xx == 0 || !strings.Contains(r.FirstErr, "HTTP 401") {
					t.Errorf("unexpected tally: %+v", r)
				}
			},
		},
		{
			name:    "open loop keeps its rate",
			handler: answer(200, 0),
			tweak:   func(o *options) { o.rate = 200; o.duration = 500 * time.Millisecond },
			check: func(t *testing.T, r *result) {
				if r.OK != 100 || r.Unsent != 0 {
					t.Errorf("sent %d (unsent %d), want 100", r.OK, r.Unsent)
				}
			},
		},
		{
			// One worker and a 20ms answer at 100/s: half the requests wait
			// behind the previous ones, and the measured latency must say so.
			name:    "open loop shows queueing",
			handler: answer(200, 20*time.Millisecond),
			tweak: func(o *options) {
				o.rate = 100
				o.maxInflight = 1
				o.duration = 400 * time.Millisecond
			},
			check: func(t *testing.T, r *result) {
				if r.Latency.Max < 100_000 {
					t.Errorf("max latency %.0fµs hides the queue (want ≥ 100ms)", r.Latency.Max)
				}
			},
		},
		{
			name:    "stream measures first event",
			handler: sse(10, true),
			tweak:   func(o *options) { o.stream = true; o.body = []byte(streamBody) },
			check: func(t *testing.T, r *result) {
				if r.OK == 0 || r.Errors != 0 || r.TTFB == nil {
					t.Fatalf("unexpected tally: %+v", r)
				}
				if r.TTFB.P50 >= r.Latency.P50 || r.Latency.P50 < 18_000 {
					t.Errorf("first event p50 %.0fµs, total p50 %.0fµs", r.TTFB.P50, r.Latency.P50)
				}
			},
		},
		{
			name:    "stream without DONE is an error",
			handler: sse(2, false),
			tweak:   func(o *options) { o.stream = true; o.body = []byte(streamBody) },
			check: func(t *testing.T, r *result) {
				if r.OK != 0 || r.Errors == 0 || !strings.Contains(r.FirstErr, "[DONE]") {
					t.Errorf("unexpected tally: %+v", r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOptions(serve(t, tt.handler))
			if tt.tweak != nil {
				tt.tweak(&o)
			}
			if err := o.validate(); err != nil {
				t.Fatal(err)
			}
			r, err := run(o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
			line, err := r.jsonLine()
			if err != nil {
				t.Fatal(err)
			}
			var back result
			if err := json.Unmarshal([]byte(line), &back); err != nil || back.OK != r.OK {
				t.Errorf("JSON line does not round-trip: %s (%v)", line, err)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		name, url string
		ok        bool
	}{
		{name: "ipv4 loopback", url: "http://127.0.0.1:8080/v1", ok: true},
		{name: "other loopback", url: "http://127.0.0.2/v1", ok: true},
		{name: "ipv6 loopback", url: "http://[::1]:8080/", ok: true},
		{name: "localhost", url: "http://localhost:9/", ok: true},
		{name: "private address", url: "http://10.0.0.1/", ok: false},
		{name: "public name", url: "http://example.com/", ok: false},
		{name: "https", url: "https://127.0.0.1/", ok: false},
		{name: "garbage", url: "::", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := loopbackOnly(tt.url); (err == nil) != tt.ok {
				t.Errorf("loopbackOnly(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestCheckAndWait(t *testing.T) {
	good := serve(t, answer(200, 0))
	bad := serve(t, answer(503, 0))
	if err := checkOnce(baseOptions(good)); err != nil {
		t.Errorf("check of a good target: %v", err)
	}
	if err := checkOnce(baseOptions(bad)); err == nil {
		t.Error("check of a failing target passed")
	}
	if err := waitReady(good, time.Second); err != nil {
		t.Errorf("wait for a ready target: %v", err)
	}
	if err := waitReady(bad, 300*time.Millisecond); err == nil {
		t.Error("wait for a failing target passed")
	}
}
