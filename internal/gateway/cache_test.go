package gateway

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/cache"
	"github.com/hypergate/hypergate/internal/config"
	"github.com/hypergate/hypergate/internal/provider"
)

func TestCacheDirectives(t *testing.T) {
	for _, tc := range []struct {
		name             string
		headers          [][2]string
		noCache, noStore bool
	}{
		{"none", nil, false, false},
		{"no-cache", [][2]string{{"Cache-Control", "no-cache"}}, true, false},
		{"no-store", [][2]string{{"Cache-Control", "no-store"}}, false, true},
		{"both, spaced, upper case", [][2]string{{"Cache-Control", " No-Cache ,NO-STORE "}}, true, true},
		{"with arguments", [][2]string{{"Cache-Control", "max-age=0, no-cache=\"x\""}}, true, false},
		{"two headers", [][2]string{{"Cache-Control", "max-age=0"}, {"Cache-Control", "no-store"}}, false, true},
		{"bypass header", [][2]string{{"X-Hypergate-Cache", "Bypass"}}, true, false},
		{"other bypass value", [][2]string{{"X-Hypergate-Cache", "hit"}}, false, false},
		{"unrelated directives", [][2]string{{"Cache-Control", "max-age=60, no-transform"}}, false, false},
		{"a directive that only starts alike", [][2]string{{"Cache-Control", "no-cachex, no-stored"}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h fasthttp.RequestHeader
			for _, kv := range tc.headers {
				h.Add(kv[0], kv[1])
			}
			noCache, noStore := cacheDirectives(&h)
			if noCache != tc.noCache || noStore != tc.noStore {
				t.Fatalf("no-cache %v, no-store %v; want %v, %v", noCache, noStore, tc.noCache, tc.noStore)
			}
		})
	}
}

func TestCacheFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *inbound
		op   provider.Operation
		want cache.Format
	}{
		{"chat completions", openaiInbound, opChat, cache.OpenAIChat},
		{"messages", anthropicInbound, opChat, cache.AnthropicMessages},
		{"embeddings", openaiInbound, opEmbeddings, cache.OpenAIEmbeddings},
		{"responses", responsesInbound, provider.Responses, cache.OpenAIResponses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cacheFormat(tc.in, tc.op); got != tc.want {
				t.Fatalf("cacheFormat = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStreamComplete(t *testing.T) {
	const (
		chunk  = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
		finish = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
		done   = "data: [DONE]\n\n"
	)
	for _, tc := range []struct {
		name       string
		format     cache.Format
		transcript string
		want       bool
	}{
		{"openai to [DONE]", cache.OpenAIChat, chunk + finish + done, true},
		{"openai without [DONE] after a finish", cache.OpenAIChat, chunk + finish, true},
		{"openai cut before the finish", cache.OpenAIChat, chunk + chunk, false},
		{"openai CRLF", cache.OpenAIChat, "data: {\"choices\":[]}\r\n\r\ndata: [DONE]\r\n\r\n", true},
		{"openai empty", cache.OpenAIChat, "", false},
		{"anthropic to message_stop", cache.AnthropicMessages,
			"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", true},
		{"anthropic cut", cache.AnthropicMessages,
			"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n", false},
		{"responses completed", cache.OpenAIResponses,
			"event: response.created\ndata: {\"type\":\"response.created\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\"}\n\n", true},
		{"responses incomplete", cache.OpenAIResponses, "data: {\"type\":\"response.incomplete\"}\n\n", true},
		{"responses failed", cache.OpenAIResponses, "data: {\"type\":\"response.failed\"}\n\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := streamComplete(tc.format, []byte(tc.transcript)); got != tc.want {
				t.Fatalf("streamComplete = %v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkCache compares a call answered from the response cache with
// one that misses it (a new question each time: lookup, upstream call,
// store) and one of a model without a cache, all through the whole data
// plane over loopback to the same upstream, as BenchmarkProxyChat does.
func BenchmarkCache(b *testing.B) {
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var upstreamCalls atomic.Int64
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		upstreamCalls.Add(1)
		ctx.SetContentType("application/json")
		ctx.SetBody(completion)
	}}
	go up.Serve(upLn)
	defer up.Shutdown()

	b.Setenv("GW_BENCH_KEY", "hg-bench-key-0123456789abcdefghijklmnopqrstu")
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
providers: [ { name: up, type: openai, base_url: "http://%s/v1" } ]
models:
  - { name: gpt-4o-mini, targets: [ { provider: up } ], cache: { ttl: 1h } }
  - { name: plain, targets: [ { provider: up, model: gpt-4o-mini } ] }
consumers: [ { name: c, keys: [ { name: k, key: env:GW_BENCH_KEY } ] } ]
`, upLn.Addr())))
	if err != nil {
		b.Fatal(err)
	}
	snap, err := Compile(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	g := New(Options{Recorder: discard{}})
	g.SetSnapshot(snap)
	srv := g.Server()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()
	client := &fasthttp.Client{MaxConnsPerHost: 256}
	url := "http://" + ln.Addr().String() + "/v1/chat/completions"
	var seq atomic.Int64

	for _, bc := range []struct {
		name string
		body func() []byte
		want string
	}{
		{"hit", func() []byte {
			return []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`)
		}, cacheHit},
		{"miss", func() []byte {
			return []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello ` + strconv.FormatInt(seq.Add(1), 10) + `"}]}`)
		}, cacheMiss},
		{"no cache", func() []byte {
			return []byte(`{"model":"plain","messages":[{"role":"user","content":"hello"}]}`)
		}, ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			warm := fasthttp.AcquireRequest()
			warm.SetRequestURI(url)
			warm.Header.SetMethod("POST")
			warm.Header.Set("Authorization", "Bearer hg-bench-key-0123456789abcdefghijklmnopqrstu")
			warm.SetBody(bc.body()) // for the hit: stores the answer
			if err := client.Do(warm, &fasthttp.Response{}); err != nil {
				b.Fatal(err)
			}
			fasthttp.ReleaseRequest(warm)
			before := upstreamCalls.Load()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := fasthttp.AcquireRequest()
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req.Reset()
					req.SetRequestURI(url)
					req.Header.SetMethod("POST")
					req.Header.Set("Authorization", "Bearer hg-bench-key-0123456789abcdefghijklmnopqrstu")
					req.SetBody(bc.body())
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Fatalf("err %v status %d: %s", err, resp.StatusCode(), resp.Body())
					}
					if got := string(resp.Header.Peek(headerCache)); got != bc.want {
						b.Fatalf("X-Hypergate-Cache %q, want %q", got, bc.want)
					}
				}
			})
			b.StopTimer()
			if n := upstreamCalls.Load() - before; bc.want == cacheHit && n != 0 {
				b.Fatalf("%d upstream calls during hits", n)
			}
		})
	}
}
