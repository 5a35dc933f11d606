package gemini

import (
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// Format is Gemini's generateContent API.
func (Adapter) Format() string { return Type }

// Codec translates to and from generateContent.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }

// Supports reports whether the gateway can reach op on Gemini: chat, and
// embeddings through batchEmbedContents (see Codec.EncodeEmbeddings).
func (Adapter) Supports(op provider.Operation) bool {
	return op == provider.Chat || op == provider.Embeddings
}
