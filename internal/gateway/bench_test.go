package gateway

import (
	"fmt"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/config"
)

// completion is a small chat.completion, as an upstream would answer.
var completion = []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`)

// BenchmarkProxyChat measures one non-streamed call through the whole data
// plane (auth, validation, forward, usage, record) against a loopback
// fasthttp upstream, with call recording into an in-memory sink. Run with
// -cpuprofile to see where the time goes.
func BenchmarkProxyChat(b *testing.B) {
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(completion)
	}}
	go up.Serve(upLn)
	defer up.Shutdown()

	b.Setenv("GW_BENCH_KEY", "hg-bench-key-0123456789abcdefghijklmnopqrstu")
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
providers: [ { name: up, type: openai, base_url: "http://%s/v1" } ]
models: [ { name: gpt-4o-mini, targets: [ { provider: up } ] } ]
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
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`)
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
			req.SetBody(body)
			if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
				b.Fatalf("err %v status %d: %s", err, resp.StatusCode(), resp.Body())
			}
		}
	})
}

type discard struct{}

func (discard) Record(calllog.Record) {}
