package llm

import (
	"slices"
	"testing"

	"github.com/tidwall/gjson"
)

func TestUsageFromChatCompletion(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Usage
	}{
		{
			name: "full OpenAI response",
			body: `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06",
				"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
				"usage":{"prompt_tokens":1500,"completion_tokens":320,"total_tokens":1820,
					"prompt_tokens_details":{"cached_tokens":1280,"audio_tokens":0},
					"completion_tokens_details":{"reasoning_tokens":256,"audio_tokens":0}}}`,
			want: Usage{InputTokens: 1500, OutputTokens: 320, CachedInputTokens: 1280, ReasoningTokens: 256, Present: true},
		},
		{
			name: "no details",
			body: `{"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`,
			want: Usage{InputTokens: 9, OutputTokens: 12, Present: true},
		},
		{
			name: "usage before choices",
			body: `{"usage":{"prompt_tokens":1,"completion_tokens":2},"choices":[{"message":{"content":"{\"usage\":{\"prompt_tokens\":99}}"}}]}`,
			want: Usage{InputTokens: 1, OutputTokens: 2, Present: true},
		},
		{name: "null details", body: `{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":null}}`, want: Usage{InputTokens: 3, OutputTokens: 4, Present: true}},
		{name: "numeric strings", body: `{"usage":{"prompt_tokens":"7","completion_tokens":"8"}}`, want: Usage{InputTokens: 7, OutputTokens: 8, Present: true}},
		{name: "negative counts read as zero", body: `{"usage":{"prompt_tokens":-5,"completion_tokens":-1}}`, want: Usage{Present: true}},
		{name: "booleans ignored", body: `{"usage":{"prompt_tokens":true}}`, want: Usage{Present: true}},
		{name: "empty usage object", body: `{"usage":{}}`, want: Usage{Present: true}},
		{name: "no usage", body: `{"choices":[]}`, want: Usage{}},
		{name: "null usage", body: `{"usage":null}`, want: Usage{}},
		{name: "usage not an object", body: `{"usage":42}`, want: Usage{}},
		{name: "nested usage only", body: `{"data":{"usage":{"prompt_tokens":1}}}`, want: Usage{}},
		{name: "invalid JSON", body: `{"usage":{"prompt_tok`, want: Usage{}},
		{name: "empty body", body: ``, want: Usage{}},
		{name: "error body", body: `{"error":{"message":"rate limited","type":"rate_limit_exceeded"}}`, want: Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UsageFromChatCompletion([]byte(tt.body)); got != tt.want {
				t.Errorf("UsageFromChatCompletion = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestUsageFromEmbeddings(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Usage
	}{
		{
			name: "OpenAI response",
			body: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`,
			want: Usage{InputTokens: 8, Present: true},
		},
		{name: "total only", body: `{"usage":{"total_tokens":5}}`, want: Usage{InputTokens: 5, Present: true}},
		{name: "no usage", body: `{"data":[]}`, want: Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UsageFromEmbeddings([]byte(tt.body)); got != tt.want {
				t.Errorf("UsageFromEmbeddings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

const (
	roleChunk    = `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`
	contentChunk = `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`
	finishChunk  = `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`
	usageChunk   = `{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":5}}}`
)

func TestChunkInspection(t *testing.T) {
	tests := []struct {
		name       string
		data       string
		hasContent bool
		usageOnly  bool
		usage      Usage
	}{
		{name: "role chunk", data: roleChunk},
		{name: "content chunk", data: contentChunk, hasContent: true},
		{name: "finish chunk", data: finishChunk},
		{name: "usage-only chunk", data: usageChunk, usageOnly: true, usage: Usage{InputTokens: 10, OutputTokens: 20, CachedInputTokens: 2, ReasoningTokens: 5, Present: true}},
		{
			name:  "usage on a chunk with choices",
			data:  `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
			usage: Usage{InputTokens: 1, OutputTokens: 2, Present: true},
		},
		{
			name:       "usage on every chunk, as vLLM's continuous stats",
			data:       `{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`,
			hasContent: true,
			usage:      Usage{InputTokens: 1, OutputTokens: 1, Present: true},
		},
		{name: "empty choices without usage", data: `{"choices":[]}`},
		{name: "empty choices with null usage", data: `{"choices":[],"usage":null}`},
		{name: "empty choices with whitespace", data: `{"choices":[ ],"usage":{}}`, usageOnly: true, usage: Usage{Present: true}},
		{name: "usage without choices", data: `{"usage":{"prompt_tokens":1}}`, usage: Usage{InputTokens: 1, Present: true}},
		{
			name:       "first tool call chunk",
			data:       `{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}`,
			hasContent: true,
		},
		{name: "tool call argument chunk", data: `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]}}]}`, hasContent: true},
		{name: "empty tool calls", data: `{"choices":[{"index":0,"delta":{"tool_calls":[]}}]}`},
		{name: "legacy function call", data: `{"choices":[{"index":0,"delta":{"function_call":{"name":"f","arguments":""}}}]}`, hasContent: true},
		{name: "reasoning_content", data: `{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Let me think"}}]}`, hasContent: true},
		{name: "reasoning", data: `{"choices":[{"index":0,"delta":{"content":"","reasoning":"Hmm"}}]}`, hasContent: true},
		{name: "empty reasoning", data: `{"choices":[{"index":0,"delta":{"content":"","reasoning":""}}]}`},
		{name: "refusal", data: `{"choices":[{"index":0,"delta":{"refusal":"I can't"}}]}`, hasContent: true},
		{name: "content as parts", data: `{"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"a"}]}}]}`, hasContent: true},
		{name: "audio", data: `{"choices":[{"index":0,"delta":{"audio":{"id":"a","transcript":"hi"}}}]}`, hasContent: true},
		{name: "legacy completion text", data: `{"object":"text_completion","choices":[{"text":"Hello","index":0,"finish_reason":null}]}`, hasContent: true},
		{name: "legacy completion empty text", data: `{"choices":[{"text":"","index":0}]}`},
		{name: "content in the second choice", data: `{"choices":[{"index":0,"delta":{}},{"index":1,"delta":{"content":"b"}}]}`, hasContent: true},
		{name: "whitespace content counts", data: `{"choices":[{"index":0,"delta":{"content":" "}}]}`, hasContent: true},
		{name: "escaped key", data: `{"choices":[{"index":0,"delta":{"cont\u0065nt":"x"}}]}`, hasContent: true},
		{name: "choices not an array", data: `{"choices":{"delta":{"content":"x"}}}`},
		{name: "DONE sentinel", data: `[DONE]`},
		{name: "empty", data: ``},
		{name: "truncated", data: `{"choices":[{"index":0,"delta":{"content":"He`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.data)
			if got := ChunkHasContent(data); got != tt.hasContent {
				t.Errorf("ChunkHasContent = %v, want %v", got, tt.hasContent)
			}
			if got := IsUsageOnlyChunk(data); got != tt.usageOnly {
				t.Errorf("IsUsageOnlyChunk = %v, want %v", got, tt.usageOnly)
			}
			if got := UsageFromChunk(data); got != tt.usage {
				t.Errorf("UsageFromChunk = %+v, want %+v", got, tt.usage)
			}
			want := ChunkInfo{HasContent: tt.hasContent, UsageOnly: tt.usageOnly, Usage: tt.usage}
			if got := InspectChunk(data); got != want {
				t.Errorf("InspectChunk = %+v, want %+v", got, want)
			}
		})
	}
}

func TestResponseModelAndFinishReasons(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		model   string
		reasons []string
	}{
		{name: "completion", body: `{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"stop"}]}`, model: "gpt-4o-2024-08-06", reasons: []string{"stop"}},
		{name: "several choices", body: `{"model":"m","choices":[{"finish_reason":"length"},{"finish_reason":null},{"finish_reason":"tool_calls"}]}`, model: "m", reasons: []string{"length", "tool_calls"}},
		{name: "mid-stream chunk", body: contentChunk, model: "gpt-4o-mini"},
		{name: "model not a string", body: `{"model":7,"choices":"x"}`},
		{name: "nothing", body: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResponseModel([]byte(tt.body)); got != tt.model {
				t.Errorf("ResponseModel = %q, want %q", got, tt.model)
			}
			if got := FinishReasons([]byte(tt.body)); !slices.Equal(got, tt.reasons) {
				t.Errorf("FinishReasons = %q, want %q", got, tt.reasons)
			}
		})
	}
}

// TestResponseModelDoesNotAlias guards the zero-copy reads: the returned
// string must survive the caller reusing its buffer, as SSEReader does.
func TestResponseModelDoesNotAlias(t *testing.T) {
	buf := []byte(`{"model":"gpt-4o-mini","choices":[{"finish_reason":"stop"}]}`)
	model, reasons := ResponseModel(buf), FinishReasons(buf)
	for i := range buf {
		buf[i] = 'x'
	}
	if model != "gpt-4o-mini" || reasons[0] != "stop" {
		t.Errorf("results changed with the buffer: %q %q", model, reasons)
	}
}

// FuzzUsage checks that reading usage from arbitrary upstream bytes never
// panics, never yields negative counts, and that the one-pass InspectChunk
// agrees with the separate functions.
func FuzzUsage(f *testing.F) {
	for _, s := range []string{roleChunk, contentChunk, finishChunk, usageChunk, `{"usage":{"prompt_tokens":1e30}}`, `[DONE]`, `{"choices":[{"delta":{"tool_calls":[{}]}}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, u := range []Usage{UsageFromChatCompletion(data), UsageFromEmbeddings(data), UsageFromChunk(data)} {
			if u.InputTokens < 0 || u.OutputTokens < 0 || u.CachedInputTokens < 0 || u.ReasoningTokens < 0 {
				t.Fatalf("negative usage %+v", u)
			}
		}
		want := ChunkInfo{HasContent: ChunkHasContent(data), UsageOnly: IsUsageOnlyChunk(data), Usage: UsageFromChunk(data)}
		if got := InspectChunk(data); got != want && isObjectWithUniqueKeys(data) {
			t.Fatalf("InspectChunk = %+v, separate functions give %+v", got, want)
		}
		_ = ResponseModel(data)
		_ = FinishReasons(data)
	})
}

// isObjectWithUniqueKeys excludes inputs where InspectChunk may rightly
// differ from the separate functions: invalid JSON, which gjson's paths and
// its iteration skip over differently, and duplicate keys, of which
// InspectChunk keeps the last and gjson paths the first.
func isObjectWithUniqueKeys(data []byte) bool {
	seen := map[string]bool{}
	ok := true
	root := gjson.ParseBytes(data)
	if !root.IsObject() || !gjson.ValidBytes(data) {
		return false
	}
	root.ForEach(func(k, _ gjson.Result) bool {
		if seen[k.Str] {
			ok = false
		}
		seen[k.Str] = true
		return ok
	})
	return ok
}

func BenchmarkInspectChunk(b *testing.B) {
	b.ReportAllocs()
	data := []byte(contentChunk)
	for b.Loop() {
		InspectChunk(data)
	}
}

func BenchmarkChunkSeparateCalls(b *testing.B) {
	b.ReportAllocs()
	data := []byte(contentChunk)
	for b.Loop() {
		ChunkHasContent(data)
		IsUsageOnlyChunk(data)
		UsageFromChunk(data)
	}
}
