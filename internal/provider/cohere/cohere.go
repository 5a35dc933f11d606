// Package cohere connects the gateway to Cohere's v2 Chat and Embed APIs
// (api.cohere.com/v2/chat, /v2/embed): the Adapter says where they live and
// how a key is presented, and the Codec translates the neutral chat model of
// package llm to Cohere's v2 chat format and back, for clients that speak
// OpenAI's or Anthropic's format, and OpenAI embeddings requests to v2 embed.
//
// Every choice the translation makes where the two models differ — what is
// dropped, what is renamed, how finish reasons and usage are read — is
// documented on Codec.EncodeRequest, Codec.DecodeResponse,
// Codec.NewStreamReader and Codec.DecodeError.
package cohere

import (
	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// Type is the configuration's provider type for Cohere upstreams.
const Type = "cohere"

// Adapter implements provider.Adapter for Cohere's v2 API.
type Adapter struct{}

var (
	_ provider.Adapter    = Adapter{}
	_ provider.Translator = Adapter{}
	_ provider.Supporter  = Adapter{}
)

func init() { provider.Register(Type, Adapter{}) }

// DefaultBaseURL is Cohere's public v2 API; v1 chat has a different body
// (message, chat_history, preamble) that the codec does not speak.
func (Adapter) DefaultBaseURL() string { return "https://api.cohere.com/v2" }

// URL is {base}/embed for embeddings and {base}/chat for chat, streamed or
// not: Cohere puts the stream flag in the body and the model in the body,
// never in the path. Other operations get {base}/chat too, which Supports
// keeps the gateway from using.
func (Adapter) URL(baseURL string, op provider.Operation, _ string, _ bool) string {
	if op == provider.Embeddings {
		return baseURL + "/embed"
	}
	return baseURL + "/chat"
}

// Credentials sends the key as a bearer token, as Cohere documents.
func (Adapter) Credentials(key string) []provider.Header {
	if key == "" {
		return nil
	}
	return []provider.Header{{Name: "Authorization", Value: "Bearer " + key}}
}

// Format is Cohere's v2 chat format; no client speaks it, so every request
// to a Cohere upstream goes through the Codec.
func (Adapter) Format() string { return Type }

// Codec translates to and from Cohere's v2 chat.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }

// Supports reports whether the gateway can reach op on Cohere: chat, and
// embeddings through v2 embed (see Codec.EncodeEmbeddings).
func (Adapter) Supports(op provider.Operation) bool {
	return op == provider.Chat || op == provider.Embeddings
}
