package llm

import (
	"math"
	"net/http"
)

// The provider-neutral embeddings model. OpenAI's POST /v1/embeddings is
// the only client format for embeddings; when its upstream speaks another
// (Gemini's batchEmbedContents, Cohere's v2 embed, Bedrock's InvokeModel
// bodies), the OpenAI codec decodes the request into an EmbedRequest, the
// upstream codec encodes it for the provider and decodes the answer into an
// EmbedResponse, and the OpenAI codec renders that for the client. Requests
// whose upstream speaks OpenAI's format never come here: they pass through.

// EmbedRequest is a provider-neutral embeddings request: texts only, since
// every family takes text and OpenAI's token-id inputs mean nothing to the
// others (see ErrTokenInput).
type EmbedRequest struct {
	Model  string   `json:"model"`
	Inputs []string `json:"inputs"`
	// Dimensions asks for vectors of that length; 0 leaves the model's default.
	Dimensions int `json:"dimensions,omitempty"`
	// EncodingFormat is how the client wants the vectors written, "float"
	// or "base64". It concerns the client's answer only: upstreams are
	// always asked for floats.
	EncodingFormat string `json:"encoding_format,omitempty"`
	// User identifies the end user, where the upstream has a place for it.
	User string `json:"user,omitempty"`
	// Dropped lists the inbound fields that have no counterpart and were
	// left out on purpose, for the call record and the docs.
	Dropped []string `json:"dropped,omitempty"`
}

// EmbedResponse is a provider-neutral embeddings answer: one vector per
// input, in input order.
type EmbedResponse struct {
	// Model is the model the upstream says answered, or "" when it names
	// none (the gateway then reports the model it asked for).
	Model   string      `json:"model,omitempty"`
	Vectors [][]float32 `json:"vectors"`
	// Usage counts input tokens only. It is not Present when the upstream
	// reported none (Gemini never does); the gateway then estimates it and
	// marks the call record's usage as estimated.
	Usage Usage `json:"usage"`
}

// EmbeddingsCodec is implemented by the upstream codecs of families that
// offer embeddings; the gateway finds it on an llm.UpstreamCodec by type
// assertion, and maps error answers with that codec's DecodeError.
type EmbeddingsCodec interface {
	// EncodeEmbeddings builds the upstream body for r (r.Model is the
	// upstream model). It may append to r.Dropped. A request the family
	// cannot express is refused with an *Error of status 400, which makes
	// the gateway try the model's next target.
	EncodeEmbeddings(r *EmbedRequest) ([]byte, error)
	// DecodeEmbeddings reads a successful (2xx) upstream answer. Upstream
	// bodies are untrusted: any shape must give an answer or an error,
	// never a panic, and every vector returned is non-empty and finite.
	DecodeEmbeddings(body []byte) (*EmbedResponse, error)
}

// InboundEmbeddingsCodec is what the gateway needs of a client API format
// that takes embeddings requests (OpenAI's /v1/embeddings).
type InboundEmbeddingsCodec interface {
	// DecodeEmbeddingsRequest validates and decodes a client body. Errors
	// are *Error (status 400); ErrTokenInput for inputs given as token ids.
	DecodeEmbeddingsRequest(body []byte) (*EmbedRequest, error)
	// EncodeEmbeddingsResponse renders r for the client, the vectors
	// written as encodingFormat asks ("float" or "base64").
	EncodeEmbeddingsResponse(r *EmbedResponse, encodingFormat string) ([]byte, error)
}

// ErrTokenInput is the error an inbound codec returns for embeddings input
// given as token ids (OpenAI accepts arrays of integers, or of integer
// arrays). Token ids belong to one tokenizer, so no other family can take
// them, but an OpenAI-format target of the same model still can: the
// gateway fails only the attempts that would translate, with this error,
// and moves on. It is never modified; callers copy it to change it.
var ErrTokenInput = &Error{
	Status: http.StatusBadRequest,
	Type:   "invalid_request_error",
	Code:   "token_input_not_translatable",
	Message: "input given as token ids can only be sent to an OpenAI-compatible upstream, " +
		"and this model's upstream is of another kind: send the input as text",
}

// EstimateEmbeddingTokens returns the estimated input tokens of inputs for
// model (see EstimateTokens), for upstreams that report no usage.
// Embeddings have no per-message framing: the count is the sum of the
// inputs' counts.
func EstimateEmbeddingTokens(model string, inputs []string) int64 {
	var n int64
	for _, in := range inputs {
		c, _ := EstimateTokens(model, in)
		n += int64(c)
	}
	return n
}

// ValidVector reports whether v can be sent to a client: at least one
// value, and every value finite.
func ValidVector(v []float32) bool {
	if len(v) == 0 {
		return false
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
