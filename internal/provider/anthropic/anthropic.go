// Package anthropic speaks Anthropic's Messages API in both directions: it is
// the upstream adapter for providers of type "anthropic", and its Codec
// translates between the Messages wire format and the provider-neutral chat
// model of package llm — for clients that call the gateway's POST
// /v1/messages with an Anthropic SDK or Claude Code, and for upstreams that
// are Anthropic while the client spoke another format.
//
// Anthropic-to-Anthropic traffic never comes here: it passes through
// untouched. What follows therefore only matters when the two sides differ,
// and every choice made where the formats do not line up is written next to
// the code that makes it.
package anthropic

import "github.com/hypergate/hypergate/internal/provider"

// Type is the configuration's provider type for Anthropic upstreams.
const Type = "anthropic"

// APIVersion is the anthropic-version header value the gateway sends. It is
// the version every Messages API feature is documented against; newer
// behaviour is opted into with anthropic-beta headers, not new versions.
const APIVersion = "2023-06-01"

// Adapter implements provider.Adapter for Anthropic's Messages API.
type Adapter struct{}

var _ provider.Adapter = Adapter{}

func init() { provider.Register(Type, Adapter{}) }

// DefaultBaseURL is Anthropic's public API, version segment included.
func (Adapter) DefaultBaseURL() string { return "https://api.anthropic.com/v1" }

// URL returns base + "/messages" for chat and base + "/messages/count_tokens"
// for token counting. Anthropic offers no embeddings endpoint, so for any
// other operation URL returns "" — the gateway must ask Supports first and
// refuse the call rather than send it anywhere.
func (Adapter) URL(baseURL string, op provider.Operation, _ string, _ bool) string {
	switch op {
	case provider.Chat:
		return baseURL + "/messages"
	case provider.CountTokens:
		return baseURL + "/messages/count_tokens"
	}
	return ""
}

// Supports reports whether Anthropic offers op: chat and token counting.
func (Adapter) Supports(op provider.Operation) bool {
	return op == provider.Chat || op == provider.CountTokens
}

// Credentials sends the key in x-api-key, together with the anthropic-version
// header. The version header goes out even without a key: Anthropic, and the
// Anthropic-compatible servers that need no key, reject requests that lack
// it, and this is the adapter's only hook for per-family headers.
func (Adapter) Credentials(key string) []provider.Header {
	version := provider.Header{Name: "anthropic-version", Value: APIVersion}
	if key == "" {
		return []provider.Header{version}
	}
	return []provider.Header{{Name: "x-api-key", Value: key}, version}
}
