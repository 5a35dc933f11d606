package openai

import "github.com/hypergate/hypergate/internal/provider"

// Presets are OpenAI-compatible services registered under their own type
// name so that a provider entry needs no base_url: they speak OpenAI's wire
// format (bodies pass through untouched), only the default URL differs.
// The config package keeps the same list for validation and defaults.
var Presets = map[string]string{
	"mistral":    "https://api.mistral.ai/v1",
	"groq":       "https://api.groq.com/openai/v1",
	"deepseek":   "https://api.deepseek.com/v1",
	"together":   "https://api.together.xyz/v1",
	"openrouter": "https://openrouter.ai/api/v1",
	"xai":        "https://api.x.ai/v1",
	"fireworks":  "https://api.fireworks.ai/inference/v1",
	"ollama":     "http://127.0.0.1:11434/v1",
	"vllm":       "http://127.0.0.1:8000/v1",
}

// Preset is the Adapter of one preset: OpenAI's, with its own default URL.
type Preset struct {
	Adapter
	BaseURL string
}

var _ provider.Adapter = Preset{}

// DefaultBaseURL is the preset's public endpoint (or local default port).
func (p Preset) DefaultBaseURL() string { return p.BaseURL }

func init() {
	for name, base := range Presets {
		provider.Register(name, Preset{BaseURL: base})
	}
}
