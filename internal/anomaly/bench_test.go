package anomaly

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/calllog"
)

// typicalAnswer is about 1 KB of prose, the size of a usual chat answer.
var typicalAnswer = strings.Repeat("To rotate an API key without downtime, create the new key first, deploy it to every client, "+
	"watch the old key's traffic fall to zero in the call log, and only then revoke it. ", 6)

func benchRecords(b *testing.B, stream bool) []calllog.Record {
	req := `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant for the platform team."},` +
		`{"role":"user","content":"How do I rotate an API key without downtime? Our clients are spread over three regions and deploy weekly."}]}`
	ans, _ := json.Marshal(typicalAnswer)
	resp := `{"id":"chatcmpl-1","object":"chat.completion","created":1764230400,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,` +
		`"message":{"role":"assistant","content":` + string(ans) + `,"refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":48,"completion_tokens":230,"total_tokens":278}}`
	if stream {
		var sb strings.Builder
		for _, w := range strings.SplitAfter(typicalAnswer, " ") {
			p, _ := json.Marshal(w)
			sb.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764230400,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":` + string(p) + `},"finish_reason":null}]}` + "\n\n")
		}
		sb.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n")
		resp = sb.String()
	}
	recs := make([]calllog.Record, 64)
	for i := range recs {
		recs[i] = calllog.Record{ID: "b", Time: t0, Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini", Status: 200,
			RequestBody: req, ResponseBody: resp, Stream: stream, LatencyUS: 900_000 + int64(i*1000), TTFTUS: 200_000, OutputTokens: 230}
	}
	return recs
}

// BenchmarkAnnotate is the cost of the detectors per record, in the call
// log's writer: a chat answer of about 1 KB, as JSON and as a stream.
func BenchmarkAnnotate(b *testing.B) {
	for _, bc := range []struct {
		name   string
		stream bool
	}{{"json", false}, {"stream", true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := New(nil, Options{})
			recs := benchRecords(b, bc.stream)
			batch := make([]calllog.Record, 1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch[0] = recs[i%len(recs)]
				e.Annotate(batch)
			}
		})
	}
}
