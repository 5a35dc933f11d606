// Package openai is the adapter for every upstream that speaks OpenAI's wire
// format: OpenAI itself, vLLM, Ollama, Groq, DeepSeek, Mistral, Together,
// OpenRouter, LM Studio and the like (with presets for the common ones).
// Requests in OpenAI's format pass through to them unchanged; the Codec
// translates OpenAI chat completions to and from the neutral llm model, both
// for OpenAI-format clients of other families and for other clients (the
// Anthropic API) of these upstreams.
package openai

import (
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// Type is the configuration's provider type for OpenAI-compatible upstreams.
const Type = "openai"

// Adapter implements provider.Adapter for OpenAI-compatible upstreams.
type Adapter struct{}

var _ provider.Adapter = Adapter{}

func init() { provider.Register(Type, Adapter{}) }

// DefaultBaseURL is OpenAI's public API.
func (Adapter) DefaultBaseURL() string { return "https://api.openai.com/v1" }

// URL appends the operation's path to the base URL, which already holds the
// version segment (".../v1"), as every OpenAI-compatible server expects.
func (Adapter) URL(baseURL string, op provider.Operation, _ string, _ bool) string {
	switch op {
	case provider.Embeddings:
		return baseURL + "/embeddings"
	case provider.Responses:
		return baseURL + "/responses"
	default:
		return baseURL + "/chat/completions"
	}
}

// Credentials sends the key as a bearer token.
func (Adapter) Credentials(key string) []provider.Header {
	if key == "" {
		return nil
	}
	return []provider.Header{{Name: "Authorization", Value: "Bearer " + key}}
}

// Format is OpenAI chat completions.
func (Adapter) Format() string { return Type }

// Codec translates to and from OpenAI chat completions.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }
