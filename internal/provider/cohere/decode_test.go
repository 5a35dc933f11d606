package cohere

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergate/hypergate/internal/llm"
)

// TestDecodeResponseGolden decodes each testdata/decode/*.cohere.json and
// compares the neutral response with *.neutral.json.
func TestDecodeResponseGolden(t *testing.T) {
	for name, path := range fixtures(t, "decode", ".cohere.json") {
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
		{name: "not JSON", body: `<html>`, want: "decoding cohere response"},
		{name: "truncated", body: `{"message":{"content":`, want: "decoding cohere response"},
		{name: "no message", body: `{"id":"x","finish_reason":"COMPLETE"}`, want: "no message"},
		{name: "error body", body: `{"id":"e1","message":"internal server error"}`, want: "internal server error", wantStatus: 502},
		{
			name:       "finish ERROR",
			body:       `{"id":"x","finish_reason":"ERROR","message":{"role":"assistant","content":[{"type":"text","text":"partial"}]}}`,
			want:       "generation failed",
			wantStatus: 502,
		},
		{
			name:       "finish TIMEOUT",
			body:       `{"id":"x","finish_reason":"TIMEOUT","message":{"role":"assistant","content":[]}}`,
			want:       "timed out",
			wantStatus: 504,
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
		{"COMPLETE", false, llm.FinishStop},
		{"COMPLETE", true, llm.FinishToolCalls},
		{"STOP_SEQUENCE", false, llm.FinishStop},
		{"MAX_TOKENS", false, llm.FinishLength},
		{"MAX_TOKENS", true, llm.FinishLength},
		{"TOOL_CALL", false, llm.FinishToolCalls},
		{"TOOL_CALL", true, llm.FinishToolCalls},
		{"SOMETHING_NEW", false, llm.FinishStop},
		{"", false, llm.FinishStop},
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
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		in   *usageFields
		want llm.Usage
	}{
		{name: "absent", in: nil, want: llm.Usage{}},
		{name: "empty but present", in: &usageFields{}, want: llm.Usage{Present: true}},
		{
			name: "billed units win",
			in: &usageFields{BilledUnits: &tokenCounts{InputTokens: f(5), OutputTokens: f(418)},
				Tokens: &tokenCounts{InputTokens: f(71), OutputTokens: f(418)}},
			want: llm.Usage{InputTokens: 5, OutputTokens: 418, Present: true},
		},
		{
			name: "tokens stand in per field",
			in:   &usageFields{BilledUnits: &tokenCounts{OutputTokens: f(3)}, Tokens: &tokenCounts{InputTokens: f(9), OutputTokens: f(4)}},
			want: llm.Usage{InputTokens: 9, OutputTokens: 3, Present: true},
		},
		{
			name: "cached capped at input",
			in:   &usageFields{BilledUnits: &tokenCounts{InputTokens: f(10), OutputTokens: f(1)}, CachedTokens: 448},
			want: llm.Usage{InputTokens: 10, OutputTokens: 1, CachedInputTokens: 10, Present: true},
		},
		{
			name: "negative counts read as zero",
			in:   &usageFields{Tokens: &tokenCounts{InputTokens: f(-5), OutputTokens: f(7)}, CachedTokens: -1},
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
