package llm

import (
	"math"
	"strings"
	"testing"
)

func TestLookupPrice(t *testing.T) {
	tests := []struct {
		name  string
		model string
		want  string // the table key expected to match; "" for unknown
	}{
		{name: "exact", model: "gpt-4o-mini", want: "gpt-4o-mini"},
		{name: "OpenAI dated snapshot", model: "gpt-4o-mini-2024-07-18", want: "gpt-4o-mini"},
		{name: "exact snapshot with its own price wins", model: "gpt-4o-2024-05-13", want: "gpt-4o-2024-05-13"},
		{name: "later gpt-4o snapshot", model: "gpt-4o-2024-11-20", want: "gpt-4o"},
		{name: "provider prefix", model: "openai/gpt-4.1-nano", want: "gpt-4.1-nano"},
		{name: "prefix and date", model: "openai/gpt-5-mini-2025-08-07", want: "gpt-5-mini"},
		{name: "nested routing prefix", model: "openrouter/openai/o4-mini", want: "o4-mini"},
		{name: "prefixed snapshot with its own price", model: "azure/gpt-4o-2024-05-13", want: "gpt-4o-2024-05-13"},
		{name: "upper case", model: "GPT-4o", want: "gpt-4o"},
		{name: "surrounding space", model: " o3 ", want: "o3"},
		{name: "four-digit snapshot", model: "gpt-4-0613", want: "gpt-4"},
		{name: "preview listed exactly", model: "gpt-4-1106-preview", want: "gpt-4-1106-preview"},
		{name: "o-series snapshot", model: "o3-mini-2025-01-31", want: "o3-mini"},
		{name: "latest alias", model: "chatgpt-4o-latest", want: "chatgpt-4o-latest"},
		{name: "embedding", model: "text-embedding-3-large", want: "text-embedding-3-large"},
		{name: "embedding ada with prefix", model: "openai/text-embedding-ada-002", want: "text-embedding-ada-002"},
		{name: "Anthropic dated", model: "claude-sonnet-4-5-20250929", want: "claude-sonnet-4-5"},
		{name: "Anthropic opus 4.1", model: "claude-opus-4-1-20250805", want: "claude-opus-4-1"},
		{name: "Anthropic opus 4", model: "claude-opus-4-20250514", want: "claude-opus-4"},
		{name: "Anthropic latest", model: "claude-3-5-sonnet-latest", want: "claude-3-5-sonnet"},
		{name: "Anthropic dotted on OpenRouter", model: "anthropic/claude-3.7-sonnet", want: "claude-3-7-sonnet"},
		{name: "Anthropic dotted 4.5", model: "anthropic/claude-haiku-4.5", want: "claude-haiku-4-5"},
		{name: "Bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0", want: "claude-3-5-haiku"},
		{name: "Bedrock cross-region", model: "us.anthropic.claude-sonnet-4-20250514-v1:0", want: "claude-sonnet-4"},
		{name: "Vertex", model: "claude-sonnet-4@20250514", want: "claude-sonnet-4"},
		{name: "Vertex v2", model: "claude-3-5-sonnet-v2@20241022", want: "claude-3-5-sonnet"},
		{name: "Gemini API prefix", model: "models/gemini-2.5-pro", want: "gemini-2.5-pro"},
		{name: "Gemini numbered version", model: "gemini-1.5-flash-002", want: "gemini-1.5-flash"},
		{name: "Gemini flash-lite version", model: "gemini-2.0-flash-lite-001", want: "gemini-2.0-flash-lite"},
		{name: "Gemini 2.5 flash", model: "google/gemini-2.5-flash", want: "gemini-2.5-flash"},
		{name: "Mistral latest", model: "mistral-large-latest", want: "mistral-large"},
		{name: "Mistral dated", model: "mistral-small-2503", want: "mistral-small"},
		{name: "Mistral old small priced on its own", model: "mistral-small-2409", want: "mistral-small-2409"},
		{name: "Groq Llama", model: "groq/llama-3.3-70b-versatile", want: "llama-3.3-70b-versatile"},
		{name: "Groq Llama 8B", model: "llama-3.1-8b-instant", want: "llama-3.1-8b-instant"},
		{name: "Groq legacy name", model: "llama3-8b-8192", want: "llama3-8b-8192"},

		{name: "unknown", model: "my-finetune", want: ""},
		{name: "empty", model: "", want: ""},
		{name: "only a prefix", model: "openai/", want: ""},
		{name: "similar name is not guessed", model: "o3-pro", want: ""},
		{name: "variant is not guessed", model: "gpt-4o-mini-search-preview", want: ""},
		{name: "size suffix is not a version", model: "gpt-4-32k", want: ""},
		{name: "other vendor on Bedrock", model: "meta.llama3-70b-instruct-v1:0", want: ""},
		{name: "preview date is not a snapshot", model: "gemini-2.5-pro-preview-05-06", want: ""},
		{name: "fine-tune", model: "ft:gpt-4o-mini-2024-07-18:acme::abc123", want: ""},
		{name: "Gemini 2.0 Pro has no list price", model: "gemini-2.0-pro-exp-02-05", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LookupPrice(tt.model)
			if tt.want == "" {
				if ok {
					t.Errorf("LookupPrice(%q) = %+v, want unknown", tt.model, got)
				}
				return
			}
			if want := prices[tt.want]; !ok || got != want {
				t.Errorf("LookupPrice(%q) = %+v, %v; want %+v (%s)", tt.model, got, ok, want, tt.want)
			}
		})
	}
}

// TestPriceTable guards against typos in the table: keys are normalised as
// LookupPrice expects, every price is positive, and cached input is never
// dearer than input.
func TestPriceTable(t *testing.T) {
	for model, p := range prices {
		if model != strings.ToLower(model) || strings.ContainsAny(model, "/@ ") {
			t.Errorf("%s: keys must be lower case without prefixes", model)
		}
		if p.InputPerMTok <= 0 || p.OutputPerMTok < 0 || p.CachedInputPerMTok < 0 {
			t.Errorf("%s: implausible price %+v", model, p)
		}
		if p.CachedInputPerMTok > p.InputPerMTok {
			t.Errorf("%s: cached input %v dearer than input %v", model, p.CachedInputPerMTok, p.InputPerMTok)
		}
		if p.OutputPerMTok == 0 && !strings.HasPrefix(model, "text-embedding-") {
			t.Errorf("%s: only embedding models may have no output price", model)
		}
		if got, ok := LookupPrice(model); !ok || got != p {
			t.Errorf("%s: LookupPrice of the key itself = %+v, %v", model, got, ok)
		}
	}
	required := []string{
		"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini", "o4-mini",
		"gpt-5", "gpt-5-mini", "gpt-5-nano", "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
		"claude-3-5-haiku", "claude-3-5-sonnet", "claude-3-7-sonnet", "claude-sonnet-4", "claude-opus-4",
		"claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1",
		"gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro",
		"mistral-large", "mistral-small", "llama-3.3-70b-versatile", "llama-3.1-8b-instant",
	}
	for _, m := range required {
		if _, ok := prices[m]; !ok {
			t.Errorf("%s is missing from the table", m)
		}
	}
}

func TestPriceCost(t *testing.T) {
	gpt4oMini := Price{InputPerMTok: 0.15, CachedInputPerMTok: 0.075, OutputPerMTok: 0.60}
	mistral := Price{InputPerMTok: 2, OutputPerMTok: 6}
	tests := []struct {
		name  string
		price Price
		usage Usage
		want  float64
	}{
		{name: "no usage", price: gpt4oMini, usage: Usage{}, want: 0},
		{name: "input and output", price: gpt4oMini, usage: Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, want: 0.75},
		{
			name:  "cached input at the cached rate",
			price: gpt4oMini,
			usage: Usage{InputTokens: 2_000_000, CachedInputTokens: 1_000_000, OutputTokens: 0},
			want:  0.15 + 0.075,
		},
		{
			name:  "cached input at the input rate when no cached rate",
			price: mistral,
			usage: Usage{InputTokens: 1_000_000, CachedInputTokens: 500_000, OutputTokens: 500_000},
			want:  2 + 3,
		},
		{
			name:  "reasoning tokens are inside output",
			price: Price{InputPerMTok: 1.10, CachedInputPerMTok: 0.275, OutputPerMTok: 4.40},
			usage: Usage{InputTokens: 1000, OutputTokens: 5000, ReasoningTokens: 4000},
			want:  (1000*1.10 + 5000*4.40) / 1e6,
		},
		{name: "small call", price: gpt4oMini, usage: Usage{InputTokens: 1200, CachedInputTokens: 1024, OutputTokens: 10}, want: (176*0.15 + 1024*0.075 + 10*0.60) / 1e6},
		{name: "cached above input is capped", price: gpt4oMini, usage: Usage{InputTokens: 100, CachedInputTokens: 1000}, want: 100 * 0.075 / 1e6},
		{name: "negative counts cost nothing", price: gpt4oMini, usage: Usage{InputTokens: -100, CachedInputTokens: -5, OutputTokens: -1}, want: 0},
		{name: "embedding", price: Price{InputPerMTok: 0.02}, usage: Usage{InputTokens: 8}, want: 8 * 0.02 / 1e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Cost = %.12f, want %.12f", got, tt.want)
			}
		})
	}
}
