package llm

import (
	"errors"
	"math"
	"testing"
)

func TestEstimateEmbeddingTokens(t *testing.T) {
	tests := []struct {
		name   string
		model  string
		inputs []string
		want   int64
	}{
		{name: "none", model: "text-embedding-3-small", want: 0},
		{name: "empty text", model: "text-embedding-3-small", inputs: []string{""}, want: 0},
		// cl100k_base: "hello world" is 2 tokens, "The quick brown fox" 4.
		{name: "exact, summed without framing", model: "text-embedding-3-small", inputs: []string{"hello world", "The quick brown fox"}, want: 6},
		// Other families are counted with o200k_base, where the same holds.
		{name: "approximate family", model: "gemini-embedding-001", inputs: []string{"hello world", "The quick brown fox"}, want: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EstimateEmbeddingTokens(tt.model, tt.inputs); got != tt.want {
				t.Errorf("EstimateEmbeddingTokens = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestValidVector(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name string
		v    []float32
		want bool
	}{
		{name: "empty", v: nil, want: false},
		{name: "finite", v: []float32{0.5, -0.25, 0}, want: true},
		{name: "NaN", v: []float32{0.5, nan}, want: false},
		{name: "infinity", v: []float32{-inf}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidVector(tt.v); got != tt.want {
				t.Errorf("ValidVector(%v) = %t, want %t", tt.v, got, tt.want)
			}
		})
	}
}

// ErrTokenInput is matched by identity, through wrapping too, and renders
// as a client error.
func TestErrTokenInput(t *testing.T) {
	var err error = ErrTokenInput
	if !errors.Is(err, ErrTokenInput) {
		t.Fatal("errors.Is does not match ErrTokenInput")
	}
	var le *Error
	if !errors.As(err, &le) || le.Status != 400 || le.Type != "invalid_request_error" || le.Code == "" || le.Message == "" {
		t.Errorf("ErrTokenInput = %+v", le)
	}
	copied := *ErrTokenInput
	if errors.Is(&copied, ErrTokenInput) {
		t.Error("a copy must not match: only the decoder's own error means token input")
	}
}
