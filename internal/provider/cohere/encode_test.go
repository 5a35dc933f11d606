package cohere

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// TestEncodeRequestGolden encodes each testdata/encode/*.request.json (a
// neutral request) and compares the body with *.cohere.json.
func TestEncodeRequestGolden(t *testing.T) {
	for name, path := range fixtures(t, "encode", ".request.json") {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var r llm.Request
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			body, err := Codec{}.EncodeRequest(&r)
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			golden(t, filepath.Join("testdata", "encode", name+".cohere.json"), indent(t, body))
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	text := func(s string) []llm.Part { return []llm.Part{{Type: llm.PartText, Text: s}} }
	user := []llm.Message{{Role: llm.RoleUser, Parts: text("x")}}
	tests := []struct {
		name string
		req  *llm.Request
		want string
	}{
		{name: "nil request", req: nil, want: "no request"},
		{
			name: "tool result without an id",
			req:  &llm.Request{Messages: []llm.Message{{Role: llm.RoleTool, Parts: text("42")}}},
			want: "tool result without a tool_call_id",
		},
		{
			name: "unknown role",
			req:  &llm.Request{Messages: []llm.Message{{Role: "system", Parts: text("x")}}},
			want: `unknown role "system"`,
		},
		{
			name: "image without data or URL",
			req:  &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage}}}}},
			want: "image part without data or URL",
		},
		{
			name: "image data of unknown type",
			req: &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartImage, Data: "aGVsbG8gd29ybGQ="},
			}}}},
			want: "image data without a media type",
		},
		{
			name: "tool parameters not JSON",
			req:  &llm.Request{Messages: user, Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":`)}}},
			want: `tool "f": parameters: schema is not valid JSON`,
		},
		{
			name: "response schema not JSON",
			req:  &llm.Request{Messages: user, ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{]`)}},
			want: "response_format schema is not valid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.EncodeRequest(tt.req)
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want an *llm.Error", err)
			}
			if le.Status != 400 || le.Type != "invalid_request_error" || !strings.Contains(le.Message, tt.want) {
				t.Errorf("err = %+v, want 400 invalid_request_error containing %q", le, tt.want)
			}
		})
	}
}

func TestEncodeThinking(t *testing.T) {
	tests := []struct {
		name string
		r    *llm.Reasoning
		want string // the thinking JSON, "" for none
	}{
		{name: "no reasoning", r: nil, want: ""},
		{name: "empty reasoning", r: &llm.Reasoning{}, want: ""},
		{name: "budget", r: &llm.Reasoning{BudgetTokens: 2048}, want: `{"type":"enabled","token_budget":2048}`},
		{name: "budget wins over effort", r: &llm.Reasoning{BudgetTokens: 300, Effort: "none"}, want: `{"type":"enabled","token_budget":300}`},
		{name: "dynamic budget", r: &llm.Reasoning{BudgetTokens: -1}, want: `{"type":"enabled"}`},
		{name: "effort none", r: &llm.Reasoning{Effort: "NONE"}, want: `{"type":"disabled"}`},
		{name: "effort high", r: &llm.Reasoning{Effort: "high"}, want: `{"type":"enabled"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if th := encodeThinking(tt.r); th != nil {
				b, _ := marshal(th)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("thinking = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestErrorResult(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "object", in: `{ "code": 7 }`, want: `{"error":{"code":7}}`},
		{name: "text", in: `timeout <1s> & retry`, want: `{"error":"timeout <1s> & retry"}`},
		{name: "empty", in: ``, want: `{"error":""}`},
		{name: "broken JSON", in: `{"a":`, want: `{"error":"{\"a\":"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorResult(tt.in); got != tt.want {
				t.Errorf("errorResult(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestEncodeRequestDropped checks what EncodeRequest appends to
// Request.Dropped: exactly what it leaves out, once each, after what the
// inbound decoder listed, and nothing for fields it sends or that ask for
// nothing.
func TestEncodeRequestDropped(t *testing.T) {
	text := func(s string) llm.Part { return llm.Part{Type: llm.PartText, Text: s} }
	user := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{text("hi")}}
	call := llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f", Arguments: "{}"}}}
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	seed, topK, maxTokens := int64(7), 40, 100
	tests := []struct {
		name string
		req  llm.Request
		want []string
	}{
		{
			name: "everything sent",
			req: llm.Request{
				System: []llm.Part{text("be brief"), text("")},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), text(""), {Type: llm.PartImage, Data: png, MediaType: "image/png", Detail: "HIGH"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{text("let me check")}, ToolCalls: call.ToolCalls},
					{Role: llm.RoleTool, ToolCallID: "c1", IsError: true, Parts: []llm.Part{text("boom")}},
				},
				Tools:          []llm.Tool{{Name: "f", Strict: true}, {Name: "g", Strict: true}},
				ToolChoice:     &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"},
				MaxTokens:      &maxTokens,
				TopK:           &topK,
				Seed:           &seed,
				Stop:           []string{"END"},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object"}`)},
				Reasoning:      &llm.Reasoning{BudgetTokens: 1024},
				Stream:         true,
				IncludeUsage:   true,
			},
		},
		{
			name: "inbound drops kept first",
			req:  llm.Request{Messages: []llm.Message{user}, User: "u1", Dropped: []string{"logit_bias"}},
			want: []string{"logit_bias", "user"},
		},
		{
			name: "some tools strict",
			req:  llm.Request{Messages: []llm.Message{user}, Tools: []llm.Tool{{Name: "f", Strict: true}, {Name: "g"}}},
			want: []string{"tools[].strict"},
		},
		{
			name: "the named tool is strict",
			req: llm.Request{
				Messages:   []llm.Message{user},
				Tools:      []llm.Tool{{Name: "f", Strict: true}, {Name: "g"}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"},
			},
		},
		{
			name: "no parallel calls",
			req: llm.Request{
				Messages:   []llm.Message{user},
				Tools:      []llm.Tool{{Name: "f"}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto, DisableParallel: true},
			},
			want: []string{"tool_choice.disable_parallel"},
		},
		{
			name: "tool choice without tools constrains nothing",
			req:  llm.Request{Messages: []llm.Message{user}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true}},
		},
		{
			name: "named strict schema",
			req: llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{
				Type: "json_schema", Name: "answer", Strict: true, Schema: json.RawMessage(`{"type":"object"}`),
			}},
			want: []string{"response_format.name", "response_format.strict"},
		},
		{
			name: "text response format is the default",
			req:  llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{Type: "text"}},
		},
		{
			name: "unknown response format",
			req:  llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{Type: "xml"}},
			want: []string{"response_format (xml)"},
		},
		{
			name: "names",
			req: llm.Request{Messages: []llm.Message{
				{Role: llm.RoleUser, Name: "ann", Parts: []llm.Part{text("hi")}},
				{Role: llm.RoleAssistant, Name: "bot", ToolCalls: call.ToolCalls},
				{Role: llm.RoleTool, Name: "f", ToolCallID: "c1", Parts: []llm.Part{text("42")}},
			}},
			want: []string{"messages[].name"},
		},
		{
			name: "thinking in every turn",
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartThinking, Text: "s"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), {Type: llm.PartThinking, Text: "u"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}, text("ok")}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartThinking, Data: "opaque"}}, ToolCalls: call.ToolCalls},
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{text("42"), {Type: llm.PartThinking, Text: "t"}}},
				},
			},
			want: []string{"system[] (thinking)", "messages[].parts[] (thinking)"},
		},
		{
			name: "images where Cohere takes text only",
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartImage, Data: png, MediaType: "image/png"}},
				Messages: []llm.Message{
					user,
					{Role: llm.RoleAssistant, Parts: []llm.Part{text("drawn"), {Type: llm.PartImage, Data: png, MediaType: "image/png"}}, ToolCalls: call.ToolCalls},
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{text("shot"), {Type: llm.PartImage, Data: png, MediaType: "image/png"}}},
				},
			},
			want: []string{"system[] (image)", "messages[].parts[] (image)"},
		},
		{
			name: "cache markers and an unknown image detail",
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartText, Text: "long prompt", CacheControl: "ephemeral"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x/a.png", Detail: "original", CacheControl: "ephemeral"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "seen", CacheControl: "ephemeral"}}},
				},
			},
			want: []string{"system[].cache_control", "messages[].parts[].detail", "messages[].parts[].cache_control"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Model = "command-a-03-2025"
			for range 2 { // encoding again, as each attempt does, adds nothing
				if _, err := (Codec{}).EncodeRequest(&tt.req); err != nil {
					t.Fatalf("EncodeRequest: %v", err)
				}
			}
			if !reflect.DeepEqual(tt.req.Dropped, tt.want) {
				t.Errorf("Dropped = %q, want %q", tt.req.Dropped, tt.want)
			}
		})
	}
}
