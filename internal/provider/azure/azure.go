// Package azure is the adapter for Azure OpenAI. Azure speaks OpenAI's wire
// format, so bodies pass through untouched; only the URL and the key differ.
// Two URL styles exist, and base_url chooses between them:
//
//   - https://RESOURCE.openai.azure.com/openai — deployment URLs:
//     {base}/deployments/{deployment}/chat/completions?api-version=…,
//     where the target's model is the deployment name;
//   - https://RESOURCE.openai.azure.com/openai/v1 — Azure's v1 API, with
//     OpenAI's own paths and no api-version.
package azure

import (
	"net/url"
	"strings"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
	"github.com/hypergate/hypergate/internal/provider/openai"
)

// Type is the configuration's provider type.
const Type = "azure-openai"

// APIVersion is the api-version sent on deployment URLs when the provider
// names none: the newest generally available one when this was written
// (2026-11).
const APIVersion = "2024-10-21"

// Adapter implements provider.Adapter for Azure OpenAI.
type Adapter struct {
	// APIVersion overrides the package's APIVersion (a provider's
	// api_version), for preview features or a pinned version.
	APIVersion string
}

var (
	_ provider.Adapter      = Adapter{}
	_ provider.Translator   = Adapter{}
	_ provider.Configurable = Adapter{}
)

func init() { provider.Register(Type, Adapter{}) }

// DefaultBaseURL is empty: every Azure resource has its own host, so the
// configuration must name it.
func (Adapter) DefaultBaseURL() string { return "" }

// Configure sets the api-version of deployment URLs.
func (a Adapter) Configure(o provider.Options) (provider.Adapter, error) {
	if o.APIVersion != "" {
		a.APIVersion = o.APIVersion
	}
	return a, nil
}

// URL builds a deployment URL, or an OpenAI-style one for the v1 API.
func (a Adapter) URL(baseURL string, op provider.Operation, model string, _ bool) string {
	path := "/chat/completions"
	switch op {
	case provider.Embeddings:
		path = "/embeddings"
	case provider.Responses:
		path = "/responses"
	}
	if strings.HasSuffix(baseURL, "/v1") {
		return baseURL + path
	}
	v := a.APIVersion
	if v == "" {
		v = APIVersion
	}
	return baseURL + "/deployments/" + url.PathEscape(model) + path + "?api-version=" + url.QueryEscape(v)
}

// Credentials sends the key in Azure's api-key header.
func (Adapter) Credentials(key string) []provider.Header {
	if key == "" {
		return nil
	}
	return []provider.Header{{Name: "api-key", Value: key}}
}

// Format is OpenAI's: Azure bodies pass through.
func (Adapter) Format() string { return openai.Type }

// Codec translates to and from OpenAI chat completions for clients of
// other formats (Anthropic's Messages API).
func (Adapter) Codec() llm.UpstreamCodec { return openai.Codec{MaxCompletionTokens: true} }
