package calllog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stuckStore never finishes an insert until released, like a store that
// cannot keep up: the writer sits in InsertCalls, the queue stays full and
// every record handed over takes the spill path on the caller's goroutine.
// Once released it fails, so that Close spills what is left at once.
type stuckStore struct{ entered, released chan struct{} }

func (s *stuckStore) InsertCalls(ctx context.Context, _ []Record) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.released:
	case <-ctx.Done():
	}
	return errors.New("store released")
}

// benchBodies are the captured bodies of the spill benchmarks: "chat" is
// what bench/run sends and its mock answers, "8KiB" a longer conversation
// with a key in it.
var benchBodies = []struct {
	name      string
	req, resp string
}{
	{
		name: "chat",
		req:  `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`,
		resp: `{"id":"chatcmpl-bench000000000001","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini",` +
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
			`"usage":{"prompt_tokens":17,"completion_tokens":9,"total_tokens":26,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
			`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
			`"service_tier":"default","system_fingerprint":"fp_bench"}`,
	},
	{
		name: "8KiB",
		req: `{"model":"gpt-4o-mini","messages":[` +
			strings.Repeat(`{"role":"user","content":"Summarise the quarterly report for the board, keeping it short \u0026 clear."},`, 90) +
			`{"role":"user","content":"my key is ` + testOpenAIKey + `"}]}`,
		resp: `{"choices":[{"message":{"role":"assistant","content":"` +
			strings.Repeat(`Revenue grew 12% on the quarter; costs <b>fell</b>.\n`, 40) + `"}}]}`,
	},
}

// benchRecord is a record as the gateway hands it over at peak.
func benchRecord(id, req, resp string) Record {
	return Record{
		ID:            id,
		Time:          time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC),
		Consumer:      "bench",
		KeyID:         "key_01JQ3V5W8X9Y0Z",
		Endpoint:      "/v1/chat/completions",
		Model:         "gpt-4o-mini",
		Provider:      "mock-a",
		UpstreamModel: "gpt-4o-mini",
		Status:        200,
		LatencyUS:     1834,
		UpstreamUS:    1602,
		InputTokens:   17,
		OutputTokens:  9,
		CostUSD:       7.95e-06,
		RequestBytes:  int64(len(req)),
		ResponseBytes: int64(len(resp)),
		ClientIP:      "127.0.0.1",
		UserAgent:     "fasthttp",
		RequestBody:   req,
		ResponseBody:  resp,
		Attempts:      []Attempt{{Provider: "mock-a", UpstreamModel: "gpt-4o-mini", KeyID: "mock-a#0", Status: 200, LatencyUS: 1602}},
	}
}

// benchIDs are request ids shaped like the gateway's.
var benchIDs = func() []string {
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprintf("0193a5b2-7c1d-7e4f-8a9b-%012d", i)
	}
	return ids
}()

// stuckRecorder returns a recorder whose writer is stuck in an insert and
// whose one-slot queue is full, so that every Record spills.
func stuckRecorder(b *testing.B) *Recorder {
	b.Helper()
	st := &stuckStore{entered: make(chan struct{}, 1), released: make(chan struct{})}
	// The keys bench/run configures; like the gateway's snapshot, the
	// function hands out the same slice each time.
	secrets := []string{"sk-mock-upstream", "hg-bench-key-0123456789abcdef0123456789"}
	r, err := NewRecorder(st, Options{QueueSize: 1, SpillDir: b.TempDir(), Secrets: func() []string { return secrets }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		close(st.released)
		if err := r.Close(context.Background()); err != nil {
			b.Error(err)
		}
	})
	r.Record(benchRecord("fill-1", "", ""))
	<-st.entered
	r.Record(benchRecord("fill-2", "", ""))
	return r
}

// BenchmarkSpill measures the spill path on one goroutine: what a request
// pays to redact, encode and append its record, its share of the file
// writes included, when the queue is full and the writer cannot help.
func BenchmarkSpill(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			r := stuckRecorder(b)
			x := benchRecord("", bb.req, bb.resp)
			b.SetBytes(int64(len(bb.req) + len(bb.resp)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x.ID = benchIDs[i&(len(benchIDs)-1)]
				i++
				r.Record(x)
			}
			b.StopTimer()
			if s := r.Stats(); s.Dropped != 0 {
				b.Fatalf("stats %+v", s)
			}
		})
	}
}

// BenchmarkEnqueueFull is BenchmarkSpill with every goroutine recording at
// once, as at the benchmark's peak: it adds what they cost each other.
func BenchmarkEnqueueFull(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			r := stuckRecorder(b)
			var next atomic.Uint64
			b.SetBytes(int64(len(bb.req) + len(bb.resp)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				x := benchRecord("", bb.req, bb.resp)
				for pb.Next() {
					x.ID = benchIDs[next.Add(1)&(uint64(len(benchIDs))-1)]
					r.Record(x)
				}
			})
			b.StopTimer()
			if s := r.Stats(); s.Dropped != 0 {
				b.Fatalf("stats %+v", s)
			}
		})
	}
}
