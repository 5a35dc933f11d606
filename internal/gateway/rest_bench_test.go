package gateway

import (
	"fmt"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/hypergate/hypergate/internal/config"
)

// BenchmarkRESTProxy measures what the gateway adds to a REST call: the
// same small GET against a loopback fasthttp upstream, once directly
// ("direct") and once through the whole data plane ("gateway": route
// match, key, subscription, header rewriting, forward, streamed relay and
// call record into an in-memory sink). The difference per op is the
// gateway's overhead; run with -cpu 1 to read it as latency.
func BenchmarkRESTProxy(b *testing.B) {
	body := []byte(`{"id":42,"status":"shipped","lines":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}]}`)
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}}
	go up.Serve(upLn)
	defer up.Shutdown()

	const key = "hg-bench-key-0123456789abcdefghijklmnopqrstu"
	b.Setenv("GW_BENCH_KEY", key)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
consumers: [ { name: c, keys: [ { name: k, key: env:GW_BENCH_KEY } ], subscriptions: [orders] } ]
services:
  - name: orders
    upstream: { targets: [ { url: "http://%s" } ] }
    routes: [ { path: /orders, methods: [GET] } ]
`, upLn.Addr())))
	if err != nil {
		b.Fatal(err)
	}
	g := New(Options{Recorder: discard{}})
	snap, err := g.Compile(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	g.SetSnapshot(snap)
	defer g.Close()
	srv := g.Server()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()

	for _, bc := range []struct{ name, url string }{
		{"direct", "http://" + upLn.Addr().String() + "/orders/42"},
		{"gateway", "http://" + ln.Addr().String() + "/orders/42"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client := &fasthttp.Client{MaxConnsPerHost: 256}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := fasthttp.AcquireRequest()
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for pb.Next() {
					req.Reset()
					req.SetRequestURI(bc.url)
					req.Header.Set("Authorization", "Bearer "+key)
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != len(body) {
						b.Fatalf("err %v status %d: %s", err, resp.StatusCode(), resp.Body())
					}
				}
			})
		})
	}
}
