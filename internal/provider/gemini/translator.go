package gemini

import "github.com/hypergate/hypergate/internal/llm"

// Format is Gemini's generateContent API.
func (Adapter) Format() string { return Type }

// Codec translates to and from generateContent.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }
