package bedrock

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
