// Command mock is the upstream used by the benchmark harness: a fasthttp
// server that speaks the OpenAI wire format (chat completions, streamed or
// not, and embeddings) while doing as little work per request as possible, so
// that in a gateway benchmark the mock is never the bottleneck.
//
// It looks into a request body only with bytes.Contains and gjson, never with
// a full JSON decode, and renders responses by appending into pooled buffers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("mock: ")

	addr := flag.String("addr", "127.0.0.1:9100", "address to listen on")
	var cfg config
	flag.DurationVar(&cfg.latency, "latency", 0, "fixed delay added before every response (before the first chunk of a stream)")
	flag.IntVar(&cfg.chunks, "chunks", 20, "content chunks in a streamed chat completion")
	flag.DurationVar(&cfg.chunkDelay, "chunk-delay", 5*time.Millisecond, "delay before each content chunk of a stream")
	flag.IntVar(&cfg.embeddingDims, "embedding-dims", 1536, "length of each embedding vector")
	flag.IntVar(&cfg.failEvery, "fail-every", 0, "answer every Nth chat completion with a 500 error (0: never)")
	flag.IntVar(&cfg.emptyEvery, "empty-every", 0, "answer every Nth chat completion with empty content (0: never)")
	flag.Parse()

	if err := run(*addr, cfg); err != nil {
		log.Fatal(err)
	}
}

// run serves until SIGINT or SIGTERM.
func run(addr string, cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := newServer(cfg).fasthttp()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("listening on %s (latency %s, %d chunks %s apart)", ln.Addr(), cfg.latency, cfg.chunks, cfg.chunkDelay)

	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	// Streams in flight hold their connections open; bound the wait so that a
	// stuck client cannot keep the harness from exiting.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.ShutdownWithContext(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// fasthttp wraps the handler in a server tuned for throughput rather than
// memory: the mock runs next to the system under test and must stay cheap.
func (s *server) fasthttp() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               s.handle,
		Name:                  "hypergate-bench-mock",
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           60 * time.Second,
		MaxRequestBodySize:    8 << 20,
		NoDefaultServerHeader: false,
		CloseOnShutdown:       true,
	}
}
