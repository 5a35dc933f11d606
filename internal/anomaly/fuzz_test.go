package anomaly

import (
	"testing"

	"github.com/hypergate/hypergate/internal/calllog"
)

// FuzzAnnotate feeds untrusted bodies, as captured from clients and
// upstreams, through every detector of every endpoint: nothing may panic.
func FuzzAnnotate(f *testing.F) {
	for i, fx := range loadFixtures(f) {
		if i%4 == 0 {
			r := fx.record(i)
			f.Add(r.Endpoint, r.RequestBody, r.ResponseBody)
		}
	}
	f.Add("/v1/messages", `{"messages":[{"role":"user","content":[{"type":"text"}]}],"tool_choice":{"type":"tool"}}`,
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":-1,\"delta\":{\"type\":\"input_json_delta\"}}\n\n")
	f.Add("/v1/chat/completions", `{"messages":"x"}`, "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":99999}]}}]}\n")
	f.Add("/v1/responses", `{"input":[{"role":"user","content":[{"type":"input_text","text":"`+"\xff"+`"}]}]}`, "data: {\"type\":\"response.function_call_arguments.delta\"}\n")
	f.Add("/v1/chat/completions", "", "```\n```json")
	e := New(nil, Options{})
	f.Fuzz(func(t *testing.T, endpoint, req, resp string) {
		recs := []calllog.Record{{ID: "f", Time: t0, Endpoint: endpoint, Model: "m", Status: 200, RequestBody: req, ResponseBody: resp, LatencyUS: 1000, TTFTUS: 10, OutputTokens: int64(len(resp))}}
		e.Annotate(recs)
		detectLanguage(resp, 1, &scratch{})
		repeatedShare(resp, 3, &scratch{})
		unfence(resp)
	})
}
