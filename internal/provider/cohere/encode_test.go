package cohere

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
