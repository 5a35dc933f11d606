package anthropic

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tidwall/gjson"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

func TestAdapter(t *testing.T) {
	a, ok := provider.Lookup(Type)
	if !ok {
		t.Fatalf("type %q is not registered", Type)
	}
	base := a.DefaultBaseURL()
	if base != "https://api.anthropic.com/v1" {
		t.Errorf("DefaultBaseURL = %q", base)
	}
	tests := []struct {
		name     string
		op       provider.Operation
		url      string
		supports bool
	}{
		{name: "chat", op: provider.Chat, url: base + "/messages", supports: true},
		{name: "embeddings are not offered", op: provider.Embeddings, url: "", supports: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.URL(base, tt.op, "claude-sonnet-4-5", true); got != tt.url {
				t.Errorf("URL = %q, want %q", got, tt.url)
			}
			if got := (Adapter{}).Supports(tt.op); got != tt.supports {
				t.Errorf("Supports = %v, want %v", got, tt.supports)
			}
		})
	}
	version := provider.Header{Name: "anthropic-version", Value: "2023-06-01"}
	if got := a.Credentials("sk-ant-test"); !slices.Equal(got, []provider.Header{{Name: "x-api-key", Value: "sk-ant-test"}, version}) {
		t.Errorf("Credentials(key) = %v", got)
	}
	if got := a.Credentials(""); !slices.Equal(got, []provider.Header{version}) {
		t.Errorf("Credentials(\"\") = %v", got)
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "not JSON", body: `{"model":`, want: "the request body is not valid JSON"},
		{name: "not an object", body: `[1]`, want: "the request body must be a JSON object, got an array"},
		{name: "max_tokens missing", body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, want: "max_tokens: field required"},
		{name: "max_tokens null", body: `{"model":"m","max_tokens":null,"messages":[{"role":"user","content":"hi"}]}`, want: "max_tokens: expected a number, got null"},
		{name: "max_tokens zero", body: `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, want: "max_tokens: must be between 1 and 2147483647, got 0"},
		{name: "max_tokens fraction", body: `{"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}`, want: "max_tokens: expected an integer, got 1.5"},
		{name: "model missing", body: `{"max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, want: "model: field required"},
		{name: "model empty", body: `{"model":"","max_tokens":1,"messages":[]}`, want: "model: a model is required"},
		{name: "messages missing", body: `{"model":"m","max_tokens":1}`, want: "messages: field required"},
		{name: "messages empty", body: `{"model":"m","max_tokens":1,"messages":[]}`, want: "messages: at least one user or assistant message is required"},
		{name: "messages not array", body: `{"model":"m","max_tokens":1,"messages":{}}`, want: "messages: expected an array, got an object"},
		{name: "only a system message", body: `{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}`, want: `messages: at least one user or assistant message is required`},
		{name: "unknown role", body: `{"model":"m","max_tokens":1,"messages":[{"role":"developer","content":"x"}]}`, want: `messages.0.role: unexpected role "developer": roles are user, assistant and system`},
		{name: "system message with an image", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}`, want: `messages.1.content.0.type: system messages take only text blocks, got "image"`},
		{name: "role missing", body: `{"model":"m","max_tokens":1,"messages":[{"content":"x"}]}`, want: "messages.0.role: field required"},
		{name: "content missing", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}`, want: "messages.0.content: field required"},
		{name: "content number", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]}`, want: "messages.0.content: expected a string or an array of content blocks, got a number"},
		{name: "unknown block type", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":[{"type":"foo"}]}]}`, want: `messages.2.content.0.type: unknown block type "foo"`},
		{name: "block type missing", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"text":"x"}]}]}`, want: "messages.0.content.0.type: field required"},
		{name: "block not object", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":["x"]}]}`, want: "messages.0.content.0: expected a content block object, got a string"},
		{name: "document block", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`, want: `messages.0.content.0.type: block type "document" cannot be translated for this model's provider`},
		{name: "text without text", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text"}]}]}`, want: "messages.0.content.0.text: field required"},
		{name: "text not string", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`, want: "messages.0.content.0.text: expected a string, got a number"},
		{name: "tool_use in user turn", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]}]}`, want: "messages.0.content.0.type: tool_use blocks are only valid in assistant turns"},
		{name: "tool_result in assistant turn", body: `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"t"}]}]}`, want: "messages.0.content.0.type: tool_result blocks are only valid in user turns"},
		{name: "thinking in user turn", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x","signature":"s"}]}]}`, want: "messages.0.content.0.type: thinking blocks are only valid in assistant turns"},
		{name: "image in assistant turn", body: `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"image","source":{"type":"url","url":"https://x"}}]}]}`, want: "messages.0.content.0.type: image blocks are only valid in user turns"},
		{name: "tool_use input not object", body: `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":"x"}]}]}`, want: "messages.0.content.0.input: expected an object, got a string"},
		{name: "tool_use without id", body: `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"n","input":{}}]}]}`, want: "messages.0.content.0.id: field required"},
		{name: "tool_result without id", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, want: "messages.0.content.0.tool_use_id: field required"},
		{name: "tool_result document", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"search_result"}]}]}]}`, want: `messages.0.content.0.content.0.type: block type "search_result" cannot be translated for this model's provider`},
		{name: "tool_result is_error string", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":"yes"}]}]}`, want: "messages.0.content.0.is_error: expected a boolean, got a string"},
		{name: "image file source", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_011"}}]}]}`, want: `messages.0.content.0.source.type: image source "file" cannot be translated: Files API ids exist only at Anthropic`},
		{name: "image base64 without media type", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]}]}`, want: "messages.0.content.0.source.media_type: field required"},
		{name: "image without source", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]}`, want: "messages.0.content.0.source: field required"},
		{name: "redacted thinking without data", body: `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"redacted_thinking"}]}]}`, want: "messages.0.content.0.data: field required"},
		{name: "cache_control not object", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":"ephemeral"}]}]}`, want: "messages.0.content.0.cache_control: expected an object, got a string"},
		{name: "system image", body: `{"model":"m","max_tokens":1,"system":[{"type":"image"}],"messages":[{"role":"user","content":"x"}]}`, want: `system.0.type: the system prompt takes only text blocks, got "image"`},
		{name: "system number", body: `{"model":"m","max_tokens":1,"system":1,"messages":[{"role":"user","content":"x"}]}`, want: "system: expected a string or an array of text blocks, got a number"},
		{name: "temperature string", body: `{"model":"m","max_tokens":1,"temperature":"hot","messages":[{"role":"user","content":"x"}]}`, want: "temperature: expected a number, got a string"},
		{name: "stream string", body: `{"model":"m","max_tokens":1,"stream":"yes","messages":[{"role":"user","content":"x"}]}`, want: "stream: expected a boolean, got a string"},
		{name: "stop sequence number", body: `{"model":"m","max_tokens":1,"stop_sequences":["a",2],"messages":[{"role":"user","content":"x"}]}`, want: "stop_sequences.1: expected a string, got a number"},
		{name: "metadata user_id number", body: `{"model":"m","max_tokens":1,"metadata":{"user_id":7},"messages":[{"role":"user","content":"x"}]}`, want: "metadata.user_id: expected a string, got a number"},
		{name: "tool without schema", body: `{"model":"m","max_tokens":1,"tools":[{"name":"t"}],"messages":[{"role":"user","content":"x"}]}`, want: "tools.0.input_schema: field required"},
		{name: "tool without name", body: `{"model":"m","max_tokens":1,"tools":[{"input_schema":{}}],"messages":[{"role":"user","content":"x"}]}`, want: "tools.0.name: field required"},
		{name: "tool_choice unknown", body: `{"model":"m","max_tokens":1,"tool_choice":{"type":"sometimes"},"messages":[{"role":"user","content":"x"}]}`, want: `tool_choice.type: unknown tool choice "sometimes"`},
		{name: "tool_choice tool without name", body: `{"model":"m","max_tokens":1,"tool_choice":{"type":"tool"},"messages":[{"role":"user","content":"x"}]}`, want: "tool_choice.name: field required"},
		{name: "thinking without budget", body: `{"model":"m","max_tokens":1,"thinking":{"type":"enabled"},"messages":[{"role":"user","content":"x"}]}`, want: "thinking.budget_tokens: field required"},
		{name: "thinking unknown type", body: `{"model":"m","max_tokens":1,"thinking":{"type":"eager"},"messages":[{"role":"user","content":"x"}]}`, want: `thinking.type: unknown thinking type "eager"`},
		{name: "thinking not object", body: `{"model":"m","max_tokens":1,"thinking":"on","messages":[{"role":"user","content":"x"}]}`, want: "thinking: expected an object, got a string"},
		{name: "output_config not object", body: `{"model":"m","max_tokens":1,"output_config":[],"messages":[{"role":"user","content":"x"}]}`, want: "output_config: expected an object, got an array"},
		{name: "metadata not object", body: `{"model":"m","max_tokens":1,"metadata":"u","messages":[{"role":"user","content":"x"}]}`, want: "metadata: expected an object, got a string"},
		{name: "effort unknown", body: `{"model":"m","max_tokens":1,"output_config":{"effort":"extreme"},"messages":[{"role":"user","content":"x"}]}`, want: `output_config.effort: unknown effort "extreme"`},
		{name: "output format unknown", body: `{"model":"m","max_tokens":1,"output_config":{"format":{"type":"xml"}},"messages":[{"role":"user","content":"x"}]}`, want: `output_config.format.type: unknown output format type "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Codec{}.DecodeRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error; decoded %+v", req)
			}
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *llm.Error: %v", err, err)
			}
			if e.Status != 400 || e.Type != "invalid_request_error" {
				t.Errorf("status %d type %q, want 400 invalid_request_error", e.Status, e.Type)
			}
			if e.Message != tt.want {
				t.Errorf("message\n got %s\nwant %s", e.Message, tt.want)
			}
		})
	}
}

func TestDecodeRequestReasoning(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  *llm.Reasoning
	}{
		{name: "none", extra: ``, want: nil},
		{name: "budget", extra: `,"thinking":{"type":"enabled","budget_tokens":2048}`, want: &llm.Reasoning{BudgetTokens: 2048}},
		{name: "disabled", extra: `,"thinking":{"type":"disabled"}`, want: nil},
		{name: "adaptive at the default effort", extra: `,"thinking":{"type":"adaptive"}`, want: &llm.Reasoning{Effort: "high"}},
		{name: "adaptive with effort", extra: `,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}`, want: &llm.Reasoning{Effort: "low"}},
		{name: "effort max is high", extra: `,"output_config":{"effort":"max"}`, want: &llm.Reasoning{Effort: "high"}},
		{name: "effort without thinking", extra: `,"output_config":{"effort":"medium"}`, want: &llm.Reasoning{Effort: "medium"}},
		{name: "budget and effort", extra: `,"thinking":{"type":"enabled","budget_tokens":4000},"output_config":{"effort":"low"}`, want: &llm.Reasoning{BudgetTokens: 4000, Effort: "low"}},
		{name: "null thinking", extra: `,"thinking":null`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"claude-opus-4-6","max_tokens":8000,"messages":[{"role":"user","content":"x"}]` + tt.extra + `}`
			req, err := Codec{}.DecodeRequest([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == nil && req.Reasoning != nil:
				t.Errorf("Reasoning = %+v, want none", *req.Reasoning)
			case tt.want != nil && (req.Reasoning == nil || *req.Reasoning != *tt.want):
				t.Errorf("Reasoning = %+v, want %+v", req.Reasoning, *tt.want)
			}
		})
	}
}

func TestAdaptiveThinking(t *testing.T) {
	tests := []struct {
		model string
		want  bool
	}{
		{"claude-opus-4-6", true},
		{"claude-sonnet-4-6", true},
		{"claude-opus-4-7-20260301", true},
		{"claude-sonnet-5", true},
		{"claude-sonnet-4-5-20250929", false},
		{"claude-opus-4-1-20250805", false},
		{"claude-opus-4-20250514", false},
		{"claude-3-7-sonnet-20250219", false},
		{"claude-3-5-haiku-latest", false},
		{"us.anthropic.claude-opus-4-6-v1", true},
		{"deepseek-chat", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got := adaptiveThinking(tt.model); got != tt.want {
				t.Errorf("adaptiveThinking(%q) = %v, want %v", tt.model, got, tt.want)
			}
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	user := func(parts ...llm.Part) []llm.Message {
		return []llm.Message{{Role: llm.RoleUser, Parts: parts}}
	}
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{name: "image in system", req: llm.Request{System: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x"}}, Messages: user(llm.Part{Type: llm.PartText, Text: "x"})}, want: "system.0: Anthropic's system prompt takes only text, got image"},
		{name: "inline image without media type", req: llm.Request{Messages: user(llm.Part{Type: llm.PartImage, Data: "AAAA"})}, want: "messages.0.parts.0.media_type: an inline image needs its media type"},
		{name: "data URL not base64", req: llm.Request{Messages: user(llm.Part{Type: llm.PartImage, ImageURL: "data:text/plain,hello"})}, want: "messages.0.parts.0.image_url: only base64 data: URLs can be sent as images"},
		{name: "empty image", req: llm.Request{Messages: user(llm.Part{Type: llm.PartImage})}, want: "messages.0.parts.0: an image needs a URL or data"},
		{name: "unknown role", req: llm.Request{Messages: []llm.Message{{Role: "developer"}}}, want: `messages.0.role: unknown role "developer"`},
		{name: "invalid tool schema", req: llm.Request{Messages: user(llm.Part{Type: llm.PartText, Text: "x"}), Tools: []llm.Tool{{Name: "t", Parameters: []byte("{")}}}, want: "tools.0.parameters: not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.EncodeRequest(&tt.req)
			var e *llm.Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v, want an *llm.Error", err)
			}
			if e.Status != 400 || e.Message != tt.want {
				t.Errorf("got %d %q, want 400 %q", e.Status, e.Message, tt.want)
			}
		})
	}
}

func TestFinishReasons(t *testing.T) {
	decode := []struct {
		stopReason string
		want       llm.FinishReason
	}{
		{"end_turn", llm.FinishStop},
		{"stop_sequence", llm.FinishStop},
		{"pause_turn", llm.FinishStop},
		{"max_tokens", llm.FinishLength},
		{"model_context_window_exceeded", llm.FinishLength},
		{"tool_use", llm.FinishToolCalls},
		{"refusal", llm.FinishContentFilter},
		{"", ""},
	}
	for _, tt := range decode {
		if got := finishReason(tt.stopReason); got != tt.want {
			t.Errorf("finishReason(%q) = %q, want %q", tt.stopReason, got, tt.want)
		}
	}
	encode := []struct {
		name         string
		finish       llm.FinishReason
		stopSequence string
		toolCalls    bool
		want         string
	}{
		{"stop", llm.FinishStop, "", false, "end_turn"},
		{"stop sequence", llm.FinishStop, "END", false, "stop_sequence"},
		{"length", llm.FinishLength, "", false, "max_tokens"},
		{"tool calls", llm.FinishToolCalls, "", true, "tool_use"},
		{"stop with tool calls", llm.FinishStop, "", true, "tool_use"},
		{"content filter", llm.FinishContentFilter, "", false, "refusal"},
		{"length beats tool calls", llm.FinishLength, "", true, "max_tokens"},
		{"no reason", "", "", false, "end_turn"},
	}
	for _, tt := range encode {
		if got := stopReason(tt.finish, tt.stopSequence, tt.toolCalls); got != tt.want {
			t.Errorf("%s: stopReason = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUsageConversion(t *testing.T) {
	body := []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn",` +
		`"usage":{"input_tokens":50,"cache_creation_input_tokens":248,"cache_read_input_tokens":1800,"output_tokens":503}}`)
	resp, err := Codec{}.DecodeResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Usage{InputTokens: 2098, CachedInputTokens: 1800, CacheWriteInputTokens: 248, OutputTokens: 503, Present: true}
	if resp.Usage != want {
		t.Errorf("neutral usage = %+v, want %+v", resp.Usage, want)
	}
	// The round trip gives Anthropic's three input counts back.
	if got, want := anthropicUsage(resp.Usage), (wireUsage{InputTokens: 50, CacheCreationInputTokens: 248, CacheReadInputTokens: 1800, OutputTokens: 503}); got != want {
		t.Errorf("anthropic usage = %+v, want %+v", got, want)
	}
	if got := anthropicUsage(llm.Usage{InputTokens: 5, CachedInputTokens: 9}); got.InputTokens != 0 {
		t.Errorf("input tokens below the cached ones give %d, want 0", got.InputTokens)
	}
	if got := neutralUsage(gjson.Parse(`{"input_tokens":-5,"output_tokens":"7"}`)); got.InputTokens != 0 || got.OutputTokens != 0 {
		t.Errorf("negative and quoted counts give %+v, want zeros", got)
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	c := Codec{}
	if _, err := c.DecodeResponse([]byte(`{"id":`)); err == nil {
		t.Error("invalid JSON decoded without error")
	}
	if _, err := c.DecodeResponse([]byte(`"text"`)); err == nil {
		t.Error("a JSON string decoded without error")
	}
	_, err := c.DecodeResponse([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	var e *llm.Error
	if !errors.As(err, &e) || e.Status != 529 || e.Code != "overloaded_error" || e.Type != "server_error" {
		t.Errorf("an error body gave %#v", err)
	}
}

func TestStreamReaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   string
	}{
		{name: "invalid JSON", stream: "event: content_block_delta\ndata: {\"type\":\n\n", want: `reading anthropic stream: "content_block_delta" event is not valid JSON`},
		{name: "empty stream", stream: "", want: "anthropic stream ended before message_stop: unexpected EOF"},
		{name: "only pings", stream: "event: ping\ndata: {\"type\":\"ping\"}\n\n", want: "anthropic stream ended before message_stop: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Codec{}.NewStreamReader(strings.NewReader(tt.stream))
			for i := 0; i < 10; i++ {
				_, err := r.Next()
				if err == nil {
					continue
				}
				if err.Error() != tt.want {
					t.Errorf("error %q, want %q", err, tt.want)
				}
				if _, again := r.Next(); again == nil || again.Error() != err.Error() {
					t.Errorf("the error is not sticky: then %v", again)
				}
				return
			}
			t.Fatal("no error")
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("connection reset")
		r := Codec{}.NewStreamReader(iotest.ErrReader(boom))
		if _, err := r.Next(); !errors.Is(err, boom) {
			t.Errorf("error %v, want one wrapping %v", err, boom)
		}
	})
}

func TestStreamWriterLifecycle(t *testing.T) {
	t.Run("write after close", func(t *testing.T) {
		w := Codec{}.NewStreamWriter(io.Discard, nil)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := w.Write(llm.StreamEvent{Type: llm.EventText, Text: "x"}); !errors.Is(err, errWriterClosed) {
			t.Errorf("Write after Close = %v", err)
		}
	})
	t.Run("write error is sticky", func(t *testing.T) {
		w := Codec{}.NewStreamWriter(failingWriter{}, nil)
		if err := w.Write(llm.StreamEvent{Type: llm.EventStart, ID: "msg_1"}); err == nil {
			t.Fatal("no error from a failing writer")
		}
		if err := w.Write(llm.StreamEvent{Type: llm.EventText, Text: "x"}); err == nil {
			t.Error("the error is not sticky")
		}
		if err := w.Close(); err == nil {
			t.Error("Close hides the write error")
		}
	})
	t.Run("flush error", func(t *testing.T) {
		boom := errors.New("client gone")
		w := Codec{}.NewStreamWriter(io.Discard, func() error { return boom })
		if err := w.Write(llm.StreamEvent{Type: llm.EventStart}); !errors.Is(err, boom) {
			t.Errorf("Write = %v, want the flush error", err)
		}
	})
	t.Run("one flush per call", func(t *testing.T) {
		var buf bytes.Buffer
		flushes := 0
		w := Codec{}.NewStreamWriter(&buf, func() error { flushes++; return nil })
		events := []llm.StreamEvent{
			{Type: llm.EventStart, ID: "msg_1"},
			{Type: llm.EventText, Text: "a"},
			{Type: llm.EventToolCallStart, ToolCall: &llm.ToolCall{ID: "t", Name: "n"}},
			{Type: llm.EventFinish, Finish: llm.FinishToolCalls},
			{Type: llm.EventUsage, Usage: &llm.Usage{OutputTokens: 3, Present: true}},
		}
		for _, ev := range events {
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if flushes != len(events)+1 {
			t.Errorf("%d flushes for %d calls", flushes, len(events)+1)
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
