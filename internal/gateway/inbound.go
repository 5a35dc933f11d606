package gateway

import (
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider/anthropic"
	"github.com/hypergate/hypergate/internal/provider/openai"
)

// inbound is an API format clients call the gateway in. A call whose
// upstream speaks the same format passes through untouched; any other goes
// through the neutral llm model with the two formats' codecs.
type inbound struct {
	format string // the provider type whose wire format this is
	codec  llm.InboundCodec
}

var (
	openaiInbound    = &inbound{format: openai.Type, codec: openai.Codec{}}
	anthropicInbound = &inbound{format: anthropic.Type, codec: anthropic.Codec{}}
	// responsesInbound is OpenAI's Responses API: passed through to the
	// OpenAI family only, never translated (no codec).
	responsesInbound = &inbound{format: openai.Type}
)

// streamWriter returns the client-format writer for a translated stream.
func (in *inbound) streamWriter(c *call, w interface {
	Write([]byte) (int, error)
	Flush() error
}, includeUsage bool) llm.StreamWriter {
	if oc, ok := in.codec.(openai.Codec); ok {
		return oc.NewStreamWriterFor(w, w.Flush, includeUsage)
	}
	return in.codec.NewStreamWriter(w, w.Flush)
}

// render returns e in the inbound format: OpenAI's error shape for OpenAI
// clients, the codec's for the others (Anthropic's for /v1/messages).
func (in *inbound) render(e *apiError) []byte {
	if in == nil || in.codec == nil || in == openaiInbound {
		return marshalError(e)
	}
	return in.codec.EncodeError(&llm.Error{Status: e.Status, Type: e.Type, Code: e.Code, Message: e.Message})
}
