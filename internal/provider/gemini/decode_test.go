package gemini

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// TestDecodeResponseGolden decodes each testdata/decode/*.gemini.json and
// compares the neutral response with *.neutral.json.
func TestDecodeResponseGolden(t *testing.T) {
	for name, path := range fixtures(t, "decode", ".gemini.json") {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := Codec{}.DecodeResponse(body)
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			golden(t, filepath.Join("testdata", "decode", name+".neutral.json"), mustJSON(t, resp))
		})
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       string
		wantStatus int // of an *llm.Error, 0 for a plain error
	}{
		{name: "not JSON", body: `<html>`, want: "decoding gemini response"},
		{name: "truncated", body: `{"candidates":[{"content":`, want: "decoding gemini response"},
		{name: "no candidates", body: `{"modelVersion":"gemini-2.5-flash"}`, want: "no candidates and no block reason"},
		{
			name:       "error object",
			body:       `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
			want:       "Resource has been exhausted",
			wantStatus: 429,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.DecodeResponse([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var le *llm.Error
			if got := errors.As(err, &le); got != (tt.wantStatus != 0) || (got && le.Status != tt.wantStatus) {
				t.Errorf("err = %#v, want an *llm.Error with status %d: %t", err, tt.wantStatus, tt.wantStatus != 0)
			}
		})
	}
}

func TestFinishReason(t *testing.T) {
	tests := []struct {
		reason    string
		toolCalls bool
		want      llm.FinishReason
	}{
		{"STOP", false, llm.FinishStop},
		{"STOP", true, llm.FinishToolCalls},
		{"", true, llm.FinishToolCalls},
		{"MAX_TOKENS", false, llm.FinishLength},
		{"MAX_TOKENS", true, llm.FinishLength},
		{"SAFETY", false, llm.FinishContentFilter},
		{"SAFETY", true, llm.FinishContentFilter},
		{"RECITATION", false, llm.FinishContentFilter},
		{"BLOCKLIST", false, llm.FinishContentFilter},
		{"PROHIBITED_CONTENT", false, llm.FinishContentFilter},
		{"SPII", false, llm.FinishContentFilter},
		{"IMAGE_SAFETY", false, llm.FinishContentFilter},
		{"IMAGE_PROHIBITED_CONTENT", false, llm.FinishContentFilter},
		{"IMAGE_RECITATION", false, llm.FinishContentFilter},
		{"LANGUAGE", false, llm.FinishStop},
		{"OTHER", false, llm.FinishStop},
		{"MALFORMED_FUNCTION_CALL", false, llm.FinishStop},
		{"UNEXPECTED_TOOL_CALL", false, llm.FinishStop},
		{"FINISH_REASON_UNSPECIFIED", false, llm.FinishStop},
		{"SOMETHING_NEW", false, llm.FinishStop},
	}
	for _, tt := range tests {
		name := tt.reason
		if tt.toolCalls {
			name += " with tool calls"
		}
		t.Run(name, func(t *testing.T) {
			if got := finishReason(tt.reason, tt.toolCalls); got != tt.want {
				t.Errorf("finishReason(%q, %t) = %q, want %q", tt.reason, tt.toolCalls, got, tt.want)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		in   *usageMetadata
		want llm.Usage
	}{
		{name: "absent", in: nil, want: llm.Usage{}},
		{name: "zero but present", in: &usageMetadata{}, want: llm.Usage{Present: true}},
		{
			name: "everything",
			in: &usageMetadata{PromptTokenCount: 100, CachedContentTokenCount: 60, ToolUsePromptTokenCount: 5,
				CandidatesTokenCount: 20, ThoughtsTokenCount: 30, TotalTokenCount: 155},
			want: llm.Usage{InputTokens: 105, CachedInputTokens: 60, OutputTokens: 50, ReasoningTokens: 30, Present: true},
		},
		{
			name: "negative counts read as zero",
			in:   &usageMetadata{PromptTokenCount: -5, CandidatesTokenCount: 7, ThoughtsTokenCount: -1},
			want: llm.Usage{OutputTokens: 7, Present: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := usage(tt.in); got != tt.want {
				t.Errorf("usage = %+v, want %+v", got, tt.want)
			}
		})
	}
}
