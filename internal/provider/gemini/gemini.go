// Package gemini connects the gateway to Google's Gemini API
// (generativelanguage.googleapis.com): the Adapter says where its operations
// live and how a key is presented, and the Codec translates the neutral chat
// model of package llm to Gemini's generateContent format and back, for
// clients that speak OpenAI's or Anthropic's format, and OpenAI embeddings
// requests to batchEmbedContents.
//
// Every choice the translation makes where the two models differ — what is
// dropped, what is wrapped, how ids are invented — is documented on
// Codec.EncodeRequest, Codec.DecodeResponse, Codec.NewStreamReader and
// Codec.DecodeError.
package gemini

import (
	"net/url"
	"strings"

	"github.com/hypergate/hypergate/internal/provider"
)

// Type is the configuration's provider type for Gemini upstreams.
const Type = "gemini"

// Adapter implements provider.Adapter for the Gemini API.
type Adapter struct{}

var _ provider.Adapter = Adapter{}

func init() { provider.Register(Type, Adapter{}) }

// DefaultBaseURL is the public Gemini API, version v1beta: the tools,
// thinking and JSON-schema features the codec uses are not all in v1.
func (Adapter) DefaultBaseURL() string {
	return "https://generativelanguage.googleapis.com/v1beta"
}

// URL puts the model and the method in the path, as Gemini does:
// {base}/models/{model}:generateContent, :streamGenerateContent?alt=sse
// (alt=sse asks for server-sent events instead of one long JSON array) or,
// for embeddings, :batchEmbedContents, which takes several texts where
// embedContent takes one. The model may be given bare ("gemini-2.5-flash") or as a
// resource name ("models/gemini-2.5-flash"); it is escaped as one path
// segment, ':' included, so that no model name can pick another method.
func (Adapter) URL(baseURL string, op provider.Operation, model string, stream bool) string {
	target := baseURL + "/models/" + escapeModel(model)
	switch {
	case op == provider.Embeddings:
		return target + ":batchEmbedContents"
	case stream:
		return target + ":streamGenerateContent?alt=sse"
	default:
		return target + ":generateContent"
	}
}

// escapeModel strips the "models/" resource prefix and escapes the rest.
func escapeModel(model string) string {
	model = strings.TrimPrefix(strings.TrimLeft(model, "/"), "models/")
	return strings.ReplaceAll(url.PathEscape(model), ":", "%3A")
}

// Credentials sends the key in the x-goog-api-key header. Gemini also
// accepts it as a "key" query parameter, but URLs end up in access logs,
// traces and error messages, headers do not.
func (Adapter) Credentials(key string) []provider.Header {
	if key == "" {
		return nil
	}
	return []provider.Header{{Name: "x-goog-api-key", Value: key}}
}
