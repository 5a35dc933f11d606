package anthropic

import "github.com/hypergate/hypergate/internal/llm"

// Format is Anthropic's Messages API.
func (Adapter) Format() string { return Type }

// Codec translates to and from the Messages API.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }
