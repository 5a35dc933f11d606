package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/llm"
)

// Codec translates between Anthropic's Messages API and the neutral chat
// model, as a client-facing (inbound) format and as an upstream family. It
// holds no state; one value serves every request.
type Codec struct{}

var (
	_ llm.InboundCodec  = Codec{}
	_ llm.UpstreamCodec = Codec{}
)

// RedactedThinkingID marks a stream event that carries a redacted_thinking
// block. llm.StreamEvent has no field for such a block's opaque data, so an
// EventThinking whose ID is RedactedThinkingID carries it in Signature (and
// no Text). Writers of other formats see a thinking event without text and
// write nothing, which is right: the data means nothing outside Anthropic. In
// whole messages the block is an llm.PartThinking with Data set and no Text.
const RedactedThinkingID = "redacted_thinking"

// now is the clock that stamps Created: Anthropic's messages carry no
// creation time, and OpenAI-format clients expect one. Tests replace it.
var now = time.Now

// badRequest is the error for an invalid inbound request: a 400 in
// Anthropic's invalid_request_error type, its message led by the path of the
// offending field as Anthropic's own messages are.
func badRequest(path, format string, args ...any) *llm.Error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return &llm.Error{Status: 400, Type: "invalid_request_error", Message: msg}
}

// marshal is json.Marshal without HTML escaping: the bodies go to APIs and
// SDKs, never into HTML, and "<" left as is keeps translated text readable
// and byte-comparable with what Anthropic itself sends.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
