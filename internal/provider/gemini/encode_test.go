package gemini

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
// neutral request) and compares the body with *.gemini.json.
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
			if !json.Valid(body) {
				t.Fatalf("invalid JSON: %s", body)
			}
			golden(t, filepath.Join("testdata", "encode", name+".gemini.json"), indent(t, body))
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	text := func(s string) []llm.Part { return []llm.Part{{Type: llm.PartText, Text: s}} }
	tests := []struct {
		name string
		req  *llm.Request
		want string
	}{
		{name: "nil request", req: nil, want: "no request"},
		{
			name: "tool result without a call",
			req: &llm.Request{Messages: []llm.Message{
				{Role: llm.RoleUser, Parts: text("hi")},
				{Role: llm.RoleTool, ToolCallID: "call_x", Parts: text("42")},
			}},
			want: `the tool result for "call_x" answers no earlier tool call`,
		},
		{
			name: "tool result before its call",
			req: &llm.Request{Messages: []llm.Message{
				{Role: llm.RoleTool, ToolCallID: "call_1", Parts: text("42")},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "f"}}},
			}},
			want: "answers no earlier tool call",
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
			name: "malformed data URL",
			req: &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartImage, ImageURL: "data:image/png;base64"},
			}}}},
			want: "malformed data URL",
		},
		{
			name: "tool parameters not JSON",
			req: &llm.Request{
				Messages: []llm.Message{{Role: llm.RoleUser, Parts: text("x")}},
				Tools:    []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":`)}},
			},
			want: `tool "f": parameters: schema is not valid JSON`,
		},
		{
			name: "response schema not JSON",
			req: &llm.Request{
				Messages:       []llm.Message{{Role: llm.RoleUser, Parts: text("x")}},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{]`)},
			},
			want: "response_format schema: schema is not valid JSON",
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

// TestEncodeToolResultNames checks that a repeated call id resolves to the
// nearest earlier call, and that Name stands in for an unknown id.
func TestEncodeToolResultNames(t *testing.T) {
	r := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "go"}}},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_0", Name: "first"}}},
		{Role: llm.RoleTool, ToolCallID: "call_0", Parts: []llm.Part{{Type: llm.PartText, Text: "1"}}},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_0", Name: "second"}}},
		{Role: llm.RoleTool, ToolCallID: "call_0", Parts: []llm.Part{{Type: llm.PartText, Text: "2"}}},
		{Role: llm.RoleTool, ToolCallID: "legacy", Name: "third", Parts: []llm.Part{
			{Type: llm.PartText, Text: "[1,2]"},
			{Type: llm.PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
		}},
	}}
	body, err := Codec{}.EncodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	var got generateRequest
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var names, responses []string
	for _, c := range got.Contents {
		for _, p := range c.Parts {
			if p.FunctionResponse != nil {
				names = append(names, p.FunctionResponse.Name)
				responses = append(responses, string(p.FunctionResponse.Response))
			}
		}
	}
	if want := "first second third"; strings.Join(names, " ") != want {
		t.Errorf("names = %v, want %s", names, want)
	}
	if want := `{"output":1} {"output":2} {"output":[1,2]}`; strings.Join(responses, " ") != want {
		t.Errorf("responses = %v, want %s", responses, want)
	}
	last := got.Contents[len(got.Contents)-1]
	if n := len(last.Parts); n != 3 || last.Parts[2].InlineData == nil {
		t.Errorf("last turn = %+v, want two functionResponses then the tool's image", last)
	}
}

func TestCallArgs(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "object", in: `{ "a": 1 }`, want: `{"a":1}`},
		{name: "empty", in: "", want: `{}`},
		{name: "blank", in: "  ", want: `{}`},
		{name: "array", in: `[1]`, want: `{"arguments":[1]}`},
		{name: "not JSON", in: `{"a":`, want: `{"arguments":"{\"a\":"}`},
		{name: "html kept", in: `{"q":"<b>&"}`, want: `{"q":"<b>&"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(callArgs(tt.in)); got != tt.want {
				t.Errorf("callArgs(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestThinkingConfig(t *testing.T) {
	tests := []struct {
		name string
		r    *llm.Reasoning
		want string // the thinkingConfig JSON, "" for none
	}{
		{name: "no reasoning", r: nil, want: ""},
		{name: "empty reasoning", r: &llm.Reasoning{}, want: ""},
		{name: "budget", r: &llm.Reasoning{BudgetTokens: 2048}, want: `{"includeThoughts":true,"thinkingBudget":2048}`},
		{name: "budget wins over effort", r: &llm.Reasoning{BudgetTokens: 300, Effort: "high"}, want: `{"includeThoughts":true,"thinkingBudget":300}`},
		{name: "dynamic budget", r: &llm.Reasoning{BudgetTokens: -1}, want: `{"includeThoughts":true,"thinkingBudget":-1}`},
		{name: "none", r: &llm.Reasoning{Effort: "none"}, want: `{"thinkingBudget":0}`},
		{name: "minimal", r: &llm.Reasoning{Effort: "minimal"}, want: `{"includeThoughts":true,"thinkingBudget":512}`},
		{name: "low", r: &llm.Reasoning{Effort: "low"}, want: `{"includeThoughts":true,"thinkingBudget":1024}`},
		{name: "medium upper case", r: &llm.Reasoning{Effort: "MEDIUM"}, want: `{"includeThoughts":true,"thinkingBudget":8192}`},
		{name: "high", r: &llm.Reasoning{Effort: "high"}, want: `{"includeThoughts":true,"thinkingBudget":24576}`},
		{name: "unknown level is dynamic", r: &llm.Reasoning{Effort: "xhigh"}, want: `{"includeThoughts":true,"thinkingBudget":-1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gc, err := encodeGenerationConfig(&llm.Request{Reasoning: tt.r}, func(string) {})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if gc != nil && gc.ThinkingConfig != nil {
				b, _ := marshal(gc.ThinkingConfig)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("thinkingConfig = %s, want %s", got, tt.want)
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
	temp := 0.3
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
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), text(""), {Type: llm.PartImage, Data: png, MediaType: "image/png"}}},
					call,
					{Role: llm.RoleTool, ToolCallID: "c1", Name: "f", IsError: true, Parts: []llm.Part{text("boom")}},
				},
				Tools:          []llm.Tool{{Name: "f", Description: "d"}},
				ToolChoice:     &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"},
				MaxTokens:      &maxTokens,
				Temperature:    &temp,
				TopK:           &topK,
				Seed:           &seed,
				Stop:           []string{"END"},
				ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`)},
				Reasoning:      &llm.Reasoning{Effort: "low"},
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
			name: "strict tools and no parallel calls",
			req: llm.Request{
				Messages:   []llm.Message{user},
				Tools:      []llm.Tool{{Name: "f", Strict: true}, {Name: "g", Strict: true}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto, DisableParallel: true},
			},
			want: []string{"tools[].strict", "tool_choice.disable_parallel"},
		},
		{
			name: "tool choice without tools constrains nothing",
			req:  llm.Request{Messages: []llm.Message{user}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true}},
		},
		{
			name: "named strict schema",
			req: llm.Request{Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{
				Type: "json_schema", Name: "answer", Strict: true, Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`),
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
			name: "participant names",
			req: llm.Request{Messages: []llm.Message{
				{Role: llm.RoleUser, Name: "ann", Parts: []llm.Part{text("hi")}},
				{Role: llm.RoleAssistant, Name: "bot", Parts: []llm.Part{text("hello")}},
			}},
			want: []string{"messages[].name"},
		},
		{
			name: "thinking in every turn",
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartThinking, Text: "s"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{text("hi"), {Type: llm.PartThinking, Text: "u"}}},
					{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}}, ToolCalls: call.ToolCalls},
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{text("42"), {Type: llm.PartThinking, Text: "t"}}},
				},
			},
			want: []string{"system[] (thinking)", "messages[].parts[] (thinking)"},
		},
		{
			name: "image in the system prompt",
			req:  llm.Request{System: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x/a.png"}}, Messages: []llm.Message{user}},
			want: []string{"system[] (image)"},
		},
		{
			name: "cache markers and image detail",
			req: llm.Request{
				System: []llm.Part{{Type: llm.PartText, Text: "long prompt", CacheControl: "ephemeral"}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x/a.png", Detail: "high", CacheControl: "ephemeral"}}},
					call,
					{Role: llm.RoleTool, ToolCallID: "c1", Parts: []llm.Part{{Type: llm.PartText, Text: "42", CacheControl: "ephemeral"}}},
				},
			},
			want: []string{"system[].cache_control", "messages[].parts[].detail", "messages[].parts[].cache_control"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Model = "gemini-2.5-flash"
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
