package gemini

import (
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// Format is Gemini's generateContent API.
func (Adapter) Format() string { return Type }

// Codec translates to and from generateContent.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }

// Supports reports whether Gemini offers op through this adapter: chat and
// embeddings (the latter's body is not translated by the gateway).
func (Adapter) Supports(op provider.Operation) bool {
	return op == provider.Chat || op == provider.Embeddings
}
