package bedrock

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
// neutral request) and compares the body with *.converse.json.
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
			golden(t, filepath.Join("testdata", "encode", name+".converse.json"), indent(t, body))
		})
	}
}

// TestDecodeResponseGolden decodes each testdata/decode/*.converse.json (a
// Converse response) and compares the result with *.neutral.json.
func TestDecodeResponseGolden(t *testing.T) {
	for name, path := range fixtures(t, "decode", ".converse.json") {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := Codec{}.DecodeResponse(raw)
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			b, err := marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "decode", name+".neutral.json"), indent(t, b))
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	user := func(p ...llm.Part) *llm.Request {
		return &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: p}}}
	}
	tests := []struct {
		name string
		req  *llm.Request
		want string
	}{
		{name: "nil request", req: nil, want: "no request"},
		{name: "image URL", req: user(llm.Part{Type: llm.PartImage, ImageURL: "https://example.com/cat.png"}), want: "image URLs are not supported by Bedrock Converse"},
		{name: "image without data", req: user(llm.Part{Type: llm.PartImage}), want: "image part without data or URL"},
		{name: "image of unknown type", req: user(llm.Part{Type: llm.PartImage, Data: "aGVsbG8gd29ybGQ="}), want: "image data of unknown type"},
		{name: "unsupported image type", req: user(llm.Part{Type: llm.PartImage, MediaType: "image/tiff", Data: "AAAA"}), want: `image type "image/tiff" is not supported`},
		{name: "malformed data URL", req: user(llm.Part{Type: llm.PartImage, ImageURL: "data:image/png;base64"}), want: "malformed data URL"},
		{name: "unknown role", req: &llm.Request{Messages: []llm.Message{{Role: "system"}}}, want: `unknown role "system"`},
		{
			name: "tool schema not an object",
			req: &llm.Request{
				Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "x"}}}},
				Tools:    []llm.Tool{{Name: "f", Parameters: json.RawMessage(`[1]`)}},
			},
			want: `tool "f": parameters: schema is not a JSON object`,
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

// TestToolChoiceNone checks that "none" keeps the tools away from the
// model unless the conversation already uses them.
func TestToolChoiceNone(t *testing.T) {
	tools := []llm.Tool{{Name: "f"}}
	none := &llm.ToolChoice{Mode: llm.ToolChoiceNone}
	fresh := &llm.Request{Tools: tools, ToolChoice: none, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}}
	body, err := Codec{}.EncodeRequest(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "toolConfig") {
		t.Errorf("toolConfig sent for tool_choice none: %s", body)
	}
	used := &llm.Request{Tools: tools, ToolChoice: none, Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t1", Name: "f", Arguments: "{}"}}},
		{Role: llm.RoleTool, ToolCallID: "t1", Parts: []llm.Part{{Type: llm.PartText, Text: "ok"}}},
	}}
	if body, err = (Codec{}).EncodeRequest(used); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"toolConfig":{"tools":[`) || strings.Contains(string(body), "toolChoice") {
		t.Errorf("want toolConfig without toolChoice once tools are in use: %s", body)
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus int
		wantType   string
		wantCode   string
		wantMsg    string
	}{
		{"validation", 400, `{"message":"Malformed input request: #: extraneous key [foo] is not permitted"}`, 400, "invalid_request_error", "", "Malformed input request: #: extraneous key [foo] is not permitted"},
		{"access denied", 403, `{"message":"You don't have access to the model with the specified model ID."}`, 403, "permission_error", "", "You don't have access to the model with the specified model ID."},
		{"bad signature", 403, `{"message":"The request signature we calculated does not match the signature you provided."}`, 403, "permission_error", "", "The request signature we calculated does not match the signature you provided."},
		{"not found", 404, `{"message":"The provided model identifier is invalid."}`, 404, "not_found_error", "", "The provided model identifier is invalid."},
		{"throttling", 429, `{"message":"Too many requests, please wait before trying again."}`, 429, "rate_limit_error", "", "Too many requests, please wait before trying again."},
		{"model timeout", 408, `{"message":"Model has timed out in processing the request."}`, 408, "server_error", "", "Model has timed out in processing the request."},
		{"internal", 500, `{"Message":"Internal server error"}`, 500, "server_error", "", "Internal server error"},
		{"typed", 400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"bad"}`, 400, "invalid_request_error", "ValidationException", "bad"},
		{"not JSON", 502, `<html>Bad Gateway</html>`, 502, "server_error", "", "bedrock upstream answered 502 Bad Gateway"},
		{"odd status", 200, `{}`, 502, "server_error", "", "bedrock upstream answered 502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Codec{}.DecodeError(tt.status, []byte(tt.body))
			if e.Status != tt.wantStatus || e.Type != tt.wantType || e.Code != tt.wantCode || e.Message != tt.wantMsg {
				t.Errorf("got %+v, want %d %s %q %q", e, tt.wantStatus, tt.wantType, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

// TestEncodeRequestDropped checks what EncodeRequest appends to
// Request.Dropped: exactly what it leaves out, once each, after what the
// inbound decoder listed, and nothing for fields it sends or that ask for
// nothing.
func TestEncodeRequestDropped(t *testing.T) {
	const claude, llama = "anthropic.claude-sonnet-4-5-20250929-v1:0", "meta.llama3-70b-instruct-v1:0"
	text := func(s string) llm.Part { return llm.Part{Type: llm.PartText, Text: s} }
	user := llm.Message{Role: llm.RoleUser, Parts: []llm.Part{text("hi")}}
	call := llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f", Arguments: "{}"}}}
	result := llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{text("42")}}
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	seed, topK, maxTokens := int64(7), 40, 100
	tests := []struct {
		name  string
		model string
		req   llm.Request
		want  []string
	}{
		{
			name:  "everything sent to Claude",
			model: claude,
			req: llm.Request{
				System: []llm.Part{text("be brief"), text(" ")},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), {Type: llm.PartImage, Data: png, MediaType: "image/png"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}}, ToolCalls: call.ToolCalls},
					{Role: llm.RoleTool, ToolCallID: "c1", IsError: true, Parts: []llm.Part{text("boom")}},
				},
				Tools:        []llm.Tool{{Name: "f"}},
				ToolChoice:   &llm.ToolChoice{Mode: llm.ToolChoiceRequired},
				MaxTokens:    &maxTokens,
				TopK:         &topK,
				Stop:         []string{"END"},
				Reasoning:    &llm.Reasoning{Effort: "high"},
				Stream:       true,
				IncludeUsage: true,
			},
		},
		{
			name:  "Claude's native fields on another model",
			model: llama,
			req:   llm.Request{Messages: []llm.Message{user}, TopK: &topK, Reasoning: &llm.Reasoning{BudgetTokens: 2048}},
			want:  []string{"reasoning", "top_k"},
		},
		{
			name:  "reasoning off asks for nothing",
			model: llama,
			req:   llm.Request{Messages: []llm.Message{user}, Reasoning: &llm.Reasoning{Effort: "none"}},
		},
		{
			name:  "dynamic budget on Claude",
			model: claude,
			req:   llm.Request{Messages: []llm.Message{user}, Reasoning: &llm.Reasoning{BudgetTokens: -1}},
			want:  []string{"reasoning"},
		},
		{
			name:  "inbound drops kept first",
			model: claude,
			req:   llm.Request{Messages: []llm.Message{user}, Seed: &seed, User: "u1", Dropped: []string{"logit_bias"}},
			want:  []string{"logit_bias", "seed", "user"},
		},
		{
			name:  "JSON mode",
			model: claude,
			req:   llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{Type: "json_object"}},
			want:  []string{"response_format (json_object)"},
		},
		{
			name:  "structured output",
			model: claude,
			req: llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{
				Type: "json_schema", Name: "answer", Strict: true, Schema: json.RawMessage(`{"type":"object"}`),
			}},
			want: []string{"response_format (json_schema)"},
		},
		{
			name:  "text response format is the default",
			model: claude,
			req:   llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{Type: "text"}},
		},
		{
			name:  "strict tools and no parallel calls",
			model: claude,
			req: llm.Request{
				Messages:   []llm.Message{user},
				Tools:      []llm.Tool{{Name: "f", Strict: true}, {Name: "g", Strict: true}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto, DisableParallel: true},
			},
			want: []string{"tools[].strict", "tool_choice.disable_parallel"},
		},
		{
			name:  "tool choice none keeps the tools away",
			model: claude,
			req: llm.Request{
				Messages:   []llm.Message{user},
				Tools:      []llm.Tool{{Name: "f", Strict: true}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone, DisableParallel: true},
			},
		},
		{
			name:  "tool choice none once tools are in use",
			model: claude,
			req: llm.Request{
				Messages:   []llm.Message{user, call, result},
				Tools:      []llm.Tool{{Name: "f"}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone, DisableParallel: true},
			},
			want: []string{"tool_choice (none)"},
		},
		{
			name:  "tool choice without tools constrains nothing",
			model: claude,
			req:   llm.Request{Messages: []llm.Message{user}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true}},
		},
		{
			name:  "names",
			model: claude,
			req: llm.Request{Messages: []llm.Message{
				{Role: llm.RoleUser, Name: "ann", Parts: []llm.Part{text("hi")}},
				{Role: llm.RoleAssistant, Name: "bot", ToolCalls: call.ToolCalls},
				{Role: llm.RoleTool, Name: "f", ToolCallID: "c1", Parts: []llm.Part{text("42")}},
			}},
			want: []string{"messages[].name"},
		},
		{
			name:  "thinking that cannot be replayed",
			model: claude,
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartThinking, Text: "s"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), {Type: llm.PartThinking, Text: "u"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartThinking, Text: "other provider's"}, {Type: llm.PartThinking, Data: "opaque"}, text("ok")}, ToolCalls: call.ToolCalls},
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{text("42"), {Type: llm.PartThinking, Text: "t"}}},
				},
			},
			want: []string{"system[] (thinking)", "messages[].parts[] (thinking)", "messages[].parts[] (unsigned thinking)", "messages[].parts[] (redacted thinking)"},
		},
		{
			name:  "image in the system prompt",
			model: claude,
			req:   llm.Request{System: []llm.Part{{Type: llm.PartImage, Data: png, MediaType: "image/png"}}, Messages: []llm.Message{user}},
			want:  []string{"system[] (image)"},
		},
		{
			name:  "cache markers and image detail",
			model: claude,
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartText, Text: "long prompt", CacheControl: "ephemeral"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, Data: png, MediaType: "image/png", Detail: "low", CacheControl: "ephemeral"}}},
					call,
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{{Type: llm.PartText, Text: "42", CacheControl: "ephemeral"}}},
				},
			},
			want: []string{"system[].cache_control", "messages[].parts[].detail", "messages[].parts[].cache_control"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Model = tt.model
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
